// The VM fleet's state machines without root: libvirt replies routed by lane,
// operation, id and UUID; thaws retried with back-off; stop resumes what ORK froze,
// including a suspend still in flight; a cgroup freeze confirmed off the loop; and
// what an earlier run froze is resumed by the next.
#include <gtest/gtest.h>

#include "unit/ladder/Rig.h"

namespace ork::ladder::testing {
namespace {

constexpr const char* kUuidA = "11111111-2222-3333-4444-555555555555";
constexpr const char* kUuidB = "66666666-7777-8888-9999-aaaaaaaaaaaa";

class VmFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rig.vm(300, "alpha", kUuidA, 50000);
    rig.vm(400, "beta", kUuidB, 20000);
    rig.start(/*memory=*/false, /*cpu=*/false);
    rig.turn();  // the first pass finds both VMs and asks libvirt for its domains
  }
  VmState& vm(int pid) {
    for (auto& v : rig.fleet->all())
      if (v.pid == pid) return v;
    ADD_FAILURE() << "no VM " << pid;
    return rig.fleet->all().front();
  }
  void upWithBoth() {
    rig.libvirtLists({{kUuidA, "running"}, {kUuidB, "running"}});
    ASSERT_EQ(rig.fleet->libvirt(), LibvirtState::Up);
  }
  Rig rig;
};

TEST_F(VmFleetTest, FindsVmsAndConnects) {
  ASSERT_EQ(rig.fleet->all().size(), 2u);
  EXPECT_EQ(rig.lines("vm_found").size(), 2u);
  ASSERT_NE(rig.control, nullptr);
  EXPECT_EQ(rig.fleet->libvirt(), LibvirtState::Starting);
  upWithBoth();
  EXPECT_EQ(rig.lines("libvirt_connected").size(), 1u);
  EXPECT_NE(rig.fleet->domainOf(vm(300)), nullptr);
}

// With VMs and nothing to do, the fleet wakes the loop about once a second, not on
// every turn (a past nextDue() would make the loop spin).
TEST_F(VmFleetTest, IdleFleetDoesNotSpinTheLoop) {
  upWithBoth();
  for (int i = 0; i < 30; ++i) {
    rig.clock.advance(Millis{100});
    rig.turn();
    EXPECT_GT(rig.fleet->nextDue(), rig.clock.now()) << "turn " << i;
  }
  Rig lonely;
  lonely.helperMissing = true;
  lonely.vm(300, "alpha", kUuidA, 50000);
  lonely.start(false, false);
  for (int i = 0; i < 30; ++i) {
    lonely.clock.advance(Millis{100});
    lonely.turn();
    EXPECT_GT(lonely.fleet->nextDue(), lonely.clock.now()) << "turn " << i;
  }
  EXPECT_EQ(lonely.fleet->libvirt(), LibvirtState::Missing);
}

TEST_F(VmFleetTest, ListFailureBacksOffAndSaysSoOnce) {
  const auto* l = rig.control->last(act::VmOp::List);
  rig.control->answer(l->id, false, act::kVmNoConnection, "Failed to connect socket");
  rig.turn();
  EXPECT_EQ(rig.fleet->libvirt(), LibvirtState::Down);
  int lists = rig.control->count(act::VmOp::List);
  rig.runFor(Millis{900});
  EXPECT_EQ(rig.control->count(act::VmOp::List), lists) << "retried before the back-off";
  rig.runFor(Millis{300});
  ASSERT_EQ(rig.control->count(act::VmOp::List), lists + 1);
  rig.control->answer(rig.control->last(act::VmOp::List)->id, false, act::kVmNoConnection, "still down");
  rig.turn();
  EXPECT_EQ(rig.lines("warning").size(), 1u) << rig.log();
}

TEST_F(VmFleetTest, RepliesAreMatchedByOperationIdAndUuid) {
  upWithBoth();
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  const auto* s = rig.control->last(act::VmOp::Suspend);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->uuid, kUuidA);
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::Pending);
  // A resume reply with the suspend's id, and a suspend reply with that id for the
  // other VM, are not it.
  const std::uint64_t id = s->id;
  rig.control->sent.push_back({id, act::VmOp::Resume, kUuidA, rig.clock.now() + Seconds{5}});
  rig.control->sent.push_back({id, act::VmOp::Suspend, kUuidB, rig.clock.now() + Seconds{5}});
  rig.control->answer(id, true);  // answers the three entries with that id
  rig.turn();
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::Libvirt);
  EXPECT_EQ(vm(400).freeze, VmState::Freeze::None);
  ASSERT_EQ(rig.lines("freeze").size(), 1u);
  EXPECT_NE(rig.lines("freeze")[0].find("method=libvirt"), std::string::npos);
  EXPECT_NE(rig.lines("freeze")[0].find("result=ok"), std::string::npos);
}

TEST_F(VmFleetTest, SuspendRefusedFallsBackToTheCgroupFreezerConfirmedLater) {
  upWithBoth();
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  rig.control->answer(rig.control->last(act::VmOp::Suspend)->id, false, 1, "internal error");
  rig.turn();
  // Requested through cgroup.freeze, not confirmed yet: nothing waited for.
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::Freezing);
  EXPECT_EQ(rig.freezeRequest("alpha"), "1");
  EXPECT_TRUE(rig.lines("freeze").empty());
  rig.clock.advance(Millis{5});
  rig.kernelFreezes("alpha", true);
  rig.turn();
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::CgroupV2);
  ASSERT_EQ(rig.lines("freeze").size(), 1u);
  EXPECT_NE(rig.lines("freeze")[0].find("method=cgroup_v2"), std::string::npos);
  EXPECT_NE(rig.lines("freeze")[0].find("libvirt_error=\"internal error\""), std::string::npos) << rig.log();
}

TEST_F(VmFleetTest, CgroupFreezeNotConfirmedIsUndone) {
  rig.helperMissing = true;  // no libvirt at all
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::Freezing);
  rig.runFor(Millis{1100}, Millis{10});
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::None);
  EXPECT_EQ(rig.freezeRequest("alpha"), "0") << "a freeze not confirmed must be undone";
  ASSERT_EQ(rig.lines("freeze").size(), 1u);
  EXPECT_NE(rig.lines("freeze")[0].find("result=failed"), std::string::npos);
}

TEST_F(VmFleetTest, StrangerInTheCgroupIsNeverLeftFrozen) {
  rig.helperMissing = true;
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  rig.tree.write("cg2/machine/alpha/cgroup.procs", "300\n777\n");  // joined meanwhile
  rig.kernelFreezes("alpha", true);
  rig.clock.advance(Millis{5});
  rig.turn();
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::None);
  EXPECT_EQ(rig.freezeRequest("alpha"), "0");
  EXPECT_NE(rig.lines("freeze")[0].find("777"), std::string::npos) << rig.log();
}

TEST_F(VmFleetTest, FailedThawIsRetriedWithBackoff) {
  upWithBoth();
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  rig.control->answer(rig.control->last(act::VmOp::Suspend)->id, true);
  rig.turn();
  rig.fleet->thaw(vm(300), Reason::CooledDown, rig.clock.now());
  rig.control->answer(rig.control->last(act::VmOp::Resume)->id, false, 1, "resume failed");
  rig.turn();
  EXPECT_TRUE(vm(300).isFrozen());
  EXPECT_NE(rig.lines("thaw").back().find("retry_s=5"), std::string::npos) << rig.log();
  EXPECT_EQ(vm(300).thawRetryAt, rig.clock.now() + Seconds{5});
  rig.clock.advance(Seconds{5});
  rig.fleet->thaw(vm(300), Reason::CooledDown, rig.clock.now());
  rig.control->answer(rig.control->last(act::VmOp::Resume)->id, false, 1, "resume failed");
  rig.turn();
  EXPECT_NE(rig.lines("thaw").back().find("retry_s=10"), std::string::npos);
  // Resumed by the operator meanwhile: libvirt says not paused, and that is thawed.
  rig.clock.advance(Seconds{10});
  rig.fleet->thaw(vm(300), Reason::CooledDown, rig.clock.now());
  rig.control->answer(rig.control->last(act::VmOp::Resume)->id, false, 55, "domain is not paused");
  rig.turn();
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::None);
  EXPECT_NE(rig.lines("thaw").back().find("result=not_paused"), std::string::npos);
}

TEST_F(VmFleetTest, StopResumesFrozenAndInFlight) {
  upWithBoth();
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  rig.control->answer(rig.control->last(act::VmOp::Suspend)->id, true);
  rig.turn();
  ASSERT_TRUE(rig.fleet->freeze(vm(400), Reason::CpuOverload, rig.clock.now()));  // in flight
  std::uint64_t inflight = rig.control->last(act::VmOp::Suspend)->id;
  rig.fleet->stop(rig.clock.now());
  EXPECT_FALSE(rig.fleet->settled());
  const auto* r = rig.control->last(act::VmOp::Resume);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->uuid, kUuidA);
  rig.control->answer(r->id, true);
  rig.control->answer(inflight, true);  // the suspend lands while ORK stops
  rig.turn();
  const auto* r2 = rig.control->last(act::VmOp::Resume);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->uuid, kUuidB) << "a suspend that landed during the stop is resumed";
  rig.control->answer(r2->id, true);
  rig.turn();
  EXPECT_TRUE(rig.fleet->settled());
  EXPECT_EQ(rig.lines("thaw").size(), 2u);
  for (const auto& l : rig.lines("thaw")) EXPECT_NE(l.find("reason=ork_stopping"), std::string::npos);
}

TEST_F(VmFleetTest, DeadlineOfASuspendCountsAsPausedAndIsResumed) {
  upWithBoth();
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  rig.runFor(Seconds{6}, Millis{500});
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::Libvirt);
  EXPECT_NE(rig.lines("freeze").back().find("result=unknown"), std::string::npos);
}

TEST_F(VmFleetTest, FrozenSetOutlivesOrkAndIsThawedByTheNextRun) {
  rig.helperMissing = true;
  ASSERT_TRUE(rig.fleet->freeze(vm(300), Reason::CpuOverload, rig.clock.now()));
  rig.kernelFreezes("alpha", true);
  rig.clock.advance(Millis{5});
  rig.turn();
  ASSERT_EQ(vm(300).freeze, VmState::Freeze::CgroupV2);
  std::string state = Rig::read(rig.stateDir + "/frozen-vms");
  EXPECT_NE(state.find("cgroup_v2 300 "), std::string::npos) << state;
  EXPECT_NE(state.find(rig.tree.path("cg2/machine/alpha")), std::string::npos);

  // ORK dies (no stop). The next run finds the record and thaws that VM.
  rig.fleet.reset();
  rig.parts.clear();
  rig.control = rig.save = nullptr;
  rig.start(false, false);
  rig.turn();
  EXPECT_EQ(rig.lines("frozen_state").size(), 1u) << rig.log();
  rig.clock.advance(Millis{5});
  rig.turn();
  EXPECT_EQ(rig.freezeRequest("alpha"), "0");
  rig.kernelFreezes("alpha", false);
  rig.clock.advance(Millis{5});
  rig.turn();
  auto thaws = rig.lines("thaw");
  ASSERT_FALSE(thaws.empty()) << rig.log();
  EXPECT_NE(thaws.back().find("reason=ork_restarted"), std::string::npos);
  EXPECT_NE(thaws.back().find("result=ok"), std::string::npos);
  EXPECT_EQ(Rig::read(rig.stateDir + "/frozen-vms"), "");
}

TEST_F(VmFleetTest, AutoThawOffKeepsWhatAnEarlierRunFroze) {
  rig.tree.write("state/frozen-vms", "cgroup_v2 300 " + std::to_string(5000 * ::sysconf(_SC_CLK_TCK)) + " " + kUuidA +
                                         " " + rig.tree.path("cg2/machine/alpha") + "\n" +
                                         "cgroup_v2 12345 1 - /nowhere\ngarbage line\n");
  rig.cfg.set(config::Key::CpuAutoThaw, 0);
  rig.fleet.reset();
  rig.parts.clear();
  rig.start(false, false);
  rig.turn();
  auto st = rig.lines("frozen_state");
  ASSERT_EQ(st.size(), 1u) << rig.log();
  EXPECT_NE(st[0].find("records=2"), std::string::npos) << st[0];
  EXPECT_NE(st[0].find("still_there=1"), std::string::npos);
  EXPECT_NE(st[0].find("unreadable=1"), std::string::npos);
  EXPECT_NE(st[0].find("action=keep_frozen"), std::string::npos);
  EXPECT_EQ(rig.lines("freeze_kept").size(), 1u);
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::CgroupV2);
  rig.runFor(Seconds{2});
  EXPECT_TRUE(rig.lines("thaw").empty());
}

// Before the memory killer takes a cgroup-frozen VM its thaw is requested; a thaw that
// fails is not forgotten (the VM stays frozen as ORK knows it, and on record).
TEST_F(VmFleetTest, ThawBeforeKillNeverForgetsAFreeze) {
  rig.helperMissing = true;
  for (int pid : {300, 400}) ASSERT_TRUE(rig.fleet->freeze(vm(pid), Reason::CpuOverload, rig.clock.now()));
  rig.kernelFreezes("alpha", true);
  rig.kernelFreezes("beta", true);
  rig.clock.advance(Millis{5});
  rig.turn();
  ASSERT_EQ(vm(300).freeze, VmState::Freeze::CgroupV2);
  ASSERT_EQ(vm(400).freeze, VmState::Freeze::CgroupV2);
  rig.fleet->thawBeforeKill(300, rig.clock.now());
  EXPECT_EQ(vm(300).freeze, VmState::Freeze::None);
  EXPECT_EQ(rig.freezeRequest("alpha"), "0");
  EXPECT_NE(rig.lines("thaw").back().find("result=requested"), std::string::npos);
  rig.tree.remove("cg2/machine/beta/cgroup.freeze");
  rig.fleet->thawBeforeKill(400, rig.clock.now());
  EXPECT_EQ(vm(400).freeze, VmState::Freeze::CgroupV2);
  EXPECT_NE(rig.lines("thaw").back().find("result=failed"), std::string::npos) << rig.log();
  std::string state = Rig::read(rig.stateDir + "/frozen-vms");
  EXPECT_NE(state.find("cgroup_v2 400 "), std::string::npos) << state;
  EXPECT_EQ(state.find(" 300 "), std::string::npos) << state;
}

TEST_F(VmFleetTest, DryRunFreezesNothingAndWritesNoState) {
  Rig dry(/*dryRun=*/true);
  dry.vm(300, "alpha", kUuidA, 50000);
  dry.start(false, false);
  dry.turn();
  ASSERT_EQ(dry.fleet->all().size(), 1u);
  ASSERT_TRUE(dry.fleet->freeze(dry.fleet->all()[0], Reason::CpuOverload, dry.clock.now()));
  EXPECT_EQ(dry.freezeRequest("alpha"), "0");
  EXPECT_TRUE(dry.fleet->all()[0].wouldBeFrozen);
  EXPECT_NE(dry.lines("freeze")[0].find("result=dry_run"), std::string::npos);
  EXPECT_EQ(Rig::read(dry.stateDir + "/frozen-vms"), "");
}

// The start line's vms= and libvirt= say what is true, never the configuration's flags:
// the VMs of the first pass (found before any vm_found line), then libvirt as it is.
std::string described(const Rig& r) {
  journal::Line l("start");
  r.fleet->describe(l);
  return std::string(l.text());
}

TEST(VmFleetDescribeTest, VmsOfTheFirstPassAndLibvirtAsItIs) {
  Rig r;
  r.vm(300, "alpha", kUuidA, 50000);
  r.start(false, false);
  ASSERT_TRUE(r.table->refreshAll(r.clock.now()).ok());
  r.fleet->survey();
  EXPECT_EQ(described(r), "event=start vms=1 libvirt=connecting");
  EXPECT_TRUE(r.lines("vm_found").empty()) << "the survey wrote a line before the start line";
  // Then, as the daemon does after the start line, the parts hear of the pass.
  for (auto* p : r.parts) p->onTablePass(r.clock.now());
  r.turn();
  EXPECT_EQ(r.lines("vm_found").size(), 1u);
  EXPECT_EQ(described(r), "event=start vms=1 libvirt=connecting");
  r.libvirtLists({{kUuidA, "running"}});
  EXPECT_EQ(described(r), "event=start vms=1 libvirt=up");
  // The next list fails: libvirtd went away.
  r.clock.advance(Seconds{31});
  r.turn();
  const auto* list = r.control->last(act::VmOp::List);
  ASSERT_NE(list, nullptr);
  r.control->answer(list->id, false, 1, "cannot connect");
  r.turn();
  EXPECT_EQ(described(r), "event=start vms=1 libvirt=down");
}

TEST(VmFleetDescribeTest, NoVmNoHelperDisabled) {
  Rig none;
  none.process({.pid = 500, .comm = "bash", .exe = "/usr/bin/bash", .cmdline = argv({"bash"})});
  none.start(false, false);
  none.turn();
  EXPECT_EQ(described(none), "event=start vms=0 libvirt=not_needed");

  Rig missing;
  missing.helperMissing = true;
  missing.vm(300, "alpha", kUuidA, 50000);
  missing.start(false, false);
  missing.turn();
  EXPECT_EQ(described(missing), "event=start vms=1 libvirt=not_installed");

  Rig off;
  off.cfg.set(config::Key::VmLibvirt, 0);
  off.vm(300, "alpha", kUuidA, 50000);
  off.start(false, false);
  off.turn();
  EXPECT_EQ(described(off), "event=start vms=1 libvirt=disabled");

  Rig noVms;
  noVms.cfg.set(config::Key::VmEnabled, 0);
  noVms.vm(300, "alpha", kUuidA, 50000);
  noVms.start(false, false);
  noVms.turn();
  EXPECT_EQ(described(noVms), "event=start libvirt=disabled") << "VMs are not looked for: no count";
}

}  // namespace
}  // namespace ork::ladder::testing
