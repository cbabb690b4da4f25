// The end-to-end harness itself (tests/support/Libvirt.h) against a real libvirtd and
// real QEMU guests: where the daemons and the guests land, and the libvirt operations
// ORK relies on (managed save releases the guest's memory, start restores it,
// suspend/resume, a managed save that fails with ENOSPC on a full save directory).
#include <pwd.h>
#include <sys/stat.h>

#include <cstdio>

#include "support/Libvirt.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string nsOf(pid_t pid, const char* ns) {
  char buf[128];
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

bool gone(pid_t pid, std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  while (::kill(pid, 0) == 0) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// The number of "alive" heartbeats on the console after byte `from`.
bool heartbeatAfter(Guest& g, std::size_t from, std::chrono::milliseconds timeout,
                    std::string* err) {
  return g.waitConsole("ORK-GUEST: alive", timeout, from, err);
}

TEST(LibvirtHarness, DaemonsRunConfinedToTheTestsCgroupsAndNamespaces) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::printf("libvirtd ready in %.2f s; kernel %s; cgroup %s\n", lv->startSeconds(),
              lv->kernelSource().c_str(), lv->memoryCgroup().c_str());
  std::string out;
  ASSERT_EQ(lv->virsh({"uri"}, &out), 0) << out;
  EXPECT_EQ(libvirt_detail::trim(out), "qemu:///system");

  for (pid_t pid : {lv->libvirtdPid(), lv->virtlogdPid()}) {
    ASSERT_GT(pid, 0);
    for (const auto& h : lv->hierarchies())
      EXPECT_EQ(Guest::cgroupOf(pid, h.name), "/" + lv->id() + "/daemons")
          << "pid " << pid << " in " << h.name;
    EXPECT_NE(nsOf(pid, "net"), nsOf(::getpid(), "net"))
        << "daemon " << pid << " in the test's network namespace";
  }
  EXPECT_EQ(nsOf(lv->libvirtdPid(), "net"), nsOf(lv->virtlogdPid(), "net"));
  EXPECT_NE(nsOf(::getpid(), "mnt"), nsOf(1, "mnt"))
      << "the harness must work in its own mount namespace";
  EXPECT_TRUE(libvirt_detail::exists("/run/libvirt/libvirt-sock"));
  struct stat st {};
  EXPECT_EQ(::stat(lv->machineCgroup().c_str(), &st), 0) << lv->machineCgroup();
}

TEST(LibvirtHarness, IdleGuestBootsSavesRestoresSuspendsAndHitsEnospcOnAFullSaveDir) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::idle(256).touch(48));
  auto t0 = Clock::now();
  ASSERT_TRUE(g.start(&err)) << err;
  double startS = since(t0);
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  double bootS = since(t0);

  // The QEMU process: libvirt's pid file, -name guest=NAME and -uuid, user libvirt-qemu.
  pid_t pid = g.pid();
  ASSERT_GT(pid, 0);
  std::string uuid = g.uuid();
  ASSERT_EQ(uuid.size(), 36u) << uuid;
  std::string cmdline = readFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : cmdline)
    if (c == '\0') c = ' ';
  EXPECT_NE(cmdline.find("guest=" + g.name() + ","), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("-uuid " + uuid), std::string::npos) << cmdline;
  struct stat st {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(pid)).c_str(), &st), 0);
  struct passwd* qemuUser = ::getpwnam("libvirt-qemu");
  ASSERT_NE(qemuUser, nullptr);
  EXPECT_EQ(st.st_uid, qemuUser->pw_uid);

  // Its cgroups: memory and cpu in the guest's own cgroup under the test's partition;
  // every hierarchy inside the test's cgroup.
  const std::string machine = lv->partition() + "/qemu-";
  const std::string suffix = "-" + g.name() + ".libvirt-qemu";
  std::string mem = g.cgroup("memory");
  EXPECT_TRUE(startsWith(mem, machine)) << mem;
  EXPECT_TRUE(mem.size() > suffix.size() &&
              mem.compare(mem.size() - suffix.size(), suffix.size(), suffix) == 0)
      << mem;
  EXPECT_TRUE(startsWith(g.cgroup("cpu"), mem + "/")) << g.cgroup("cpu");  // .../emulator
  for (const auto& h : lv->hierarchies()) {
    std::string c = g.cgroup(h.name);
    std::printf("qemu %d in %-8s %s\n", pid, h.name.c_str(), c.c_str());
    EXPECT_TRUE(startsWith(c, "/" + lv->id() + "/")) << h.name << ": " << c;
  }
  std::string memDir = g.cgroupDir("memory");
  ASSERT_GT(cgmem::usageBytes(memDir), 0) << memDir;  // v1 or v2
  long rssBefore = g.rssKib();
  EXPECT_GT(rssBefore, 48 * 1024) << "the guest touched 48 MiB";

  // suspend / resume; the guest runs again (a new heartbeat) after resume.
  t0 = Clock::now();
  ASSERT_EQ(lv->virsh({"suspend", g.name()}, &err), 0) << err;
  double suspendS = since(t0);
  EXPECT_EQ(g.state(), "paused");
  t0 = Clock::now();
  ASSERT_EQ(lv->virsh({"resume", g.name()}, &err), 0) << err;
  double resumeS = since(t0);
  EXPECT_EQ(g.state(), "running");
  ASSERT_TRUE(heartbeatAfter(g, g.consoleSize(), 30s, &err)) << err;

  // A save directory too small for the guest: the managed save fails with ENOSPC, the
  // guest keeps running, no image is left.
  {
    LoopFs small;
    ASSERT_TRUE(small.mount(Libvirtd::saveDir(), 64, &err)) << err;
    EXPECT_LT(small.freeBytes(), 256ull << 20);
    std::string out;
    t0 = Clock::now();
    EXPECT_NE(lv->virsh({"managedsave", g.name()}, &out, 120s), 0) << out;
    std::printf("managedsave on a 64 MiB fs failed after %.2f s: %s\n", since(t0),
                libvirt_detail::trim(out).c_str());
    EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
    EXPECT_EQ(g.state(), "running");
    EXPECT_EQ(g.pid(), pid);
    EXPECT_FALSE(libvirt_detail::exists(g.saveImage()));
  }
  EXPECT_TRUE(libvirt_detail::exists(Libvirtd::saveDir()));
  EXPECT_FALSE(libvirt_detail::exists(Libvirtd::saveDir() + "/lost+found"))
      << "the loop fs is still mounted";

  // managed save: QEMU exits, its memory and cgroup go, the image is in the save dir.
  t0 = Clock::now();
  ASSERT_EQ(lv->virsh({"managedsave", g.name()}, &err, 120s), 0) << err;
  double saveS = since(t0);
  EXPECT_TRUE(gone(pid, 10s)) << "qemu " << pid << " still runs after the managed save";
  EXPECT_FALSE(libvirt_detail::exists(memDir)) << memDir;
  EXPECT_EQ(g.pid(), -1);
  EXPECT_EQ(g.state(true), "shut off (saved)");
  struct stat img {};
  ASSERT_EQ(::stat(g.saveImage().c_str(), &img), 0) << g.saveImage();
  EXPECT_GT(img.st_size, 48ll << 20) << "the image holds the touched memory";
  std::string info;
  lv->virsh({"dominfo", g.name()}, &info);
  EXPECT_NE(info.find("Managed save:   yes"), std::string::npos) << info;

  // start restores it: a new QEMU, the image consumed, the guest carries on.
  std::size_t consoleBefore = g.consoleSize();
  t0 = Clock::now();
  ASSERT_TRUE(g.start(&err)) << err;
  double restoreS = since(t0);
  EXPECT_EQ(g.state(true), "running (restored)");
  pid_t restored = g.pid();
  EXPECT_GT(restored, 0);
  EXPECT_NE(restored, pid);
  EXPECT_FALSE(libvirt_detail::exists(g.saveImage()));
  EXPECT_EQ(g.uuid(), uuid);
  ASSERT_TRUE(heartbeatAfter(g, consoleBefore, 30s, &err)) << err;
  EXPECT_EQ(g.console().find("ORK-GUEST: init", consoleBefore), std::string::npos)
      << "restored, not rebooted";

  std::printf(
      "guest: start %.2f s, ready %.2f s, rss %ld KiB; suspend %.3f s, resume %.3f s; "
      "managedsave %.2f s (image %lld MiB), restore %.2f s\n",
      startS, bootS, rssBefore, suspendS, resumeS, saveS, static_cast<long long>(img.st_size >> 20),
      restoreS);
}

TEST(LibvirtHarness, BurningGuestKeepsAHostCpuBusy) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::burn(128));
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  // The same window for a busy loop on the host, our own child, as the reference for
  // what one thread can get on this machine right now (other load shares the cores).
  Child loop = spawn({"/bin/sh", "-c", "while :; do :; done"});
  ASSERT_GT(loop.pid, 0);
  auto ticks = [](pid_t pid) {
    std::string s = readFile("/proc/" + std::to_string(pid) + "/stat");
    long utime = 0, stime = 0;
    auto close = s.rfind(')');
    if (close != std::string::npos)
      std::sscanf(s.c_str() + close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
                  &utime, &stime);
    return utime + stime;
  };
  long hz = ::sysconf(_SC_CLK_TCK);
  long a = g.cpuTicks(), ra = ticks(loop.pid);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(3s);
  long b = g.cpuTicks(), rb = ticks(loop.pid);
  double secs = since(t0);
  loop.stop();
  double cpus = static_cast<double>(b - a) / static_cast<double>(hz) / secs;
  double ref = static_cast<double>(rb - ra) / static_cast<double>(hz) / secs;
  std::printf("burning guest: qemu uses %.2f CPUs, a host busy loop %.2f\n", cpus, ref);
  EXPECT_GT(cpus, 0.2);
  EXPECT_GT(cpus, 0.6 * ref)
      << "a burning 1-vCPU guest should take about as much CPU as a host busy loop";
  EXPECT_LT(cpus, 1.5);
}

}  // namespace
}  // namespace ork::test
