// libFuzzer: parseMeminfo (/proc/meminfo).
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseMeminfo(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(r->total.value > 0 && r->free.value >= 0 && r->available.value >= 0);
    fuzz::check(r->swapTotal.value >= 0 && r->swapFree.value >= 0);
  }
  return 0;
}
