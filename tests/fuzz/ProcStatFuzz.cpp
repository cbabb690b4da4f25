// libFuzzer: parseProcStat (/proc/PID/stat, with hostile comms).
#include <cstring>

#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseProcStat(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(r->pid > 0 && r->ppid >= 0);
    fuzz::check(r->comm[16] == '\0' && std::strlen(r->comm) <= 16);
  }
  return 0;
}
