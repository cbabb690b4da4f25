// libFuzzer: parseQemuSize and normalizeUuid (Qemu.h). The first byte steers the
// default unit of a bare number.
#include <cctype>
#include <cstdint>
#include <limits>

#include "ork/parse/Qemu.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  const std::uint8_t steer = fuzz::takeSteer(text);
  const std::uint64_t unit = steer & 1 ? std::uint64_t{1} << 20 : (steer & 2 ? 1024 : 1);
  if (const auto n = parse::parseQemuSize(text, unit)) {
    fuzz::check(*n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  }
  char out[37];
  const std::string_view uuid = parse::normalizeUuid(text, out);
  if (!uuid.empty()) {
    fuzz::check(uuid.size() == 36 && uuid.data() == out && out[36] == '\0');
    for (std::size_t i = 0; i < uuid.size(); ++i) {
      const char c = uuid[i];
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      fuzz::check(dash ? c == '-' : (std::isxdigit(static_cast<unsigned char>(c)) &&
                                     !std::isupper(static_cast<unsigned char>(c))));
    }
  }
  return 0;
}
