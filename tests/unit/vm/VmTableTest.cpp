// VmTable on a fixture /proc tree, with its entries made by sense::ProcessTable over the
// same tree (as the daemon does): two qemu processes (one through Debian's kvm
// symlink), one non-qemu process whose command line looks like qemu's, one that
// vanished between the table's pass and the VmTable's update, a comm spoofer, a
// libvirt child first seen before its exec of qemu, and a qemu that exec'd again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "ork/sense/ProcessTable.h"
#include "ork/sense/VmTable.h"
#include "unit/sense/TempTree.h"

namespace ork::sense {
namespace {

using testing::TempTree;

const long kHz = ::sysconf(_SC_CLK_TCK);

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ORK_FIXTURES) + "/qemu/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) ADD_FAILURE() << "missing fixture " << name;
  return ss.str();
}

std::string argv(const std::vector<std::string>& args) {
  std::string raw;
  for (const auto& a : args) raw += a + '\0';
  return raw;
}

struct Proc {
  int pid;
  std::string comm = {};
  std::string exe = {};      // symlink target, "" for none
  std::string cmdline = {};  // raw, NUL-separated
  double startSeconds = 5000;
  std::int64_t rssPages = 1000;
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  std::uint32_t flags = 0x00400100;
  bool kernel = false;
  std::uint64_t startStack = 0;  // stat field 28: what an exec moves (0: hidden)
};

class VmTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.write("proc/uptime", "10000.00 20000.00\n");
    tree_.write("proc/meminfo", "MemTotal: 1000 kB\nMemFree: 10 kB\n");
    tree_.mkdir("proc/self");
    tree_.mkdir("proc/sys");
    add({.pid = 1, .comm = "init", .exe = "/sbin/init", .cmdline = argv({"/sbin/init"})});
    add({.pid = 2, .comm = "kvm", .flags = 0x00208040, .kernel = true});  // a kthread named kvm
    add({.pid = 300,
         .comm = "qemu-system-x86",
         .exe = "/usr/bin/qemu-system-x86_64",
         .cmdline = fixture("real-q35-json-backend.cmdline"),
         .rssPages = 9000,
         .utime = 700,
         .stime = 300});
    add({.pid = 400,
         .comm = "kvm",
         .exe = "/usr/bin/qemu-system-x86_64",
         .cmdline = fixture("real-kvm-symlink.cmdline"),
         .utime = 5,
         .stime = 6});
    add({.pid = 500,
         .comm = "python3",
         .exe = "/usr/bin/python3.11",
         .cmdline = argv({"/usr/bin/qemu-system-x86_64", "-name", "fake"})});
    add({.pid = 600,
         .comm = "qemu-system-x86",
         .exe = "/usr/bin/qemu-system-x86_64",
         .cmdline = fixture("real-plain-name.cmdline")});
  }

  void add(const Proc& p) {
    const std::string d = "proc/" + std::to_string(p.pid);
    char stat[512];
    std::snprintf(
        stat, sizeof stat,
        "%d (%s) S 1 %d %d 0 -1 %u 100 0 0 0 %llu %llu 0 0 20 0 1 0 %llu 123456789 "
        "%lld 18446744073709551615 1 1 %llu 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n",
        p.pid, p.comm.c_str(), p.pid, p.pid, p.flags, static_cast<unsigned long long>(p.utime),
        static_cast<unsigned long long>(p.stime),
        static_cast<unsigned long long>(p.startSeconds * static_cast<double>(kHz)),
        static_cast<long long>(p.rssPages), static_cast<unsigned long long>(p.startStack));
    tree_.write(d + "/stat", stat);
    std::string status = "Name:\t" + p.comm + "\nTgid:\t" + std::to_string(p.pid) +
                         "\nUid:\t64055\t64055\t64055\t64055\n";
    if (!p.kernel) status += "VmSize:\t 900000 kB\nVmRSS:\t 4000 kB\nVmSwap:\t 2048 kB\n";
    tree_.write(d + "/status", status);
    tree_.write(d + "/oom_score_adj", "0\n");
    tree_.write(d + "/cmdline", p.cmdline);
    tree_.write(d + "/cgroup", "0::/machine/x\n");
    if (!p.exe.empty()) tree_.symlink(p.exe, d + "/exe");
  }

  // A pass of the candidate table over the fixture tree, as the daemon runs it.
  std::span<const ProcessInfo> pass() {
    if (!table_) {
      ProcessTable::Options o;
      o.procRoot = tree_.path("proc");
      auto t = ProcessTable::open(o);
      EXPECT_TRUE(t.ok()) << t.error().message();
      table_.emplace(std::move(t).value());
    }
    now_ = now_ + Seconds{1};
    EXPECT_TRUE(table_->refreshAll(now_).ok());
    return table_->entries();
  }

  static std::vector<int> pids(const VmTable& t) {
    std::vector<int> out;
    for (const auto& vm : t.vms()) out.push_back(vm.pid);
    return out;
  }

  TempTree tree_;
  std::optional<ProcessTable> table_;
  TimePoint now_{Seconds{100}};
};

TEST_F(VmTableTest, FindsQemuProcessesOnly) {
  auto entries = pass();
  tree_.remove("proc/600");  // vanished after the table's pass: skipped silently
  VmTable vms(tree_.path("proc"));
  vms.update(entries);
  EXPECT_EQ(pids(vms), (std::vector<int>{300, 400}));

  const Vm* a = vms.byPid(300);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(a->cmd, nullptr);
  EXPECT_EQ(a->cmd->name, "instance-0000002a");
  EXPECT_EQ(a->cmd->uuid, "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f");
  EXPECT_EQ(a->cmd->memory, Bytes::mib(64));
  EXPECT_EQ(a->cmd->vcpus, 2);
  ASSERT_GE(a->index, 0);
  ASSERT_LT(static_cast<std::size_t>(a->index), entries.size());
  const ProcessInfo& ea = entries[static_cast<std::size_t>(a->index)];
  EXPECT_EQ(ea.pid, 300);
  EXPECT_EQ(a->startTimeTicks, ea.startTimeTicks);
  EXPECT_EQ(a->memory, ea.memory());
  EXPECT_GT(a->memory, Bytes{0});
  EXPECT_EQ(a->cpuTicks, 1000u);

  const Vm* b = vms.byPid(400);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->cmd->name, "pve-web");
  EXPECT_EQ(b->cmd->memory, Bytes{1610612736});
  EXPECT_EQ(b->cpuTicks, 11u);
  EXPECT_EQ(entries[static_cast<std::size_t>(b->index)].pid, 400);

  EXPECT_EQ(vms.byPid(500), nullptr);
  EXPECT_EQ(vms.byPid(2), nullptr);
  EXPECT_EQ(vms.byPid(600), nullptr);
  EXPECT_EQ(vms.byUuid("5F1C0D2E-3B4A-4C5D-8E9F-0A1B2C3D4E5F"), a);
  EXPECT_EQ(vms.byUuid("5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"), a);
  EXPECT_EQ(vms.byUuid("00000000-0000-0000-0000-000000000000"), nullptr);
  EXPECT_EQ(vms.byUuid(""), nullptr);  // 400 has no -uuid: "" must not find it
  EXPECT_EQ(vms.byUuid("garbage"), nullptr);
}

TEST_F(VmTableTest, ReadsEachCommandLineOncePerProcess) {
  VmTable vms(tree_.path("proc"));
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), 3u);  // 300, 400, 600
  const auto firstCmd = vms.byPid(300)->cmd;

  // Same processes: nothing re-read, the same command shared; CPU time follows entries.
  add({.pid = 300,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = argv({"/usr/bin/qemu-system-x86_64", "-name", "changed"}),
       .rssPages = 9000,
       .utime = 800,
       .stime = 300});
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), 3u);
  EXPECT_EQ(vms.byPid(300)->cmd, firstCmd);
  EXPECT_EQ(vms.byPid(300)->cmd->name, "instance-0000002a");
  EXPECT_EQ(vms.byPid(300)->cpuTicks, 1100u);

  // The PID reused by a new qemu (another start time): read afresh.
  add({.pid = 300,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = argv({"/usr/bin/qemu-system-x86_64", "-name", "newcomer"}),
       .startSeconds = 9000});
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), 4u);
  EXPECT_EQ(vms.byPid(300)->cmd->name, "newcomer");

  // Gone from the entries: forgotten.
  tree_.remove("proc/400");
  vms.update(pass());
  EXPECT_EQ(pids(vms), (std::vector<int>{300, 600}));
}

TEST_F(VmTableTest, UnparsableQemuIsSkippedAndNotReReadEachPass) {
  // exe is qemu, but the command line is not a qemu one (argv[0] rewritten).
  add({.pid = 900,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = argv({"vm-wrapper", "-m", "1G"})});
  VmTable vms(tree_.path("proc"));
  vms.update(pass());
  EXPECT_EQ(vms.byPid(900), nullptr);
  const auto reads = vms.cmdlineReads();
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), reads);
  EXPECT_EQ(vms.byPid(900), nullptr);
}

TEST_F(VmTableTest, LibvirtCapabilityProbeIsNoVm) {
  add({.pid = 950,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = fixture("real-libvirt9-capability-probe.cmdline")});
  VmTable vms(tree_.path("proc"));
  vms.update(pass());
  EXPECT_EQ(vms.byPid(950), nullptr);
  const auto reads = vms.cmdlineReads();
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), reads);
}

TEST_F(VmTableTest, CommSpooferIsNoVm) {
  add({.pid = 700,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/python3.11",
       .cmdline = fixture("real-nova-i440fx.cmdline")});
  VmTable vms(tree_.path("proc"));
  vms.update(pass());
  EXPECT_EQ(vms.byPid(700), nullptr);
  EXPECT_EQ(vms.byUuid("0b0ad1c3-8d0f-4f7b-9f1e-2a3b4c5d6e7f"), nullptr);
}

TEST_F(VmTableTest, ChildSeenBeforeItsExecOfQemu) {
  // libvirt forks, then the child waits for its parent's go-ahead before exec'ing
  // qemu: the table may meet it then, as libvirtd (a vital service).
  add({.pid = 800,
       .comm = "rpc-libvirtd",
       .exe = "/usr/sbin/libvirtd",
       .cmdline = argv({"/usr/sbin/libvirtd", "--daemon"})});
  VmTable vms(tree_.path("proc"));
  auto entries = pass();
  vms.update(entries);
  EXPECT_EQ(vms.byPid(800), nullptr);
  const ProcessInfo* e = nullptr;
  for (const auto& x : entries)
    if (x.pid == 800) e = &x;
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->identity->vital);

  add({.pid = 800,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = fixture("real-nova-i440fx.cmdline")});
  entries = pass();
  e = nullptr;
  for (const auto& x : entries)
    if (x.pid == 800) e = &x;
  ASSERT_NE(e, nullptr);
  // The table followed the exec: a VM, no longer a vital service.
  EXPECT_EQ(e->identity->exe, "/usr/bin/qemu-system-x86_64");
  EXPECT_FALSE(e->identity->vital);
  EXPECT_EQ(e->execs, 1u);
  vms.update(entries);
  const Vm* vm = vms.byPid(800);
  ASSERT_NE(vm, nullptr);
  EXPECT_EQ(vm->cmd->name, "instance-00000105");
  EXPECT_EQ(vms.byUuid("0b0ad1c3-8d0f-4f7b-9f1e-2a3b4c5d6e7f"), vm);
}

// The same (pid, start time) runs another qemu command line after an exec with the same
// comm (a wrapper that re-execs qemu, here a capability probe turned guest): the
// command line is read again, not taken from the cache of that pid and start time.
TEST_F(VmTableTest, CommandLineIsReadAgainAfterAnExec) {
  add({.pid = 950,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = fixture("real-libvirt9-capability-probe.cmdline"),
       .startStack = 0x7ffc0000});
  VmTable vms(tree_.path("proc"));
  vms.update(pass());
  EXPECT_EQ(vms.byPid(950), nullptr);  // a probe: remembered as no VM
  const auto reads = vms.cmdlineReads();

  add({.pid = 950,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = fixture("real-nova-i440fx.cmdline"),
       .startStack = 0x7ffd8000});
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), reads + 1);
  const Vm* vm = vms.byPid(950);
  ASSERT_NE(vm, nullptr);
  EXPECT_EQ(vm->cmd->name, "instance-00000105");
  EXPECT_EQ(vm->execs, 1u);
  // And cached again from then on.
  vms.update(pass());
  EXPECT_EQ(vms.cmdlineReads(), reads + 1);
}

TEST_F(VmTableTest, TwoProcessesClaimingOneUuidAreAmbiguous) {
  // Any user can start a qemu with someone else's -uuid.
  add({.pid = 1000,
       .comm = "qemu-system-x86",
       .exe = "/usr/bin/qemu-system-x86_64",
       .cmdline = argv({"qemu-system-x86_64", "-uuid", "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"})});
  VmTable vms(tree_.path("proc"));
  vms.update(pass());
  ASSERT_NE(vms.byPid(300), nullptr);
  ASSERT_NE(vms.byPid(1000), nullptr);
  EXPECT_EQ(vms.byUuid("5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"), nullptr);
}

TEST_F(VmTableTest, MissingProcRootYieldsNothing) {
  auto entries = pass();
  VmTable vms(tree_.path("nope"));
  vms.update(entries);
  EXPECT_TRUE(vms.vms().empty());
}

TEST_F(VmTableTest, HandBuiltEntriesAndZombie) {
  // Entries need not come from a ProcessTable: no identity means comm decides. A zombie
  // qemu has an empty cmdline and is skipped.
  add({.pid = 1200, .comm = "qemu-system-x86", .cmdline = ""});
  std::vector<ProcessInfo> entries(3);
  entries[0].pid = 300;
  entries[0].startTimeTicks = static_cast<std::uint64_t>(5000 * kHz);
  std::snprintf(entries[0].comm, sizeof entries[0].comm, "qemu-system-x86");
  entries[0].rss = Bytes::mib(10);
  entries[0].swap = Bytes::mib(1);
  entries[0].cpuTicks = 42;
  entries[1] = entries[0];
  entries[1].pid = 1200;
  entries[2] = entries[0];
  entries[2].pid = 1300;  // no /proc entry at all
  VmTable vms(tree_.path("proc"));
  vms.update(entries);
  ASSERT_EQ(pids(vms), (std::vector<int>{300}));
  EXPECT_EQ(vms.vms()[0].memory, Bytes::mib(11));
  EXPECT_EQ(vms.vms()[0].cpuTicks, 42u);
  EXPECT_EQ(vms.vms()[0].index, 0);
  // A start time that disagrees with /proc: the entry is stale, nothing is cached.
  entries[0].startTimeTicks += 1;
  VmTable other(tree_.path("proc"));
  other.update(entries);
  EXPECT_TRUE(other.vms().empty());
}

}  // namespace
}  // namespace ork::sense
