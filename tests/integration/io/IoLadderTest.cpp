// ORK against a real saturated block device on the real kernel. The device is, where
// the kernel has null_blk (the lab guest: lab/run-tests-guest.sh --only io), a null_blk
// device capped at 4 MiB/s; elsewhere a loop device over a file of a FUSE filesystem
// that answers each read and write 10 ms late, one at a time (tests/tools/fuseslow).
// Either is a saturated disk that /proc/diskstats, PSI io and the per-cgroup io.pressure
// see as such, without touching the host's disks. The writer and
// the innocent are processes the test starts, each in a cgroup of its own; ORK is
// scoped with --cgroup to a cgroup of the test's own, so the only processes it may kill
// are the test's. Needs root (cgroups, /dev/fuse, loop devices); in CI a missing
// prerequisite fails. Everything created is removed (loop device, mount, cgroups).
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <set>
#include <iostream>
#include <string>
#include <thread>

#include "support/Harness.h"
#include "support/SlowDisk.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Short windows keep the test short; the logic is the same as with the defaults.
constexpr const char* kConfig =
    "[io]\n"
    "sustain_s = 6\n"
    "kill_after_s = 4\n"
    "latency_ms = 15\n"
    "[cpu]\n"
    "enabled = false\n"
    "[disk]\n"
    "enabled = false\n"
    "[vm]\n"
    "enabled = false\n";

class IoLadder : public ::testing::Test {
 protected:
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "needs root (cgroups, /dev/fuse, loop devices)");
    ORK_REQUIRE(::access("/dev/fuse", R_OK | W_OK) == 0, "no /dev/fuse");
    ORK_REQUIRE(::access("/dev/loop-control", R_OK | W_OK) == 0, "no /dev/loop-control (loop module)");
    ORK_REQUIRE(::access("/proc/pressure/io", R_OK) == 0, "no PSI (/proc/pressure/io)");
    ORK_REQUIRE(scope_.create(1024), "no writable memory cgroup hierarchy");
    CgroupMounts m = CgroupMounts::detect();
    ORK_REQUIRE(!m.v2.empty(), "no cgroup2 hierarchy (per-cgroup PSI io)");
    // Pure v2: the writer and the innocent are children of ORK's scope. Hybrid: the
    // scope is a v1 memory cgroup; each also joins a v2 cgroup of its own (PSI).
    v2Parent_ = scope_.v2() ? scope_.path() : m.v2 + "/ork-io-test-" + std::to_string(::getpid());
    if (!scope_.v2()) {
      ASSERT_EQ(::mkdir(v2Parent_.c_str(), 0755), 0) << v2Parent_;
    }
    for (const char* c : {"writer", "innocent"}) ASSERT_EQ(::mkdir((v2Parent_ + "/" + c).c_str(), 0755), 0) << c;

    dir_ = tempDir();
    std::string err = disk_.create(dir_);
    ASSERT_EQ(err, "") << "the slow disk";
    dev_ = disk_.path();
    devName_ = disk_.name();
    std::cout << "slow device: " << dev_ << "\n";

    journal_.path = dir_ + "/journal.log";
    writeFile(dir_ + "/ork.toml", kConfig + recorderIn(dir_));
  }

  void startOrk(bool dryRun) {
    std::vector<std::string> argv = {ORK_BINARY, "daemon", "--cgroup", scope_.path(), "--config", dir_ + "/ork.toml",
                                     "--kmsg", journal_.path, "--quiet", "--state-dir", dir_ + "/state"};
    if (dryRun) argv.push_back("--dry-run");
    ork_ = spawn(argv);
    ASSERT_NE(journal_.waitFor({"event=start"}, 5s), "") << "ORK did not start";
    ASSERT_NE(journal_.waitFor({"event=start", "io=1"}, 100ms), "") << "ORK's I/O ladder is off";
    std::this_thread::sleep_for(2s);  // calm seconds in ORK's history
  }

  void TearDown() override {
    if (HasFailure()) {
      std::string out;
      for (const auto& l : journal_.lines()) out += "  " + l + "\n";
      std::cerr << "ORK's journal:\n" << out;
    }
    ork_.stop(SIGTERM);
    for (auto& c : children_) c.stop();
    killAll(v2Parent_ + "/writer");
    killAll(v2Parent_ + "/innocent");
    disk_.remove();
    for (const char* c : {"writer", "innocent"}) ::rmdir((v2Parent_ + "/" + c).c_str());
    if (!scope_.v2() && !v2Parent_.empty()) ::rmdir(v2Parent_.c_str());
    if (!dir_.empty()) (void)runCommand({"/bin/rm", "-rf", dir_});
  }

  static void killAll(const std::string& cg) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      std::string procs = readFile(cg + "/cgroup.procs");
      if (procs.empty()) return;
      std::istringstream in(procs);
      pid_t pid;
      while (in >> pid) ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(20ms);
    }
  }

  // A shell in the scope and in the v2 cgroup `which`, running script.
  Child& inCgroup(const std::string& which, const std::string& script) {
    std::string join = "echo $$ > " + scope_.path() + "/cgroup.procs 2>/dev/null; echo $$ > " + v2Parent_ + "/" + which +
                       "/cgroup.procs && echo ready && ";
    children_.push_back(spawn({"/bin/sh", "-c", join + script}));
    EXPECT_TRUE(children_.back().waitFor("ready", 10s)) << which << " did not start";
    return children_.back();
  }

  // The heavy writer: a shell with four writing loops (O_DIRECT, 64 KiB, each in a
  // region of its own), so the slow device always has I/O queued.
  Child& writer() {
    std::string s = "for i in 0 1 2 3; do (while :; do dd if=/dev/zero of=" + dev_ +
                    " bs=64k count=200 seek=$((i*200)) oflag=direct 2>/dev/null; done) & done; wait";
    return inCgroup("writer", s);
  }
  // The innocent: small synchronous reads, one after the other, for ever.
  Child& innocent() {
    return inCgroup("innocent", "while :; do dd if=" + dev_ + " of=/dev/null bs=4k count=5 skip=15000 iflag=direct 2>/dev/null; done");
  }
  // The innocent's latency: the median of three probes (probeOnceMs), in ms.
  double probeMs() {
    double v[3] = {probeOnceMs(), probeOnceMs(), probeOnceMs()};
    std::sort(v, v + 3);
    return v[1];
  }
  // The mean time of 10 synchronous 4 KiB reads by a process in the innocent's cgroup.
  double probeOnceMs() {
    auto t0 = Clock::now();
    Child& c = inCgroup("innocent", "exec dd if=" + dev_ + " of=/dev/null bs=4k count=10 skip=15100 iflag=direct 2>/dev/null");
    c.waitExit(60s);
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 10;
  }

  MemoryCgroup scope_;
  std::string v2Parent_, dir_;
  std::string dev_, devName_;  // the slow device's path and diskstats name
  SlowDisk disk_;
  JournalFile journal_;
  Child ork_;
  std::deque<Child> children_;
};

TEST_F(IoLadder, WriterAloneIsLeftAlone) {
  startOrk(false);
  Child& w = writer();
  // Twice the sustained window and the kill_after_s that would follow.
  std::string busy = journal_.waitFor({"event=io_busy", "device=\"" + devName_ + "\""}, 20s);
  EXPECT_NE(busy, "") << "ORK never judged the saturated device";
  std::this_thread::sleep_for(6s);
  EXPECT_TRUE(w.alive()) << "the writer alone was killed";
  EXPECT_EQ(journal_.count("event=io_overload"), 0);
  EXPECT_EQ(journal_.count("event=kill"), 0);
  std::cout << "writer alone: " << busy << "\n";
}

TEST_F(IoLadder, WriterBesideAnInnocentIsKilledAndTheInnocentRecovers) {
  startOrk(false);
  const double alone = probeMs();
  Child& inn = innocent();
  Child& w = writer();
  std::this_thread::sleep_for(1s);
  const double during = probeMs();
  EXPECT_EQ(journal_.count("event=io_overload"), 0) << "ORK acted before the latency beside the writer was measured";
  std::string over = journal_.waitFor({"event=io_overload", "device=\"" + devName_ + "\""}, 30s);
  ASSERT_NE(over, "") << "no io_overload on " << devName_;
  EXPECT_EQ(field(over, "action"), "kill") << over;
  std::string kill = journal_.waitFor({"event=kill", "reason=io_overload"}, 5s);
  ASSERT_NE(kill, "");
  EXPECT_EQ(field(kill, "pid"), std::to_string(w.pid)) << kill;
  EXPECT_TRUE(w.waitExit(5s)) << "the writer's shell survived";
  // Its whole tree: nothing left in the writer's cgroup.
  for (int i = 0; i < 100 && !readFile(v2Parent_ + "/writer/cgroup.procs").empty(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(readFile(v2Parent_ + "/writer/cgroup.procs"), "");
  EXPECT_TRUE(inn.alive()) << "the innocent was killed";
  std::this_thread::sleep_for(1s);
  const double after = probeMs();
  std::cout << "innocent's read latency: alone " << alone << " ms, beside the writer " << during << " ms, after ORK "
            << after << " ms\n"
            << over << "\n"
            << kill << "\n";
  EXPECT_GT(during, 2 * alone) << "the writer did not slow the innocent: the test proves nothing";
  EXPECT_LT(after, during * 0.7) << "the innocent's latency did not recover";
}

TEST_F(IoLadder, DryRunSaysWouldKill) {
  startOrk(true);
  innocent();
  Child& w = writer();
  std::string would = journal_.waitFor({"event=would_kill", "reason=io_overload"}, 30s);
  ASSERT_NE(would, "");
  EXPECT_EQ(field(would, "pid"), std::to_string(w.pid)) << would;
  EXPECT_TRUE(w.alive());
}

}  // namespace
}  // namespace ork::test
