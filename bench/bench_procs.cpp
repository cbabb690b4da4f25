// Benchmarks over a real process population: the benchmark spawns N sleeping processes
// of its own (default 10,000; --sleepers=N) into a v1 memory + pids cgroup it creates,
// runs, then kills them by PID and removes the cgroups.
//   - ProcessTable::refreshAll, first pass and steady state, host-wide and cgroup-scoped;
//   - the baseline: open/read/close /proc/PID/stat for the same PIDs;
//   - the kill-time decision over the real table: sample, rank, re-read the top 8,
//     rank again, choose, sample again, list the members, and send SIGKILL (to a
//     throwaway child of this benchmark, never to the chosen process).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/BenchEnv.h"
#include "ork/act/Killer.h"
#include "ork/config/Config.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/Files.h"
#include "ork/sys/Pidfd.h"

namespace {

using namespace ork;

bench::Sleepers* g_sleepers = nullptr;

sense::ProcessTable::Options tableOptions(bool scoped) {
  sense::ProcessTable::Options o;
  o.selfPid = ::getpid();
  if (scoped) o.cgroupDir = g_sleepers->memoryCgroup();
  return o;
}

void setProcessCounters(benchmark::State& state, std::size_t n) {
  state.counters["processes"] = static_cast<double>(n);
  state.counters["per_process"] = benchmark::Counter(static_cast<double>(n),
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

// --- refresh ---------------------------------------------------------------------------

void refreshFirst(benchmark::State& state, bool scoped) {
  sys::MonotonicClock clock;
  std::size_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto table = sense::ProcessTable::open(tableOptions(scoped));
    state.ResumeTiming();
    auto r = table->refreshAll(clock.now());
    benchmark::DoNotOptimize(r);
    n = table->entries().size();
  }
  setProcessCounters(state, n);
}

void refreshSteady(benchmark::State& state, bool scoped) {
  sys::MonotonicClock clock;
  auto table = sense::ProcessTable::open(tableOptions(scoped));
  (void)table->refreshAll(clock.now());
  (void)table->refreshAll(clock.now());
  for (auto _ : state) {
    auto r = table->refreshAll(clock.now());
    benchmark::DoNotOptimize(r);
  }
  setProcessCounters(state, table->entries().size());
}

void BM_RefreshAll_FirstPass_Host(benchmark::State& s) { refreshFirst(s, false); }
void BM_RefreshAll_Steady_Host(benchmark::State& s) { refreshSteady(s, false); }
void BM_RefreshAll_FirstPass_Cgroup(benchmark::State& s) { refreshFirst(s, true); }
void BM_RefreshAll_Steady_Cgroup(benchmark::State& s) { refreshSteady(s, true); }
BENCHMARK(BM_RefreshAll_FirstPass_Host)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_RefreshAll_Steady_Host)->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_RefreshAll_FirstPass_Cgroup)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_RefreshAll_Steady_Cgroup)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// --- baseline: one /proc file per process ---------------------------------------------

std::vector<int> hostPids() {
  sense::ProcessTable::Options o;
  o.selfPid = ::getpid();
  auto table = sense::ProcessTable::open(o);
  sys::MonotonicClock clock;
  (void)table->refreshAll(clock.now());
  std::vector<int> pids;
  for (const auto& e : table->entries()) pids.push_back(e.pid);
  return pids;
}

// openat(/proc fd, "PID/stat") + one read + close, for each PID of the same list the
// table reads (the host's processes, this benchmark excluded). The listing of /proc is
// not timed here: this is the pure per-process floor.
void BM_Baseline_OpenReadClose_Stat(benchmark::State& state) {
  std::vector<int> pids = hostPids();
  int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char buf[8192];
  char path[64];
  for (auto _ : state) {
    for (int pid : pids) {
      std::snprintf(path, sizeof path, "%d/stat", pid);
      int fd = ::openat(proc, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) continue;
      ssize_t n = ::read(fd, buf, sizeof buf);
      benchmark::DoNotOptimize(n);
      ::close(fd);
    }
  }
  ::close(proc);
  setProcessCounters(state, pids.size());
}
BENCHMARK(BM_Baseline_OpenReadClose_Stat)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// The same, as sys::readFileAt does it (read until EOF: a second read() that returns 0).
void BM_Baseline_ReadFileAt_Stat(benchmark::State& state) {
  std::vector<int> pids = hostPids();
  auto proc = sys::openDir("/proc");
  char buf[8192];
  char path[64];
  for (auto _ : state) {
    for (int pid : pids) {
      std::snprintf(path, sizeof path, "%d/stat", pid);
      auto t = sys::readFileAt(proc->get(), path, buf, sizeof buf);
      benchmark::DoNotOptimize(t);
    }
  }
  setProcessCounters(state, pids.size());
}
BENCHMARK(BM_Baseline_ReadFileAt_Stat)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// --- the kill-time decision ------------------------------------------------------------

struct Decision {
  config::Config cfg;
  sys::MonotonicClock clock;
  sense::ProcessTable table;
  sense::MemorySensor memory;
  std::vector<policy::Candidate> candidates;
  policy::RankScratch scratch;
  std::array<int, act::Killer::kMaxMembers> memberIdx{};

  static Decision* make() {
    auto t = sense::ProcessTable::open(tableOptions(false));
    auto m = sense::MemorySensor::openHost("/proc", true);
    if (!t || !m) return nullptr;
    auto* d = new Decision{config::Config(), {}, std::move(*t), std::move(*m), {}, {}, {}};
    (void)d->table.refreshAll(d->clock.now());
    (void)d->table.refreshAll(d->clock.now());  // steady: the daemon keeps it fresh
    std::size_t n = d->table.entries().size();
    d->candidates.reserve(policy::kKillPathKept);
    d->scratch.reserve(n + 16);
    return d;
  }

  // Daemon::killVictim up to the signal: returns the chosen candidate's member count.
  int decide(TimePoint now) {
    auto sample = memory.sample(now);
    Bytes total = sample ? sample->total : Bytes::gib(24);
    (void)table.addNewcomers(now);  // the daemon lists the PIDs again at kill time
    auto entries = table.mutableEntries();
    policy::ScoreContext ctx{total, total.scaled(0.05), &cfg, now};
    policy::rankCandidates(entries, ctx, candidates, scratch, SIZE_MAX, policy::kKillPathKept);
    std::size_t top = std::min<std::size_t>(candidates.size(), static_cast<std::size_t>(cfg.count(config::Key::ScanRecheckTop)));
    for (std::size_t i = 0; i < top; ++i) {
      ProcessInfo& e = entries[static_cast<std::size_t>(candidates[i].index)];
      if (!table.reread(e, now)) e.state = 'X';
    }
    policy::rankCandidates(entries, ctx, candidates, scratch, SIZE_MAX, policy::kKillPathKept);
    int choice = policy::chooseVictim(candidates, cfg);
    if (choice < 0) return 0;
    auto again = memory.sample(clock.now());
    benchmark::DoNotOptimize(again);
    return policy::treeMembers(entries, scratch, candidates[static_cast<std::size_t>(choice)], memberIdx.data(),
                               static_cast<int>(memberIdx.size()));
  }
};

void BM_Rank_RealTable(benchmark::State& state) {
  std::unique_ptr<Decision> d(Decision::make());
  auto entries = d->table.entries();
  policy::ScoreContext ctx{Bytes::gib(24), Bytes::gib(1), &d->cfg, d->clock.now()};
  for (auto _ : state) {
    policy::rankCandidates(entries, ctx, d->candidates, d->scratch);
    benchmark::DoNotOptimize(d->candidates.data());
  }
  state.counters["processes"] = static_cast<double>(entries.size());
  state.counters["candidates"] = static_cast<double>(d->candidates.size());
}
BENCHMARK(BM_Rank_RealTable)->Unit(benchmark::kMicrosecond);

void BM_Reread_Top8_RealTable(benchmark::State& state) {
  std::unique_ptr<Decision> d(Decision::make());
  auto entries = d->table.mutableEntries();
  policy::ScoreContext ctx{Bytes::gib(24), Bytes::gib(1), &d->cfg, d->clock.now()};
  policy::rankCandidates(entries, ctx, d->candidates, d->scratch);
  for (auto _ : state) {
    TimePoint now = d->clock.now();
    for (std::size_t i = 0; i < 8 && i < d->candidates.size(); ++i) {
      ProcessInfo& e = entries[static_cast<std::size_t>(d->candidates[i].index)];
      benchmark::DoNotOptimize(d->table.reread(e, now));
    }
  }
}
BENCHMARK(BM_Reread_Top8_RealTable)->Unit(benchmark::kMicrosecond);

// Pressure seen -> choice made (no signal).
void BM_KillDecision_NoSignal(benchmark::State& state) {
  std::unique_ptr<Decision> d(Decision::make());
  int members = 0;
  for (auto _ : state) members = d->decide(d->clock.now());
  state.counters["processes"] = static_cast<double>(d->table.entries().size());
  state.counters["members"] = members;
}
BENCHMARK(BM_KillDecision_NoSignal)->Unit(benchmark::kMicrosecond);

// Pressure seen -> SIGKILL sent: the whole decision, then act::Killer::kill on a
// throwaway child (the chosen process is never signalled). Fork and reap not timed.
void BM_KillDecision_SIGKILL(benchmark::State& state) {
  std::unique_ptr<Decision> d(Decision::make());
  act::Killer killer(&sense::ProcessTable::recheckThunk, &d->table);
  bench::Throwaway child;
  int ok = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (!child.spawn()) {
      state.SkipWithError("posix_spawn");
      break;
    }
    ProcessInfo victim;
    victim.pid = child.pid();
    std::memcpy(victim.comm, child.comm(), std::min(sizeof victim.comm, std::size_t{16}));
    auto st = d->table.startTimeOf(child.pid());
    victim.startTimeTicks = st ? *st : 0;
    const ProcessInfo* members[1] = {&victim};
    state.ResumeTiming();
    int n = d->decide(d->clock.now());
    benchmark::DoNotOptimize(n);
    auto outcome = killer.kill(members, false, d->clock);
    state.PauseTiming();
    ok += outcome.outcome == Outcome::Ok;
    child.reap();
    killer.forget();
    state.ResumeTiming();
  }
  state.counters["processes"] = static_cast<double>(d->table.entries().size());
  state.counters["ok"] = ok;
}
BENCHMARK(BM_KillDecision_SIGKILL)->Unit(benchmark::kMicrosecond)->Iterations(300);

}  // namespace

int main(int argc, char** argv) {
  int count = 10000;
  int large = 32, largeMib = 72;
  // Our own flag, removed before Google Benchmark sees the arguments.
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--sleepers=", 11) == 0) count = std::atoi(argv[i] + 11);
    else if (std::strncmp(argv[i], "--large=", 8) == 0) large = std::atoi(argv[i] + 8);
    else if (std::strncmp(argv[i], "--large-mib=", 12) == 0) largeMib = std::atoi(argv[i] + 12);
    else argv[w++] = argv[i];
  }
  argc = w;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ork::bench::addMachineContext();

  ork::bench::Sleepers sleepers;
  std::string why;
  if (count > 0 && !sleepers.start(ork::bench::selfDir() + "/ork_bench_sleepers", count, &why, large, largeMib)) {
    std::fprintf(stderr, "ork_bench_procs: cannot start %d sleepers: %s\n", count, why.c_str());
    return 1;
  }
  g_sleepers = &sleepers;
  benchmark::AddCustomContext("sleepers", std::to_string(sleepers.pids().size()));
  benchmark::AddCustomContext("large_sleepers", std::to_string(std::min(large, count)) + " x " +
                                                    std::to_string(largeMib) + " MiB");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  sleepers.stop();
  return 0;
}
