// libFuzzer: userNameFromPasswd (/etc/passwd). The first byte steers the uid looked up.
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  const std::uint8_t steer = fuzz::takeSteer(text);
  const std::uint32_t uid = steer < 0xf0 ? steer % 8 : 65534u + (steer & 3);
  const std::string_view name = parse::userNameFromPasswd(text, uid);
  fuzz::check(fuzz::within(name, text));
  fuzz::check(name.find(':') == std::string_view::npos && name.find('\n') == std::string_view::npos);
  return 0;
}
