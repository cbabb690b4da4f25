// The flight recorder for real: a kernel OOM kill in a memory cgroup of a process whose
// command line is a QEMU guest's, recorded by ORK in dry-run and named by `ork events`;
// the history kept across a restart (and the kill not recorded twice); ORK's own kill
// listed the same way; a disk that is full or read-only under the recorder's directory.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUuid = "5e1f0c2a-77b3-4c1d-9a0e-0123456789ab";

class RecorderIntegration : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tempDir(); }
  void TearDown() override {
    // A test that stopped half-way leaves no ORK behind.
    for (pid_t p : started_) ::kill(p, SIGKILL);
    for (auto& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
    runCommand({"/bin/rm", "-rf", dir_});
  }
  void config(const std::string& recorderDir, const std::string& extra = "") {
    writeFile(dir_ + "/ork.toml", "[recorder]\ndir = \"" + recorderDir +
                                      "\"\n[scan]\nidle_interval_s = 1\n[vm]\nlibvirt = false\n" + extra);
  }
  Child startOrk(const std::string& journal) {
    return track(spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--kmsg", journal, "--config", dir_ + "/ork.toml",
                  "--state-dir", dir_ + "/state"}));
  }
  Child track(Child c) {
    started_.push_back(c.pid);
    return c;
  }
  static void stopOrk(Child& d) {
    ::kill(d.pid, SIGTERM);
    ASSERT_TRUE(d.waitExit(10s));
    EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0);
  }
  std::string events(const std::vector<std::string>& more = {}) {
    std::vector<std::string> argv = {ORK_BINARY, "events", "--config", dir_ + "/ork.toml"};
    argv.insert(argv.end(), more.begin(), more.end());
    std::string out;
    EXPECT_EQ(runCommand(argv, &out), 0) << out;
    return out;
  }
  bool mountTmpfs(const std::string& at, const std::string& options) {
    ::mkdir(at.c_str(), 0755);
    if (::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) != 0) return false;
    mounts_.push_back(at);
    return true;
  }
  std::string dir_;
  std::vector<std::string> mounts_;
  std::vector<pid_t> started_;
};

std::vector<std::string> linesWith(const std::string& text, const std::string& fragment) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.find(fragment) != std::string::npos) out.push_back(l);
  return out;
}

TEST_F(RecorderIntegration, KernelOomKillOfAQemuGuestIsNamedAndSurvivesARestart) {
  ORK_REQUIRE(::geteuid() == 0, "needs root: a memory cgroup, and /dev/kmsg to read the kernel's lines");
  MemoryCgroup cg;
  ORK_REQUIRE(cg.create(64), "no writable memory cgroup hierarchy (v1 memory or v2 +memory)");
  // A qemu by its name (comm and exe) and its command line: memhog, copied.
  const std::string qemu = dir_ + "/qemu-system-x86_64";
  ASSERT_EQ(runCommand({"/bin/cp", ORK_MEMHOG, qemu}), 0);
  config(dir_ + "/rec");
  JournalFile j1{dir_ + "/journal1"};
  Child d = startOrk(j1.path);
  ASSERT_NE(j1.waitFor({"event=recorder ", "fresh=1"}, 15s), "") << readFile(j1.path);

  Child hog = track(spawn({qemu, "--cgroup", cg.path(), "fill", "16", "400", "-name", "guest=oomguest,debug-threads=on",
                     "-uuid", kUuid, "-machine", "pc-q35-7.2,usb=off", "-m", "512", "-smp", "1"}));
  // ORK sees the guest (its identity is recorded) before the kernel kills it at 64 MiB.
  ASSERT_NE(j1.waitFor({"event=vm_found", "vm=\"oomguest\"", kUuid}, 15s), "") << readFile(j1.path);
  ASSERT_TRUE(hog.waitExit(90s)) << "the kernel did not kill the guest over its cgroup's limit";
  EXPECT_TRUE(hog.killedBySigkill());
  const std::string pid = std::to_string(hog.pid);
  const std::string kill = j1.waitFor({"event=oom_kill ", "by=kernel", "pid=" + pid + " "}, 15s);
  ASSERT_NE(kill, "") << readFile(j1.path);
  EXPECT_EQ(field(kill, "kind"), "memcg");
  EXPECT_EQ(field(kill, "vm"), "\"oomguest\"");
  EXPECT_EQ(field(kill, "uuid"), kUuid);
  EXPECT_EQ(field(kill, "missed"), "0");
  std::this_thread::sleep_for(6s);  // a batch of samples after the kill
  stopOrk(d);

  // `ork events` names the VM, from the recorder's file.
  std::string out = events({"--json"});
  auto mine = linesWith(out, "\"pid\":" + pid + ",");
  ASSERT_EQ(mine.size(), 1u) << out;
  EXPECT_NE(mine[0].find("\"who\":\"kernel\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("\"action\":\"kill\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("\"vm\":\"oomguest\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find(std::string("\"uuid\":\"") + kUuid + "\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("\"reason\":\"memory_cgroup_limit\""), std::string::npos) << mine[0];
  EXPECT_EQ(mine[0].find("\"avail_before_kib\":null"), std::string::npos) << "no sample before the kill: " << mine[0];
  std::string text = events({"--since", "10m"});
  EXPECT_NE(text.find("VM oomguest uuid " + std::string(kUuid)), std::string::npos) << text;

  // A restart: the file is kept, the kill (still in the kernel log) not recorded again.
  JournalFile j2{dir_ + "/journal2"};
  Child d2 = startOrk(j2.path);
  const std::string opened = j2.waitFor({"event=recorder ", "fresh=0"}, 15s);
  ASSERT_NE(opened, "") << readFile(j2.path);
  EXPECT_GT(std::stol(field(opened, "records")), 5);
  EXPECT_EQ(field(opened, "corrupt"), "0");
  std::this_thread::sleep_for(3s);
  stopOrk(d2);
  EXPECT_EQ(j2.count("pid=" + pid + " "), 0) << "the kill was recorded twice: " << readFile(j2.path);
  out = events({"--json"});
  EXPECT_EQ(linesWith(out, "\"pid\":" + pid + ",").size(), 1u) << out;

  // The plot: memory over the run, the kill marked with the VM's name.
  const std::string svg = dir_ + "/plot.svg";
  events({"--since", "10m", "--plot", svg});
  const std::string plot = readFile(svg);
  EXPECT_NE(plot.find("id=\"mem_available\""), std::string::npos);
  EXPECT_NE(plot.find("kernel kill: VM oomguest pid " + pid), std::string::npos);
}

// ORK's own kill (armed, scoped to a memory cgroup of the test's): the kill line goes
// through the journal's tap to the recorder, and `ork events` lists it as ORK's, with
// the figures and memory around it.
TEST_F(RecorderIntegration, OrksOwnKillIsListedByOrkEvents) {
  ORK_REQUIRE(::geteuid() == 0, "needs root: a memory cgroup");
  MemoryCgroup cg;
  ORK_REQUIRE(cg.create(256), "no writable memory cgroup hierarchy (v1 memory or v2 +memory)");
  config(dir_ + "/rec", "[memory]\nsoft_percent = 25.0\nhard_percent = 20.0\n");
  JournalFile j{dir_ + "/journal"};
  Child d = track(spawn({ORK_BINARY, "daemon", "--cgroup", cg.path(), "--quiet", "--kmsg", j.path, "--config",
                         dir_ + "/ork.toml", "--state-dir", dir_ + "/state"}));
  ASSERT_NE(j.waitFor({"event=recorder ", "fresh=1"}, 15s), "") << readFile(j.path);
  std::this_thread::sleep_for(1500ms);  // the table's first pass
  Child hog = track(spawn({ORK_MEMHOG, "--cgroup", cg.path(), "--name", "filler", "fill", "0"}));
  ASSERT_TRUE(hog.waitExit(60s)) << "the hog was not killed";
  const std::string pid = std::to_string(hog.pid);
  ASSERT_NE(j.waitFor({"event=kill", "pid=" + pid + " "}, 10s), "") << readFile(j.path);
  std::this_thread::sleep_for(2s);  // samples after the kill
  stopOrk(d);

  std::string out = events({"--json"});
  auto mine = linesWith(out, "\"pid\":" + pid + ",");
  ASSERT_EQ(mine.size(), 1u) << out;
  EXPECT_NE(mine[0].find("\"who\":\"ork\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("\"action\":\"kill\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("\"name\":\"filler\""), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("\"reason\":\"memory_below_hard\""), std::string::npos) << mine[0];
  EXPECT_EQ(mine[0].find("\"avail_before_kib\":null"), std::string::npos) << "no sample before the kill: " << mine[0];
}

TEST_F(RecorderIntegration, FullOrReadOnlyDiskLosesTheRecordingOnly) {
  ORK_REQUIRE(::geteuid() == 0, "needs root to mount a tmpfs");
  // Too small for the recorder's file (4 MiB): it cannot be made.
  ASSERT_TRUE(mountTmpfs(dir_ + "/small", "size=512k"));
  // Read-only.
  ASSERT_TRUE(mountTmpfs(dir_ + "/ro", "size=8m,ro"));
  for (const std::string& where : {dir_ + "/small/rec", dir_ + "/ro/rec"}) {
    config(where);
    JournalFile j{dir_ + "/journal-" + std::to_string(where.size())};
    Child d = startOrk(j.path);
    const std::string w = j.waitFor({"event=warning", "what=recorder_unavailable"}, 15s);
    ASSERT_NE(w, "") << readFile(j.path);
    std::this_thread::sleep_for(3s);
    ASSERT_TRUE(d.alive()) << "ORK stopped over its recorder";
    EXPECT_EQ(j.count("what=recorder_unavailable"), 1) << "said more than once";
    stopOrk(d);
    EXPECT_NE(j.waitFor({"event=stop"}, 2s), "");
  }
  // Room for the file, then the disk fills: the file was allocated whole, recording goes on.
  ASSERT_TRUE(mountTmpfs(dir_ + "/fills", "size=6m"));
  config(dir_ + "/fills/rec");
  JournalFile j{dir_ + "/journal-fills"};
  Child d = startOrk(j.path);
  ASSERT_NE(j.waitFor({"event=recorder ", "fresh=1"}, 15s), "") << readFile(j.path);
  runCommand({"/bin/dd", "if=/dev/zero", "of=" + dir_ + "/fills/filler", "bs=1M", "count=16"});
  std::this_thread::sleep_for(7s);
  stopOrk(d);
  EXPECT_EQ(j.count("what=recorder_write_failed"), 0) << readFile(j.path);
  JournalFile j2{dir_ + "/journal-fills2"};
  Child d2 = startOrk(j2.path);
  const std::string opened = j2.waitFor({"event=recorder ", "fresh=0"}, 15s);
  ASSERT_NE(opened, "") << readFile(j2.path);
  EXPECT_GE(std::stol(field(opened, "records")), 5) << "the samples written on a full disk are not there";
  stopOrk(d2);
}

}  // namespace
}  // namespace ork::test
