// ORK against real CPU overload on the real kernel. The overload is real (more burning
// processes than this machine has CPUs) and host-wide, as ORK senses it; ORK is scoped
// with --cgroup to a cgroup of the test's own, so the only processes it may freeze or
// kill are the ones the test started. Needs root; in CI a missing prerequisite fails.
#include <sys/wait.h>

#include <chrono>
#include <deque>
#include <iostream>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

// Short windows keep the test short; the logic is the same as with the defaults.
constexpr const char* kConfig =
    "[cpu]\n"
    "sustain_s = 6\n"
    "kill_after_s = 4\n"
    "[vm]\n"
    "enabled = false\n";

int cpus() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

class CpuKill : public ::testing::Test {
 protected:
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "needs root to create cgroups");
    ORK_REQUIRE(cgroup_.create(1024), "no writable memory cgroup hierarchy");
    ORK_REQUIRE(std::string(readFile("/proc/stat")).find("procs_running") != std::string::npos, "no /proc/stat");
    dir_ = tempDir();
    journal_.path = dir_ + "/journal.log";
    writeFile(dir_ + "/ork.toml", kConfig + recorderIn(dir_));
    ork_ = spawn({ORK_BINARY, "daemon", "--cgroup", cgroup_.path(), "--config", dir_ + "/ork.toml", "--kmsg",
                  journal_.path, "--quiet", "--state-dir", dir_ + "/state"});
    ASSERT_NE(journal_.waitFor({"event=start"}, 5s), "") << "ORK did not start";
    ASSERT_NE(journal_.waitFor({"event=start", "cpu=1"}, 100ms), "") << "ORK's CPU ladder is off";
    // Let the host settle and ORK's CPU history fill with calm seconds.
    std::this_thread::sleep_for(3s);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::string out;
      for (const auto& l : journal_.lines()) out += "  " + l + "\n";
      std::cerr << "ORK's journal:\n" << out;
    }
    ork_.stop(SIGTERM);
    for (auto& c : children_) c.stop();
    if (!dir_.empty()) (void)runCommand({"/bin/rm", "-rf", dir_});
  }

  Child& burner(std::vector<std::string> args) {
    std::vector<std::string> argv = {ORK_CPUBURN, "--cgroup", cgroup_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    children_.push_back(spawn(argv));
    EXPECT_TRUE(children_.back().waitFor("ready", 10s)) << "cpuburn did not start";
    return children_.back();
  }

  MemoryCgroup cgroup_;
  std::string dir_;
  JournalFile journal_;
  Child ork_;
  std::deque<Child> children_;
};

TEST_F(CpuKill, SpikeIsLeftAloneSustainedTreeIsKilled) {
  // An innocent in the same cgroup: asleep, it uses no CPU.
  children_.push_back(spawn({"/bin/sh", "-c", "echo $$ > " + cgroup_.path() + "/cgroup.procs && echo ready && exec sleep 600"}));
  Child& innocent = children_.back();
  ASSERT_TRUE(innocent.waitFor("ready", 5s));

  // A spike: CPUs + 1 burners for 3 s (half of the 6 s window), then they stop.
  Child& spike = burner({"--children", std::to_string(cpus() + 1), "--seconds", "3"});
  ASSERT_TRUE(spike.waitExit(15s));
  EXPECT_TRUE(WIFEXITED(spike.status) && WEXITSTATUS(spike.status) == 0) << "the spike did not end by itself";
  // ORK had a whole window to act on the spike, and must not have.
  std::this_thread::sleep_for(6s);
  EXPECT_EQ(journal_.count("event=kill"), 0) << "a 3 s spike was treated as sustained overload";
  EXPECT_EQ(journal_.count("event=cpu_overload"), 0);

  // A sustained storm: a parent that uses no CPU and CPUs + 1 burning children.
  Child& storm = burner({"--children", std::to_string(cpus() + 1)});
  std::string kill = journal_.waitFor({"event=kill", "reason=cpu_overload"}, 30s);
  ASSERT_NE(kill, "") << "the sustained storm was not killed";
  EXPECT_EQ(field(kill, "pid"), std::to_string(storm.pid)) << "the tree's root (the forking parent) is the victim: " << kill;
  EXPECT_EQ(field(kill, "members"), std::to_string(cpus() + 2)) << kill;
  EXPECT_EQ(field(kill, "result"), "ok");
  EXPECT_NE(journal_.waitFor({"event=cpu_overload", "action=kill"}, 100ms), "");
  EXPECT_TRUE(storm.waitExit(5s)) << "the storm's root survived";
  EXPECT_TRUE(storm.killedBySigkill());
  // Every member died: nothing of the storm is left in the cgroup but the innocent.
  std::this_thread::sleep_for(500ms);
  std::string procs = readFile(cgroup_.path() + "/cgroup.procs");
  EXPECT_EQ(procs, std::to_string(innocent.pid) + "\n") << "left in the cgroup: " << procs;
  EXPECT_TRUE(innocent.alive()) << "an innocent was killed";
  EXPECT_EQ(journal_.count("event=kill"), 1) << "more than one kill";
}

}  // namespace
}  // namespace ork::test
