// ORK's VM steps end to end: a real libvirtd started by the test (tests/support/
// Libvirt.h), real QEMU guests (TCG), the real ork daemon with its ork-virt helper.
// ORK is scoped with --cgroup to the test's cgroup, which holds the daemons, the guests
// and the test's own hogs and burners, and nothing else: it can act on nothing else.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <iostream>
#include <sstream>
#include <vector>
#include <string>
#include <thread>

#include "support/Libvirt.h"
#include "support/SlowDisk.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

long rssKibOf(pid_t pid) {
  std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
  auto pos = status.find("VmRSS:");
  return pos == std::string::npos ? -1 : std::atol(status.c_str() + pos + 6);
}

// The ork-virt helpers ORK started (its children named ork-virt).
std::vector<pid_t> helpersOf(pid_t ork) {
  std::vector<pid_t> out;
  std::string children = readFile("/proc/" + std::to_string(ork) + "/task/" + std::to_string(ork) + "/children");
  std::istringstream in(children);
  pid_t pid;
  while (in >> pid)
    if (readFile("/proc/" + std::to_string(pid) + "/comm") == "ork-virt\n") out.push_back(pid);
  return out;
}

bool gone(pid_t pid, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (::kill(pid, 0) == 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

class VmLadder : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      std::string out;
      for (const auto& l : journal_.lines()) out += "  " + l + "\n";
      std::cerr << "ORK's journal:\n" << out;
    }
    ork_.stop(SIGTERM);
    for (auto& c : children_) c.stop();
    if (!limitedCgroup_.empty()) cgmem::setLimit(limitedCgroup_, -1);
    if (!dir_.empty()) {
      (void)runCommand({"/bin/rm", "-rf", dir_});
    }
  }

  void startOrk(Libvirtd& lv, const std::string& toml) {
    dir_ = tempDir();
    journal_.path = dir_ + "/journal.log";
    writeFile(dir_ + "/ork.toml", toml + recorderIn(dir_));
    ork_ = spawn({ORK_BINARY, "daemon", "--cgroup", lv.memoryCgroup(), "--config", dir_ + "/ork.toml", "--kmsg",
                  journal_.path, "--quiet", "--state-dir", dir_ + "/state"});
    ASSERT_NE(journal_.waitFor({"event=start"}, 5s), "") << "ORK did not start";
  }

  // Gives the test's memory cgroup a limit of its usage now plus headroom: the domain
  // ORK watches.
  void limitMemory(Libvirtd& lv, std::int64_t headroomMib) {
    std::string dir = lv.memoryCgroup();
    std::int64_t usage = cgmem::usageBytes(dir);  // v1 or v2
    ASSERT_GT(usage, 0) << dir;
    limitedCgroup_ = dir;
    ASSERT_TRUE(cgmem::setLimit(dir, usage + (headroomMib << 20))) << dir;
  }

  Child& hog(Libvirtd& lv, int mib) {
    children_.push_back(spawn({ORK_MEMHOG, "--cgroup", lv.memoryCgroup(), "hold", std::to_string(mib)}));
    EXPECT_TRUE(children_.back().waitFor("ready", 30s)) << "memhog did not get ready";
    return children_.back();
  }

  Child& burner(Libvirtd& lv, int children) {
    children_.push_back(spawn({ORK_CPUBURN, "--cgroup", lv.memoryCgroup(), "--children", std::to_string(children)}));
    EXPECT_TRUE(children_.back().waitFor("ready", 10s)) << "cpuburn did not start";
    return children_.back();
  }

  std::string dir_;
  std::string limitedCgroup_;
  JournalFile journal_;
  Child ork_;
  std::deque<Child> children_;
};

// soft = 300 MiB, hard = 50 MiB of the domain, whatever its size: the test sets the
// limit to usage + 400 MiB, so a 200 MiB hog takes ORK below soft but not below hard.
constexpr const char* kMemoryConfig =
    "[memory]\n"
    "soft_percent = 90\n"
    "soft_max_mib = 300\n"
    "hard_percent = 90\n"
    "hard_max_mib = 50\n"
    "[cpu]\n"
    "enabled = false\n"
    "[vm]\n"
    "save_margin_mib = 16\n";

TEST_F(VmLadder, MemoryPressureHibernatesTheGuestWhichVirshStartBringsBack) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::idle(256).touch(96));
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  pid_t qemu = g.pid();
  std::string uuid = g.uuid();
  ASSERT_GT(qemu, 0);

  limitMemory(*lv, 400);
  startOrk(*lv, kMemoryConfig);
  ASSERT_NE(journal_.waitFor({"event=vm_found", "uuid=" + uuid}, 10s), "") << "ORK did not recognise the guest";
  ASSERT_NE(journal_.waitFor({"event=libvirt_connected"}, 20s), "") << "ORK did not reach libvirt";
  // The footprint with a libvirt connection (docs/benchmarks.md): ORK itself, and its
  // control-lane helper, which holds libvirt.
  auto helpers = helpersOf(ork_.pid);
  ASSERT_EQ(helpers.size(), 1u) << "one helper (the control lane) before any save";
  std::printf("footprint: ork VmRSS %ld KiB, ork-virt (connected) VmRSS %ld KiB\n", rssKibOf(ork_.pid),
              rssKibOf(helpers[0]));

  Child& h = hog(*lv, 200);
  std::string started = journal_.waitFor({"event=hibernate ", "uuid=" + uuid}, 30s);
  ASSERT_NE(started, "") << "no hibernation under memory pressure";
  EXPECT_EQ(field(started, "result"), "started") << started;
  EXPECT_EQ(field(started, "vm"), "\"" + g.name() + "\"") << started;
  EXPECT_EQ(field(started, "reason"), "memory_below_soft");
  std::string done = journal_.waitFor({"event=hibernated", "uuid=" + uuid}, 120s);
  ASSERT_NE(done, "") << "the save did not finish";
  EXPECT_EQ(field(done, "result"), "ok") << done;
  EXPECT_GT(std::stoll(field(done, "freed_kib")), 96 * 1024) << done;
  EXPECT_GE(std::stoll(field(done, "took_ms")), 0);

  // The qemu process exited; its memory came back; the hog was not killed.
  EXPECT_TRUE(gone(qemu, 10s)) << "qemu still runs after the managed save";
  EXPECT_EQ(g.state(true), "shut off (saved)");
  EXPECT_TRUE(h.alive()) << "step 2 killed although step 1 was enough";
  EXPECT_EQ(journal_.count("event=kill"), 0);
  EXPECT_NE(journal_.waitFor({"event=recovered"}, 10s), "") << "memory did not come back above soft";
  EXPECT_EQ(journal_.count("event=hibernate "), 1) << "more VMs saved than needed";

  // The operator brings it back.
  ork_.stop(SIGTERM);
  h.stop();
  cgmem::setLimit(limitedCgroup_, -1);
  ASSERT_TRUE(g.start(&err)) << err;
  EXPECT_EQ(g.state(true), "running (restored)");
}

TEST_F(VmLadder, SaveIsSkippedWhenTheSaveDirectoryIsTooSmall) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::idle(256).touch(96));
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  pid_t qemu = g.pid();
  LoopFs small;
  ASSERT_TRUE(small.mount(Libvirtd::saveDir(), 64, &err)) << err;

  // ork top tells beforehand what ORK will do with this guest, and why.
  std::string top;
  ASSERT_EQ(runCommand({ORK_BINARY, "top", "--cgroup", lv->memoryCgroup()}, &top), 0) << top;
  auto row = top.find(g.uuid());
  ASSERT_NE(row, std::string::npos) << "ork top does not show the guest:\n" << top;
  std::string line = top.substr(row, top.find('\n', row) - row);
  EXPECT_NE(line.find("skip hibernation: " + Libvirtd::saveDir() + " has"), std::string::npos) << line;
  EXPECT_NE(line.find("running"), std::string::npos) << "libvirt's state is missing: " << line;
  EXPECT_NE(top.find(g.name()), std::string::npos) << top;

  limitMemory(*lv, 400);
  startOrk(*lv, kMemoryConfig);
  ASSERT_NE(journal_.waitFor({"event=libvirt_connected"}, 20s), "") << "ORK did not reach libvirt";
  hog(*lv, 200);
  std::string skipped = journal_.waitFor({"event=hibernate_skipped", "uuid=" + g.uuid()}, 30s);
  ASSERT_NE(skipped, "") << "no skip line";
  EXPECT_EQ(field(skipped, "reason"), "no_room_for_save") << skipped;
  EXPECT_EQ(field(skipped, "save_dir"), "\"" + Libvirtd::saveDir() + "\"") << skipped;
  EXPECT_LT(std::stoll(field(skipped, "free_kib")), std::stoll(field(skipped, "needs_kib"))) << skipped;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(journal_.count("event=hibernate "), 0) << "ORK tried a save that could not fit";
  EXPECT_EQ(g.state(), "running");
  EXPECT_EQ(g.pid(), qemu);
}

// CPU: a guest burning CPU while the host is overloaded (CPUs burners of the test's own
// beside it) is suspended; once the test stops its burners, the host cools down and ORK
// resumes the guest after cool_down_s.
constexpr const char* kCpuConfig =
    "[cpu]\n"
    "sustain_s = 6\n"
    "kill_after_s = 120\n"
    "cool_down_s = 5\n"
    "vm_min_percent = 5\n";

TEST_F(VmLadder, BurningGuestIsSuspendedThenResumedAfterTheCoolDown) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::burn(128));
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  startOrk(*lv, kCpuConfig);
  ASSERT_NE(journal_.waitFor({"event=libvirt_connected"}, 20s), "") << "ORK did not reach libvirt";

  Child& b = burner(*lv, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  std::string freeze = journal_.waitFor({"event=freeze", "uuid=" + g.uuid()}, 40s);
  ASSERT_NE(freeze, "") << "the burning guest was not frozen";
  EXPECT_EQ(field(freeze, "method"), "libvirt") << freeze;
  EXPECT_EQ(field(freeze, "result"), "ok") << freeze;
  EXPECT_EQ(field(freeze, "reason"), "cpu_overload");
  EXPECT_TRUE(g.waitState("paused", 5s)) << g.state();
  EXPECT_EQ(journal_.count("event=kill"), 0) << "step 2 while step 1 was still being judged";

  // The overload ends; after the cool-down ORK resumes the guest.
  b.stop();
  auto stoppedAt = std::chrono::steady_clock::now();
  std::string thaw = journal_.waitFor({"event=thaw", "uuid=" + g.uuid()}, 40s);
  ASSERT_NE(thaw, "") << "the guest was not resumed";
  double after = std::chrono::duration<double>(std::chrono::steady_clock::now() - stoppedAt).count();
  EXPECT_GE(after, 4.0) << "resumed before the cool-down: " << thaw;
  EXPECT_EQ(field(thaw, "result"), "ok") << thaw;
  EXPECT_EQ(field(thaw, "reason"), "cooled_down");
  EXPECT_TRUE(g.waitState("running", 5s)) << g.state();
}

// Without libvirt (its socket unreachable), the same guest is frozen through its own
// cgroup freezer (v1 on hybrid hosts, cgroup.freeze on v2), and thawed the same way; ORK says once that libvirt is missing.
TEST_F(VmLadder, WithoutLibvirtTheGuestIsFrozenThroughItsCgroup) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::burn(128));
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  startOrk(*lv, std::string(kCpuConfig) + "[vm]\nlibvirt_uri = \"qemu+unix:///system?socket=/nonexistent/sock\"\n");
  std::string down = journal_.waitFor({"event=warning", "what=libvirt_unavailable"}, 20s);
  ASSERT_NE(down, "") << "ORK did not say that libvirt is unreachable";

  Child& b = burner(*lv, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  std::string freeze = journal_.waitFor({"event=freeze", "uuid=" + g.uuid()}, 40s);
  ASSERT_NE(freeze, "") << "the burning guest was not frozen";
  EXPECT_EQ(field(freeze, "result"), "ok") << freeze;
  EXPECT_NE(field(freeze, "method").find("cgroup"), std::string::npos) << freeze;
  // Frozen means every thread of qemu, vCPUs included, stopped using CPU.
  long before = g.cpuTicks();
  std::this_thread::sleep_for(1500ms);
  EXPECT_LE(g.cpuTicks() - before, 2) << "the frozen guest still burns CPU: " << freeze;
  b.stop();
  std::string thaw = journal_.waitFor({"event=thaw", "uuid=" + g.uuid()}, 40s);
  ASSERT_NE(thaw, "") << "the guest was not thawed";
  EXPECT_EQ(field(thaw, "result"), "ok") << thaw;
  before = g.cpuTicks();
  std::this_thread::sleep_for(1500ms);
  EXPECT_GT(g.cpuTicks() - before, 10) << "the thawed guest does not run";
  EXPECT_EQ(journal_.count("what=libvirt_unavailable"), 1) << "said more than once";
}

// Disk: a guest whose raw (sparse) image sits on a small loop-mounted ext4 writes to
// its disk and fills that filesystem; below hard ORK suspends the guest through libvirt
// (no kill), and once the test frees space (a ballast file) and the filesystem is back
// above soft, ORK resumes it.
TEST_F(VmLadder, AGuestFillingItsFilesystemIsSuspendedThenResumedAboveSoft) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  std::string dir = lv->dir() + "/diskfs";
  ::mkdir(dir.c_str(), 0755);
  LoopFs small;
  ASSERT_TRUE(small.mount(dir, 96, &err)) << err;
  ::chmod(dir.c_str(), 0777);
  // soft 30 %, hard 20 % of the filesystem; the ballast leaves hard + 6 MiB free.
  struct statvfs sv {};
  ASSERT_EQ(::statvfs(dir.c_str(), &sv), 0);
  long long total = static_cast<long long>(sv.f_blocks) * static_cast<long long>(sv.f_frsize);
  long long ballast = static_cast<long long>(small.freeBytes()) - (total / 5 + (6ll << 20));
  ASSERT_GT(ballast, 0);
  std::string out;
  ASSERT_EQ(runCommand({"/usr/bin/fallocate", "-l", std::to_string(ballast), dir + "/ballast"}, &out), 0) << out;
  ASSERT_EQ(runCommand({"/usr/bin/truncate", "-s", "512M", dir + "/guest.img"}, &out), 0) << out;
  ::chmod((dir + "/guest.img").c_str(), 0666);

  GuestSpec spec = GuestSpec::fill(128);
  spec.extraDevices = "    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" + dir +
                      "/guest.img'/><target dev='vda' bus='virtio'/></disk>\n";
  Guest g(*lv, spec);
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  startOrk(*lv, "[cpu]\nenabled = false\n[disk]\nwatch = [\"" + dir + "\"]\nclean = [\"" + dir +
                    "/log\"]\nsoft_percent = 30\nhard_percent = 20\ninterval_s = 1\n");
  ASSERT_NE(journal_.waitFor({"event=libvirt_connected"}, 20s), "") << "ORK did not reach libvirt";

  std::string stop = journal_.waitFor({"event=disk_stop", "uuid=" + g.uuid()}, 180s);
  ASSERT_NE(stop, "") << "the guest was not stopped; free now " << small.freeBytes();
  EXPECT_EQ(field(stop, "action"), "suspend") << stop;
  EXPECT_EQ(field(stop, "reason"), "disk_below_hard") << stop;
  EXPECT_TRUE(g.waitState("paused", 10s)) << g.state();
  EXPECT_EQ(journal_.count("event=kill"), 0) << "a VM is suspended, never killed, for a disk";
  EXPECT_GT(small.freeBytes(), 0u) << "stopped before the filesystem was full";

  ASSERT_EQ(::unlink((dir + "/ballast").c_str()), 0);
  std::string thaw = journal_.waitFor({"event=thaw", "uuid=" + g.uuid()}, 30s);
  ASSERT_NE(thaw, "") << "the guest was not resumed";
  EXPECT_EQ(field(thaw, "reason"), "disk_recovered") << thaw;
  EXPECT_EQ(field(thaw, "result"), "ok") << thaw;
  EXPECT_TRUE(g.waitState("running", 10s)) << g.state();
  EXPECT_NE(journal_.waitFor({"event=disk_recovered", "mount=\"" + dir + "\""}, 5s), "");
  ork_.stop(SIGTERM);

}

// I/O, step 1: a guest whose disk is a slow host device (tests/support/SlowDisk.h)
// writes to it as fast as it takes, beside an innocent host process reading the same
// device from a cgroup of its own. ORK suspends the guest (it does the I/O on the
// saturated device, and another cgroup waits), and resumes it after the cool-down.
TEST_F(VmLadder, AGuestSaturatingAHostDiskIsSuspendedThenResumed) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  SlowDisk disk;
  ASSERT_EQ(disk.create(lv->dir()), "") << "the slow disk";
  GuestSpec spec = GuestSpec::io(128);
  spec.extraDevices = "    <disk type='block' device='disk'><driver name='qemu' type='raw' cache='none'/><source dev='" +
                      disk.path() + "'/><target dev='vda' bus='virtio'/></disk>\n";
  Guest g(*lv, spec);
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;

  // The innocent: in ORK's scope (the test's memory cgroup) and, for its I/O pressure,
  // in a cgroup v2 of its own (on a hybrid host a child of the cgroup2 tree's root).
  CgroupMounts m = CgroupMounts::detect();
  ORK_REQUIRE(!m.v2.empty(), "no cgroup2 hierarchy (per-cgroup PSI io)");
  const bool scopeIsV2 = lv->memoryCgroup().rfind(m.v2 + "/", 0) == 0;
  std::string v2 = (scopeIsV2 ? lv->memoryCgroup() : m.v2) + "/ork-io-innocent-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(v2.c_str(), 0755), 0) << v2;
  children_.push_back(spawn({"/bin/sh", "-c",
                             "echo $$ > " + lv->memoryCgroup() + "/cgroup.procs 2>/dev/null; echo $$ > " + v2 +
                                 "/cgroup.procs && echo ready && while :; do dd if=" + disk.path() +
                                 " of=/dev/null bs=4k count=5 skip=15000 iflag=direct 2>/dev/null; done"}));
  Child& innocent = children_.back();
  ASSERT_TRUE(innocent.waitFor("ready", 10s));

  startOrk(*lv,
           "[cpu]\nenabled = false\ncool_down_s = 5\n[disk]\nenabled = false\n"
           "[io]\nsustain_s = 6\nkill_after_s = 120\nlatency_ms = 15\n");
  ASSERT_NE(journal_.waitFor({"event=libvirt_connected"}, 20s), "") << "ORK did not reach libvirt";

  std::string over = journal_.waitFor({"event=io_overload", "device=\"" + disk.name() + "\""}, 90s);
  ASSERT_NE(over, "") << "no io_overload on " << disk.name();
  EXPECT_EQ(field(over, "action"), "freeze") << over;
  std::string freeze = journal_.waitFor({"event=freeze", "uuid=" + g.uuid()}, 20s);
  ASSERT_NE(freeze, "") << "the guest was not frozen";
  EXPECT_EQ(field(freeze, "reason"), "io_overload") << freeze;
  EXPECT_EQ(field(freeze, "result"), "ok") << freeze;
  EXPECT_TRUE(g.waitState("paused", 5s)) << g.state();
  EXPECT_TRUE(innocent.alive());

  // The device is calm while the guest is paused; after the cool-down it runs again.
  std::string thaw = journal_.waitFor({"event=thaw", "uuid=" + g.uuid()}, 60s);
  ASSERT_NE(thaw, "") << "the guest was not resumed";
  EXPECT_EQ(field(thaw, "reason"), "cooled_down") << thaw;
  EXPECT_EQ(field(thaw, "result"), "ok") << thaw;
  EXPECT_EQ(journal_.count("event=kill"), 0) << "a kill while step 1 was being judged";
  std::cout << over << "\n" << freeze << "\n" << thaw << "\n";
  ork_.stop(SIGTERM);
  innocent.stop();
  for (int i = 0; i < 50 && ::rmdir(v2.c_str()) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(50ms);
}

}  // namespace
}  // namespace ork::test
