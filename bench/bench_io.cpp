// The I/O ladder's costs (issue 12), on a real machine:
//   - one sample: sense::IoSensor over /proc/diskstats and /proc/pressure/io (every
//     second, on the loop);
//   - one look at who does I/O: sense::scanIo over the candidate table at --sleepers=N
//     processes (default 10,000, bench::Sleepers): /proc/PID/io and /proc/PID/cgroup of
//     each, then each cgroup's io.stat/blkio and io.pressure (twice per action, on the
//     loop);
//   - the decision over two looks: policy::ioBytesOnDevice and chooseTreeVictim.
// Needs root (v1 cgroups for the sleepers).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/BenchEnv.h"
#include "ork/policy/CpuScorer.h"
#include "ork/policy/IoScorer.h"
#include "ork/sense/IoScan.h"
#include "ork/sense/IoSensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/Files.h"

namespace {

using namespace ork;

void BM_Io_Sample(benchmark::State& state) {
  auto s = sense::IoSensor::open("/proc", "/sys");
  if (!s) {
    state.SkipWithError("no /proc/diskstats");
    return;
  }
  sys::MonotonicClock clock;
  int devices = 0;
  for (auto _ : state) {
    auto smp = s->sample(clock.now());
    benchmark::DoNotOptimize(smp);
    if (smp) devices = smp->count;
  }
  state.counters["devices"] = devices;
}
BENCHMARK(BM_Io_Sample)->Unit(benchmark::kMicrosecond);

struct Table {
  std::unique_ptr<sense::ProcessTable> table;
  sense::CgroupRoots roots;
  Table() {
    sense::ProcessTable::Options o;
    o.selfPid = ::getpid();
    auto t = sense::ProcessTable::open(o);
    if (t) table = std::make_unique<sense::ProcessTable>(std::move(*t));
    sys::MonotonicClock clock;
    if (table) (void)table->refreshAll(clock.now());
    if (auto mi = sys::readWholeFile("/proc/self/mountinfo")) roots = sense::cgroupRootsFrom(*mi);
  }
};

void BM_Io_ScanIo(benchmark::State& state) {
  Table t;
  if (!t.table) {
    state.SkipWithError("no process table");
    return;
  }
  sys::MonotonicClock clock;
  policy::IoSnapshot snap;
  for (auto _ : state) {
    sense::scanIo("/proc", t.roots, t.table->entries(), clock.now(), snap);
    benchmark::DoNotOptimize(snap);
  }
  state.counters["processes"] = static_cast<double>(snap.procs.size());
  state.counters["cgroups"] = static_cast<double>(snap.cgroups.size());
  state.counters["per_process"] = benchmark::Counter(static_cast<double>(snap.procs.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Io_ScanIo)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_Io_Decide(benchmark::State& state) {
  Table t;
  if (!t.table) {
    state.SkipWithError("no process table");
    return;
  }
  sys::MonotonicClock clock;
  policy::IoSnapshot a, b;
  sense::scanIo("/proc", t.roots, t.table->entries(), clock.now(), a);
  ::usleep(100000);
  sense::scanIo("/proc", t.roots, t.table->entries(), clock.now(), b);
  std::vector<double> own;
  policy::CpuScratch scratch;
  scratch.reserve(t.table->entries().size());
  std::vector<int> leaveAlone;
  for (auto _ : state) {
    policy::ioBytesOnDevice(t.table->entries(), a, b, 254, 0, own);
    scratch.own = own;
    auto v = policy::chooseTreeVictim(t.table->entries(), leaveAlone, 0, scratch);
    benchmark::DoNotOptimize(v);
  }
  state.counters["processes"] = static_cast<double>(t.table->entries().size());
}
BENCHMARK(BM_Io_Decide)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  int sleepers = 10000;
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--sleepers=", 11) == 0)
      sleepers = std::atoi(argv[i] + 11);
    else
      argv[w++] = argv[i];
  }
  argc = w;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ork::bench::addMachineContext();
  ork::bench::Sleepers s;
  std::string why;
  if (sleepers > 0 && !s.start(ork::bench::selfDir() + "/ork_bench_sleepers", sleepers, &why)) {
    std::fprintf(stderr, "ork_bench_io: cannot start %d sleepers: %s\n", sleepers, why.c_str());
    return 1;
  }
  benchmark::AddCustomContext("sleepers", std::to_string(s.pids().size()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  s.stop();
  return 0;
}
