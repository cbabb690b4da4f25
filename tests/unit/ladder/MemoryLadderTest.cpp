// The memory ladder's episodes without root: below soft the largest VM is hibernated
// on the save lane (one at a time, only if its save fits), below hard the (dry-run)
// victim is named, and the episode ends when memory is back.
#include <gtest/gtest.h>

#include <fcntl.h>

#include "support/Harness.h"
#include "unit/ladder/Rig.h"

namespace ork::ladder::testing {
namespace {

constexpr const char* kBig = "11111111-2222-3333-4444-555555555555";
constexpr const char* kSmall = "66666666-7777-8888-9999-aaaaaaaaaaaa";
const Bytes kTotal = Bytes::mib(16384);  // soft 1638 MiB, hard 819 MiB

class MemoryLadderTest : public ::testing::Test {
 protected:
  void build(bool dryRun) {
    rig = std::make_unique<Rig>(dryRun);
    rig->cfg.saveDir = rig->tree.root();
    rig->vm(300, "big", kBig, 200000);
    rig->vm(400, "small", kSmall, 50000);
    rig->process({.pid = 500, .comm = "leaker", .exe = "/usr/bin/leaker", .cmdline = argv({"leaker"}), .rssPages = 100000});
    rig->start(true, false);
    rig->turn();
    rig->libvirtLists({{kBig, "running"}, {kSmall, "running"}});
  }
  std::unique_ptr<Rig> rig;
};

TEST_F(MemoryLadderTest, BelowSoftHibernatesTheLargestVmFirstOneAtATime) {
  build(false);
  rig->setMemory(kTotal, Bytes::mib(1200));
  rig->runFor(Millis{1100}, Millis{50});  // the next sample comes within max_interval_ms
  ASSERT_NE(rig->save, nullptr);
  ASSERT_EQ(rig->save->count(act::VmOp::Save), 1) << rig->log();
  EXPECT_EQ(rig->save->last(act::VmOp::Save)->uuid, kBig);
  auto h = rig->lines("hibernate");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_NE(h[0].find("result=started"), std::string::npos);
  EXPECT_EQ(rig->lines("pressure").size(), 1u);
  rig->runFor(Seconds{2}, Millis{100});
  EXPECT_EQ(rig->save->count(act::VmOp::Save), 1) << "one save at a time";
  rig->save->answer(rig->save->last(act::VmOp::Save)->id, true);
  rig->turn();
  auto done = rig->lines("hibernated");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].find("result=ok"), std::string::npos);
  EXPECT_NE(done[0].find("restore=\"virsh start big\""), std::string::npos) << done[0];
  // Still below soft after the settle time: the next VM.
  rig->runFor(Seconds{3}, Millis{100});
  ASSERT_EQ(rig->save->count(act::VmOp::Save), 2);
  EXPECT_EQ(rig->save->last(act::VmOp::Save)->uuid, kSmall);
  EXPECT_TRUE(rig->lines("kill").empty());
}

TEST_F(MemoryLadderTest, ASaveThatDoesNotFitIsSkippedWithItsReason) {
  build(false);
  rig->cfg.set(config::Key::VmSaveMarginMib, 1 << 30);  // no filesystem has that much free
  rig->setMemory(kTotal, Bytes::mib(1200));
  rig->runFor(Millis{1100}, Millis{50});
  EXPECT_TRUE(rig->save == nullptr || rig->save->count(act::VmOp::Save) == 0);
  auto skipped = rig->lines("hibernate_skipped");
  ASSERT_EQ(skipped.size(), 2u) << rig->log();
  EXPECT_NE(skipped[0].find("vm=\"big\""), std::string::npos);
  EXPECT_NE(skipped[0].find("reason=no_room_for_save"), std::string::npos);
  EXPECT_NE(skipped[1].find("vm=\"small\""), std::string::npos);
  rig->runFor(Seconds{2}, Millis{100});
  EXPECT_EQ(rig->lines("hibernate_skipped").size(), 2u) << "not retried every sample";
}

TEST_F(MemoryLadderTest, WithoutLibvirtHibernationIsSkippedOncePerEpisode) {
  rig = std::make_unique<Rig>(false);
  rig->helperMissing = true;
  rig->vm(300, "big", kBig, 200000);
  rig->start(true, false);
  rig->turn();
  rig->setMemory(kTotal, Bytes::mib(1200));
  rig->runFor(Seconds{2}, Millis{50});
  auto skipped = rig->lines("hibernate_skipped");
  ASSERT_EQ(skipped.size(), 1u) << rig->log();
  EXPECT_NE(skipped[0].find("reason=libvirt_unavailable"), std::string::npos);
  rig->setMemory(kTotal, Bytes::mib(8000));
  rig->runFor(Seconds{2}, Millis{100});
  EXPECT_EQ(rig->lines("recovered").size(), 1u);
  rig->setMemory(kTotal, Bytes::mib(1200));
  rig->runFor(Seconds{2}, Millis{50});
  EXPECT_EQ(rig->lines("hibernate_skipped").size(), 2u);
}

TEST_F(MemoryLadderTest, BelowHardNamesTheVictimInDryRunAndRecovers) {
  build(true);
  rig->setMemory(kTotal, Bytes::mib(1200));
  rig->runFor(Millis{1100}, Millis{50});
  ASSERT_EQ(rig->lines("hibernate").size(), 1u) << rig->log();
  EXPECT_NE(rig->lines("hibernate")[0].find("result=dry_run"), std::string::npos);
  rig->setMemory(kTotal, Bytes::mib(600));
  rig->runFor(Millis{200}, Millis{10});
  EXPECT_TRUE(rig->lines("kill").empty()) << "a dry run wrote event=kill";
  auto kills = rig->lines("would_kill");
  ASSERT_EQ(kills.size(), 1u) << rig->log();
  EXPECT_NE(kills[0].find("dry_run=1"), std::string::npos);
  EXPECT_NE(kills[0].find("result=dry_run"), std::string::npos);
  auto pressure = rig->lines("pressure");
  ASSERT_EQ(pressure.size(), 2u);
  EXPECT_NE(pressure[1].find("level=hard"), std::string::npos);
  rig->setMemory(kTotal, Bytes::mib(8000));
  rig->runFor(Seconds{1}, Millis{100});
  auto rec = rig->lines("recovered");
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_NE(rec[0].find("kills=1"), std::string::npos);
  EXPECT_EQ(rig->memoryLadder->longestGap() <= Seconds{1}, true);
}

// A victim whose owner ORK could not read (a garbled status) is not said to be root:
// the kill line says uid=unknown and names no user.
TEST_F(MemoryLadderTest, AVictimWithAnUnknownOwnerIsSaidUnknown) {
  rig = std::make_unique<Rig>(/*dryRun=*/true);
  rig->tree.write("passwd", "root:x:0:0:root:/root:/bin/sh\n");
  rig->users.load(rig->tree.path("passwd"));
  rig->process({.pid = 500, .comm = "leaker", .exe = "/usr/bin/leaker", .cmdline = argv({"leaker"}), .rssPages = 900000});
  rig->tree.write("proc/500/status", "Name:\tleaker\nUid:\t?\nVmSize:\t 900000 kB\n");
  rig->start(true, false);
  rig->turn();
  rig->setMemory(kTotal, Bytes::mib(600));
  rig->runFor(Millis{1100}, Millis{10});
  auto kills = rig->lines("would_kill");  // a dry run
  ASSERT_EQ(kills.size(), 1u) << rig->log();
  EXPECT_NE(kills[0].find("pid=500 "), std::string::npos) << kills[0];
  EXPECT_NE(kills[0].find(" user=\"\" uid=unknown "), std::string::npos) << kills[0];
}

// A victim set to oom_score_adj -1000 after the table's last look is found protected
// at the re-check before the signal: it is spared and the next best chosen at once.
TEST_F(MemoryLadderTest, AVictimProtectedAtTheLastMomentIsSparedAndAnotherChosen) {
  rig = std::make_unique<Rig>(/*dryRun=*/true);
  rig->cfg.set(config::Key::ScanRecheckTop, 1);  // only the best is re-read before the choice
  rig->process({.pid = 400, .comm = "biggest", .exe = "/usr/bin/biggest", .cmdline = argv({"biggest"}), .rssPages = 990000});
  rig->process({.pid = 500, .comm = "leaker", .exe = "/usr/bin/leaker", .cmdline = argv({"leaker"}), .rssPages = 900000});
  rig->process({.pid = 600, .comm = "other", .exe = "/usr/bin/other", .cmdline = argv({"other"}), .rssPages = 300000});
  rig->start(true, false);
  rig->turn();
  rig->tree.remove("proc/400");  // the best exits: the second best is chosen without a re-read
  rig->tree.write("proc/500/oom_score_adj", "-1000\n");
  rig->setMemory(kTotal, Bytes::mib(600));
  rig->runFor(Millis{1100}, Millis{10});
  auto spared = rig->lines("spared");
  ASSERT_EQ(spared.size(), 1u) << rig->log();
  EXPECT_NE(spared[0].find("pid=500 "), std::string::npos);
  EXPECT_NE(spared[0].find("result=protected"), std::string::npos);
  auto kills = rig->lines("would_kill");
  ASSERT_EQ(kills.size(), 1u) << rig->log();
  EXPECT_NE(kills[0].find("pid=600 "), std::string::npos) << kills[0];
}

// The start line tells the truth: a PSI trigger the loop could not watch wakes nothing,
// so it is not "wakeup=psi", and the reason is said. The trigger is the kernel's own
// (a fixture's pressure file is never written: the next test).
TEST_F(MemoryLadderTest, APsiTriggerTheLoopCannotWatchIsNotAWakeup) {
  const int probe = ::open("/proc/pressure/memory", O_RDWR | O_CLOEXEC);
  ORK_REQUIRE(probe >= 0, "needs a writable /proc/pressure/memory (root, a kernel with PSI)");
  ::close(probe);
  for (bool fail : {false, true}) {
    Rig r;
    r.tree.mkdir("proc/pressure");
    r.tree.symlink("/proc/pressure/memory", "proc/pressure/memory");
    r.poller.fail = fail;
    r.start(true, false);
    journal::Line start("start");
    r.memoryLadder->describe(start);
    r.memoryLadder->announce(r.clock.now());
    std::string text(start.text());
    if (!fail) {
      EXPECT_NE(text.find("wakeup=psi"), std::string::npos) << text;
      // Without CAP_SYS_RESOURCE the kernel takes a 2 s window only, which is said.
      for (const auto& w : r.lines("warning")) EXPECT_NE(w.find("what=psi_window_refused"), std::string::npos) << w;
    } else {
      EXPECT_NE(text.find("wakeup=none"), std::string::npos) << text;
      auto w = r.lines("warning");
      ASSERT_EQ(w.size(), 1u) << r.log();
      EXPECT_NE(w[0].find("what=no_pressure_wakeup"), std::string::npos);
      EXPECT_NE(w[0].find("epoll_ctl"), std::string::npos) << w[0];
    }
  }
}

// A fixture tree (--proc DIR) is read-only to ORK: its pressure file is not a kernel
// file, so no trigger is written into it, and the start line does not claim
// wakeup=psi; the warning says why.
TEST_F(MemoryLadderTest, AFixturePressureFileIsNeverWritten) {
  Rig r;
  const std::string before = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
  r.tree.write("proc/pressure/memory", before);
  r.start(true, false);
  journal::Line start("start");
  r.memoryLadder->describe(start);
  r.memoryLadder->announce(r.clock.now());
  std::string text(start.text());
  EXPECT_NE(text.find("wakeup=none"), std::string::npos) << text;
  EXPECT_EQ(text.find("psi_window_ms"), std::string::npos) << text;
  auto w = r.lines("warning");
  ASSERT_EQ(w.size(), 1u) << r.log();
  EXPECT_NE(w[0].find("what=no_pressure_wakeup"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("not a kernel file"), std::string::npos) << w[0];
  EXPECT_EQ(r.read(r.tree.path("proc/pressure/memory")), before);
}

// The periodic state line's memory fields: the level, the memory, the loop's worst gap.
TEST_F(MemoryLadderTest, StateSaysTheLevelAndTheMemory) {
  build(false);
  rig->setMemory(kTotal, Bytes::mib(8000));
  rig->runFor(Millis{1100}, Millis{100});
  journal::Line l("state");
  rig->memoryLadder->state(l);
  const std::string text(l.text());
  EXPECT_EQ(text.rfind("event=state memory=ok avail_kib=8192000 total_kib=16777216 longest_sample_gap_us=", 0), 0u)
      << text;
  rig->setMemory(kTotal, Bytes::mib(1200));
  rig->runFor(Millis{1100}, Millis{50});
  journal::Line soft("state");
  rig->memoryLadder->state(soft);
  EXPECT_NE(std::string(soft.text()).find("memory=soft avail_kib=1228800 "), std::string::npos) << soft.text();
}

}  // namespace
}  // namespace ork::ladder::testing
