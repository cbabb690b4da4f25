// libFuzzer: formatCmdline (/proc/PID/cmdline to one printable line). The first byte
// steers the output capacity; the output must stay inside it, NUL-terminated and
// printable.
#include <cstring>

#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  const std::size_t cap = fuzz::takeSteer(text) % 40;
  char out[48];
  std::memset(out, 'X', sizeof out);
  const std::size_t n = parse::formatCmdline(text, out, cap);
  if (cap == 0) {
    fuzz::check(n == 0 && out[0] == 'X');
  } else {
    fuzz::check(n < cap && out[n] == '\0' && std::strlen(out) == n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(out[i]);
      fuzz::check(c >= 0x20 && c != 0x7f);
    }
  }
  for (std::size_t i = cap; i < sizeof out; ++i) fuzz::check(out[i] == 'X');
  return 0;
}
