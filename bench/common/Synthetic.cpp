#include "Synthetic.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

namespace ork::bench {

std::vector<ProcessInfo> syntheticTable(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // 200 distinct programs; a process shares its program's identity.
  constexpr int kPrograms = 200;
  std::vector<std::shared_ptr<const ProcessIdentity>> programs;
  for (int i = 0; i < kPrograms; ++i) {
    auto id = std::make_shared<ProcessIdentity>();
    char buf[64];
    std::snprintf(buf, sizeof buf, "/usr/bin/prog%03d", i);
    id->exe = buf;
    id->cmdline = std::string(buf) + " --flag value";
    id->cgroup = i % 4 == 0 ? "/system.slice/prog.service" : "/user.slice/user-1000.slice";
    id->exeKey = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i + 1);
    id->systemService = i % 4 == 0;
    id->prefer = i == 7;
    id->avoid = i == 11;
    programs.push_back(std::move(id));
  }
  auto kernelId = std::make_shared<ProcessIdentity>();
  kernelId->exeKey = 1;

  std::vector<ProcessInfo> t;
  t.reserve(static_cast<std::size_t>(n));
  int pid = 1;
  for (int i = 0; i < n; ++i) {
    ProcessInfo p;
    pid += 1 + static_cast<int>(rng() % 3);
    p.pid = i == 0 ? 1 : pid;
    p.startTimeTicks = static_cast<std::uint64_t>(100 + i);
    p.state = 'S';
    double r = unit(rng);
    if (i > 0 && i < n / 50) {  // ~2 % kernel threads
      p.kernelThread = true;
      p.ppid = 2;
      p.identity = kernelId;
      std::snprintf(p.comm, sizeof p.comm, "kworker/%d", i % 100000);
    } else {
      // Parent: an earlier process (often a recent one, so trees form), or PID 1.
      if (i == 0 || r < 0.2) {
        p.ppid = i == 0 ? 0 : 1;
      } else {
        std::size_t back = 1 + static_cast<std::size_t>(rng() % 64);
        std::size_t pi = t.size() > back ? t.size() - back : 0;
        p.ppid = t[pi].pid;
      }
      // Children of a same-program parent keep its program 60 % of the time (pools).
      const ProcessInfo* parent = nullptr;
      for (std::size_t k = t.size(); k-- > 0 && k + 70 > t.size();)
        if (t[k].pid == p.ppid) {
          parent = &t[k];
          break;
        }
      if (parent != nullptr && !parent->kernelThread && parent->identity && unit(rng) < 0.6)
        p.identity = parent->identity;
      else
        p.identity = programs[rng() % kPrograms];
      std::snprintf(p.comm, sizeof p.comm, "%s", p.identity->exe.c_str() + 9);
      // Memory: log-uniform 64 KiB .. 256 MiB, a few at several GiB.
      double lg = 16 + unit(rng) * 12;  // 2^16 .. 2^28
      p.rss = Bytes{static_cast<std::int64_t>(std::exp2(lg))};
      if (unit(rng) < 0.002) p.rss = Bytes::gib(2 + static_cast<std::int64_t>(rng() % 6));
      p.growth = unit(rng) < 0.1 ? p.rss.bytes().scaled(unit(rng)) : Bytes{0};
      p.uid = r < 0.3 ? 0 : r < 0.45 ? 100 + static_cast<std::uint32_t>(rng() % 800) : 1000;
      p.uidKnown = true;
      double a = unit(rng);
      p.oomScoreAdj = a < 0.01 ? -1000 : a < 0.05 ? 300 : a < 0.07 ? -500 : 0;
      if (unit(rng) < 0.005) p.state = 'Z';
    }
    p.age = std::chrono::duration_cast<Nanos>(Seconds{1 + static_cast<long long>(rng() % 1'000'000)});
    t.push_back(std::move(p));
  }
  return t;
}

}  // namespace ork::bench
