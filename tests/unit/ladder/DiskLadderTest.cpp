// The disk ladder's episodes with the rig: a fixture /proc (writers holding files of
// the fixture tree open for writing, their /proc/PID/io), statvfs answered by a fake
// space source, kills by a fake killer, the VM fleet's fake lanes. No root.
#include "ork/ladder/DiskLadder.h"
#include "unit/ladder/Rig.h"

namespace ork::ladder::testing {
namespace {

constexpr const char* kMount = "/srv/data";
constexpr const char* kUuid = "6f1e2a3b-0000-4000-8000-00000000000a";
const Bytes kTotal = Bytes::gib(1);  // soft 20 % = 204.8 MiB, hard 10 % = 102.4 MiB

// Turns the loop until the filesystem was sampled below soft and the writer scan that
// followed (the baseline of the rates) is done.
void untilBaseline(Rig& rig) {
  for (int i = 0; i < 50 && (rig.lines("disk_pressure").empty() || rig.diskLadder->busy()); ++i)
    rig.runFor(Millis{100});
  rig.runFor(Millis{100});
  ASSERT_FALSE(rig.lines("disk_pressure").empty()) << rig.log();
}

// pid writes 20 MiB/s and the free space falls with it from 110 MiB (below hard from
// the fourth turn on), one 100 ms turn at a time, until done() or 3 s.
template <class F>
void fillUntil(Rig& rig, int pid, F done) {
  for (int i = 1; i <= 30 && !done(); ++i) {
    rig.wrote(pid, static_cast<std::uint64_t>(i) * (2ull << 20));
    rig.setDisk(kMount, kTotal, Bytes::mib(110 - 2 * i));
    rig.runFor(Millis{100});
  }
}

std::unique_ptr<Rig> diskRig(bool dryRun) {
  auto rig = std::make_unique<Rig>(dryRun);
  rig->cfg.set(config::Key::DiskIntervalS, 1);
  rig->cfg.disk.all.softPercent = 20;
  rig->cfg.disk.all.hardPercent = 10;
  rig->filesystem(kMount, "data");
  rig->cfg.disk.clean = {rig->tree.path("data/log")};
  rig->setDisk(kMount, kTotal, Bytes::mib(500));
  return rig;
}

TEST(DiskLadderRig, BelowSoftCleansOnceInDryRunOnlySaysAndRecovers) {
  auto rig = diskRig(/*dryRun=*/true);
  rig->tree.write("data/log/app.log.1", std::string(64 * 1024, 'l'));
  rig->start(false, false, true);
  rig->runFor(Millis{1500});
  ASSERT_EQ(rig->diskLadder->filesystems().size(), 1u);
  EXPECT_TRUE(rig->diskLadder->filesystems()[0].sampled);
  EXPECT_TRUE(rig->lines("disk_pressure").empty()) << rig->log();

  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  rig->runFor(Millis{1300});
  auto pressure = rig->lines("disk_pressure");
  ASSERT_EQ(pressure.size(), 1u) << rig->log();
  EXPECT_NE(pressure[0].find("reason=disk_below_soft"), std::string::npos) << pressure[0];
  auto cleans = rig->lines("disk_clean");
  ASSERT_EQ(cleans.size(), 1u) << "one request, one line per file\n" << rig->log();
  EXPECT_NE(cleans[0].find("action=would_delete"), std::string::npos) << cleans[0];
  EXPECT_NE(cleans[0].find("dry_run=1"), std::string::npos) << cleans[0];
  EXPECT_EQ(Rig::read(rig->tree.path("data/log/app.log.1")).size(), 64u * 1024)
      << "dry-run only says";

  rig->setDisk(kMount, kTotal, Bytes::mib(500));
  rig->runFor(Millis{1500});
  auto rec = rig->lines("disk_recovered");
  ASSERT_EQ(rec.size(), 1u) << rig->log();
  EXPECT_NE(rec[0].find("stopped=0"), std::string::npos) << rec[0];
  EXPECT_TRUE(rig->lines("kill").empty());
  EXPECT_TRUE(rig->killed.empty());
}

TEST(DiskLadderRig, BelowSoftCleansForReal) {
  auto rig = diskRig(/*dryRun=*/false);
  rig->tree.write("data/log/app.log.1", std::string(64 * 1024, 'l'));
  rig->start(false, false, true);
  rig->turn();
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  rig->runFor(Millis{1300});
  auto cleans = rig->lines("disk_clean");
  ASSERT_EQ(cleans.size(), 1u) << rig->log();
  EXPECT_NE(cleans[0].find("action=deleted"), std::string::npos) << cleans[0];
  EXPECT_FALSE(std::ifstream(rig->tree.path("data/log/app.log.1")).good());
}

// Below soft the first writer scan is the baseline; below hard and still filling, the
// writer with the most bytes since then is killed, and only it.
TEST(DiskLadderRig, BelowHardWhileFillingTheFastestWriterIsKilled) {
  auto rig = diskRig(/*dryRun=*/false);
  rig->writer(
      {.pid = 700, .comm = "dd", .exe = "/usr/bin/dd", .cmdline = argv({"dd", "of=/srv/data/out"})},
      "data/out", 0);
  rig->writer({.pid = 701, .comm = "logger", .exe = "/usr/bin/logger", .cmdline = argv({"logger"})},
              "data/out2", 0);
  rig->process({.pid = 702, .comm = "idle", .exe = "/usr/bin/idle", .cmdline = argv({"idle"})});
  rig->start(false, false, true);
  rig->turn();
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  untilBaseline(*rig);
  EXPECT_TRUE(rig->killed.empty()) << "below soft: only the baseline";
  // dd writes 20 MiB/s and the free space falls with it; the logger writes 1 MiB once.
  rig->wrote(701, 1ull << 20);
  fillUntil(*rig, 700, [&] { return !rig->killed.empty(); });
  rig->runFor(Millis{300});
  ASSERT_EQ(rig->killed.size(), 1u) << rig->log();
  EXPECT_EQ(rig->killed[0], std::vector<int>{700}) << "a session leader: alone";
  auto kills = rig->lines("kill");
  ASSERT_EQ(kills.size(), 1u) << rig->log();
  EXPECT_NE(kills[0].find("pid=700 "), std::string::npos) << kills[0];
  EXPECT_NE(kills[0].find("reason=disk_below_hard"), std::string::npos) << kills[0];
  EXPECT_NE(kills[0].find("result=ok"), std::string::npos) << kills[0];
  EXPECT_NE(kills[0].find("mount=\"/srv/data\""), std::string::npos) << kills[0];
}

// A worker of a pool (its parent runs the same program) is killed with the pool: the
// master would start another worker.
TEST(DiskLadderRig, AWriterInAPoolIsKilledWithThePool) {
  auto rig = diskRig(/*dryRun=*/false);
  rig->process({.pid = 800,
                .comm = "uploader",
                .exe = "/usr/bin/uploader",
                .cmdline = argv({"uploader"}),
                .session = 790});
  rig->writer({.pid = 801,
               .comm = "uploader",
               .exe = "/usr/bin/uploader",
               .cmdline = argv({"uploader"}),
               .ppid = 800,
               .session = 790},
              "data/u1", 0);
  rig->process({.pid = 802,
                .comm = "uploader",
                .exe = "/usr/bin/uploader",
                .cmdline = argv({"uploader"}),
                .ppid = 800,
                .session = 790});
  rig->process({.pid = 803,
                .comm = "gzip",
                .exe = "/usr/bin/gzip",
                .cmdline = argv({"gzip"}),
                .ppid = 800,
                .session = 790});
  rig->start(false, false, true);
  rig->turn();
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  untilBaseline(*rig);
  fillUntil(*rig, 801, [&] { return !rig->killed.empty(); });
  ASSERT_EQ(rig->killed.size(), 1u) << rig->log();
  EXPECT_EQ(rig->killed[0], (std::vector<int>{800, 801, 802}))
      << "the pool's root first; gzip is another program";
  auto kills = rig->lines("kill");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_NE(kills[0].find("pid=800 "), std::string::npos) << kills[0];
  EXPECT_NE(kills[0].find("group=pool members=3 writer=801 "), std::string::npos) << kills[0];
}

// Writers started together by one shell (`for i in 1 2 3; do dd ... & done`) are one
// burst (the writer first, then its siblings); the shell is not in it.
TEST(DiskLadderRig, ABurstOfWritersIsKilledTogether) {
  auto rig = diskRig(/*dryRun=*/false);
  rig->process({.pid = 900,
                .comm = "bash",
                .exe = "/usr/bin/bash",
                .cmdline = argv({"bash", "fill.sh"}),
                .session = 890});
  for (int pid : {901, 902, 903})
    rig->writer({.pid = pid,
                 .comm = "dd",
                 .exe = "/usr/bin/dd",
                 .cmdline = argv({"dd"}),
                 .ppid = 900,
                 .session = 890},
                "data/d" + std::to_string(pid), 0);
  rig->start(false, false, true);
  rig->turn();
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  untilBaseline(*rig);
  for (int i = 1; i <= 30 && rig->killed.empty(); ++i) {
    rig->wrote(901, static_cast<std::uint64_t>(i) * (2ull << 20));
    rig->wrote(902, static_cast<std::uint64_t>(i) * (1ull << 20));
    rig->wrote(903, static_cast<std::uint64_t>(i) * (1ull << 20));
    rig->setDisk(kMount, kTotal, Bytes::mib(110 - 4 * i));
    rig->runFor(Millis{100});
  }
  ASSERT_EQ(rig->killed.size(), 1u) << rig->log();
  EXPECT_EQ(rig->killed[0], (std::vector<int>{901, 902, 903}));
  auto kills = rig->lines("kill");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_NE(kills[0].find("group=burst members=3 "), std::string::npos) << kills[0];
}

TEST(DiskLadderRig, BelowHardInDryRunTheWriterIsOnlyNamed) {
  auto rig = diskRig(/*dryRun=*/true);
  rig->writer({.pid = 700, .comm = "dd", .exe = "/usr/bin/dd", .cmdline = argv({"dd"})}, "data/out",
              0);
  rig->start(false, false, true);
  rig->turn();
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  untilBaseline(*rig);
  fillUntil(*rig, 700, [&] { return !rig->lines("would_kill").empty(); });
  EXPECT_TRUE(rig->killed.empty());
  EXPECT_TRUE(rig->lines("kill").empty()) << "a dry run's decision is would_kill, never kill";
  auto kills = rig->lines("would_kill");
  ASSERT_GE(kills.size(), 1u) << rig->log();
  EXPECT_NE(kills[0].find("result=dry_run"), std::string::npos) << kills[0];
}

// Below hard but no longer filling (the space is stable): nobody is stopped; step 1
// still asks for cleaning.
TEST(DiskLadderRig, BelowHardButNotFillingNobodyIsKilled) {
  auto rig = diskRig(/*dryRun=*/false);
  rig->writer({.pid = 700, .comm = "dd", .exe = "/usr/bin/dd", .cmdline = argv({"dd"})}, "data/out",
              0);
  rig->setDisk(kMount, kTotal, Bytes::mib(90));
  rig->start(false, false, true);
  for (int i = 1; i <= 4; ++i) {
    rig->wrote(700, static_cast<std::uint64_t>(i)
                        << 20);  // it writes, but frees as much (rewrites in place)
    rig->runFor(Millis{1000});
  }
  EXPECT_TRUE(rig->killed.empty()) << rig->log();
  EXPECT_TRUE(rig->lines("kill").empty()) << rig->log();
  auto pressure = rig->lines("disk_pressure");
  ASSERT_EQ(pressure.size(), 1u) << rig->log();
  EXPECT_NE(pressure[0].find("reason=disk_below_hard"), std::string::npos);
}

// A VM whose image is on the filesystem and that writes fastest is suspended through
// the fleet (the control lane), not killed, and resumed once the filesystem is back
// above soft.
TEST(DiskLadderRig, AVmWritingThereIsSuspendedAndResumedAboveSoft) {
  auto rig = diskRig(/*dryRun=*/false);
  rig->vm(300, "alpha", kUuid, 50000);
  rig->writesTo(300, "data/alpha.qcow2", 0);
  rig->start(false, false, true);
  rig->turn();
  rig->libvirtLists({{kUuid, "running"}});
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  untilBaseline(*rig);
  fillUntil(*rig, 300, [&] { return rig->control->last(act::VmOp::Suspend) != nullptr; });
  EXPECT_TRUE(rig->killed.empty()) << "a VM is never killed for a disk";
  const auto* sus = rig->control->last(act::VmOp::Suspend);
  ASSERT_NE(sus, nullptr) << rig->log();
  EXPECT_EQ(sus->uuid, kUuid);
  rig->control->answer(sus->id, true);
  rig->turn();
  auto stops = rig->lines("disk_stop");
  ASSERT_EQ(stops.size(), 1u) << rig->log();
  EXPECT_NE(stops[0].find("action=suspend"), std::string::npos) << stops[0];
  EXPECT_EQ(rig->control->last(act::VmOp::Resume), nullptr);

  rig->setDisk(kMount, kTotal, Bytes::mib(500));
  rig->runFor(Millis{1500});
  const auto* res = rig->control->last(act::VmOp::Resume);
  ASSERT_NE(res, nullptr) << rig->log();
  EXPECT_EQ(res->uuid, kUuid);
  EXPECT_EQ(rig->lines("disk_recovered").size(), 1u) << rig->log();
}

// SIGHUP: the watch list and the thresholds are read again.
TEST(DiskLadderRig, ReloadReadsTheWatchListAndThresholdsAgain) {
  auto rig = diskRig(/*dryRun=*/true);
  rig->setDisk(kMount, kTotal, Bytes::mib(300));
  rig->start(false, false, true);
  rig->runFor(Millis{1500});
  EXPECT_TRUE(rig->lines("disk_pressure").empty());
  rig->cfg.disk.watch = {"/srv/elsewhere"};
  rig->diskLadder->reconfigure(rig->clock.now());
  EXPECT_TRUE(rig->diskLadder->filesystems().empty());
  rig->cfg.disk.watch = {kMount};
  rig->cfg.disk.all.softPercent = 40;  // 409.6 MiB: 300 MiB free is now below soft
  rig->diskLadder->reconfigure(rig->clock.now());
  ASSERT_EQ(rig->diskLadder->filesystems().size(), 1u);
  rig->runFor(Millis{1500});
  auto pressure = rig->lines("disk_pressure");
  ASSERT_EQ(pressure.size(), 1u) << rig->log();
  EXPECT_NE(pressure[0].find("soft_kib=419430"), std::string::npos) << pressure[0];
  rig->cfg.set(config::Key::DiskEnabled, 0);
  rig->diskLadder->reconfigure(rig->clock.now());
  EXPECT_NE(rig->diskLadder->report().lines[0].find("disabled"), std::string::npos);
}

// A mount whose statvfs never answers: skipped after the deadline, said once, a new
// source asked for the others.
TEST(DiskLadderRig, AHungMountIsSaidOnceAndTheOthersGoOn) {
  auto rig = diskRig(/*dryRun=*/true);
  rig->mountinfo += "51 31 0:999 / /mnt/hung rw,relatime - nfs4 server:/x rw\n";
  rig->tree.write("proc/self/mountinfo", rig->mountinfo);
  rig->cfg.disk.watch = {"/mnt/hung", kMount};
  rig->cfg.set(config::Key::DiskProbeDeadlineMs, 500);
  rig->hung.insert("/mnt/hung");
  rig->start(false, false, true);
  rig->runFor(Millis{3000});
  auto hung = rig->lines("disk_unresponsive");
  ASSERT_EQ(hung.size(), 1u) << rig->log();
  EXPECT_NE(hung[0].find("mount=\"/mnt/hung\""), std::string::npos) << hung[0];
  EXPECT_EQ(rig->spacesMade, 2) << "one replacement for the stuck worker";
  rig->setDisk(kMount, kTotal, Bytes::mib(150));
  rig->runFor(Millis{1500});
  EXPECT_EQ(rig->lines("disk_pressure").size(), 1u) << rig->log();
}

}  // namespace
}  // namespace ork::ladder::testing
