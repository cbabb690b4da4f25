// sys::freezerFor / freeze / thaw on real cgroups (root): a v2 cgroup (cgroup.freeze)
// and, on hybrid hosts, a v1 freezer cgroup, each holding a CPU-burning child of the
// test (on a pure v2 host, the v1 case becomes: a shared v2 cgroup is refused). Frozen, the
// child's utime stops; thawed, it runs again. A cgroup holding two of the test's
// children is refused. libvirt's v2 layout (threaded "emulator" and "vcpu0" children,
// the vCPU thread apart from the main one) freezes both threads. And a real qemu, found
// by its -uuid through ProcessTable + VmTable, is frozen and thawed.
//
// Only processes the test started ever enter the cgroups; everything is thawed, killed
// by PID and removed in TearDown, also after a failure (and the children die with the
// test: PR_SET_PDEATHSIG).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ork/parse/Parsers.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sense/VmTable.h"
#include "ork/sys/Files.h"
#include "ork/sys/Freezer.h"
#include "support/Harness.h"

namespace ork {
namespace {

using std::chrono::milliseconds;
using sys::FreezerTarget;
using Clock = std::chrono::steady_clock;

// utime of a process (all threads) or of one thread, in clock ticks.
std::uint64_t utimeOf(int pid, int tid = 0) {
  const std::string path =
      tid == 0 ? "/proc/" + std::to_string(pid) + "/stat"
               : "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat";
  auto text = sys::readWholeFile(path);
  if (!text.ok()) return 0;
  auto st = parse::parseProcStat(*text);
  return st.ok() ? st->utimeTicks : 0;
}

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class FreezerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "needs root (cgroups)");
    // The cgroup2 mount and the v1 freezer's, if any (support/Harness.h).
    const test::CgroupMounts mounts = test::CgroupMounts::detect();
    v2Root_ = mounts.v2;
    v1Root_ = mounts.v1Mount("freezer");
  }

  void TearDown() override {
    // Thaw first: a task frozen by the v1 freezer does not die until thawed.
    for (const auto& c : cgroups_) {
      (void)sys::writeFile(c + "/cgroup.freeze", "0");
      (void)sys::writeFile(c + "/freezer.state", "THAWED");
    }
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
    // Children before parents.
    for (auto it = cgroups_.rbegin(); it != cgroups_.rend(); ++it) {
      for (int i = 0; i < 100 && ::rmdir(it->c_str()) != 0 && errno == EBUSY; ++i)
        std::this_thread::sleep_for(milliseconds(10));
    }
  }

  // A fresh cgroup under root (or under a cgroup of this test), removed in TearDown.
  std::string makeCgroup(const std::string& parent, const std::string& name) {
    const std::string dir = parent + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0) {
      ADD_FAILURE() << "mkdir " << dir << ": " << std::strerror(errno);
      return "";
    }
    cgroups_.push_back(dir);
    return dir;
  }
  std::string uniqueName(const char* what) {
    return "ork-test-" + std::to_string(::getpid()) + "-" + what;
  }

  // A child that burns CPU (in two threads if asked). *tids gets its thread ids.
  pid_t spawnBurner(int threads = 1, std::vector<int>* tids = nullptr) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      auto burn = [] {
        volatile std::uint64_t x = 0;
        for (;;) x = x + 1;
      };
      auto report = [&] {
        const int tid = static_cast<int>(::syscall(SYS_gettid));
        (void)!::write(fds[1], &tid, sizeof tid);
      };
      report();
      for (int i = 1; i < threads; ++i) {
        std::thread([&] {
          report();
          burn();
        }).detach();
      }
      burn();
    }
    ::close(fds[1]);
    children_.push_back(pid);
    for (int i = 0; i < threads; ++i) {
      int tid = 0;
      if (::read(fds[0], &tid, sizeof tid) != sizeof tid) break;
      if (tids) tids->push_back(tid);
    }
    ::close(fds[0]);
    return pid;
  }

  // A command started inside cgroup (it joins before its exec), dying with the test.
  pid_t spawnIn(const std::string& cgroup, const std::vector<std::string>& argv) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const std::string self = std::to_string(::getpid());
      if (!sys::writeFile(cgroup + "/cgroup.procs", self).ok()) ::_exit(126);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    children_.push_back(pid);
    return pid;
  }

  static bool join(const std::string& cgroup, int pid, const char* file = "cgroup.procs") {
    auto r = sys::writeFile(cgroup + "/" + file, std::to_string(pid));
    if (!r.ok()) ADD_FAILURE() << r.error().message();
    return r.ok();
  }

  // Waits until the process has used some CPU since `from` (it is running).
  static bool advances(int pid, int tid = 0, milliseconds within = milliseconds(3000)) {
    const std::uint64_t from = utimeOf(pid, tid);
    const auto until = Clock::now() + within;
    while (Clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(20));
      if (utimeOf(pid, tid) >= from + 3) return true;
    }
    return false;
  }

  // Freezes, checks that the CPU time stands still, thaws, checks that it runs.
  void freezeAndThaw(const FreezerTarget& t, int pid, const std::vector<int>& tids) {
    for (int tid : tids) ASSERT_TRUE(advances(pid, tid)) << "thread " << tid << " not running";

    auto start = Clock::now();
    auto r = sys::freeze(t);
    const double freezeMs = msSince(start);
    ASSERT_TRUE(r.ok()) << r.error().message();
    auto frozen = sys::isFrozen(t);
    ASSERT_TRUE(frozen.ok()) << frozen.error().message();
    EXPECT_TRUE(*frozen);
    std::vector<std::uint64_t> before;
    for (int tid : tids) before.push_back(utimeOf(pid, tid));
    std::this_thread::sleep_for(milliseconds(400));
    for (std::size_t i = 0; i < tids.size(); ++i) {
      EXPECT_EQ(utimeOf(pid, tids[i]), before[i]) << "thread " << tids[i] << " ran while frozen";
    }

    start = Clock::now();
    r = sys::thaw(t);
    const double thawMs = msSince(start);
    ASSERT_TRUE(r.ok()) << r.error().message();
    frozen = sys::isFrozen(t);
    ASSERT_TRUE(frozen.ok());
    EXPECT_FALSE(*frozen);
    for (int tid : tids) EXPECT_TRUE(advances(pid, tid)) << "thread " << tid << " still stopped";
    std::printf("[ measured ] %s freeze confirmed in %.3f ms, thaw in %.3f ms (%zu threads)\n",
                t.kind == FreezerTarget::Kind::V2 ? "v2" : "v1", freezeMs, thawMs, tids.size());
  }

  std::string v2Root_;
  std::string v1Root_;
  std::vector<std::string> cgroups_;
  std::vector<pid_t> children_;
};

TEST_F(FreezerTest, V2FreezeStopsAndThawResumes) {
  ORK_REQUIRE(!v2Root_.empty(), "no cgroup2 hierarchy mounted");
  const std::string cg = makeCgroup(v2Root_, uniqueName("v2"));
  ASSERT_FALSE(cg.empty());
  ORK_REQUIRE(::access((cg + "/cgroup.freeze").c_str(), F_OK) == 0, "kernel without cgroup.freeze");
  const pid_t pid = spawnBurner();
  ASSERT_TRUE(join(cg, pid));

  auto t = sys::freezerFor(pid);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->kind, FreezerTarget::Kind::V2);
  EXPECT_EQ(t->dir, cg);
  freezeAndThaw(*t, pid, {pid});
}

// A process whose v2 cgroup is shared (the test's own) is frozen through its v1 freezer
// cgroup where there is one (hybrid hosts, where libvirt puts VMs in v1 cgroups only);
// on a pure v2 host, with no v1 freezer to fall back to, it is refused.
TEST_F(FreezerTest, SharedV2CgroupFallsBackToV1OrIsRefused) {
  ORK_REQUIRE(!v1Root_.empty() || !v2Root_.empty(), "no freezer hierarchy mounted");
  if (v1Root_.empty()) {
    const pid_t pid = spawnBurner();  // stays in the test's own cgroup
    auto t = sys::freezerFor(pid);
    ASSERT_FALSE(t.ok()) << "pure v2: froze the shared cgroup " << t->dir;
    EXPECT_EQ(t.error().code, EPERM) << t.error().message();
    std::printf("[ pure v2  ] no v1 freezer; refused: %s\n", t.error().what);
    EXPECT_TRUE(advances(pid));
    return;
  }
  const std::string cg = makeCgroup(v1Root_, uniqueName("v1"));
  ASSERT_FALSE(cg.empty());
  const pid_t pid = spawnBurner();
  ASSERT_TRUE(join(cg, pid));

  auto t = sys::freezerFor(pid);
  ASSERT_TRUE(t.ok()) << t.error().message();
  // On a hybrid host the test's v2 cgroup is shared (it holds the test): v1 is chosen.
  EXPECT_EQ(t->kind, FreezerTarget::Kind::V1);
  EXPECT_EQ(t->dir, cg);
  freezeAndThaw(*t, pid, {pid});
}

TEST_F(FreezerTest, CgroupOfTwoProcessesIsRefused) {
  ORK_REQUIRE(!v2Root_.empty() || !v1Root_.empty(), "no freezer hierarchy mounted");
  std::vector<std::string> dirs;
  if (!v2Root_.empty()) dirs.push_back(makeCgroup(v2Root_, uniqueName("shared-v2")));
  if (!v1Root_.empty()) dirs.push_back(makeCgroup(v1Root_, uniqueName("shared-v1")));
  const pid_t a = spawnBurner();
  const pid_t b = spawnBurner();
  for (const auto& cg : dirs) {
    ASSERT_FALSE(cg.empty());
    ASSERT_TRUE(join(cg, a));
    ASSERT_TRUE(join(cg, b));
  }
  auto t = sys::freezerFor(a);
  ASSERT_FALSE(t.ok()) << "accepted " << t->dir;
  EXPECT_EQ(t.error().code, EPERM);
  EXPECT_NE(t.error().message().find("also holds pid"), std::string_view::npos)
      << t.error().message();
  std::printf("[ refused  ] %s\n", t.error().what);
  // Nothing was frozen.
  EXPECT_TRUE(advances(a));
  EXPECT_TRUE(advances(b));
}

// libvirt on v2: the VM's cgroup has threaded children; qemu's main thread sits in
// "emulator" (so /proc/PID/cgroup names it) and each vCPU thread in "vcpuN". Reading
// cgroup.procs of a threaded cgroup fails (EOPNOTSUPP): its cgroup.threads is checked.
TEST_F(FreezerTest, V2LibvirtThreadedLayoutFreezesEveryThread) {
  ORK_REQUIRE(!v2Root_.empty(), "no cgroup2 hierarchy mounted");
  const std::string vm = makeCgroup(v2Root_, uniqueName("qemu-1-vm.libvirt-qemu"));
  ASSERT_FALSE(vm.empty());
  ORK_REQUIRE(::access((vm + "/cgroup.freeze").c_str(), F_OK) == 0, "kernel without cgroup.freeze");
  const std::string emulator = makeCgroup(vm, "emulator");
  const std::string vcpu0 = makeCgroup(vm, "vcpu0");
  ASSERT_TRUE(sys::writeFile(emulator + "/cgroup.type", "threaded").ok());
  ASSERT_TRUE(sys::writeFile(vcpu0 + "/cgroup.type", "threaded").ok());

  std::vector<int> tids;
  const pid_t pid = spawnBurner(2, &tids);
  ASSERT_EQ(tids.size(), 2u);
  ASSERT_TRUE(join(vm, pid));
  ASSERT_TRUE(join(emulator, tids[0], "cgroup.threads"));
  ASSERT_TRUE(join(vcpu0, tids[1], "cgroup.threads"));
  ASSERT_NE(test::readFile("/proc/" + std::to_string(pid) + "/cgroup").find("/emulator"),
            std::string::npos);

  auto t = sys::freezerFor(pid);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->kind, FreezerTarget::Kind::V2);
  EXPECT_EQ(t->dir, vm);
  freezeAndThaw(*t, pid, tids);

  // A thread of another process in vcpu0 makes the VM's cgroup shared.
  std::vector<int> otherTids;
  const pid_t other = spawnBurner(1, &otherTids);
  ASSERT_TRUE(join(vm, other));
  ASSERT_TRUE(join(vcpu0, other, "cgroup.threads"));
  auto refused = sys::freezerFor(pid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EPERM);
  std::printf("[ refused  ] %s\n", refused.error().what);
}

// A real qemu, found the way the daemon would: ProcessTable over /proc, VmTable by
// UUID, freezerFor its pid.
TEST_F(FreezerTest, RealQemuFoundByUuidFreezesAndThaws) {
  ORK_REQUIRE(!v2Root_.empty() || !v1Root_.empty(), "no freezer hierarchy mounted");
  const char* qemu = "/usr/bin/qemu-system-x86_64";
  ORK_REQUIRE(::access(qemu, X_OK) == 0, "qemu-system-x86_64 not installed");
  const std::string cg = makeCgroup(v2Root_.empty() ? v1Root_ : v2Root_, uniqueName("qemu"));
  ASSERT_FALSE(cg.empty());
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "0e7c0000-0000-4000-8000-%012x",
                static_cast<unsigned>(::getpid()));
  const pid_t pid =
      spawnIn(cg, {qemu, "-name", "guest=ork-freezer-test,,vm,debug-threads=on", "-S", "-machine",
                   "pc,accel=tcg", "-m", "size=65536k", "-smp", "2", "-uuid", uuid, "-display",
                   "none", "-nodefaults", "-no-user-config"});

  // Wait until qemu has exec'd and started its threads.
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < until &&
         (test::readFile("/proc/" + std::to_string(pid) + "/comm") != "qemu-system-x86\n" ||
          test::readFile("/proc/" + std::to_string(pid) + "/status").find("Threads:\t1\n") !=
              std::string::npos))
    std::this_thread::sleep_for(milliseconds(20));

  sense::ProcessTable::Options o;
  o.selfPid = ::getpid();
  auto table = sense::ProcessTable::open(o);
  ASSERT_TRUE(table.ok()) << table.error().message();
  ASSERT_TRUE(table->refreshAll(TimePoint{Seconds{1}}).ok());
  sense::VmTable vms;
  const auto start = Clock::now();
  vms.update(table->entries());
  std::printf("[ measured ] VmTable first update over %zu processes: %.3f ms\n",
              table->entries().size(), msSince(start));
  const sense::Vm* vm = vms.byUuid(uuid);
  ASSERT_NE(vm, nullptr) << "qemu " << pid << " not found by uuid " << uuid;
  EXPECT_EQ(vm->pid, pid);
  EXPECT_EQ(vm->cmd->name, "ork-freezer-test,vm");
  EXPECT_EQ(vm->cmd->memory, Bytes::mib(64));
  EXPECT_EQ(vm->cmd->vcpus, 2);
  EXPECT_GT(vm->memory, Bytes{0});

  auto t = sys::freezerFor(vm->pid);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->dir, cg);
  auto s = Clock::now();
  auto r = sys::freeze(*t);
  const double freezeMs = msSince(s);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(sys::isFrozen(*t).valueOr(false));
  s = Clock::now();
  r = sys::thaw(*t);
  const double thawMs = msSince(s);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(sys::isFrozen(*t).valueOr(true));
  std::printf("[ measured ] real qemu (%s): freeze confirmed in %.3f ms, thaw in %.3f ms\n",
              t->kind == FreezerTarget::Kind::V2 ? "v2" : "v1", freezeMs, thawMs);
}

}  // namespace
}  // namespace ork
