// The I/O rule and attribution (policy/IoRule.h, policy/IoScorer.h): pure, with
// hand-made samples and snapshots.
#include <gtest/gtest.h>

#include <cstring>

#include "ork/config/Config.h"
#include "ork/policy/IoRule.h"
#include "ork/policy/IoScorer.h"

namespace ork::policy {
namespace {

using config::Key;

TimePoint at(Nanos d) { return TimePoint{} + d; }

IoDevice dev(const char* name, double util, double awaitMs, unsigned minor = 0) {
  IoDevice d{};
  std::strncpy(d.name, name, sizeof d.name - 1);
  d.major = 7;
  d.minor = minor;
  d.util = util;
  d.awaitMs = awaitMs;
  return d;
}

IoSample sample(TimePoint t, std::initializer_list<IoDevice> devs, double pressure) {
  IoSample s;
  s.at = t;
  s.interval = Seconds{1};
  for (const IoDevice& d : devs) s.devices[static_cast<std::size_t>(s.count++)] = d;
  s.pressure = pressure;
  return s;
}

TEST(IoRule, SaturatedNeedsUtilAndLatency) {
  config::Config cfg;  // util 90 %, latency 20 ms, pressure 20 %
  EXPECT_EQ(saturatedDevice(sample(at(Seconds{1}), {dev("a", 0.95, 5)}, 0.5), cfg), -1);   // fast: an SSD at work
  EXPECT_EQ(saturatedDevice(sample(at(Seconds{1}), {dev("a", 0.5, 80)}, 0.5), cfg), -1);   // slow, not saturated
  EXPECT_EQ(saturatedDevice(sample(at(Seconds{1}), {dev("a", 0.92, 30), dev("b", 0.99, 25)}, 0.5), cfg), 1);
  EXPECT_EQ(saturatedDevice(sample(at(Seconds{1}), {dev("a", 0.99, 30), dev("b", 0.99, 25)}, 0.5), cfg), 0);
}

TEST(IoRule, OverloadNeedsHostPressureWhenKnown) {
  config::Config cfg;
  EXPECT_FALSE(ioOverloaded(sample(at(Seconds{1}), {dev("a", 1, 50)}, 0.05), cfg));
  EXPECT_TRUE(ioOverloaded(sample(at(Seconds{1}), {dev("a", 1, 50)}, 0.3), cfg));
  EXPECT_TRUE(ioOverloaded(sample(at(Seconds{1}), {dev("a", 1, 50)}, -1), cfg));  // no PSI
}

TEST(IoRule, BurstIsLeftAloneSustainedActs) {
  config::Config cfg;
  cfg.set(Key::IoSustainS, 5);
  cfg.set(Key::IoKillAfterS, 3);
  IoRule rule(cfg);
  int t = 0;
  auto step = [&](bool hot) {
    ++t;
    return rule.evaluate(sample(at(Seconds{t}), {dev("a", hot ? 1.0 : 0.1, hot ? 60 : 1)}, hot ? 0.6 : 0), at(Seconds{t}));
  };
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(step(false).actDue);
  // A 3 s burst: never due.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(step(true).actDue);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(step(false).actDue);
  // Sustained: due once the window is covered.
  IoVerdict v;
  int n = 0;
  do {
    v = step(true);
    ++n;
  } while (!v.actDue && n < 20);
  EXPECT_TRUE(v.actDue);
  EXPECT_EQ(v.device, 0);
  EXPECT_GE(n, 4);  // 80 % of the 5 s window
  rule.onActed(at(Seconds{t}));
  // After an action: kill_after_s of fresh overload.
  n = 0;
  do {
    v = step(true);
    ++n;
  } while (!v.actDue && n < 20);
  EXPECT_GE(n, 3);
  EXPECT_LE(n, 4);
}

ProcessInfo proc(int pid, int ppid, Nanos age = Seconds{3600}) {
  ProcessInfo p;
  p.pid = pid;
  p.ppid = ppid;
  p.startTimeTicks = static_cast<std::uint64_t>(pid) * 10;
  p.age = age;
  p.rss = Bytes::mib(10);
  p.state = 'S';
  return p;
}

IoCgroup cg(std::string path, std::initializer_list<parse::CgroupIoDev> devs, std::int64_t psi) {
  IoCgroup c;
  c.path = std::move(path);
  c.devices = devs;
  c.hasDevices = devs.size() > 0;
  c.psiSomeUs = psi;
  return c;
}

TEST(IoScorer, BytesGoToTheDeviceInTheCgroupsShare) {
  std::vector<ProcessInfo> entries = {proc(10, 1), proc(20, 1), proc(30, 1, Seconds{2}), proc(40, 1)};
  IoSnapshot a, b;
  a.at = at(Seconds{0});
  b.at = at(Seconds{10});
  // cgroup 0 did all its I/O on 7:0; cgroup 1 a quarter on 7:0, the rest on 7:1;
  // cgroup 2 has no per-device counters (v1 blkio without a limit).
  a.cgroups = {cg("/a", {{7, 0, 0, 0, 0, 0}}, 0), cg("/b", {{7, 0, 0, 0, 0, 0}, {7, 1, 0, 0, 0, 0}}, 0), cg("/c", {}, -1)};
  b.cgroups = {cg("/a", {{7, 0, 0, 1000, 0, 1}}, 0), cg("/b", {{7, 0, 250, 0, 1, 0}, {7, 1, 0, 750, 0, 1}}, 0), cg("/c", {}, -1)};
  a.procs = {{10, 100, 1000, 1, 0}, {20, 200, 0, 0, 1}, {40, 400, 500, 5, 2}};
  b.procs = {{10, 100, 11000, 2, 0}, {20, 200, 40000, 3, 1}, {30, 300, 2000, 1, 0}, {40, 400, 10500, 9, 2}};
  std::vector<double> own;
  ioBytesOnDevice(entries, a, b, 7, 0, own);
  ASSERT_EQ(own.size(), 4u);
  EXPECT_DOUBLE_EQ(own[0], 1000.0);        // 10000 bytes in 10 s, all on 7:0
  EXPECT_DOUBLE_EQ(own[1], 1000.0);        // 40000 bytes, a quarter on 7:0
  EXPECT_DOUBLE_EQ(own[2], 200.0);         // born within the window: all its 2000 bytes
  EXPECT_DOUBLE_EQ(own[3], 1000.0);        // no per-device counters: all of it
  ioBytesOnDevice(entries, a, b, 7, 1, own);
  EXPECT_DOUBLE_EQ(own[0], 0.0);
  EXPECT_DOUBLE_EQ(own[1], 3000.0);
  // A recycled PID (another start time) is a new process; one the start missed is
  // taken at its lifetime average.
  b.procs[0].startTimeTicks = 999;
  ioBytesOnDevice(entries, a, b, 7, 0, own);
  EXPECT_DOUBLE_EQ(own[0], 0.0);  // the table's process is not the one in b
  a.procs.erase(a.procs.begin() + 1);
  ioBytesOnDevice(entries, a, b, 7, 1, own);
  EXPECT_NEAR(own[1], 30000.0 / 3600, 1e-9);
}

TEST(IoScorer, OthersAreNeitherTheCulpritNorItsAncestorsNorDescendants) {
  IoSnapshot a, b;
  a.at = at(Seconds{0});
  b.at = at(Seconds{10});
  for (IoSnapshot* s : {&a, &b}) {
    const std::int64_t k = s == &a ? 0 : 1;
    s->cgroups = {cg("/", {}, k * 9'000'000), cg("/machine", {}, k * 9'000'000), cg("/machine/vm1", {}, k * 9'000'000),
                  cg("/machine/vm1/emulator", {}, k * 8'000'000), cg("/machine/vm2", {}, k * 3'000'000),
                  cg("/machine/vm10", {}, k * 1'000'000), cg("/system", {}, -1)};
  }
  std::string who;
  std::vector<std::string> culprit = {"/machine/vm1"};
  EXPECT_DOUBLE_EQ(othersStall(a, b, culprit, &who), 0.3);
  EXPECT_EQ(who, "/machine/vm2");  // not /machine/vm10 (a prefix is not a parent)
  culprit = {"/machine/vm1", "/machine/vm2"};
  EXPECT_DOUBLE_EQ(othersStall(a, b, culprit, &who), 0.1);
  culprit = {"/machine"};
  EXPECT_DOUBLE_EQ(othersStall(a, b, culprit, &who), -1);  // nobody else with PSI
}

}  // namespace
}  // namespace ork::policy
