// The CPU ladder's episodes without root: a spike is left alone; sustained overload
// freezes the VM using the most CPU (through the fake libvirt lane) and resumes it
// after the cool-down; without a VM, the tree creating the load is the (dry-run)
// victim; attribution comes from the table's passes, never from a pass of its own.
#include <gtest/gtest.h>

#include "unit/ladder/Rig.h"

namespace ork::ladder::testing {
namespace {

constexpr const char* kUuid = "11111111-2222-3333-4444-555555555555";

class CpuLadderTest : public ::testing::Test {
 protected:
  // One second of host time: the CPUs busy (or not) and the burners' ticks.
  void second(bool overloaded) {
    busy_ += overloaded ? 195 : 20;
    idle_ += overloaded ? 5 : 180;
    rig->setCpu(busy_, idle_, 2, overloaded ? 5 : 1);
    for (auto& b : burners_) {
      if (overloaded) b.utime += 100;
      rig->process(b);
    }
    rig->runFor(Seconds{1}, Millis{250});
  }
  void burner(ProcSpec p) {
    burners_.push_back(p);
    rig->process(p);
  }
  std::unique_ptr<Rig> rig = std::make_unique<Rig>();
  std::vector<ProcSpec> burners_;
  std::uint64_t busy_ = 0, idle_ = 1000;
};

TEST_F(CpuLadderTest, SpikeIsLeftAlone) {
  burner({.pid = 500, .comm = "make", .exe = "/usr/bin/make", .cmdline = argv({"make"})});
  rig->start(false, true);
  for (int i = 0; i < 4; ++i) second(true);
  for (int i = 0; i < 20; ++i) second(false);
  EXPECT_TRUE(rig->lines("cpu_overload").empty()) << rig->log();
  EXPECT_TRUE(rig->lines("kill").empty());
}

TEST_F(CpuLadderTest, SustainedOverloadFreezesTheBusiestVmThenThawsAfterCoolDown) {
  rig->vm(300, "alpha", kUuid, 20000);
  rig->vm(400, "idle", "66666666-7777-8888-9999-aaaaaaaaaaaa", 20000);
  burners_.push_back({.pid = 300, .comm = "qemu-system-x86", .exe = "/usr/bin/qemu-system-x86_64",
                      .cmdline = argv({"/usr/bin/qemu-system-x86_64", "-name", "guest=alpha", "-uuid", kUuid, "-m", "1024"}),
                      .rssPages = 20000, .cgroup = "0::/machine/alpha\n"});
  rig->start(false, true);
  rig->turn();
  rig->libvirtLists({{kUuid, "running"}, {"66666666-7777-8888-9999-aaaaaaaaaaaa", "running"}});
  int passesBefore = rig->passes;
  for (int i = 0; i < 12 && rig->lines("cpu_overload").empty(); ++i) second(true);
  auto head = rig->lines("cpu_overload");
  ASSERT_EQ(head.size(), 1u) << rig->log();
  EXPECT_NE(head[0].find("action=freeze"), std::string::npos);
  EXPECT_NE(head[0].find("vms=1"), std::string::npos) << "one VM covers the excess";
  EXPECT_GT(rig->passes, passesBefore) << "the window is measured from the loop's passes";
  const auto* s = rig->control->last(act::VmOp::Suspend);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->uuid, kUuid);
  rig->control->answer(s->id, true);
  rig->turn();
  ASSERT_EQ(rig->lines("freeze").size(), 1u);
  // Calm: the VM is resumed once the host stayed calm for cpu.cool_down_s (60 s).
  for (int i = 0; i < 55; ++i) second(false);
  EXPECT_EQ(rig->control->last(act::VmOp::Resume), nullptr);
  for (int i = 0; i < 10; ++i) second(false);
  const auto* r = rig->control->last(act::VmOp::Resume);
  ASSERT_NE(r, nullptr) << rig->log();
  rig->control->answer(r->id, true);
  rig->turn();
  auto thaw = rig->lines("thaw");
  ASSERT_EQ(thaw.size(), 1u);
  EXPECT_NE(thaw[0].find("reason=cooled_down"), std::string::npos);
  EXPECT_NE(thaw[0].find("next_cool_down_s=60"), std::string::npos);
  EXPECT_TRUE(rig->lines("kill").empty());
}

TEST_F(CpuLadderTest, WithoutVmsTheTreeCreatingTheLoadIsTheVictim) {
  rig = std::make_unique<Rig>(/*dryRun=*/true);
  rig->process({.pid = 500, .comm = "bash", .exe = "/usr/bin/bash", .cmdline = argv({"bash"})});
  burner({.pid = 501, .comm = "burn", .exe = "/usr/bin/burn", .cmdline = argv({"burn"}), .ppid = 500});
  burner({.pid = 502, .comm = "burn", .exe = "/usr/bin/burn", .cmdline = argv({"burn"}), .ppid = 500});
  rig->process({.pid = 600, .comm = "sleeper", .exe = "/usr/bin/sleep", .cmdline = argv({"sleep"})});
  rig->start(false, true);
  for (int i = 0; i < 12 && rig->lines("would_kill").empty(); ++i) second(true);
  EXPECT_TRUE(rig->lines("kill").empty()) << "a dry run wrote event=kill";
  auto kills = rig->lines("would_kill");
  ASSERT_EQ(kills.size(), 1u) << rig->log();
  EXPECT_NE(kills[0].find("pid=500 "), std::string::npos);
  EXPECT_NE(kills[0].find("members=3"), std::string::npos);
  EXPECT_NE(kills[0].find("result=dry_run"), std::string::npos);
  // The next action needs kill_after_s of fresh overload.
  for (int i = 0; i < 5; ++i) second(true);
  EXPECT_EQ(rig->lines("would_kill").size(), 1u);
}

// The periodic state line's CPU fields: nothing before the first second, then how busy
// the CPUs were and how many tasks were runnable; nothing with the CPU ladder off.
TEST_F(CpuLadderTest, StateSaysHowBusy) {
  rig->start(false, true);
  journal::Line none("state");
  rig->cpuLadder->state(none);
  EXPECT_EQ(std::string(none.text()), "event=state");
  second(true);
  journal::Line busy("state");
  rig->cpuLadder->state(busy);
  EXPECT_EQ(std::string(busy.text()).rfind("event=state busy_pct=", 0), 0u) << busy.text();
  EXPECT_NE(std::string(busy.text()).find(" runnable="), std::string::npos) << busy.text();
  rig->cfg.set(config::Key::CpuEnabled, 0);
  journal::Line off("state");
  rig->cpuLadder->state(off);
  EXPECT_EQ(std::string(off.text()), "event=state");
}

}  // namespace
}  // namespace ork::ladder::testing
