// ProcessTable on a fixture /proc built in a temp dir: parsing of each process,
// kernel threads, hostile names, vanishing and recycled PIDs, cgroup scoping, growth,
// reread() and the operator's patterns.
#include "ork/sense/ProcessTable.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "TempTree.h"
#include "ork/parse/Parsers.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sys/Sysconf.h"

namespace ork::sense {
namespace {

using testing::TempTree;

const long kHz = ::sysconf(_SC_CLK_TCK);
const long kPage = ::sysconf(_SC_PAGESIZE);
constexpr double kUptime = 10000.0;
// The most the table keeps of one process's rss, swap or growth (Kib32): 4 TiB - 1 KiB.
constexpr Bytes kMostKept = Bytes{std::int64_t{Kib32::kMax} * 1024};

struct Proc {
  int pid;
  std::string comm = {};
  char state = 'S';
  int ppid = 1;
  std::uint32_t flags = 0x00400100;
  double startSeconds = 5000;  // since boot
  std::int64_t rssPages = 0;
  std::uint32_t uid = 1000;
  std::int64_t swapKb = 0;
  int adj = 0;
  std::string cmdline = {};  // with NULs
  std::string cgroup = "0::/user.slice/x\n";
  std::string exe = {};  // symlink target, "" for none
  bool kernel = false;  // status without VmSize
  std::uint64_t startStack = 0;  // stat field 28: what an exec moves (0: hidden)
  int session = 1;  // stat field 6: PID 1's session, as a child of a daemon would have
};

std::string statLine(const Proc& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%d (%s) %c %d %d %d 0 -1 %u 100 0 0 0 12 34 0 0 20 0 1 0 %llu 123456789 %lld "
                "18446744073709551615 1 1 %llu 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n",
                p.pid, p.comm.c_str(), p.state, p.ppid, p.pid, p.session, p.flags,
                static_cast<unsigned long long>(p.startSeconds * static_cast<double>(kHz)),
                static_cast<long long>(p.rssPages), static_cast<unsigned long long>(p.startStack));
  return buf;
}

std::string statusText(const Proc& p) {
  std::string u = std::to_string(p.uid);
  std::string s = "Name:\t" + p.comm + "\nUmask:\t0022\nState:\t" + p.state +
                  " (sleeping)\nTgid:\t" + std::to_string(p.pid) + "\nPid:\t" +
                  std::to_string(p.pid) + "\nPPid:\t" + std::to_string(p.ppid) +
                  "\nUid:\t" + u + "\t" + u + "\t" + u + "\t" + u + "\nGid:\t0\t0\t0\t0\n";
  if (!p.kernel) {
    s += "VmPeak:\t  100000 kB\nVmSize:\t  90000 kB\nVmRSS:\t " +
         // Unsigned: an impossible rss (a test of it rewrites status) wraps, defined.
         std::to_string(static_cast<unsigned long long>(p.rssPages) * static_cast<unsigned long long>(kPage) / 1024) +
         " kB\nRssAnon:\t 1000 kB\n"
         "RssFile:\t 1000 kB\nRssShmem:\t 0 kB\nVmSwap:\t " + std::to_string(p.swapKb) + " kB\n";
  }
  s += "Threads:\t1\n";
  return s;
}

class ProcessTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char up[64];
    std::snprintf(up, sizeof up, "%.2f 20000.00\n", kUptime);
    tree_.write("proc/uptime", up);
    tree_.write("proc/meminfo", "MemTotal: 1000 kB\nMemFree: 10 kB\n");
    tree_.mkdir("proc/self");
    tree_.mkdir("proc/sys");
    add({.pid = 1, .comm = "systemd", .ppid = 0, .startSeconds = 0.5, .rssPages = 3000, .uid = 0,
         .cmdline = std::string("/sbin/init\0splash\0", 18), .cgroup = "0::/init.scope\n",
         .exe = "/usr/lib/systemd/systemd"});
    add({.pid = 2, .comm = "kthreadd", .ppid = 0, .flags = 0x00208040, .startSeconds = 0.5,
         .uid = 0, .cgroup = "0::/\n", .kernel = true});
    add({.pid = 100, .comm = "python3", .rssPages = 2560, .swapKb = 2048, .adj = 300,
         .cmdline = std::string("python3\0-m\0http.server\0", 23),
         .exe = "/usr/bin/python3.11"});
    add({.pid = 200, .comm = "a) R 1 2 (b", .ppid = 100, .rssPages = 10, .uid = 0,
         .cmdline = std::string("/usr/sbin/sshd\0-D\0", 18), .cgroup = "0::/system.slice/ssh.service\n",
         .exe = "/usr/sbin/sshd"});
  }

  void add(const Proc& p) {
    const std::string d = "proc/" + std::to_string(p.pid);
    tree_.write(d + "/stat", statLine(p));
    tree_.write(d + "/status", statusText(p));
    tree_.write(d + "/oom_score_adj", std::to_string(p.adj) + "\n");
    tree_.write(d + "/cmdline", p.cmdline);
    tree_.write(d + "/cgroup", p.cgroup);
    if (!p.exe.empty()) tree_.symlink(p.exe, d + "/exe");
    procs_[p.pid] = p;
  }
  Proc& proc(int pid) { return procs_[pid]; }

  ProcessTable::Options options() {
    ProcessTable::Options o;
    o.procRoot = tree_.path("proc");
    o.growthWindow = Seconds{60};
    return o;
  }
  ProcessTable open(ProcessTable::Options o) {
    auto t = ProcessTable::open(std::move(o));
    EXPECT_TRUE(t.ok()) << t.error().message();
    return std::move(t).value();
  }
  static std::vector<int> pids(const ProcessTable& t) {
    std::vector<int> out;
    for (const auto& e : t.entries()) out.push_back(e.pid);
    return out;
  }
  static const ProcessInfo* find(const ProcessTable& t, int pid) {
    for (const auto& e : t.entries())
      if (e.pid == pid) return &e;
    return nullptr;
  }

  TempTree tree_;
  std::map<int, Proc> procs_;
  const TimePoint t0_{Seconds{100}};
};

TEST_F(ProcessTableTest, OpenOfMissingRootFails) {
  ProcessTable::Options o;
  o.procRoot = tree_.path("nope");
  EXPECT_FALSE(ProcessTable::open(o).ok());
}

// ORK leaves itself out of its table by the PID its proc root gives it: a fixture gives
// none, so a fixture process whose PID equals this process's real PID is listed (`ork
// top --proc FIXTURE` lost such a process on a CI host whose PIDs had wrapped).
TEST_F(ProcessTableTest, SelfIsLeftOutByThePidItsProcRootGivesIt) {
  EXPECT_EQ(sys::selfPidIn("/proc"), static_cast<int>(::getpid()));
  EXPECT_EQ(sys::selfPidIn(tree_.path("proc").c_str()), 0);
  EXPECT_EQ(sys::selfPidIn("/nonexistent"), 0);
  Proc me{static_cast<int>(::getpid())};
  me.comm = "fixture";
  me.rssPages = 10;
  add(me);
  ProcessTable::Options o = options();
  o.selfPid = sys::selfPidIn(o.procRoot.c_str());
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_NE(find(t, static_cast<int>(::getpid())), nullptr);
}

TEST_F(ProcessTableTest, EntriesSortedAndParsed) {
  ProcessTable t = open(options());
  EXPECT_FALSE(t.hasCompletedPass());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_TRUE(t.hasCompletedPass());
  EXPECT_FALSE(t.passInProgress());
  EXPECT_EQ(t.lastPassCompleted(), t0_);
  EXPECT_EQ(pids(t), (std::vector<int>{1, 2, 100, 200}));

  const ProcessInfo* p = find(t, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->ppid, 1);
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_STREQ(p->comm, "python3");
  EXPECT_EQ(p->state, 'S');
  EXPECT_FALSE(p->kernelThread);
  EXPECT_EQ(p->rss, Bytes{2560 * kPage});
  EXPECT_EQ(p->swap, Bytes::kib(2048));
  EXPECT_EQ(p->oomScoreAdj, 300);
  EXPECT_EQ(p->startTimeTicks, static_cast<std::uint64_t>(5000 * kHz));
  EXPECT_EQ(p->age, Seconds{5000});
  EXPECT_EQ(p->growth, Bytes{0});  // old, first sight
  ASSERT_NE(p->identity, nullptr);
  EXPECT_EQ(p->identity->cmdline, "python3 -m http.server");
  EXPECT_EQ(p->identity->exe, "/usr/bin/python3.11");
  EXPECT_EQ(p->identity->cgroup, "/user.slice/x");
  EXPECT_FALSE(p->identity->vital);
  EXPECT_FALSE(p->identity->systemService);
  EXPECT_FALSE(p->identity->prefer);
  EXPECT_FALSE(p->identity->avoid);
  EXPECT_NE(p->identity->exeKey, 0u);
}

TEST_F(ProcessTableTest, KernelThreads) {
  // A kernel thread that is not kthreadd nor its child: only the PF_KTHREAD flag tells.
  add({.pid = 60, .comm = "kworker/0:1", .ppid = 1, .flags = 0x04208060, .rssPages = 0,
       .uid = 0});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const ProcessInfo* k = find(t, 2);
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->kernelThread);
  ASSERT_NE(k->identity, nullptr);
  EXPECT_EQ(k->identity->cmdline, "");
  EXPECT_EQ(k->identity->exe, "");
  const ProcessInfo* w = find(t, 60);
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->kernelThread);
  EXPECT_FALSE(find(t, 100)->kernelThread);
  EXPECT_FALSE(find(t, 1)->kernelThread);
}

// Kernel threads are known by PF_KTHREAD alone: in a PID namespace (a container),
// PID 2 and its children are ordinary processes and must stay candidates.
TEST_F(ProcessTableTest, ChildOfPid2WithoutKthreadFlagIsAProcess) {
  add({.pid = 61, .comm = "worker", .ppid = 2, .flags = 0});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_NE(find(t, 61), nullptr);
  EXPECT_FALSE(find(t, 61)->kernelThread);
}

TEST_F(ProcessTableTest, HostileCommAndVitalExe) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const ProcessInfo* p = find(t, 200);
  ASSERT_NE(p, nullptr);
  EXPECT_STREQ(p->comm, "a) R 1 2 (b");
  EXPECT_EQ(p->state, 'S');
  EXPECT_EQ(p->ppid, 100);
  EXPECT_EQ(p->rss, Bytes{10 * kPage});
  EXPECT_EQ(p->uid, 0u);
  ASSERT_NE(p->identity, nullptr);
  EXPECT_TRUE(p->identity->vital);  // exe basename "sshd"
  EXPECT_TRUE(p->identity->systemService);  // /system.slice/
  EXPECT_EQ(p->identity->cmdline, "/usr/sbin/sshd -D");
  // init's exe is "systemd": vital too.
  ASSERT_NE(find(t, 1), nullptr);
  EXPECT_TRUE(find(t, 1)->identity->vital);
}

TEST_F(ProcessTableTest, DeletedVitalExeIsStillVital) {
  add({.pid = 300, .comm = "sshd", .rssPages = 10, .exe = "/usr/sbin/sshd (deleted)"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_NE(find(t, 300), nullptr);
  EXPECT_TRUE(find(t, 300)->identity->vital);
}

TEST_F(ProcessTableTest, SameProgramSameExeKey) {
  add({.pid = 300, .comm = "python3", .rssPages = 10, .exe = "/usr/bin/python3.11"});
  add({.pid = 301, .comm = "python3", .rssPages = 10, .exe = "/usr/bin/python3.12"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_EQ(find(t, 300)->identity->exeKey, find(t, 100)->identity->exeKey);
  EXPECT_NE(find(t, 301)->identity->exeKey, find(t, 100)->identity->exeKey);
}

TEST_F(ProcessTableTest, SystemServiceByUid) {
  add({.pid = 300, .comm = "postgres", .rssPages = 10, .uid = 999, .exe = "/usr/bin/postgres"});
  add({.pid = 301, .comm = "postgres", .rssPages = 10, .uid = 1000, .exe = "/usr/bin/postgres"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_TRUE(find(t, 300)->identity->systemService);
  EXPECT_FALSE(find(t, 301)->identity->systemService);
  EXPECT_FALSE(find(t, 1)->identity->systemService);  // root, /init.scope
}

TEST_F(ProcessTableTest, VanishedProcessDisappears) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_NE(find(t, 100), nullptr);
  tree_.remove("proc/100");
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_EQ(pids(t), (std::vector<int>{1, 2, 200}));
}

TEST_F(ProcessTableTest, ProcessWithoutStatusIsSkipped) {
  tree_.remove("proc/100/status");  // vanished between stat and status
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_EQ(find(t, 100), nullptr);
}

TEST_F(ProcessTableTest, KnownProcessKeepsItsIdentity) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  auto first = find(t, 100)->identity;
  // A changed cmdline is not re-read for a known process.
  tree_.write("proc/100/cmdline", std::string("other\0", 6));
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_EQ(find(t, 100)->identity.get(), first.get());
  EXPECT_EQ(find(t, 100)->identity->cmdline, "python3 -m http.server");
}

TEST_F(ProcessTableTest, RecycledPidIsANewProcess) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  auto first = find(t, 100)->identity;
  ASSERT_FALSE(first->vital);
  Proc p = proc(100);
  p.startSeconds = 9000;
  p.comm = "sshd";
  p.uid = 2000;
  p.adj = -500;
  p.swapKb = 0;
  p.cmdline = std::string("sshd\0", 5);
  p.exe = "/usr/sbin/sshd";
  add(p);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  const ProcessInfo* e = find(t, 100);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->identity.get(), first.get());
  EXPECT_TRUE(e->identity->vital);
  EXPECT_EQ(e->identity->cmdline, "sshd");
  EXPECT_EQ(e->uid, 2000u);
  EXPECT_EQ(e->oomScoreAdj, -500);
  EXPECT_EQ(e->swap, Bytes{0});
  EXPECT_EQ(e->startTimeTicks, static_cast<std::uint64_t>(9000 * kHz));
  EXPECT_EQ(e->age, Seconds{1000});
}

TEST_F(ProcessTableTest, SelfPidExcluded) {
  ProcessTable::Options o = options();
  o.selfPid = 100;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_EQ(pids(t), (std::vector<int>{1, 2, 200}));
}

TEST_F(ProcessTableTest, CgroupScoped) {
  add({.pid = 300, .comm = "qemu", .rssPages = 10, .exe = "/usr/bin/qemu-system-x86_64"});
  tree_.write("cg/machine/cgroup.procs", "300\n100\n");
  tree_.write("cg/machine/vm1/cgroup.procs", "200\n999\n");  // 999 does not exist
  tree_.mkdir("cg/machine/vm2");
  tree_.write("cg/machine/vm2/cgroup.procs", "");
  ProcessTable::Options o = options();
  o.cgroupDir = tree_.path("cg/machine");
  o.selfPid = 300;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_EQ(pids(t), (std::vector<int>{100, 200}));
}

TEST_F(ProcessTableTest, CgroupWithoutProcsFileIsAnError) {
  tree_.mkdir("cg/none");
  ProcessTable::Options o = options();
  o.cgroupDir = tree_.path("cg/none");
  ProcessTable t = open(o);
  EXPECT_FALSE(t.refreshAll(t0_).ok());
}

TEST_F(ProcessTableTest, StepIsChunked) {
  for (int pid = 300; pid < 310; ++pid) add({.pid = pid, .comm = "w", .rssPages = 1});
  ProcessTable::Options o = options();
  o.chunk = 5;  // 14 processes: 3 steps
  ProcessTable t = open(o);
  auto r = t.step(t0_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_TRUE(t.passInProgress());
  EXPECT_TRUE(t.entries().empty());  // no pass completed yet
  r = t.step(t0_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  r = t.step(t0_ + Millis{5});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(t.entries().size(), 14u);
  EXPECT_EQ(t.lastPassCompleted(), t0_ + Millis{5});
}

TEST_F(ProcessTableTest, GrowthOfAnOldProcess) {
  ProcessTable t = open(options());  // window 60 s
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const Bytes before = find(t, 100)->memory();
  EXPECT_EQ(find(t, 100)->growth, Bytes{0});

  Proc p = proc(100);
  p.rssPages += 262144;  // +1 GiB with 4 KiB pages
  add(p);
  const Bytes grown = Bytes{262144 * kPage};
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{30}).ok());
  EXPECT_EQ(find(t, 100)->memory(), before + grown);
  EXPECT_EQ(find(t, 100)->growth, grown);

  // Steady afterwards: the growth ages out of the window.
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{60}).ok());
  EXPECT_EQ(find(t, 100)->growth, Bytes{0});
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{90}).ok());
  EXPECT_EQ(find(t, 100)->growth, Bytes{0});
}

// Numbers the kernel never writes (a corrupt or hostile fixture) are refused or
// saturate, never undefined behaviour (the sanitizer build runs this, and stops at any
// overflow): a negative rss makes stat garbage; an rss of 2^63-1 pages, a VmSwap of
// 2^53 kB saturate at the most the table holds of a process (Kib32: 4 TiB - 1 KiB
// each); growth and ranking of such processes, alone and as a pool, stay defined.
TEST_F(ProcessTableTest, ImpossibleMemoryIsRefusedOrSaturates) {
  add({.pid = 300, .comm = "neg", .rssPages = -5, .exe = "/usr/bin/neg"});
  add({.pid = 400, .comm = "huge", .rssPages = INT64_MAX, .exe = "/usr/bin/huge"});
  add({.pid = 401, .comm = "huge", .ppid = 400, .rssPages = INT64_MAX, .exe = "/usr/bin/huge"});
  add({.pid = 402, .comm = "huge", .ppid = 400, .rssPages = INT64_MAX, .exe = "/usr/bin/huge"});
  for (int pid : {400, 401, 402})
    tree_.write("proc/" + std::to_string(pid) + "/status",
                "Name:\thuge\nTgid:\t" + std::to_string(pid) +
                    "\nUid:\t1000\t1000\t1000\t1000\nVmSize:\t1 kB\nVmSwap:\t18446744073709551615 kB\n");
  ProcessTable::Options o = options();
  o.readSwap = true;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_EQ(find(t, 300), nullptr);  // its stat is garbage
  for (int pid : {400, 401, 402}) {
    const ProcessInfo* p = find(t, pid);
    ASSERT_NE(p, nullptr) << pid;
    EXPECT_TRUE(p->rss.saturated()) << pid;
    EXPECT_TRUE(p->swap.saturated()) << pid;
    EXPECT_EQ(p->memory(), Bytes{2 * kMostKept.value}) << pid;
  }
  // Growth from nothing to the most, then the ranking of the pool.
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{40}).ok());
  ProcessInfo e = *find(t, 400);
  ASSERT_TRUE(t.reread(e, t0_ + Seconds{41}));
  config::Config cfg;
  std::vector<policy::Candidate> ranked;
  policy::RankScratch scratch;
  policy::rankCandidates(t.entries(), {Bytes::gib(1), Bytes::mib(100), &cfg, t0_ + Seconds{41}}, ranked, scratch);
  ASSERT_FALSE(ranked.empty());
  EXPECT_EQ(ranked[0].members, 3);
  EXPECT_EQ(ranked[0].freed, Bytes{6 * kMostKept.value});
  EXPECT_TRUE(std::isfinite(ranked[0].score));
}

// The table keeps memory as 32-bit KiB (Kib32). A process of 4 TiB and more saturates
// at 4 TiB - 1 KiB, never wraps: it stays the largest, and one that stays beyond 4 TiB
// is not seen growing (by the difference between its memory and the saturated
// figure); one that grows from below 4 TiB to beyond it grew up to 4 TiB.
TEST_F(ProcessTableTest, FourTebibyteProcessesSaturateNotWrap) {
  constexpr std::int64_t kTib = std::int64_t{1} << 40;
  add({.pid = 500, .comm = "vast", .rssPages = 5 * kTib / kPage, .exe = "/usr/bin/vast"});
  add({.pid = 501, .comm = "grower", .rssPages = kTib / kPage, .exe = "/usr/bin/grower"});
  add({.pid = 502, .comm = "exact", .rssPages = 4 * kTib / kPage, .exe = "/usr/bin/exact"});
  ProcessTable t = open(options());  // window 60 s
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_EQ(find(t, 500)->memory(), kMostKept);
  EXPECT_EQ(find(t, 501)->memory(), Bytes{kTib});
  EXPECT_EQ(find(t, 502)->memory(), kMostKept);
  Proc vast = proc(500);
  vast.rssPages = 6 * kTib / kPage;
  add(vast);
  Proc grower = proc(501);
  grower.rssPages = 5 * kTib / kPage;
  add(grower);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{40}).ok());
  EXPECT_EQ(find(t, 501)->memory(), kMostKept);
  EXPECT_EQ(find(t, 501)->growth, Bytes{kMostKept.value - kTib});
  for (int s : {40, 80, 120}) {
    if (s > 40) {
      ASSERT_TRUE(t.refreshAll(t0_ + Seconds{s}).ok());
    }
    EXPECT_EQ(find(t, 500)->memory(), kMostKept) << s;
    EXPECT_EQ(find(t, 500)->growth, Bytes{0}) << s;
    EXPECT_EQ(find(t, 502)->growth, Bytes{0}) << s;
  }
  EXPECT_EQ(find(t, 501)->growth, Bytes{0});  // it stayed beyond 4 TiB
}

// An uptime that is not a number of seconds (NaN, inf, beyond 31 years, garbage) is
// unknown: every process is then taken as old, never as "just started" (all its
// memory recent growth) through an undefined conversion, in a pass and in reread().
TEST_F(ProcessTableTest, ImpossibleUptimeMakesEveryProcessOld) {
  for (const char* uptime : {"nan 1\n", "inf inf\n", "-inf 1\n", "1e400 1\n", "-5.00 1\n",
                             "18446744073709551616.00 1\n", "garbage\n", ""}) {
    tree_.write("proc/uptime", uptime);
    ProcessTable t = open(options());
    ASSERT_TRUE(t.refreshAll(t0_).ok()) << uptime;
    ASSERT_NE(find(t, 100), nullptr);
    EXPECT_EQ(find(t, 100)->age, Seconds{365LL * 86400}) << uptime;
    ProcessInfo e = *find(t, 100);
    ASSERT_TRUE(t.reread(e, t0_ + Seconds{5})) << uptime;
    EXPECT_EQ(e.age, Seconds{365LL * 86400}) << uptime;
    EXPECT_EQ(e.growth, Bytes{0}) << uptime;
  }
}

TEST_F(ProcessTableTest, ShrinkingIsNoGrowth) {
  Proc& p0 = proc(100);
  p0.rssPages = 300000;
  add(p0);
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  Proc p = proc(100);
  p.rssPages = 1000;
  add(p);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{30}).ok());
  EXPECT_EQ(find(t, 100)->growth, Bytes{0});
  EXPECT_EQ(find(t, 100)->rss, Bytes{1000 * kPage});
}

// A process born within the growth window gained all it holds within it: all of it is
// growth, even when ORK first saw it at its own start; it fades from the process's birth
// (the lab's scenario 2: a large process that allocated at start-up and holds loses to
// a smaller one still leaking, through the score's half-life).
TEST_F(ProcessTableTest, YoungProcessCountsAllItsMemoryFromItsBirth) {
  add({.pid = 300, .comm = "steady", .startSeconds = kUptime - 10, .rssPages = 5000,
       .exe = "/usr/bin/steady"});
  add({.pid = 301, .comm = "old", .startSeconds = kUptime - 100, .rssPages = 5000, .exe = "/usr/bin/old"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{31}).ok());
  const ProcessInfo* p = find(t, 300);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->age, Seconds{10});
  EXPECT_EQ(p->growth, Bytes{5000 * kPage});
  EXPECT_EQ(p->lastGrewAt, t0_ + (-Seconds{10}));  // its birth: never seen growing since
  EXPECT_EQ(find(t, 301)->growth, Bytes{0});     // older than the window
}

// Born since ORK's previous look (the last complete pass): all it holds was gained
// since, so all of it is growth, fading from its birth (issue 9: a burst of new
// processes is what grew, not the steady process beside it).
TEST_F(ProcessTableTest, NewbornSinceThePreviousPassCountsAllItsMemory) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  tree_.write("proc/uptime", "10030.00 20000.00\n");
  add({.pid = 300, .comm = "burst", .startSeconds = 10025, .rssPages = 5000, .exe = "/usr/bin/burst"});
  // Started before ORK's previous look began, and before the growth window: only what
  // it gains from now on.
  add({.pid = 301, .comm = "older", .startSeconds = kUptime - 500, .rssPages = 5000, .exe = "/usr/bin/older"});
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{30}).ok());
  const ProcessInfo* p = find(t, 300);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->growth, Bytes{5000 * kPage});
  EXPECT_EQ(p->lastGrewAt, t0_ + Seconds{25});  // its birth
  const ProcessInfo* q = find(t, 301);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->growth, Bytes{0});
  // The next pass keeps it as growth (still within the window), not as new memory.
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{31}).ok());
  EXPECT_EQ(find(t, 300)->growth, Bytes{5000 * kPage});
  EXPECT_EQ(find(t, 300)->lastGrewAt, t0_ + Seconds{25});
}

// A process that appeared since the last pass, found at kill time, has no history:
// all its memory was gained since the last look, so all of it counts as growth.
TEST_F(ProcessTableTest, NewcomerAtKillTimeGrowthIsAllItsMemory) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  add({.pid = 300, .comm = "hog", .startSeconds = kUptime - 1, .rssPages = 5000, .swapKb = 100,
       .exe = "/usr/bin/hog"});
  ASSERT_TRUE(t.addNewcomers(t0_ + Seconds{1}).ok());
  const ProcessInfo* p = find(t, 300);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->growth, Bytes{5000 * kPage} + Bytes::kib(100));
}

TEST_F(ProcessTableTest, BigProcessSwapAndAdjAreRereadEachPass) {
  Proc p = proc(100);
  p.rssPages = 65536;  // 256 MiB with 4 KiB pages: watched
  add(p);
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  p.swapKb = 4096;
  p.adj = 1000;
  add(p);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_EQ(find(t, 100)->swap, Bytes::kib(4096));
  EXPECT_EQ(find(t, 100)->oomScoreAdj, 1000);
}

TEST_F(ProcessTableTest, SmallProcessDetailsRereadOnlyWithReadSwap) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  Proc p = proc(100);
  p.swapKb = 8192;
  add(p);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_EQ(find(t, 100)->swap, Bytes::kib(2048));  // small and known: stat only
  t.setReadSwap(true);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{2}).ok());
  EXPECT_EQ(find(t, 100)->swap, Bytes::kib(8192));
}

// ---- reread ------------------------------------------------------------------------

TEST_F(ProcessTableTest, RereadUpdatesInPlace) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ProcessInfo e = *find(t, 100);
  Proc p = proc(100);
  p.rssPages = 5000;
  p.swapKb = 10;
  p.adj = 500;
  p.state = 'R';
  add(p);
  ASSERT_TRUE(t.reread(e, t0_ + Seconds{2}));
  EXPECT_EQ(e.rss, Bytes{5000 * kPage});
  EXPECT_EQ(e.swap, Bytes::kib(10));
  EXPECT_EQ(e.oomScoreAdj, 500);
  EXPECT_EQ(e.state, 'R');
  EXPECT_EQ(e.age, Seconds{5002});  // uptime advanced with the clock
}

// At kill time the young processes are read again: a burst member first seen just after
// its fork, nearly empty, holds what it allocated since; an old process keeps the
// figures of the pass; one that is gone is marked dead; no more than the cap are read.
TEST_F(ProcessTableTest, RereadYoungRefreshesOnlyTheYoung) {
  add({.pid = 300, .comm = "burst", .startSeconds = kUptime - 2, .rssPages = 10, .exe = "/usr/bin/burst"});
  add({.pid = 301, .comm = "burst", .startSeconds = kUptime - 2, .rssPages = 10, .exe = "/usr/bin/burst"});
  add({.pid = 302, .comm = "gone", .startSeconds = kUptime - 1, .rssPages = 10, .exe = "/usr/bin/gone"});
  add({.pid = 200, .comm = "steady", .startSeconds = kUptime - 500, .rssPages = 1000, .exe = "/usr/bin/steady"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  add({.pid = 300, .comm = "burst", .startSeconds = kUptime - 2, .rssPages = 5000, .exe = "/usr/bin/burst"});
  add({.pid = 301, .comm = "burst", .startSeconds = kUptime - 2, .rssPages = 5000, .exe = "/usr/bin/burst"});
  add({.pid = 200, .comm = "steady", .startSeconds = kUptime - 500, .rssPages = 9000, .exe = "/usr/bin/steady"});
  tree_.remove("proc/302");
  auto entries = t.mutableEntries();
  EXPECT_EQ(t.rereadYoung(entries, t0_ + Seconds{1}, 64), 3);
  EXPECT_EQ(find(t, 300)->rss, Bytes{5000 * kPage});
  EXPECT_EQ(find(t, 300)->growth, Bytes{5000 * kPage});  // all it holds: it is young
  EXPECT_EQ(find(t, 301)->rss, Bytes{5000 * kPage});
  EXPECT_EQ(find(t, 302)->state, 'X');
  EXPECT_EQ(find(t, 200)->rss, Bytes{1000 * kPage});  // old: the pass's figures
  // The cap: the highest PIDs first.
  add({.pid = 300, .comm = "burst", .startSeconds = kUptime - 2, .rssPages = 7000, .exe = "/usr/bin/burst"});
  add({.pid = 301, .comm = "burst", .startSeconds = kUptime - 2, .rssPages = 7000, .exe = "/usr/bin/burst"});
  EXPECT_EQ(t.rereadYoung(entries, t0_ + Seconds{2}, 1), 1);
  EXPECT_EQ(find(t, 301)->rss, Bytes{7000 * kPage});
  EXPECT_EQ(find(t, 300)->rss, Bytes{5000 * kPage});
}

TEST_F(ProcessTableTest, RereadOfVanishedProcessIsFalse) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ProcessInfo e = *find(t, 100);
  tree_.remove("proc/100");
  EXPECT_FALSE(t.reread(e, t0_ + Seconds{1}));
  EXPECT_FALSE(t.startTimeOf(100).ok());
}

TEST_F(ProcessTableTest, RereadOfRecycledPidIsFalse) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ProcessInfo e = *find(t, 100);
  const Bytes rss = e.rss;
  Proc p = proc(100);
  p.startSeconds = 9999;
  p.rssPages = 1;
  add(p);
  EXPECT_FALSE(t.reread(e, t0_ + Seconds{1}));
  EXPECT_EQ(e.rss, rss);
  auto st = t.startTimeOf(100);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, static_cast<std::uint64_t>(9999 * kHz));
}

// ---- patterns ------------------------------------------------------------------------

config::Pattern pattern(const char* text) {
  config::Pattern p;
  std::string message;
  EXPECT_TRUE(config::parsePattern(text, p, message)) << message;
  return p;
}

TEST_F(ProcessTableTest, PatternsSetIdentityFlags) {
  tree_.write("passwd",
              "root:x:0:0:root:/root:/bin/bash\n"
              "broken line\n"
              "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
              "bob:x:1001:1001::/home/bob:/bin/sh\n");
  UserNames users;
  users.load(tree_.path("passwd"));
  EXPECT_EQ(users.nameOf(1000), "alice");
  EXPECT_EQ(users.nameOf(0), "root");
  EXPECT_EQ(users.nameOf(4242), "");

  add({.pid = 300, .comm = "java", .rssPages = 10, .uid = 1001,
       .cmdline = std::string("java\0-Xmx4g\0App\0", 16), .cgroup = "0::/machine.slice/vm-1.scope\n",
       .exe = "/opt/jdk/bin/java"});
  add({.pid = 301, .comm = "backup", .rssPages = 10, .uid = 4242, .exe = "/usr/bin/backup"});
  const std::vector<config::Pattern> protect = {pattern("user:alice")};
  const std::vector<config::Pattern> prefer = {pattern("name:java"), pattern("user:4242")};
  const std::vector<config::Pattern> avoid = {pattern("cgroup:/machine.slice/*"),
                                              pattern("cmdline:*http.server*")};
  ProcessTable::Options o = options();
  o.protect = &protect;
  o.prefer = &prefer;
  o.avoid = &avoid;
  o.users = &users;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());

  struct Want {
    int pid;
    bool vital, prefer, avoid;
  };
  const Want wants[] = {
      {100, true, false, true},   // alice; cmdline matches
      {300, false, true, true},   // name java; machine.slice
      {301, false, true, false},  // numeric uid
      {200, true, false, false},  // sshd: vital by name
  };
  for (const auto& w : wants) {
    const ProcessInfo* p = find(t, w.pid);
    ASSERT_NE(p, nullptr) << w.pid;
    EXPECT_EQ(p->identity->vital, w.vital) << w.pid;
    EXPECT_EQ(p->identity->prefer, w.prefer) << w.pid;
    EXPECT_EQ(p->identity->avoid, w.avoid) << w.pid;
  }
}

TEST_F(ProcessTableTest, UserPatternWithoutUserNamesMatchesOnlyNumbers) {
  const std::vector<config::Pattern> protect = {pattern("user:alice"), pattern("user:100?")};
  ProcessTable::Options o = options();
  o.protect = &protect;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_TRUE(find(t, 100)->identity->vital);  // uid 1000 matches "100?"
}

// A status that is garbled or has no Uid: line leaves the owner unknown, not root (uid
// 0): no user pattern matches it, it is no system service by uid, and it is read again
// on the next pass (a small process's status is otherwise not).
TEST_F(ProcessTableTest, UnreadableOwnerIsUnknownNotRoot) {
  add({.pid = 300, .comm = "garbled", .rssPages = 10, .uid = 0});
  add({.pid = 301, .comm = "nouid", .rssPages = 10, .uid = 0});
  add({.pid = 302, .comm = "daemon", .rssPages = 10, .uid = 0});
  tree_.write("proc/300/status", "Name:\tgarbled\nUid:\tzero\t0\t0\t0\nVmSize:\t1 kB\n");
  tree_.write("proc/301/status", "Name:\tnouid\nVmSize:\t1 kB\n");
  const std::vector<config::Pattern> prefer = {pattern("user:0")};
  const std::vector<config::Pattern> avoid = {pattern("user:*")};
  ProcessTable::Options o = options();
  o.prefer = &prefer;
  o.avoid = &avoid;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  for (int pid : {300, 301}) {
    const ProcessInfo* p = find(t, pid);
    ASSERT_NE(p, nullptr) << pid;
    EXPECT_FALSE(p->uidKnown) << pid;
    EXPECT_FALSE(p->identity->prefer) << pid;
    EXPECT_FALSE(p->identity->avoid) << pid;
    EXPECT_FALSE(p->identity->systemService) << pid;
  }
  ASSERT_NE(find(t, 302), nullptr);
  EXPECT_TRUE(find(t, 302)->uidKnown);  // really root
  EXPECT_TRUE(find(t, 302)->identity->prefer);
  // Readable again: the next pass reads the owner.
  tree_.write("proc/300/status", statusText(proc(300)));
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_TRUE(find(t, 300)->uidKnown);
  EXPECT_EQ(find(t, 300)->uid, 0u);
  EXPECT_FALSE(find(t, 301)->uidKnown);
  // And reread() learns it too.
  tree_.write("proc/301/status", statusText(proc(301)));
  ProcessInfo e = *find(t, 301);
  ASSERT_TRUE(t.reread(e, t0_ + Seconds{2}));
  EXPECT_TRUE(e.uidKnown);
}

TEST_F(ProcessTableTest, NamePatternUsesExeBasenameThenComm) {
  add({.pid = 300, .comm = "longname-trunca", .rssPages = 10, .exe = "/usr/bin/longname-truncated"});
  add({.pid = 301, .comm = "noexe", .rssPages = 10});
  const std::vector<config::Pattern> prefer = {pattern("name:longname-truncated"),
                                               pattern("name:noexe")};
  ProcessTable::Options o = options();
  o.prefer = &prefer;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_TRUE(find(t, 300)->identity->prefer);
  EXPECT_TRUE(find(t, 301)->identity->prefer);
  EXPECT_FALSE(find(t, 100)->identity->prefer);
}

TEST_F(ProcessTableTest, PatternsMatchAnUpgradedBinary) {
  // After a package upgrade the running process's exe reads "/usr/bin/postgres
  // (deleted)"; the operator's name pattern must still protect it, as the compiled-in
  // vital list does.
  add({.pid = 300, .comm = "postgres", .rssPages = 10, .exe = "/usr/bin/postgres (deleted)"});
  const std::vector<config::Pattern> protect = {pattern("name:postgres")};
  ProcessTable::Options o = options();
  o.protect = &protect;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_NE(find(t, 300), nullptr);
  EXPECT_TRUE(find(t, 300)->identity->vital);
}

}  // namespace
}  // namespace ork::sense

namespace ork::sense {
namespace {

// Newcomers at kill time, host-wide: the PIDs allocated since the last pass began are
// probed (from ns_last_pid), threads among them are not processes, and without
// ns_last_pid the directory is listed again.
class NewcomersTest : public ProcessTableTest {};

TEST_F(NewcomersTest, ProbesPidsAllocatedSinceThePassBegan) {
  tree_.mkdir("proc/sys/kernel");
  tree_.write("proc/sys/kernel/ns_last_pid", "200\n");
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_EQ(find(t, 201), nullptr);
  // A process and a thread (Tgid 100) appear after the pass.
  add({.pid = 201, .comm = "hog", .rssPages = 5000});
  add({.pid = 202, .comm = "worker"});
  Proc thread = proc(202);
  std::string status = statusText(thread);
  status.replace(status.find("Tgid:\t202"), 9, "Tgid:\t100");
  tree_.write("proc/202/status", status);
  tree_.write("proc/sys/kernel/ns_last_pid", "202\n");
  auto added = t.addNewcomers(t0_);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, 1);
  ASSERT_NE(find(t, 201), nullptr);
  EXPECT_EQ(find(t, 201)->rss, Bytes{5000 * kPage});
  EXPECT_EQ(find(t, 202), nullptr) << "a thread was taken for a process";
  EXPECT_EQ(pids(t), (std::vector<int>{1, 2, 100, 200, 201}));
}

TEST_F(NewcomersTest, ListsAgainWithoutNsLastPid) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  add({.pid = 150, .comm = "late", .rssPages = 10});
  auto added = t.addNewcomers(t0_);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, 1);
  EXPECT_NE(find(t, 150), nullptr);
}

}  // namespace
}  // namespace ork::sense

namespace ork::sense {
namespace {

// ---- exec: identity follows the program a process runs ------------------------------

// A libvirtd child seen between its fork and its exec of qemu: vital while it runs
// libvirtd, a plain candidate (and a VM) once it runs qemu.
TEST_F(ProcessTableTest, IdentityFollowsExec) {
  add({.pid = 300, .comm = "libvirtd", .ppid = 250, .rssPages = 100, .uid = 0,
       .cmdline = std::string("/usr/sbin/libvirtd\0--daemon\0", 28),
       .cgroup = "0::/system.slice/libvirtd.service\n", .exe = "/usr/sbin/libvirtd"});
  const std::vector<config::Pattern> prefer = {pattern("name:qemu-system-*")};
  ProcessTable::Options o = options();
  o.prefer = &prefer;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const ProcessInfo* e = find(t, 300);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->identity->vital);
  EXPECT_FALSE(e->identity->prefer);
  EXPECT_EQ(e->execs, 0u);

  // The exec: same PID, same start time, another program (and its cgroup moved).
  add({.pid = 300, .comm = "qemu-system-x86", .ppid = 250, .rssPages = 100, .uid = 64055,
       .cmdline = std::string("/usr/bin/qemu-system-x86_64\0-name\0guest=vm1\0", 44),
       .cgroup = "0::/machine/qemu-1-vm1.libvirt-qemu\n", .exe = "/usr/bin/qemu-system-x86_64"});
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  e = find(t, 300);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->identity->exe, "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(e->identity->cmdline, "/usr/bin/qemu-system-x86_64 -name guest=vm1");
  EXPECT_EQ(e->identity->cgroup, "/machine/qemu-1-vm1.libvirt-qemu");
  EXPECT_STREQ(e->comm, "qemu-system-x86");
  EXPECT_EQ(e->uid, 64055u);
  EXPECT_FALSE(e->identity->vital);
  EXPECT_TRUE(e->identity->prefer);
  EXPECT_FALSE(e->identity->systemService);
  EXPECT_EQ(e->execs, 1u);

  // No exec since: the identity is shared, not read again.
  auto before = e->identity;
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{2}).ok());
  EXPECT_EQ(find(t, 300)->identity, before);
  EXPECT_EQ(find(t, 300)->execs, 1u);
}

// An exec of a binary with the same comm (15 characters in common, or the same name in
// another directory): stat's layout fields tell it.
TEST_F(ProcessTableTest, ExecWithTheSameCommIsSeenByTheLayout) {
  add({.pid = 300, .comm = "sshd", .rssPages = 100, .uid = 0,
       .cmdline = std::string("sshd: alice\0", 12), .exe = "/usr/sbin/sshd", .startStack = 0x7ffd1000});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_TRUE(find(t, 300)->identity->vital);
  add({.pid = 300, .comm = "sshd", .rssPages = 100, .uid = 1000,
       .cmdline = std::string("/home/alice/bin/sshd\0", 21), .exe = "/home/alice/bin/sshd.real",
       .startStack = 0x7ffe2000});
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  const ProcessInfo* e = find(t, 300);
  EXPECT_EQ(e->identity->exe, "/home/alice/bin/sshd.real");
  EXPECT_FALSE(e->identity->vital);
  EXPECT_EQ(e->execs, 1u);
}

// Without the layout (hidden, or all zeros as here) and with the same comm an exec is
// not seen: the documented limit.
TEST_F(ProcessTableTest, SameCommWithoutLayoutIsNotAnExec) {
  add({.pid = 300, .comm = "worker", .rssPages = 100, .exe = "/usr/bin/worker"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  auto before = find(t, 300)->identity;
  add({.pid = 300, .comm = "worker", .rssPages = 100, .exe = "/usr/bin/worker2"});
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_EQ(find(t, 300)->identity, before);
  EXPECT_EQ(find(t, 300)->execs, 0u);
}

TEST_F(ProcessTableTest, RereadFollowsExec) {
  add({.pid = 300, .comm = "sshd", .rssPages = 100, .exe = "/usr/sbin/sshd"});
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  add({.pid = 300, .comm = "hog", .rssPages = 100, .exe = "/usr/bin/hog"});
  auto entries = t.mutableEntries();
  auto it = std::find_if(entries.begin(), entries.end(), [](const ProcessInfo& x) { return x.pid == 300; });
  ASSERT_NE(it, entries.end());
  ProcessInfo& e = *it;
  ASSERT_TRUE(e.identity->vital);
  ASSERT_TRUE(t.reread(e, t0_ + Seconds{1}));
  EXPECT_STREQ(e.comm, "hog");
  EXPECT_EQ(e.identity->exe, "/usr/bin/hog");
  EXPECT_FALSE(e.identity->vital);
  EXPECT_EQ(e.execs, 1u);
}

// ---- oom_score_adj: small processes, stickiness ---------------------------------------

TEST_F(ProcessTableTest, SmallProcessAdjIsRereadInRotation) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  Proc p = proc(100);  // 10 MiB: small
  p.adj = 700;
  add(p);
  int passes = 0;
  while (find(t, 100)->oomScoreAdj != 700 && passes < 100) {
    ++passes;
    ASSERT_TRUE(t.refreshAll(t0_ + Seconds{passes}).ok());
  }
  EXPECT_EQ(find(t, 100)->oomScoreAdj, 700);
  EXPECT_LE(passes, static_cast<int>(ProcessTable::kSmallAdjEvery));
}

TEST_F(ProcessTableTest, AdjMinusThousandIsStickyUntilThePidIsReused) {
  Proc p = proc(100);
  p.adj = -1000;
  add(p);
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  EXPECT_TRUE(find(t, 100)->adjMinSeen);
  // It gives the protection up: still protected, whatever the later passes read.
  p.adj = 500;
  add(p);
  for (int i = 1; i <= 2 * static_cast<int>(ProcessTable::kSmallAdjEvery); ++i)
    ASSERT_TRUE(t.refreshAll(t0_ + Seconds{i}).ok());
  EXPECT_EQ(find(t, 100)->oomScoreAdj, 500);
  EXPECT_TRUE(find(t, 100)->adjMinSeen);
  // ... and across an exec.
  p.comm = "other";
  p.exe = "/usr/bin/other";
  add(p);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{100}).ok());
  EXPECT_EQ(find(t, 100)->execs, 1u);
  EXPECT_TRUE(find(t, 100)->adjMinSeen);
  // A new process on the same PID starts unprotected.
  p.startSeconds += 100;
  add(p);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{101}).ok());
  EXPECT_FALSE(find(t, 100)->adjMinSeen);
}

// ---- recheck(): what act::Killer asks just before the signal ------------------------

TEST_F(ProcessTableTest, RecheckSeesAdjSetAfterThePassAndKeepsIt) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const ProcessInfo member = *find(t, 100);  // a copy, as the kill path's would be
  auto c = t.recheck(member);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->startTimeTicks, member.startTimeTicks);
  EXPECT_EQ(c->oomScoreAdj, 300);
  EXPECT_FALSE(c->isProtected);

  Proc p = proc(100);
  p.adj = -1000;
  add(p);
  c = t.recheck(member);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->oomScoreAdj, -1000);
  EXPECT_TRUE(c->isProtected);
  EXPECT_TRUE(find(t, 100)->adjMinSeen);  // the table's entry learnt it
  // Back to 0 right after: still protected, now and in later passes.
  p.adj = 0;
  add(p);
  c = t.recheck(member);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->isProtected);
  ASSERT_TRUE(t.refreshAll(t0_ + Seconds{1}).ok());
  EXPECT_TRUE(find(t, 100)->adjMinSeen);
}

// The kill path learns of -1000 while a chunked pass is under way and has already
// copied the entry: the completed pass keeps the protection.
TEST_F(ProcessTableTest, ProtectionLearntDuringAPassIsKept) {
  add({.pid = 300, .comm = "worker", .rssPages = 100, .exe = "/usr/bin/worker"});
  ProcessTable::Options o = options();
  o.chunk = 2;
  ProcessTable t = open(o);
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  ASSERT_TRUE(t.step(t0_ + Seconds{1}).ok());  // pids 1 and 2 copied
  ASSERT_TRUE(t.step(t0_ + Seconds{1}).ok());  // 100 and 200: the pass is not over
  ASSERT_TRUE(t.passInProgress());
  Proc p = proc(100);
  p.adj = -1000;
  add(p);
  ASSERT_TRUE(t.recheck(*find(t, 100))->isProtected);
  p.adj = 0;
  add(p);
  bool done = false;
  while (!done) {
    auto r = t.step(t0_ + Seconds{1});
    ASSERT_TRUE(r.ok());
    done = *r;
  }
  EXPECT_TRUE(find(t, 100)->adjMinSeen);
}

TEST_F(ProcessTableTest, RecheckSeesAnExecIntoAVitalService) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const ProcessInfo member = *find(t, 100);
  ASSERT_FALSE(member.identity->vital);
  Proc p = proc(100);
  p.comm = "sshd";
  p.exe = "/usr/sbin/sshd";
  add(p);
  auto c = t.recheck(member);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->isProtected);
  EXPECT_TRUE(find(t, 100)->identity->vital);
  EXPECT_EQ(find(t, 100)->execs, 1u);
}

TEST_F(ProcessTableTest, RecheckOfReusedGoneAndUnreadable) {
  ProcessTable t = open(options());
  ASSERT_TRUE(t.refreshAll(t0_).ok());
  const ProcessInfo member = *find(t, 100);
  Proc p = proc(100);
  p.adj = 0;
  // Garbage in oom_score_adj: protected (not knowing is no licence to kill).
  tree_.write("proc/100/oom_score_adj", "garbage\n");
  auto c = t.recheck(member);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->isProtected);
  // Another process on the PID: the start time says so.
  p.startSeconds += 1;
  add(p);
  c = t.recheck(member);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->startTimeTicks, member.startTimeTicks);
  // Gone.
  tree_.remove("proc/100");
  EXPECT_FALSE(t.recheck(member).ok());
  // PID 1 and kernel threads are always protected.
  EXPECT_TRUE(t.recheck(*find(t, 1))->isProtected);
  EXPECT_TRUE(t.recheck(*find(t, 2))->isProtected);
}

}  // namespace
}  // namespace ork::sense
