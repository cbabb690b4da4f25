// libFuzzer: parsePsi (/proc/pressure/*, cgroup *.pressure).
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parsePsi(fuzz::asText(data, size)); r.ok()) {
    for (const auto& l : {r->some, r->full}) {
      fuzz::check(l.avg10 >= 0 && l.avg60 >= 0 && l.avg300 >= 0);
    }
  }
  return 0;
}
