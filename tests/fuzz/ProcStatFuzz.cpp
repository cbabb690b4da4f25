// libFuzzer: parseProcStat (/proc/PID/stat, with hostile comms).
#include <cstring>

#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseProcStat(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(r->pid > 0 && r->ppid >= 0);
    fuzz::check(r->comm[16] == '\0' && std::strlen(r->comm) <= 16);
    // Never negative, never more than a process can hold: to bytes without overflow.
    fuzz::check(r->rssPages >= 0 && static_cast<std::uint64_t>(r->rssPages) <= parse::kMaxRssPages);
    const Bytes rss = parse::bytesFromPages(r->rssPages, 65536);
    fuzz::check(rss.value >= 0 && rss.value <= parse::kMaxProcessMemory);
  }
  return 0;
}
