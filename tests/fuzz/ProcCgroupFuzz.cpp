// libFuzzer: the /proc/PID/cgroup readers, cgroupPathFromProc (Parsers.h) and
// cgroupPathIn (Mountinfo.h). Every path returned points into the input.
#include "ork/parse/Mountinfo.h"
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view text = fuzz::asText(data, size);
  fuzz::check(fuzz::within(parse::cgroupPathFromProc(text), text));
  for (std::string_view controller : {"", "memory", "freezer", "cpuacct"}) {
    if (const auto p = parse::cgroupPathIn(text, controller)) {
      fuzz::check(!p->empty() && fuzz::within(*p, text));
    }
  }
  return 0;
}
