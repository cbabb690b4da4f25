// libFuzzer: the cgroup memory files (memory.current, memory.max / limit_in_bytes,
// memory.stat, memory.events / oom_control) and /proc/PID/oom_score_adj.
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view text = fuzz::asText(data, size);
  (void)parse::parseUint(text);
  if (const auto r = parse::parseCgroupLimit(text); r.ok() && r->has_value()) {
    fuzz::check(**r < (std::uint64_t{1} << 62));
  }
  if (const auto r = parse::parseCgroupMemStat(text); r.ok()) {
    fuzz::check(r->anon.value >= 0 && r->file.value >= 0 && r->shmem.value >= 0);
    fuzz::check(r->activeFile.value >= 0 && r->inactiveFile.value >= 0 &&
                r->slabReclaimable.value >= 0);
  }
  (void)parse::parseOomKillCount(text);
  if (const auto r = parse::parseOomScoreAdj(text); r.ok()) {
    fuzz::check(*r >= -1000 && *r <= 1000);
  }
  return 0;
}
