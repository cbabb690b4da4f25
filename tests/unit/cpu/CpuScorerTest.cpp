// Who creates the CPU load: usage over the window, the tree descent, exclusions, the
// floor and the leave-alone set, on hand-built process tables.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "ork/policy/CpuScorer.h"

namespace ork::policy {
namespace {

constexpr double kTicksPerSecond = 100;
constexpr Nanos kWindow = Seconds{10};
constexpr std::uint64_t kBaseTicks = 50'000;  // every process's CPU time at the window start

struct Spec {
  bool vital = false;
  int oomScoreAdj = 0;
  bool kernelThread = false;
  char state = 'S';
  bool noMemory = false;
};

// A table built parent by parent, with each process's usage over the window given in
// CPUs, and the baseline taken at the window's start.
class Table {
 public:
  Table& add(int pid, int ppid, double cpus, Spec spec = {}) {
    ProcessInfo p;
    p.pid = pid;
    p.ppid = ppid;
    p.uid = 1000;
    p.state = spec.state;
    p.kernelThread = spec.kernelThread;
    p.oomScoreAdj = spec.oomScoreAdj;
    p.rss = spec.noMemory ? Bytes{0} : Bytes::mib(10);
    p.age = Seconds{3600};
    p.startTimeTicks = 1000 + static_cast<std::uint64_t>(pid);
    p.cpuTicks = kBaseTicks + static_cast<std::uint64_t>(cpus * kTicksPerSecond * 10 + 0.5);
    auto identity = std::make_shared<ProcessIdentity>();
    identity->vital = spec.vital;
    identity->exeKey = 0x1000u + static_cast<std::uint64_t>(pid);
    p.identity = identity;
    entries.push_back(p);
    baseline.push_back(CpuBaseline{pid, p.startTimeTicks, kBaseTicks});
    return *this;
  }
  // The table as the daemon has it: sorted by PID, scratch reserved.
  CpuVictim choose(std::vector<int> leaveAlone = {}, double floor = kCpuVictimFloor) {
    auto byPid = [](const auto& a, const auto& b) { return a.pid < b.pid; };
    std::sort(entries.begin(), entries.end(), byPid);
    std::sort(baseline.begin(), baseline.end(), byPid);
    scratch.reserve(entries.size());
    leave = std::move(leaveAlone);
    CpuChoiceContext ctx{{baseline, kWindow, kTicksPerSecond}, leave, floor};
    return chooseCpuVictim(entries, ctx, scratch);
  }
  int pidOf(const CpuVictim& v) const {
    return v.index < 0 ? -1 : entries[static_cast<std::size_t>(v.index)].pid;
  }
  std::vector<int> memberPids(const CpuVictim& v, int cap = 64) const {
    std::vector<int> idx(static_cast<std::size_t>(cap));
    int n = cpuVictimMembers(scratch, v, idx.data(), cap);
    std::vector<int> pids;
    for (int i = 0; i < n; ++i)
      pids.push_back(entries[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)])].pid);
    return pids;
  }

  std::vector<ProcessInfo> entries;
  std::vector<CpuBaseline> baseline;
  std::vector<int> leave;
  CpuScratch scratch;
};

// A host's top: init, sshd (vital), a user's shell.
Table host() {
  Table t;
  t.add(1, 0, 0.01, {.vital = true})
      .add(2, 0, 0.02, {.kernelThread = true})
      .add(50, 1, 0.01, {.vital = true})  // sshd
      .add(60, 50, 0.0)                   // the user's bash
      .add(70, 1, 0.05);                  // a daemon
  return t;
}

TEST(CpuUsageTest, TicksSinceTheBaseline) {
  Table t = host();
  t.add(100, 60, 1.5);
  t.choose();
  const CpuWindow w{t.baseline, kWindow, kTicksPerSecond};
  EXPECT_DOUBLE_EQ(cpusUsedByPid(t.entries, 100, w), 1.5);
  EXPECT_DOUBLE_EQ(cpusUsedByPid(t.entries, 60, w), 0.0);
  EXPECT_EQ(cpusUsedByPid(t.entries, 12345, w), 0.0);  // not in the table
}

TEST(CpuUsageTest, WithoutBaseline) {
  ProcessInfo p;
  p.pid = 42;
  p.startTimeTicks = 777;
  p.cpuTicks = 300;
  p.age = Seconds{4};
  const std::vector<CpuBaseline> none;
  // Started within the window: all its 3 s of CPU over the 10 s window.
  EXPECT_DOUBLE_EQ(cpusUsed(p, CpuWindow{none, kWindow, kTicksPerSecond}), 0.3);
  // Its PID was another process's at the window start: same.
  const std::vector<CpuBaseline> recycled{{42, 111, 250}};
  EXPECT_DOUBLE_EQ(cpusUsed(p, CpuWindow{recycled, kWindow, kTicksPerSecond}), 0.3);
  // Older than the window yet missed by the baseline: its lifetime average, not 30
  // days of CPU time crammed into 10 s.
  p.age = Seconds{30 * 86400};
  p.cpuTicks = 30 * 86400 * 100 / 2;  // half a CPU all its life
  EXPECT_DOUBLE_EQ(cpusUsed(p, CpuWindow{none, kWindow, kTicksPerSecond}), 0.5);
  // Ticks below the baseline (cannot happen; never negative).
  const std::vector<CpuBaseline> ahead{{42, 777, p.cpuTicks + 10}};
  EXPECT_EQ(cpusUsed(p, CpuWindow{ahead, kWindow, kTicksPerSecond}), 0.0);
  // No window: no usage.
  EXPECT_EQ(cpusUsed(p, CpuWindow{none, Nanos{0}, kTicksPerSecond}), 0.0);
}

TEST(CpuUsageTest, TakeBaselineDoesNotAllocateWhenReserved) {
  Table t = host();
  t.choose();
  std::vector<CpuBaseline> b;
  b.reserve(t.entries.size());
  const CpuBaseline* data = b.data();
  takeCpuBaseline(t.entries, b);
  ASSERT_EQ(b.size(), t.entries.size());
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b[3].pid, 60);
  EXPECT_EQ(b[3].cpuTicks, t.entries[3].cpuTicks);
  EXPECT_EQ(b[3].startTimeTicks, t.entries[3].startTimeTicks);
}

// One process burning a CPU beats a big idle tree: usage, not size.
TEST(CpuScorerTest, LoneBurnerBeatsIdleBigTree) {
  Table t = host();
  t.add(100, 1, 0.01);  // a big service tree, nearly idle (0.31 CPU in all)
  for (int pid = 101; pid <= 160; ++pid) t.add(pid, 100, 0.005);
  t.add(200, 60, 1.0);  // the burner, started from the user's shell
  CpuVictim v = t.choose();
  EXPECT_EQ(t.pidOf(v), 200);
  EXPECT_EQ(v.members, 1);
  EXPECT_DOUBLE_EQ(v.cpus, 1.0);
  EXPECT_EQ(t.memberPids(v), std::vector<int>{200});
}

// A fork storm dies as a tree from its own root: not the shell above it (the descent
// passes it: the storm holds all of its usage), not one child (none holds 80 %).
TEST(CpuScorerTest, ForkStormChosenAtItsRoot) {
  Table t = host();
  t.add(300, 60, 0.02);
  for (int pid = 301; pid <= 340; ++pid) t.add(pid, 300, 0.1);
  t.add(400, 60, 0.1);  // something else the user runs
  CpuVictim v = t.choose();
  EXPECT_EQ(t.pidOf(v), 300);
  EXPECT_EQ(v.members, 41);
  EXPECT_NEAR(v.cpus, 4.02, 1e-9);
  std::vector<int> members = t.memberPids(v);
  ASSERT_EQ(members.size(), 41u);
  EXPECT_EQ(members.front(), 300);
  EXPECT_EQ(std::count(members.begin(), members.end(), 60), 0);
  EXPECT_EQ(std::count(members.begin(), members.end(), 400), 0);
}

// make -j4: make, a shell per job, a compiler under each. make is the victim with all
// its jobs; the user's shell and editor beside it are spared.
TEST(CpuScorerTest, MakeTree) {
  Table t = host();
  t.add(500, 60, 0.03);  // make
  const double cc[] = {0.9, 0.8, 1.0, 0.7};
  for (int j = 0; j < 4; ++j) {
    t.add(510 + 2 * j, 500, 0.0);            // sh -c
    t.add(511 + 2 * j, 510 + 2 * j, cc[j]);  // cc1
  }
  t.add(600, 60, 0.02);  // the editor
  CpuVictim v = t.choose();
  EXPECT_EQ(t.pidOf(v), 500);
  EXPECT_EQ(v.members, 9);
  EXPECT_NEAR(v.cpus, 3.43, 1e-9);
  // Breadth-first: make, its shells, then the compilers.
  std::vector<int> members = t.memberPids(v);
  ASSERT_EQ(members.size(), 9u);
  EXPECT_EQ(members[0], 500);
  for (std::size_t i = 1; i <= 4; ++i) EXPECT_EQ(members[i] % 2, 0) << members[i];
  for (std::size_t i = 5; i < 9; ++i) EXPECT_EQ(members[i] % 2, 1) << members[i];
}

// The descent's boundary: a child holding exactly 80 % is followed, 79 % is not.
TEST(CpuScorerTest, EightyPercentDescent) {
  Table t = host();
  t.add(700, 60, 0.2).add(701, 700, 0.8);
  EXPECT_EQ(t.pidOf(t.choose()), 701);
  Table u = host();
  u.add(700, 60, 0.21).add(701, 700, 0.79);
  EXPECT_EQ(u.pidOf(u.choose()), 700);
}

// Excluded processes are never members, and cut the tree: what runs below them is a
// tree of its own.
TEST(CpuScorerTest, ExcludedMembersLeftOut) {
  Table t = host();
  t.add(800, 60, 0.05);
  for (int pid = 801; pid <= 810; ++pid) t.add(pid, 800, 0.5);
  t.entries.back().oomScoreAdj = -1000;  // 810
  t.add(811, 800, 0.5, {.vital = true});
  t.add(812, 811, 0.1);  // below the vital one: its own root
  t.add(813, 800, 0.5, {.state = 'Z'});
  t.add(814, 800, 0.5, {.noMemory = true});  // no memory is no protection here
  CpuVictim v = t.choose();
  EXPECT_EQ(t.pidOf(v), 800);
  EXPECT_EQ(v.members, 11);  // 800, 801..809, 814
  EXPECT_NEAR(v.cpus, 0.05 + 9 * 0.5 + 0.5, 1e-9);
  std::vector<int> members = t.memberPids(v);
  for (int excluded : {810, 811, 812, 813})
    EXPECT_EQ(std::count(members.begin(), members.end(), excluded), 0) << excluded;
  EXPECT_EQ(std::count(members.begin(), members.end(), 814), 1);
}

// However much it uses, a protected process is never the victim.
TEST(CpuScorerTest, ProtectedNeverChosen) {
  Table t = host();
  t.add(900, 60, 3.0, {.oomScoreAdj = -1000});
  t.add(901, 1, 3.0, {.vital = true});
  t.add(902, 2, 3.0, {.kernelThread = true});
  t.add(903, 60, 3.0, {.state = 'Z'});
  t.add(904, 60, 0.5);
  CpuVictim v = t.choose();
  EXPECT_EQ(t.pidOf(v), 904);
  // Without 904: nobody.
  Table u = host();
  u.add(900, 60, 3.0, {.oomScoreAdj = -1000});
  u.entries[0].cpuTicks += 100000;  // init burning
  EXPECT_EQ(u.choose().index, -1);
}

TEST(CpuScorerTest, Floor) {
  Table t = host();
  t.add(1000, 60, 0.2);
  EXPECT_EQ(t.choose().index, -1);
  Table u = host();
  u.add(1000, 60, 0.25);
  EXPECT_EQ(u.pidOf(u.choose()), 1000);
  Table w = host();
  w.add(1000, 60, 0.2);
  EXPECT_EQ(w.pidOf(w.choose({}, 0.1)), 1000);
}

// Frozen VMs and VMs being saved are left alone: never chosen, never members, and
// they cut trees like the excluded.
TEST(CpuScorerTest, LeaveAloneSet) {
  Table t = host();
  t.add(1100, 1, 0.01, {.vital = true});  // libvirtd
  t.add(1101, 1100, 3.5);                 // qemu, being saved
  t.add(1102, 1100, 0.0);                 // qemu, frozen
  t.add(1200, 60, 0.6);
  EXPECT_EQ(t.pidOf(t.choose({1102, 1101})), 1200);
  EXPECT_EQ(t.pidOf(t.choose()), 1101);
  // In the middle of a tree.
  Table u = host();
  u.add(1300, 60, 0.0).add(1301, 1300, 2.0).add(1302, 1301, 0.3);
  CpuVictim v = u.choose({1301});
  EXPECT_EQ(u.pidOf(v), 1302);
  EXPECT_EQ(v.members, 1);
}

// A kill takes at most kMaxMembers: the root first, and never a child before its parent.
TEST(CpuScorerTest, MembersCapped) {
  Table t = host();
  t.add(1400, 60, 0.0);
  for (int pid = 1401; pid <= 1420; ++pid) t.add(pid, 1400, 0.1);
  for (int pid = 1500; pid < 1600; ++pid) t.add(pid, 1401 + (pid % 20), 0.1);
  CpuVictim v = t.choose();
  EXPECT_EQ(t.pidOf(v), 1400);
  EXPECT_EQ(v.members, 121);
  std::vector<int> members = t.memberPids(v, 64);
  ASSERT_EQ(members.size(), 64u);
  EXPECT_EQ(members[0], 1400);
  for (std::size_t i = 1; i <= 20; ++i) EXPECT_LT(members[i], 1500);  // every parent first
  EXPECT_EQ(t.memberPids(v, 1), std::vector<int>{1400});
  EXPECT_TRUE(t.memberPids(v, 0).empty());
  EXPECT_TRUE(t.memberPids(CpuVictim{}).empty());
}

// With the scratch reserved, choosing and listing members allocate nothing.
TEST(CpuScorerTest, NoAllocationOnceReserved) {
  Table t = host();
  t.add(300, 60, 0.02);
  for (int pid = 301; pid <= 340; ++pid) t.add(pid, 300, 0.1);
  t.choose();
  const int* parent = t.scratch.parent.data();
  const int* queue = t.scratch.queue.data();
  const double* subtree = t.scratch.subtree.data();
  CpuVictim v = t.choose();
  EXPECT_EQ(t.scratch.parent.data(), parent);
  EXPECT_EQ(t.scratch.queue.data(), queue);
  EXPECT_EQ(t.scratch.subtree.data(), subtree);
  EXPECT_EQ(t.pidOf(v), 300);
}

// A PPID cycle (PIDs reused between the reads of one pass) neither hangs nor is chosen.
TEST(CpuScorerTest, ParentCycle) {
  Table t = host();
  t.add(1700, 1701, 2.0).add(1701, 1700, 2.0);
  t.add(1800, 60, 0.5);
  EXPECT_EQ(t.pidOf(t.choose()), 1800);
}

TEST(CpuScorerTest, EmptyTable) {
  Table t;
  EXPECT_EQ(t.choose().index, -1);
}

}  // namespace
}  // namespace ork::policy
