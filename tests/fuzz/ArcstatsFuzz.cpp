// libFuzzer: parseArcstats (/proc/spl/kstat/zfs/arcstats).
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseArcstats(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(r->size.value >= 0 && r->cMin.value >= 0);
  }
  return 0;
}
