// ORK against real memory pressure on the real kernel, each test in a memory cgroup of
// its own (ORK scoped to it with --cgroup, so it can only ever act on what the test
// started). Needs root; in CI (CI=true) a missing prerequisite fails the test.
#include <chrono>
#include <deque>
#include <iostream>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

class MemoryKill : public ::testing::Test {
 protected:
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "needs root to create memory cgroups");
    ORK_REQUIRE(cgroup_.create(256), "no writable memory cgroup hierarchy (v1 memory or v2 +memory)");
    dir_ = tempDir();
    journal_.path = dir_ + "/journal.log";
  }
  void TearDown() override {
    if (HasFailure()) {
      std::string out;
      for (const auto& l : journal_.lines()) out += "  " + l + "\n";
      std::cerr << "ORK's journal:\n" << out;
    }
    ork_.stop(SIGTERM);
    for (auto* c : started_) c->stop();
    if (!dir_.empty()) (void)runCommand({"/bin/rm", "-rf", dir_});
  }

  // Starts ORK scoped to the test's cgroup; extra TOML configures it (the flight
  // recorder's file is in the test's directory). With
  // bindOver = {file, target}, ORK runs in a mount namespace of its own where file is
  // bind-mounted over target (a /proc file).
  void startOrk(const std::string& toml = "", bool dryRun = false,
                std::pair<std::string, std::string> bindOver = {}) {
    std::vector<std::string> argv = {ORK_BINARY, "daemon", "--cgroup", cgroup_.path(),
                                     "--kmsg", journal_.path, "--quiet", "--state-dir", dir_ + "/state"};
    if (dryRun) argv.push_back("--dry-run");
    writeFile(dir_ + "/ork.toml", toml + recorderIn(dir_));
    argv.push_back("--config");
    argv.push_back(dir_ + "/ork.toml");
    if (!bindOver.first.empty()) {
      std::string cmd = "mount --bind " + bindOver.first + " " + bindOver.second + " && exec";
      for (const auto& a : argv) cmd += " " + a;
      argv = {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", cmd};
    }
    ork_ = spawn(argv);
    ASSERT_NE(journal_.waitFor({"event=start"}, 5s), "") << "ORK did not start";
    // Let the first pass of the candidate table complete.
    std::this_thread::sleep_for(1500ms);
    ASSERT_TRUE(ork_.alive());
  }

  Child& hog(const std::vector<std::string>& args, bool waitReady = true) {
    std::vector<std::string> argv = {ORK_MEMHOG, "--cgroup", cgroup_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    children_.push_back(spawn(argv));
    Child& c = children_.back();
    started_.push_back(&c);
    if (waitReady) {
      EXPECT_TRUE(c.waitFor("ready", 20s)) << "memhog did not get ready";
    }
    return c;
  }

  std::string killLineFor(const Child& c, std::chrono::milliseconds timeout) {
    return journal_.waitFor({"event=kill", "pid=" + std::to_string(c.pid) + " "}, timeout);
  }

  MemoryCgroup cgroup_;
  std::string dir_;
  JournalFile journal_;
  Child ork_;
  std::deque<Child> children_;
  std::vector<Child*> started_;
};

// Thresholds well above the cgroup's limit - usage at which the kernel reclaims, so
// that scenarios which stop short of the limit are decided by ORK alone.
constexpr const char* kRoomyThresholds =
    "[memory]\nsoft_percent = 25.0\nhard_percent = 20.0\n"
    "[scan]\ngrowth_window_s = 5\n";

TEST_F(MemoryKill, FastHogIsKilledBeforeTheKernelAndTheInnocentSurvives) {
  Child& innocent = hog({"hold", "40"});
  startOrk();  // compiled-in defaults
  long oomBefore = cgroup_.oomKills();
  Child& filler = hog({"--name", "filler", "fill", "0"});
  ASSERT_TRUE(filler.waitExit(30s)) << "the hog was not killed";
  EXPECT_TRUE(filler.killedBySigkill());
  std::string line = killLineFor(filler, 5s);
  ASSERT_NE(line, "") << "no kill line for the hog";
  EXPECT_EQ(field(line, "result"), "ok");
  EXPECT_EQ(field(line, "dry_run"), "0");
  EXPECT_EQ(field(line, "reason"), "memory_below_hard");
  EXPECT_EQ(field(line, "name"), "\"filler\"");
  EXPECT_NE(field(line, "latency_us"), "");
  EXPECT_EQ(cgroup_.oomKills(), oomBefore) << "the kernel OOM killer acted first";
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(innocent.alive()) << "an innocent process was killed";
  EXPECT_EQ(journal_.count("event=kill"), 1) << "more than one kill for one episode";
  EXPECT_NE(journal_.waitFor({"event=exited", "pid=" + std::to_string(filler.pid) + " "}, 5s), "");
}

// Whether this process may lower oom_score_adj (CAP_SYS_RESOURCE): the machines this
// project runs on withhold it even from root.
bool canLowerOomScoreAdj() {
  std::string status = readFile("/proc/self/status");
  auto pos = status.find("CapEff:\t");
  if (pos == std::string::npos) return false;
  unsigned long long caps = std::strtoull(status.c_str() + pos + 8, nullptr, 16);
  return (caps >> 24) & 1;  // CAP_SYS_RESOURCE
}

TEST_F(MemoryKill, OomScoreAdjMinusThousandIsNeverChosen) {
  Child& other = hog({"hold", "40"});
  // The biggest process, protected by its adj: ORK must take the other one.
  Child* shielded = nullptr;
  if (canLowerOomScoreAdj()) {
    shielded = &hog({"--adj", "-1000", "fill", "60", "180"});
    startOrk(kRoomyThresholds);
  } else {
    // Without CAP_SYS_RESOURCE no process here can get -1000, so ORK is shown it
    // through a bind mount over the real process's /proc/PID/oom_score_adj, in a mount
    // namespace of ORK's own. (The lab's scenario 4 sets it for real in a guest.)
    shielded = &hog({"fill", "60", "180"});
    writeFile(dir_ + "/adj", "-1000\n");
    startOrk(kRoomyThresholds, false,
             {dir_ + "/adj", "/proc/" + std::to_string(shielded->pid) + "/oom_score_adj"});
  }
  ASSERT_TRUE(other.waitExit(20s)) << "the only candidate was not killed";
  EXPECT_NE(killLineFor(other, 5s), "");
  EXPECT_TRUE(shielded->alive());
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(shielded->alive());
  EXPECT_EQ(journal_.count("pid=" + std::to_string(shielded->pid) + " "), 0)
      << "the oom_score_adj -1000 process appears in a kill line";
}

TEST_F(MemoryKill, DryRunKillsNothingAndSaysWhatItWouldHaveDone) {
  Child& innocent = hog({"hold", "40"});
  startOrk(kRoomyThresholds, /*dryRun=*/true);
  Child& filler = hog({"fill", "0", "170"});
  std::string line = journal_.waitFor({"event=would_kill", "pid=" + std::to_string(filler.pid) + " "}, 20s);
  ASSERT_NE(line, "") << "dry-run did not say what it would kill";
  EXPECT_EQ(field(line, "dry_run"), "1");
  EXPECT_EQ(field(line, "result"), "dry_run");
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(filler.alive());
  EXPECT_TRUE(innocent.alive());
  EXPECT_EQ(cgroup_.oomKills(), 0);
  EXPECT_EQ(journal_.count("event=kill "), 0) << "a dry run wrote event=kill";
}

TEST_F(MemoryKill, GrowingProcessBeatsBiggerSteadyOne) {
  Child& steady = hog({"--name", "steady", "hold", "110"});
  startOrk(kRoomyThresholds);
  std::this_thread::sleep_for(5s);  // the steady one is now older than the growth window
  Child& grower = hog({"--name", "grower", "fill", "40"});
  ASSERT_TRUE(grower.waitExit(30s)) << "the grower was not killed";
  std::string line = killLineFor(grower, 5s);
  ASSERT_NE(line, "");
  EXPECT_EQ(field(line, "name"), "\"grower\"");
  EXPECT_TRUE(steady.alive()) << "the bigger steady process was killed instead";
}

TEST_F(MemoryKill, WorkerTreeIsKilledTogether) {
  Child& innocent = hog({"--name", "innocent", "hold", "60"});
  startOrk(kRoomyThresholds);
  std::this_thread::sleep_for(5s);
  // A parent and 4 children of 35 MiB each: none alone frees enough, together they do.
  // (It may be killed before its parent has finished allocating and said "ready".)
  Child& tree = hog({"--name", "pool", "tree", "4", "35"}, /*waitReady=*/false);
  ASSERT_TRUE(tree.waitExit(30s)) << "the tree's parent was not killed";
  std::string line = killLineFor(tree, 5s);
  ASSERT_NE(line, "");
  EXPECT_EQ(field(line, "members"), "5");
  EXPECT_TRUE(innocent.alive());
  // The children were killed too: nothing but the innocent is left in the cgroup.
  std::this_thread::sleep_for(500ms);
  std::string procs = readFile(cgroup_.path() + "/cgroup.procs");
  EXPECT_EQ(procs, std::to_string(innocent.pid) + "\n");
}

// Issue 9: a shell starts 20 small processes at once; together they exhaust the cgroup,
// but none alone outweighs a steady 100 MiB process beside them. The burst dies, as one
// action; the steady process and the shell live.
TEST_F(MemoryKill, BurstOfSmallProcessesDiesNotTheSteadyBigOne) {
  Child& steady = hog({"--name", "steady", "hold", "100"});
  startOrk(kRoomyThresholds);
  // Steady: older than the growth window (5 s here), so all it holds is no growth.
  std::this_thread::sleep_for(5s);
  const std::string script = "echo $$ > " + cgroup_.path() +
                             "/cgroup.procs || exit 1; i=0; while [ $i -lt 20 ]; do " ORK_MEMHOG
                             " --name burst hold 9 >/dev/null & i=$((i+1)); done; wait; exec sleep 60";
  children_.push_back(spawn({"/bin/sh", "-c", script}));
  Child& shell = children_.back();
  started_.push_back(&shell);
  std::string line = journal_.waitFor({"event=kill"}, 30s);
  ASSERT_NE(line, "") << "nothing was killed";
  EXPECT_EQ(field(line, "group"), "burst");
  EXPECT_EQ(field(line, "children_of"), std::to_string(shell.pid));
  EXPECT_EQ(field(line, "name"), "\"burst\"");
  EXPECT_EQ(field(line, "result"), "ok");
  const int members = std::atoi(field(line, "members").c_str());
  EXPECT_GE(members, 10) << line;
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(steady.alive()) << "the steady process was killed";
  EXPECT_TRUE(shell.alive()) << "the shell (the burst's parent, not part of it) was killed";
  EXPECT_EQ(cgroup_.oomKills(), 0) << "the kernel OOM killer acted";
  EXPECT_EQ(journal_.count("event=kill"), 1) << "more than one kill";
  // What is left: the steady process, the shell, and only burst members started after
  // the kill (the loop may still have been forking).
  std::string procs = readFile(cgroup_.path() + "/cgroup.procs");
  int left = 0;
  for (char ch : procs) left += ch == '\n';
  EXPECT_LE(left, 2 + (20 - members)) << procs;
}

}  // namespace
}  // namespace ork::test
