// libFuzzer: parseUptime (/proc/uptime). Whatever parses is a finite, non-negative
// number of seconds that a duration in nanoseconds can hold.
#include <cmath>

#include "fuzz/FuzzCheck.h"
#include "ork/parse/Parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseUptime(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(std::isfinite(*r) && *r >= 0 && *r < 1e9);
  }
  return 0;
}
