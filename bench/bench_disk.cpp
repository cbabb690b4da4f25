// The disk ladder's costs (issue 10), on a real machine:
//   - a full disk pass with many mounts: listFilesystems (mountinfo + /sys) and one
//     statvfs per watched filesystem through sys::FsProbe (asked on the loop, answered
//     by the worker through the eventfd), with --mounts=N tmpfs mounts (default 50) the
//     benchmark creates under a temp dir and lazily unmounts and removes at the end;
//   - the writer search at --sleepers=N processes (default 10,000, bench::Sleepers):
//     sense::scanWriters over /proc (stat, io, every fd of every process: the step 2
//     scan, run on the ladder's worker thread), and policy::writerGroup over the real
//     table (the loop's part after the scan).
// Needs root (mounts, v1 cgroups for the sleepers).
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/BenchEnv.h"
#include "ork/config/Config.h"
#include "ork/policy/DiskRule.h"
#include "ork/sense/DiskScan.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/FsProbe.h"

namespace {

using namespace ork;

std::vector<std::string> g_mounts;
bench::Sleepers* g_sleepers = nullptr;

config::DiskSettings watchAll() { return config::DiskSettings{}; }

void BM_Disk_ListFilesystems(benchmark::State& state) {
  auto cfg = watchAll();
  std::size_t n = 0;
  for (auto _ : state) {
    auto list = sense::listFilesystems("/proc", "/sys", cfg);
    benchmark::DoNotOptimize(list);
    n = list ? list->size() : 0;
  }
  state.counters["filesystems"] = static_cast<double>(n);
}
BENCHMARK(BM_Disk_ListFilesystems)->Unit(benchmark::kMicrosecond);

// Every watched filesystem asked, all answers taken: what one pass costs end to end.
void BM_Disk_FullPass_Statvfs(benchmark::State& state) {
  auto cfg = watchAll();
  sys::FsProbe probe;
  auto fd = probe.start();
  if (!fd) {
    state.SkipWithError("FsProbe did not start");
    return;
  }
  sys::MonotonicClock clock;
  std::size_t n = 0;
  for (auto _ : state) {
    auto list = sense::listFilesystems("/proc", "/sys", cfg);
    if (!list) break;
    n = list->size();
    for (const auto& w : *list) (void)probe.request(w.mountPoint, clock.now());
    std::size_t got = 0;
    while (got < n) {
      pollfd p{*fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      got += probe.take().size();
    }
  }
  state.counters["filesystems"] = static_cast<double>(n);
  state.counters["per_fs"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}
BENCHMARK(BM_Disk_FullPass_Statvfs)->Unit(benchmark::kMicrosecond);

// The step 2 scan of every process (the first tmpfs is the filesystem under pressure).
void BM_Disk_ScanWriters(benchmark::State& state) {
  struct stat st {};
  ::stat(g_mounts.empty() ? "/tmp" : g_mounts[0].c_str(), &st);
  std::size_t n = 0;
  for (auto _ : state) {
    auto scan = sense::scanWriters("/proc", st.st_dev);
    benchmark::DoNotOptimize(scan);
    n = scan.size();
  }
  state.counters["processes"] = static_cast<double>(n);
  state.counters["per_process"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}
BENCHMARK(BM_Disk_ScanWriters)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// The writer's group over the real table: one of the sleepers (a burst of 10,000
// siblings, of which 100 are said to write there).
void BM_Disk_WriterGroup_RealTable(benchmark::State& state) {
  sense::ProcessTable::Options o;
  o.selfPid = ::getpid();
  auto table = sense::ProcessTable::open(o);
  sys::MonotonicClock clock;
  (void)table->refreshAll(clock.now());
  auto entries = table->entries();
  std::vector<int> writing;
  int writer = -1;
  for (std::size_t i = 0; i < entries.size() && writing.size() < 100; ++i)
    if (g_sleepers != nullptr && entries[i].ppid == g_sleepers->helperPid())
      writing.push_back(static_cast<int>(i));
  if (!writing.empty()) writer = writing[writing.size() / 2];
  int out[64];
  int members = 0;
  for (auto _ : state) {
    policy::Group g;
    members = policy::writerGroup(entries, writer < 0 ? 0 : writer, writing, 100, out, 64, &g);
    benchmark::DoNotOptimize(out);
  }
  state.counters["processes"] = static_cast<double>(entries.size());
  state.counters["members"] = members;
}
BENCHMARK(BM_Disk_WriterGroup_RealTable)->Unit(benchmark::kMicrosecond);

std::string g_base;

bool makeMounts(int n) {
  char tmpl[] = "/tmp/ork-bench-disk-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return false;
  g_base = tmpl;
  for (int i = 0; i < n; ++i) {
    std::string m = g_base + "/m" + std::to_string(i);
    ::mkdir(m.c_str(), 0755);
    if (::mount("ork-bench", m.c_str(), "tmpfs", 0, "size=1m,nr_inodes=100") != 0) {
      std::fprintf(stderr, "ork_bench_disk: mount %s: %s\n", m.c_str(), std::strerror(errno));
      return false;
    }
    g_mounts.push_back(m);
  }
  return true;
}

void removeMounts() {
  for (const auto& m : g_mounts) {
    ::umount2(m.c_str(), MNT_DETACH);
    ::rmdir(m.c_str());
  }
  g_mounts.clear();
  if (!g_base.empty()) ::rmdir(g_base.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int sleepers = 10000, mounts = 50;
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--sleepers=", 11) == 0)
      sleepers = std::atoi(argv[i] + 11);
    else if (std::strncmp(argv[i], "--mounts=", 9) == 0)
      mounts = std::atoi(argv[i] + 9);
    else
      argv[w++] = argv[i];
  }
  argc = w;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ork::bench::addMachineContext();
  if (!makeMounts(mounts)) {
    removeMounts();
    return 1;
  }
  ork::bench::Sleepers s;
  std::string why;
  if (sleepers > 0 && !s.start(ork::bench::selfDir() + "/ork_bench_sleepers", sleepers, &why)) {
    std::fprintf(stderr, "ork_bench_disk: cannot start %d sleepers: %s\n", sleepers, why.c_str());
    removeMounts();
    return 1;
  }
  g_sleepers = &s;
  benchmark::AddCustomContext("sleepers", std::to_string(s.pids().size()));
  benchmark::AddCustomContext("tmpfs_mounts", std::to_string(g_mounts.size()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  s.stop();
  removeMounts();
  return 0;
}
