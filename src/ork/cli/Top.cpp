#include "ork/cli/Top.h"

#include <unistd.h>

#include <cstdio>

#include "ork/policy/MemoryRule.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"

namespace ork::cli {

namespace {
double mib(Bytes b) { return static_cast<double>(b.value) / (1024.0 * 1024.0); }
}  // namespace

int runTopCommand(const TopOptions& opts, const config::Config& cfg) {
  sys::MonotonicClock clock;
  auto memory = opts.cgroupDir.empty()
                    ? sense::MemorySensor::openHost(opts.procRoot, cfg.flag(config::Key::MemoryCountZfsArc))
                    : sense::MemorySensor::openCgroup(opts.cgroupDir, opts.procRoot);
  if (!memory) {
    std::fprintf(stderr, "ork: %s\n", memory.error().what);
    return 1;
  }
  auto sample = memory->sample(clock.now());
  if (!sample) {
    std::fprintf(stderr, "ork: %s\n", sample.error().what);
    return 1;
  }
  sense::UserNames users;
  users.load(opts.passwdPath);
  sense::ProcessTable::Options topts;
  topts.procRoot = opts.procRoot;
  topts.cgroupDir = opts.cgroupDir;
  topts.selfPid = ::getpid();
  topts.growthWindow = cfg.seconds(config::Key::ScanGrowthWindowS);
  topts.prefer = &cfg.prefer;
  topts.avoid = &cfg.avoid;
  topts.protect = &cfg.protect;
  topts.users = &users;
  topts.readSwap = true;
  auto table = sense::ProcessTable::open(topts);
  if (!table) {
    std::fprintf(stderr, "ork: %s\n", table.error().what);
    return 1;
  }
  if (auto r = table->refreshAll(clock.now()); !r) {
    std::fprintf(stderr, "ork: %s\n", r.error().what);
    return 1;
  }
  auto t = policy::memoryThresholds(sample->total, cfg);
  auto level = policy::classify(*sample, t, cfg);
  // What a kill would have to free: to get back above soft, as at the hard threshold
  // if memory is not that low now.
  Bytes need = std::max(t.soft - std::min(sample->available, t.hard), Bytes{0});

  std::printf("domain %s: total %.0f MiB, available %.0f MiB (%.1f%%), soft %.0f MiB, hard %.0f MiB, now %s\n",
              memory->describe(), mib(sample->total), mib(sample->available),
              100.0 * static_cast<double>(sample->available.value) / static_cast<double>(std::max<std::int64_t>(1, sample->total.value)),
              mib(t.soft), mib(t.hard),
              level == policy::MemoryLevel::Ok ? "ok" : level == policy::MemoryLevel::Soft ? "below soft" : "below hard");
  if (sample->zfsArcShrinkable > Bytes{0})
    std::printf("  (available includes %.0f MiB of shrinkable ZFS ARC)\n", mib(sample->zfsArcShrinkable));
  if (sample->swapTotal > Bytes{0})
    std::printf("swap: %.0f MiB free of %.0f MiB\n", mib(sample->swapFree), mib(sample->swapTotal));
  std::printf("a kill at the hard threshold must free %.0f MiB to get back above soft\n\n", mib(need));

  auto entries = table->entries();
  std::vector<policy::Candidate> ranked;
  std::vector<int> scratch;
  policy::rankCandidates(entries, {sample->total, need, &cfg, clock.now()}, ranked, scratch);
  int choice = policy::chooseVictim(ranked, cfg);

  std::printf("%-2s %4s %7s %-10s %4s %9s %9s %6s %5s %5s %5s %9s %-6s %s\n", "", "rank", "pid", "user",
              "memb", "mem_MiB", "grow_MiB", "adj", "owner", "patt", "youth", "score", "enough", "command");
  int shown = 0;
  for (std::size_t i = 0; i < ranked.size() && shown < opts.limit; ++i, ++shown) {
    const auto& c = ranked[i];
    const ProcessInfo& p = entries[static_cast<std::size_t>(c.index)];
    std::string_view user = users.nameOf(p.uid);
    char userText[16];
    if (user.empty()) std::snprintf(userText, sizeof userText, "%u", p.uid);
    else std::snprintf(userText, sizeof userText, "%.*s", static_cast<int>(std::min<std::size_t>(user.size(), 10)), user.data());
    const char* cmd = p.identity && !p.identity->cmdline.empty() ? p.identity->cmdline.c_str() : p.comm;
    std::printf("%-2s %4zu %7d %-10s %4d %9.1f %9.1f %6d %5.2f %5.2f %5.2f %9.1f %-6s %.60s%s\n",
                static_cast<int>(i) == choice ? "->" : "", i + 1, p.pid, userText, c.members, mib(c.freed),
                mib(c.growth), p.oomScoreAdj, c.ownerFactor, c.patternFactor, c.youthFactor,
                c.score / (1024.0 * 1024.0), c.sufficient ? "yes" : "no", cmd,
                c.members > 1 ? " (and its same-program children)" : "");
  }
  if (ranked.empty()) std::printf("no candidate: nothing in this domain may be killed\n");
  std::printf("\nscore = (mem + growth_weight*growth + adj/1000*total) * owner * pattern * youth, in MiB;"
              " '->' marks the process ORK would kill (docs/scoring.md)\n");
  if (opts.all) {
    std::printf("\nnever candidates:\n");
    for (const auto& p : entries) {
      auto why = policy::exclusionOf(p);
      if (why == policy::Exclusion::None || why == policy::Exclusion::KernelThread) continue;
      std::printf("  %7d %-16s %9.1f MiB  %s\n", p.pid, p.comm, mib(p.memory()), policy::toString(why));
    }
    std::printf("  (and kernel threads)\n");
  }
  return 0;
}

}  // namespace ork::cli
