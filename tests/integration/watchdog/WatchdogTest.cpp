// ORK's watchdog thread (daemon/Watchdog.h) and its systemd notifications, on the real
// daemon. The loop is stalled for real: its configuration file is served by a FUSE
// server (tests/tools/fusehang.cpp) that then stops answering, and a SIGHUP makes the
// loop re-read it, so the loop is stuck in open(2) as on a hung network filesystem.
// Memory pressure is real too: the hogs run in a memory cgroup of the test's own, and
// ORK is scoped to it with --cgroup, so it can only act on what the test started.
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <deque>
#include <iostream>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

bool fuseAvailable() {
  auto have = [] {
    return ::access("/dev/fuse", R_OK | W_OK) == 0 &&
           readFile("/proc/filesystems").find("\tfuse\n") != std::string::npos;
  };
  if (have()) return true;
  std::system("modprobe fuse >/dev/null 2>&1");
  return have();
}

// Thresholds well above the cgroup's reclaim point (hard: 20 % of 256 MiB available),
// and a candidate table refreshed every second, so that the victim is chosen in advance
// soon after start.
constexpr const char* kConfig =
    "[memory]\nsoft_percent = 25.0\nhard_percent = 20.0\n"
    "[scan]\nidle_interval_s = 1\n";

class Watchdog : public ::testing::Test {
 protected:
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "needs root to create memory cgroups and mount FUSE");
    ORK_REQUIRE(fuseAvailable(), "no FUSE (/dev/fuse, or fuse in /proc/filesystems after modprobe fuse)");
    ORK_REQUIRE(cgroup_.create(256), "no writable memory cgroup hierarchy (v1 memory or v2 +memory)");
    dir_ = tempDir();
    journal_.path = dir_ + "/journal.log";
    mnt_ = dir_ + "/mnt";
    ::mkdir(mnt_.c_str(), 0755);
    writeFile(dir_ + "/ork.toml", kConfig + recorderIn(dir_));
    fuse_ = spawn({ORK_FUSEHANG, mnt_, dir_ + "/ork.toml"});
    ASSERT_TRUE(fuse_.waitFor("ready", 5s)) << "fusehang did not mount";
  }
  void TearDown() override {
    if (HasFailure()) {
      std::string out;
      for (const auto& l : journal_.lines()) out += "  " + l + "\n";
      std::cerr << "ORK's journal:\n" << out;
    }
    // A stalled ORK cannot hear SIGTERM: SIGKILL (its FUSE wait is killable).
    ork_.stop(SIGKILL);
    for (auto& c : children_) c.stop();
    if (!mnt_.empty()) ::umount2(mnt_.c_str(), MNT_DETACH);
    fuse_.stop(SIGKILL);
    if (!dir_.empty() && dir_ != "/tmp") std::system(("rm -rf " + dir_).c_str());
  }

  void startOrk(bool dryRun = false) {
    std::vector<std::string> argv = {ORK_BINARY, "daemon", "--cgroup", cgroup_.path(), "--kmsg", journal_.path,
                                     "--quiet", "--state-dir", dir_ + "/state", "--config", mnt_ + "/ork.toml"};
    if (dryRun) argv.push_back("--dry-run");
    ork_ = spawn(argv);
    ASSERT_NE(journal_.waitFor({"event=start"}, 10s), "") << "ORK did not start";
    // A few passes of the candidate table (every second): the victim is chosen.
    std::this_thread::sleep_for(3s);
    ASSERT_TRUE(ork_.alive());
  }

  // The loop stuck in open(2) on the configuration file: the server stops answering,
  // then SIGHUP.
  void stallLoop() {
    ::kill(fuse_.pid, SIGUSR2);
    std::this_thread::sleep_for(200ms);
    ::kill(ork_.pid, SIGHUP);
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(journal_.count("event=reload"), 0) << "the loop was not stalled";
  }

  Child& hog(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {ORK_MEMHOG, "--cgroup", cgroup_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    children_.push_back(spawn(argv));
    EXPECT_TRUE(children_.back().waitFor("ready", 20s)) << "memhog did not get ready";
    return children_.back();
  }

  MemoryCgroup cgroup_;
  std::string dir_, mnt_;
  JournalFile journal_;
  Child fuse_, ork_;
  std::deque<Child> children_;
};

TEST_F(Watchdog, StalledLoopAtHardKillsTheVictimChosenInAdvanceAndOnlyIt) {
  Child& big = hog({"--name", "big", "hold", "110"});
  Child& small = hog({"--name", "small", "hold", "20"});
  startOrk();
  stallLoop();
  // Memory now falls to the hard threshold (220 MiB used of 256: 36 MiB available,
  // below 51): the loop cannot act, the watchdog must, on `big`, chosen before the stall.
  Child& filler = hog({"--name", "filler", "fill", "0", "90"});
  ASSERT_TRUE(big.waitExit(20s)) << "the watchdog did not kill the victim chosen in advance";
  EXPECT_TRUE(big.killedBySigkill());
  std::string line = journal_.waitFor({"event=watchdog_kill", "pid=" + std::to_string(big.pid) + " "}, 5s);
  ASSERT_NE(line, "") << "no watchdog_kill line";
  EXPECT_EQ(field(line, "result"), "ok");
  EXPECT_EQ(field(line, "name"), "\"big\"");
  EXPECT_EQ(field(line, "reason"), "loop_stalled");
  EXPECT_EQ(field(line, "dry_run"), "0");
  EXPECT_GE(std::stol(field(line, "stalled_ms")), 5000);
  EXPECT_LE(std::stol(field(line, "avail_kib")), std::stol(field(line, "hard_kib")));
  EXPECT_NE(journal_.waitFor({"event=watchdog_stall"}, 1s), "");
  // Only it: one kill per stall, by the watchdog (the loop is still stuck).
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(small.alive()) << "an innocent process was killed";
  EXPECT_TRUE(filler.alive()) << "the watchdog killed what it had not chosen";
  EXPECT_EQ(journal_.count("event=watchdog_kill"), 1);
  EXPECT_EQ(journal_.count("event=kill "), 0) << "the loop was not stalled";
  EXPECT_EQ(cgroup_.oomKills(), 0) << "the kernel OOM killer acted";
}

TEST_F(Watchdog, StalledLoopWithMemoryFineKillsNothingAndSaysSo) {
  Child& big = hog({"--name", "big", "hold", "110"});
  Child& small = hog({"--name", "small", "hold", "20"});
  startOrk();
  stallLoop();
  std::string line = journal_.waitFor({"event=watchdog_stall"}, 10s);
  ASSERT_NE(line, "") << "the watchdog did not see the stall";
  EXPECT_EQ(field(line, "action"), "none");
  EXPECT_GE(std::stol(field(line, "stalled_ms")), 5000);
  EXPECT_GT(std::stol(field(line, "avail_kib")), std::stol(field(line, "hard_kib")));
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(big.alive());
  EXPECT_TRUE(small.alive());
  EXPECT_EQ(journal_.count("event=watchdog_kill"), 0);
  EXPECT_EQ(journal_.count("event=watchdog_would_kill"), 0);
  // The server answers again (with an error): the reload fails, the loop turns, and
  // the watchdog says the stall is over.
  ::kill(fuse_.pid, SIGUSR1);
  EXPECT_NE(journal_.waitFor({"event=reload", "result=failed"}, 10s), "");
  EXPECT_NE(journal_.waitFor({"event=watchdog_resumed"}, 5s), "");
  EXPECT_TRUE(ork_.alive());
}

TEST_F(Watchdog, DryRunOnlySays) {
  Child& big = hog({"--name", "big", "hold", "110"});
  startOrk(/*dryRun=*/true);
  stallLoop();
  Child& filler = hog({"--name", "filler", "fill", "0", "110"});  // 220 MiB used: below hard
  std::string line = journal_.waitFor({"event=watchdog_would_kill"}, 20s);
  ASSERT_NE(line, "") << "no watchdog_would_kill line";
  EXPECT_EQ(field(line, "pid"), std::to_string(big.pid));
  EXPECT_EQ(field(line, "result"), "dry_run");
  EXPECT_EQ(field(line, "signalled"), "0");
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(big.alive());
  EXPECT_TRUE(filler.alive());
  EXPECT_EQ(journal_.count("event=watchdog_kill"), 0);
}

// ---- systemd's notifications ------------------------------------------------------

// A datagram socket standing in for systemd's $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    ::unlink(path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Every datagram received within `within`.
  std::vector<std::string> collect(std::chrono::milliseconds within) {
    std::vector<std::string> out;
    auto until = std::chrono::steady_clock::now() + within;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timeval tv{static_cast<time_t>(left.count() / 1000), static_cast<suseconds_t>((left.count() % 1000) * 1000)};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[512];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) out.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

int countOf(const std::vector<std::string>& v, const std::string& prefix) {
  int n = 0;
  for (const auto& s : v) n += s.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

TEST_F(Watchdog, TellsSystemdReadyReloadStopAndPingsOnlyWhileTheLoopTurns) {
  NotifySocket systemd(dir_ + "/notify.sock");
  ::setenv("NOTIFY_SOCKET", (dir_ + "/notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "1000000", 1);  // 1 s: a ping every half second
  ork_ = spawn({ORK_BINARY, "daemon", "--cgroup", cgroup_.path(), "--kmsg", journal_.path, "--quiet", "--state-dir",
                dir_ + "/state", "--config", mnt_ + "/ork.toml"});
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  auto first = systemd.collect(3s);
  ASSERT_FALSE(first.empty()) << "nothing sent to $NOTIFY_SOCKET";
  EXPECT_EQ(first[0], "READY=1");
  EXPECT_GE(countOf(first, "WATCHDOG=1"), 3) << "the turning loop pings every half interval";
  // A reload that works: RELOADING=1 (with MONOTONIC_USEC), then READY=1.
  ::kill(ork_.pid, SIGHUP);
  auto reload = systemd.collect(1500ms);
  bool sawReloading = false, readyAfter = false;
  for (const auto& m : reload) {
    if (m.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0) sawReloading = true;
    if (sawReloading && m == "READY=1") readyAfter = true;
  }
  EXPECT_TRUE(sawReloading);
  EXPECT_TRUE(readyAfter);
  // The loop stalled: no more pings (systemd would restart ORK), until it turns again.
  ::kill(fuse_.pid, SIGUSR2);
  std::this_thread::sleep_for(200ms);
  ::kill(ork_.pid, SIGHUP);
  (void)systemd.collect(300ms);  // RELOADING=1 and a ping in flight
  auto stalled = systemd.collect(3s);
  EXPECT_EQ(countOf(stalled, "WATCHDOG=1"), 0) << "pinged while the loop was stuck";
  ::kill(fuse_.pid, SIGUSR1);  // answered (an error): the loop turns again
  auto back = systemd.collect(2s);
  EXPECT_GE(countOf(back, "READY=1"), 1);
  EXPECT_GE(countOf(back, "WATCHDOG=1"), 1);
  ::kill(ork_.pid, SIGTERM);
  auto last = systemd.collect(2s);
  EXPECT_GE(countOf(last, "STOPPING=1"), 1);
  EXPECT_TRUE(ork_.waitExit(10s));
}

}  // namespace
}  // namespace ork::test
