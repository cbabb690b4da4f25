// The disk ladder's parsers and pure policy, on hand-built inputs.
#include <gtest/gtest.h>

#include "ork/config/Config.h"
#include "ork/parse/Mounts.h"
#include "ork/policy/DiskRule.h"
#include "unit/parse/Samples.h"

namespace ork {
namespace {

using policy::CleanFile;
using policy::DiskClass;

TEST(Mountinfo, ParsesRealLinesAndSkipsGarbage) {
  const char* text =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
      "garbage line\n"
      "30 22 0:26 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,size=100k\n"
      "31 22 8:2 / /srv/my\\040cache rw shared:7 - ext4 /dev/sda2 rw\n"
      "32 22 8:3 / /boot ro,relatime shared:8 - ext4 /dev/sda3 ro\n"
      "33 22 0:40 / /proc rw - proc proc rw\n"
      "34 22 8:1 /var/lib/x /mnt/bind rw - ext4 /dev/sda1 rw\n"
      "35 22 8:1 / /nodash rw ext4 /dev/sda1 rw\n";
  auto m = parse::parseMountinfo(text);
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0].mountPoint, "/");
  EXPECT_EQ(m[0].major, 8u);
  EXPECT_EQ(m[0].minor, 1u);
  EXPECT_EQ(m[2].mountPoint, "/srv/my cache");
  EXPECT_TRUE(m[3].readOnly);
  EXPECT_FALSE(m[0].readOnly);
  EXPECT_EQ(m[5].root, "/var/lib/x");
}

// The fuzzer's seeds (tests/fuzz/DiskMountsFuzz.cpp) are what the parsers read.
TEST(Mountinfo, TheRealSamplesParse) {
  auto m = parse::parseMountinfo(parse::samples::kDiskMountinfo);
  ASSERT_EQ(m.size(), 13u);
  EXPECT_EQ(m[4].mountPoint, "/");
  EXPECT_EQ(m[4].major, 254u);
  EXPECT_EQ(m[10].mountPoint, "/srv/logs copy");
  EXPECT_EQ(m[10].root, "/var/log");
  EXPECT_TRUE(m[9].readOnly);
  EXPECT_EQ(m[11].fsType, "fuse.s3fs");
  ASSERT_TRUE(parse::parseProcIo(parse::samples::kProcIo));
  EXPECT_EQ(parse::parseProcIo(parse::samples::kProcIo)->writeBytes, 734003200u);
  EXPECT_EQ(parse::parseFdinfoFlags(parse::samples::kFdinfoWrite), 0100001u);
  EXPECT_EQ(parse::parseFdinfoFlags(parse::samples::kFdinfoAppend), 02102002u);
}

TEST(ProcIo, ParsesAndRejects) {
  auto io = parse::parseProcIo("rchar: 10\nwchar: 2048\nsyscr: 1\nsyscw: 7\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n");
  ASSERT_TRUE(io);
  EXPECT_EQ(io->wchar, 2048u);
  EXPECT_EQ(io->syscw, 7u);
  EXPECT_EQ(io->writeBytes, 4096u);
  EXPECT_FALSE(parse::parseProcIo("rchar: 10\n"));
  EXPECT_FALSE(parse::parseProcIo("write_bytes: -4\n"));
  EXPECT_FALSE(parse::parseProcIo("write_bytes: 999999999999999999999999\n"));
}

TEST(Fdinfo, FlagsAreOctal) {
  auto f = parse::parseFdinfoFlags("pos:\t0\nflags:\t0102001\nmnt_id:\t31\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, 0102001u);
  EXPECT_FALSE(parse::parseFdinfoFlags("pos: 0\n"));
  EXPECT_FALSE(parse::parseFdinfoFlags("flags:\t0189\n"));
}

TEST(DiskClass, Classify) {
  EXPECT_EQ(policy::classify("/", false, ""), DiskClass::Root);
  EXPECT_EQ(policy::classify("/var/log", true, ""), DiskClass::Log);
  EXPECT_EQ(policy::classify("/var/log/openvswitch", true, ""), DiskClass::Log);
  EXPECT_EQ(policy::classify("/var/lib/libvirt/images", true, ""), DiskClass::Images);
  EXPECT_EQ(policy::classify("/var/lib/nova", true, ""), DiskClass::Images);
  EXPECT_EQ(policy::classify("/var/lib/nova/instances/x", true, ""), DiskClass::Images);
  EXPECT_EQ(policy::classify("/srv/cache", false, ""), DiskClass::Cache);
  EXPECT_EQ(policy::classify("/srv/cache", true, ""), DiskClass::Other) << "a spinning disk is not a cache SSD";
  EXPECT_EQ(policy::classify("/srv/cache", std::nullopt, ""), DiskClass::Other);
  EXPECT_EQ(policy::classify("/srv/data", false, ""), DiskClass::Other);
  EXPECT_EQ(policy::classify("/srv/data", true, "cache"), DiskClass::Cache);
  EXPECT_EQ(policy::classify("/var", true, ""), DiskClass::Images) << "/var holds /var/lib/libvirt/images";
}

TEST(DiskSelect, RealWritableDedupedNetworkOnlyListed) {
  const char* text =
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "23 22 0:26 / /run rw - tmpfs tmpfs rw\n"
      "24 22 0:4 / /proc rw - proc proc rw\n"
      "25 22 8:1 /srv /mnt/bind rw - ext4 /dev/sda1 rw\n"
      "26 22 0:50 / /mnt/nfs rw - nfs4 srv:/x rw\n"
      "27 22 0:51 / /mnt/sshfs rw - fuse.sshfs me@h: rw\n"
      "28 22 8:3 / /boot ro - ext4 /dev/sda3 ro\n"
      "29 22 259:1 / /srv/cache rw - xfs /dev/nvme0n1p1 rw\n";
  auto mounts = parse::parseMountinfo(text);
  config::DiskSettings d;
  auto rot = [](unsigned major, unsigned) -> std::optional<bool> { return major != 259; };
  auto w = policy::selectFilesystems(mounts, d, rot);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].mountPoint, "/");
  EXPECT_EQ(w[0].diskClass, DiskClass::Root);
  EXPECT_EQ(w[1].mountPoint, "/run");
  EXPECT_EQ(w[2].mountPoint, "/srv/cache");
  EXPECT_EQ(w[2].diskClass, DiskClass::Cache);
  d.watch = {"/mnt/nfs", "/srv/cache"};
  w = policy::selectFilesystems(mounts, d, rot);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].mountPoint, "/mnt/nfs");
  EXPECT_TRUE(w[0].network);
}

TEST(DiskSelect, HiddenMountAndBindFirst) {
  const char* text =
      "25 22 8:1 /srv /mnt/bind rw - ext4 /dev/sda1 rw\n"
      "22 1 8:1 / /data rw - ext4 /dev/sda1 rw\n"
      "30 1 0:60 / /x rw - tmpfs t rw\n"
      "31 1 0:61 / /x rw - tmpfs t rw\n";
  auto w = policy::selectFilesystems(parse::parseMountinfo(text), {}, nullptr);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].mountPoint, "/data") << "the whole filesystem, not the bind of a subtree";
  EXPECT_EQ(w[1].minor, 61u) << "the later mount on /x hides the earlier";
}

TEST(DiskThresholds, ClassCapsAndOverrides) {
  config::Config cfg;
  // A 1 TiB root: 10 % would be 100 GiB, the cap holds it at 4 GiB.
  auto t = policy::diskThresholds(DiskClass::Root, "/", Bytes::gib(1024), 1000000, cfg);
  EXPECT_EQ(t.softBytes, Bytes::mib(4096));
  EXPECT_EQ(t.hardBytes, Bytes::mib(1024));
  EXPECT_EQ(t.softInodes, 100000u);
  // A small cache: 3 % / 1 %.
  auto c = policy::diskThresholds(DiskClass::Cache, "/srv/cache", Bytes::gib(10), 0, cfg);
  EXPECT_EQ(c.softBytes, Bytes::gib(10).scaled(0.03));
  EXPECT_EQ(c.hardBytes, Bytes::gib(10).scaled(0.01));
  cfg.disk.all.softPercent = 20;
  auto o = policy::diskThresholds(DiskClass::Root, "/", Bytes::gib(1024), 1000, cfg);
  EXPECT_EQ(o.softBytes, Bytes::gib(1024).scaled(0.2)) << "an override has no cap";
  config::DiskMount m;
  m.mountPoint = "/srv/cache";
  m.thresholds.softPercent = 3;
  m.thresholds.hardPercent = 1;
  cfg.disk.mounts.push_back(m);
  auto mm = policy::diskThresholds(DiskClass::Other, "/srv/cache", Bytes::gib(100), 1000, cfg);
  EXPECT_EQ(mm.softBytes, Bytes::gib(100).scaled(0.03));
  EXPECT_EQ(mm.hardBytes, Bytes::gib(100).scaled(0.01));
}

TEST(DiskJudge, LevelsAndNeed) {
  config::Config cfg;
  policy::DiskThresholds t{Bytes::mib(100), Bytes::mib(50), 100, 50};
  policy::FsSample s{Bytes::mib(200), Bytes::gib(1), 1000, 10000, {}};
  EXPECT_EQ(policy::judgeDisk(s, t, cfg).level, policy::DiskLevel::Ok);
  s.available = Bytes::mib(80);
  auto v = policy::judgeDisk(s, t, cfg);
  EXPECT_EQ(v.level, policy::DiskLevel::BelowSoft);
  EXPECT_TRUE(v.bytes);
  // soft + 2 % of 1 GiB - 80 MiB.
  EXPECT_EQ(v.needBytes, Bytes::mib(20) + Bytes::gib(1).scaled(0.02));
  s.freeInodes = 40;
  v = policy::judgeDisk(s, t, cfg);
  EXPECT_EQ(v.level, policy::DiskLevel::BelowHard);
  EXPECT_TRUE(v.hardInodes);
  EXPECT_EQ(v.needInodes, 100u + 200u - 40u);
  s.totalInodes = 0;  // no inode limit
  EXPECT_FALSE(policy::judgeDisk(s, t, cfg).inodes);
}

TEST(DiskFill, RateTimeToFullAndSoonerSample) {
  config::Config cfg;
  policy::DiskThresholds t{Bytes::mib(100), Bytes::mib(50), 0, 0};
  policy::DiskFill f;
  TimePoint t0{};
  f.update({Bytes::mib(500), Bytes::gib(1), 0, 0, t0});
  EXPECT_EQ(policy::nextDiskInterval({Bytes::mib(500), Bytes::gib(1), 0, 0, t0}, t, f, cfg), Seconds{5});
  policy::FsSample s{Bytes::mib(400), Bytes::gib(1), 0, 0, t0 + Seconds{1}};
  f.update(s);  // 100 MiB/s
  EXPECT_TRUE(f.filling(false));
  ASSERT_TRUE(f.secondsToFull(s));
  EXPECT_NEAR(*f.secondsToFull(s), 4.0, 0.01);
  // 300 MiB to soft at 100 MiB/s: half of 3 s.
  EXPECT_EQ(policy::nextDiskInterval(s, t, f, cfg), Millis{1500});
}

TEST(RotatedNames, Recognised) {
  EXPECT_TRUE(policy::isRotatedName("syslog.1", "syslog"));
  EXPECT_TRUE(policy::isRotatedName("syslog.2.gz", "syslog"));
  EXPECT_TRUE(policy::isRotatedName("syslog-20240101", "syslog"));
  EXPECT_TRUE(policy::isRotatedName("syslog-20240101.gz", "syslog"));
  EXPECT_FALSE(policy::isRotatedName("syslog", "syslog"));
  EXPECT_FALSE(policy::isRotatedName("syslogger", "syslog"));
  EXPECT_FALSE(policy::isRotatedName("syslog.conf", "syslog"));
  EXPECT_TRUE(policy::isRotatedName("ovs-vswitchd.log.3.gz", ""));
  EXPECT_TRUE(policy::isRotatedName("ovs-vswitchd.log.1", ""));
  EXPECT_FALSE(policy::isRotatedName("ovs-vswitchd.log", ""));
  EXPECT_FALSE(policy::isRotatedName("ovs-ctl.log", ""));
}

TEST(CleanPlan, RotatedOldestFirstActiveLastOnlyEnough) {
  std::vector<CleanFile> files = {
      {"a.log", Bytes::mib(50), 100, CleanFile::Kind::Active},
      {"a.log.2.gz", Bytes::mib(10), 10, CleanFile::Kind::Rotated},
      {"a.log.1", Bytes::mib(20), 50, CleanFile::Kind::Rotated},
      {"gone.log (deleted)", Bytes::mib(30), 0, CleanFile::Kind::DeletedOpen},
      {"b.log", Bytes::mib(80), 100, CleanFile::Kind::Active},
  };
  auto p = policy::planCleaning(files, Bytes::mib(25), 0);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].index, 1);  // the oldest rotated
  EXPECT_FALSE(p[0].truncate);
  EXPECT_EQ(p[1].index, 2);
  p = policy::planCleaning(files, Bytes::mib(100), 0);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[2].index, 3);  // deleted-but-open, truncated
  EXPECT_TRUE(p[2].truncate);
  EXPECT_EQ(p[3].index, 4);  // the largest active file, truncated
  EXPECT_TRUE(p[3].truncate);
  // Only inodes short: only deletions help.
  p = policy::planCleaning(files, Bytes{0}, 1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].index, 1);
  p = policy::planCleaning(files, Bytes{0}, 5);
  EXPECT_EQ(p.size(), 2u) << "truncations give no inode back";
}

TEST(WriterChoice, FastestEligible) {
  std::vector<policy::WriterCandidate> ws = {
      {10, 1e6, 5, false, true},
      {11, 9e6, 1, false, false},  // protected
      {12, 5e6, 50, true, true},   // a VM
  };
  EXPECT_EQ(policy::chooseWriter(ws, false), 2);
  EXPECT_EQ(policy::chooseWriter(ws, true), 2);
  ws[2].eligible = false;
  EXPECT_EQ(policy::chooseWriter(ws, false), 0);
  ws[0].bytesPerSecond = 0;
  EXPECT_EQ(policy::chooseWriter(ws, false), -1);
}

TEST(DiskConfig, TheIssueExampleParses) {
  std::vector<config::ConfigError> errors;
  auto cfg = config::Config::parse(R"([disk]
enabled = true
watch = ["/srv/cache"]
soft_percent = 10
hard_percent = 5
inodes_soft_percent = 10
inodes_hard_percent = 5
clean = ["/var/log/openvswitch", "/var/log/syslog", "/opt/jumpscale7/var/log"]

[disk.mount."/srv/cache"]
soft_percent = 3
hard_percent = 1
)", "t.toml", errors);
  ASSERT_TRUE(errors.empty()) << errors[0].message;
  EXPECT_TRUE(cfg.flag(config::Key::DiskEnabled));
  EXPECT_EQ(cfg.disk.watch, std::vector<std::string>{"/srv/cache"});
  EXPECT_EQ(*cfg.disk.all.softPercent, 10);
  EXPECT_EQ(*cfg.disk.all.inodesHardPercent, 5);
  EXPECT_EQ(cfg.disk.clean.size(), 3u);
  ASSERT_NE(cfg.disk.mount("/srv/cache"), nullptr);
  EXPECT_EQ(*cfg.disk.mount("/srv/cache")->thresholds.softPercent, 3);
  EXPECT_EQ(*cfg.disk.mount("/srv/cache")->thresholds.hardPercent, 1);
  // It renders and reads back the same.
  std::vector<config::ConfigError> again;
  auto back = config::Config::parse(cfg.toToml(), "back.toml", again);
  ASSERT_TRUE(again.empty()) << again[0].message << "\n" << cfg.toToml();
  EXPECT_EQ(back.disk.watch, cfg.disk.watch);
  EXPECT_EQ(*back.disk.mount("/srv/cache")->thresholds.hardPercent, 1);
}

TEST(DiskConfig, DefaultsAndErrors) {
  config::Config d;
  EXPECT_TRUE(d.flag(config::Key::DiskEnabled));
  EXPECT_TRUE(d.disk.watch.empty());
  EXPECT_EQ(d.disk.clean.size(), 3u);
  EXPECT_FALSE(d.disk.all.softPercent);
  std::vector<config::ConfigError> defaultsBack;
  (void)config::Config::parse(d.toToml(), "d", defaultsBack);
  EXPECT_TRUE(defaultsBack.empty());
  auto bad = [](const char* text) {
    std::vector<config::ConfigError> e;
    (void)config::Config::parse(text, "bad", e);
    return e.size();
  };
  EXPECT_EQ(bad("[disk]\nsoft_percent = 3\nhard_percent = 5\n"), 1u);
  EXPECT_EQ(bad("[disk]\nsoft_percent = 0\n"), 1u);
  EXPECT_EQ(bad("[disk]\nsoft_percent = \"x\"\n"), 1u);
  EXPECT_EQ(bad("[disk]\nwatch = [\"relative\"]\n"), 1u);
  EXPECT_EQ(bad("[disk]\nwatch = \"/x\"\n"), 1u);
  EXPECT_EQ(bad("[disk]\nclean = [\"/\"]\n"), 1u);
  EXPECT_EQ(bad("[disk]\nclean = [\"/var/log/../etc\"]\n"), 1u);
  EXPECT_EQ(bad("[disk]\nenabled = 1\n"), 1u);
  EXPECT_EQ(bad("[disk]\nbogus = 1\n"), 1u);
  EXPECT_EQ(bad("[disk.mount.\"/x\"]\nbogus = 1\n"), 1u);
  EXPECT_EQ(bad("[disk.mount.\"x\"]\nsoft_percent = 1\n"), 1u);
  EXPECT_EQ(bad("[disk.mount.\"/x\"]\nclass = \"ssd\"\n"), 1u);
  EXPECT_EQ(bad("[disk.mount.\"/x\"]\nsoft_percent = 1\nhard_percent = 2\n"), 1u);
  EXPECT_EQ(bad("[disk]\nenabled = false\nclean = []\n"), 0u);
}

}  // namespace
}  // namespace ork

namespace ork {
namespace {
TEST(SaveRoom, SoftThresholdOfTheSaveDirsFilesystem) {
  config::Config cfg;
  auto mounts = parse::parseMountinfo(
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "23 22 8:2 / /var/lib/libvirt rw - ext4 /dev/sda2 rw\n");
  // /var/lib/libvirt holds the image store: class images, 8 % capped at 20 GiB.
  EXPECT_EQ(policy::softBytesFor("/var/lib/libvirt/qemu/save", mounts, Bytes::gib(100), 0, cfg), Bytes::gib(100).scaled(0.08));
  EXPECT_EQ(policy::softBytesFor("/srv/x", mounts, Bytes::gib(10), 0, cfg), Bytes::gib(1)) << "root: 10 %";
  cfg.set(config::Key::DiskEnabled, 0);
  EXPECT_EQ(policy::softBytesFor("/srv/x", mounts, Bytes::gib(10), 0, cfg), Bytes{0});
}
}  // namespace
}  // namespace ork
