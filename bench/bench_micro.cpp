// Micro benchmarks that need no process population:
//   - one memory sample: host (/proc/meminfo) and a cgroup v1 the benchmark creates;
//   - the pure ranking part of the kill decision on a synthetic table;
//   - the signal part: pidfd_open + start-time check + pidfd_send_signal, on children
//     of this benchmark only.
// They measure; they assert nothing.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/BenchEnv.h"
#include "common/Synthetic.h"
#include "ork/act/Killer.h"
#include "ork/config/Config.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/Pidfd.h"

namespace {

using namespace ork;

// --- memory samples ------------------------------------------------------------------

void BM_MemorySample_Host(benchmark::State& state) {
  auto sensor = sense::MemorySensor::openHost("/proc", true);
  if (!sensor) {
    state.SkipWithError(sensor.error().what);
    return;
  }
  TimePoint now{};
  for (auto _ : state) {
    auto s = sensor->sample(now);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_MemorySample_Host);

// What the kernel alone costs: pread of the kept-open /proc/meminfo, no parsing.
void BM_MeminfoPreadOnly(benchmark::State& state) {
  int fd = ::open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
  char buf[8192];
  for (auto _ : state) {
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    benchmark::DoNotOptimize(n);
  }
  ::close(fd);
}
BENCHMARK(BM_MeminfoPreadOnly);

void BM_MemorySample_CgroupV1(benchmark::State& state) {
  bench::V1Cgroup cg;
  std::string why;
  if (!bench::V1Cgroup::create("memory", "ork-bench-" + std::to_string(::getpid()), cg, &why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  cg.write("memory.limit_in_bytes", std::to_string(256LL << 20));
  {
    auto sensor = sense::MemorySensor::openCgroup(cg.dir(), "/proc");
    if (!sensor) {
      state.SkipWithError(sensor.error().what);
      return;
    }
    TimePoint now{};
    for (auto _ : state) {
      auto s = sensor->sample(now);
      benchmark::DoNotOptimize(s);
    }
  }  // fds closed before the cgroup is removed
}
BENCHMARK(BM_MemorySample_CgroupV1);

// --- ranking on a synthetic table ------------------------------------------------------

struct Ranking {
  std::vector<ProcessInfo> table;
  config::Config cfg;
  policy::ScoreContext ctx;
  std::vector<policy::Candidate> out;
  policy::RankScratch scratch;
  explicit Ranking(int n) : table(bench::syntheticTable(n)) {
    ctx.domainTotal = Bytes::gib(24);
    ctx.need = Bytes::mib(1200);
    ctx.cfg = &cfg;
    out.reserve(policy::kKillPathKept);
    scratch.reserve(table.size() + 16);
  }
};

void BM_Rank_Synthetic(benchmark::State& state) {
  Ranking r(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    policy::rankCandidates(r.table, r.ctx, r.out, r.scratch);
    benchmark::DoNotOptimize(r.out.data());
  }
  state.counters["candidates"] = static_cast<double>(r.out.size());
}
BENCHMARK(BM_Rank_Synthetic)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// The pure decision: rank, (re-read of the top 8 not possible here), rank again, choose,
// list the tree members to signal.
void BM_Decide_Synthetic(benchmark::State& state) {
  Ranking r(static_cast<int>(state.range(0)));
  std::array<int, act::Killer::kMaxMembers> members{};
  for (auto _ : state) {
    policy::rankCandidates(r.table, r.ctx, r.out, r.scratch, SIZE_MAX, policy::kKillPathKept);
    policy::rankCandidates(r.table, r.ctx, r.out, r.scratch, SIZE_MAX, policy::kKillPathKept);
    int choice = policy::chooseVictim(r.out, r.cfg);
    int n = choice < 0 ? 0
                       : policy::treeMembers(r.table, r.scratch, r.out[static_cast<std::size_t>(choice)], members.data(),
                                             static_cast<int>(members.size()));
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_Decide_Synthetic)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// --- the signal part -------------------------------------------------------------------

// pidfd_open + start-time check (/proc/PID/stat) + pidfd_send_signal(0) on a child of
// ours that stays alive. Signal 0 only checks that the process can be signalled.
void BM_Signal0_Pidfd(benchmark::State& state) {
  bench::Throwaway child;
  if (!child.spawn()) {
    state.SkipWithError("posix_spawn");
    return;
  }
  sense::ProcessTable::Options o;
  auto table = sense::ProcessTable::open(o);
  auto expected = table->startTimeOf(child.pid());
  if (!expected) {
    state.SkipWithError("start time");
    return;
  }
  for (auto _ : state) {
    auto fd = sys::pidfdOpen(child.pid());
    auto start = table->startTimeOf(child.pid());
    if (fd && start && *start == *expected) {
      auto sent = sys::pidfdSendSignal(fd->get(), 0);
      benchmark::DoNotOptimize(sent);
    }
  }
}
BENCHMARK(BM_Signal0_Pidfd)->Unit(benchmark::kMicrosecond);

// The real thing on a throwaway child: act::Killer::kill (pidfd_open, the re-check of
// ProcessTable::recheck: stat and oom_score_adj, pidfd_send_signal(SIGKILL),
// process_mrelease). Spawning and reaping are not timed.
void BM_KillSIGKILL_Throwaway(benchmark::State& state) {
  sense::ProcessTable::Options o;
  auto table = sense::ProcessTable::open(o);
  act::Killer killer(&sense::ProcessTable::recheckThunk, &*table);
  sys::MonotonicClock clock;
  // The victim is spawned (posix_spawn of the static helper), not forked: the timed
  // kill pays no copy-on-write faults of ours. It gets its comm as the table has it (a
  // victim without its comm would look exec'd and have its identity read again at the
  // re-check).
  bench::Throwaway child;
  int ok = 0, released = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (!child.spawn()) {
      state.SkipWithError("posix_spawn");
      break;
    }
    ProcessInfo victim;
    victim.pid = child.pid();
    std::memcpy(victim.comm, child.comm(), std::min(sizeof victim.comm, std::size_t{16}));
    auto st = table->startTimeOf(child.pid());
    victim.startTimeTicks = st ? *st : 0;
    const ProcessInfo* members[1] = {&victim};
    state.ResumeTiming();
    auto outcome = killer.kill(members, false, clock);
    state.PauseTiming();
    ok += outcome.outcome == Outcome::Ok;
    released += outcome.released;
    child.reap();
    killer.forget();
    state.ResumeTiming();
  }
  state.counters["ok"] = ok;
  state.counters["mreleased"] = released;
}
BENCHMARK(BM_KillSIGKILL_Throwaway)->Unit(benchmark::kMicrosecond)->Iterations(2000);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ork::bench::addMachineContext();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
