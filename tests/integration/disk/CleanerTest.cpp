// act::cleanPlaces on real filesystems (loop-mounted ext4, inode-limited tmpfs): what
// is cleaned, in which order, and what is never touched.
#include "ork/act/Cleaner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "integration/disk/DiskFs.h"

namespace ork::test {
namespace {

const act::CleanResult* resultFor(const act::CleanReport& r, const std::string& path) {
  for (const auto& f : r.files)
    if (f.path == path) return &f;
  return nullptr;
}

struct CleanerFixture : ::testing::Test {
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "mounting filesystems needs root");
    ORK_REQUIRE(act::openat2Supported(), "openat2 (Linux >= 5.6)");
    ASSERT_TRUE(fs.make("ext4", 64, 256)) << "loop-mounted ext4";
    ::mkdir(fs.path("log").c_str(), 0755);
  }
  act::CleanJob job(Bytes need, std::uint64_t inodes = 0) {
    act::CleanJob j;
    j.places = {fs.path("log")};
    j.device = fs.dev();
    j.needBytes = need;
    j.needInodes = inodes;
    return j;
  }
  TempFs fs;
};

TEST_F(CleanerFixture, RotatedFilesGoOldestFirstOnlyWhatIsNeeded) {
  fs.file("log/a.log", 2048, 1700000400);
  fs.file("log/a.log.1", 1024, 1700000300);
  fs.file("log/a.log.2.gz", 1024, 1700000100);
  fs.file("log/a.log.3.gz", 1024, 1700000200);
  auto r = act::cleanPlaces(job(Bytes::kib(1500)));
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].path, fs.path("log/a.log.2.gz"));
  EXPECT_EQ(r.files[0].action, "deleted");
  EXPECT_EQ(r.files[1].path, fs.path("log/a.log.3.gz"));
  EXPECT_FALSE(TempFs::exists(fs.path("log/a.log.2.gz")));
  EXPECT_FALSE(TempFs::exists(fs.path("log/a.log.3.gz")));
  EXPECT_TRUE(TempFs::exists(fs.path("log/a.log.1"))) << "only enough is freed";
  EXPECT_EQ(TempFs::size(fs.path("log/a.log")), 2048 * 1024);
}

TEST_F(CleanerFixture, ActiveLogHeldByAWriterIsTruncatedNotDeleted) {
  fs.file("log/ovs-vswitchd.log", 8192);
  int fd = ::open(fs.path("log/ovs-vswitchd.log").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  std::int64_t before = fs.freeBytes();
  auto r = act::cleanPlaces(job(Bytes::mib(4)));
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].action, "truncated");
  EXPECT_TRUE(TempFs::exists(fs.path("log/ovs-vswitchd.log")));
  EXPECT_EQ(TempFs::size(fs.path("log/ovs-vswitchd.log")), 0);
  EXPECT_GE(fs.freeBytes() - before, 8 * 1024 * 1024 - 64 * 1024) << "truncating frees at once";
  EXPECT_EQ(::write(fd, "still writing\n", 14), 14) << "the writer's fd still works";
  ::close(fd);
}

TEST_F(CleanerFixture, DeletedButOpenLogIsTruncatedThroughTheHoldersFd) {
  fs.file("log/old.log", 8192);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t holder = ::fork();
  if (holder == 0) {
    int fd = ::open(fs.path("log/old.log").c_str(), O_RDONLY);
    (void)!::write(pipefd[1], "x", 1);
    for (;;) ::pause();
    (void)fd;
  }
  char c;
  ASSERT_EQ(::read(pipefd[0], &c, 1), 1);
  ::unlink(fs.path("log/old.log").c_str());
  std::int64_t before = fs.freeBytes();
  auto r = act::cleanPlaces(job(Bytes::mib(4)));
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].action, "truncated");
  EXPECT_NE(r.files[0].path.find("(deleted, pid " + std::to_string(holder)), std::string::npos) << r.files[0].path;
  EXPECT_GE(fs.freeBytes() - before, 8 * 1024 * 1024 - 64 * 1024) << "df frees while the holder still holds it";
}

TEST_F(CleanerFixture, SymlinksHardLinksAndOutsideFilesSurvive) {
  ::mkdir(fs.path("outside").c_str(), 0755);
  fs.file("outside/secret", 1024, 1000, "s");
  fs.file("outside/secret2", 1024, 1000, "t");
  fs.file("outside/x.log.1", 1024, 1000, "u");
  // A symlinked file, a symlinked directory component, a hard-linked file.
  ASSERT_EQ(::symlink(fs.path("outside/secret").c_str(), fs.path("log/evil.log.1").c_str()), 0);
  ASSERT_EQ(::symlink(fs.path("outside").c_str(), fs.path("log/sub").c_str()), 0);
  ASSERT_EQ(::link(fs.path("outside/secret2").c_str(), fs.path("log/hl.log.1").c_str()), 0);
  // A place that is itself a symlink, and a place through a symlinked directory.
  ASSERT_EQ(::symlink(fs.path("outside").c_str(), fs.path("placelink").c_str()), 0);
  auto j = job(Bytes::mib(60), 100);
  j.places.push_back(fs.path("placelink"));
  j.places.push_back(fs.path("placelink/x.log"));
  auto r = act::cleanPlaces(j);
  EXPECT_EQ(TempFs::size(fs.path("outside/secret")), 1024 * 1024);
  EXPECT_EQ(TempFs::size(fs.path("outside/secret2")), 1024 * 1024);
  EXPECT_EQ(TempFs::size(fs.path("outside/x.log.1")), 1024 * 1024);
  EXPECT_EQ(readFile(fs.path("outside/secret")).substr(0, 3), "sss");
  EXPECT_TRUE(TempFs::exists(fs.path("log/evil.log.1")));
  EXPECT_TRUE(TempFs::exists(fs.path("log/hl.log.1")));
  const auto* sym = resultFor(r, fs.path("log/evil.log.1"));
  ASSERT_NE(sym, nullptr);
  EXPECT_EQ(sym->action, "refused");
  EXPECT_EQ(sym->detail, "symlink");
  const auto* hl = resultFor(r, fs.path("log/hl.log.1"));
  ASSERT_NE(hl, nullptr);
  EXPECT_EQ(hl->detail, "hard_link");
  const auto* pl = resultFor(r, fs.path("placelink"));
  ASSERT_NE(pl, nullptr);
  EXPECT_EQ(pl->action, "refused");
  const auto* pf = resultFor(r, fs.path("placelink/x.log"));
  ASSERT_NE(pf, nullptr);
  EXPECT_EQ(pf->action, "refused");
  for (const auto& f : r.files) EXPECT_NE(f.action, "deleted") << f.path;
  for (const auto& f : r.files) EXPECT_NE(f.action, "truncated") << f.path;
}

TEST_F(CleanerFixture, OtherFilesystemInsideThePlaceIsNotEntered) {
  TempFs inner;
  ::mkdir(fs.path("log/inner").c_str(), 0755);
  inner.base = "";
  std::string cmd = "mount -t tmpfs -o size=4m ork-test " + fs.path("log/inner");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  fs.file("log/inner/z.log.1", 512);
  auto r = act::cleanPlaces(job(Bytes::mib(60)));
  EXPECT_TRUE(TempFs::exists(fs.path("log/inner/z.log.1")));
  ::umount2(fs.path("log/inner").c_str(), MNT_DETACH);
}

TEST_F(CleanerFixture, DryRunChangesNothing) {
  fs.file("log/a.log", 1024);
  fs.file("log/a.log.1", 1024, 1000);
  auto j = job(Bytes::mib(60));
  j.dryRun = true;
  auto r = act::cleanPlaces(j);
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].action, "would_delete");
  EXPECT_EQ(r.files[1].action, "would_truncate");
  EXPECT_EQ(TempFs::size(fs.path("log/a.log")), 1024 * 1024);
  EXPECT_EQ(TempFs::size(fs.path("log/a.log.1")), 1024 * 1024);
}

TEST_F(CleanerFixture, AFilePlaceMeansItAndItsRotatedSiblings) {
  fs.file("log/syslog", 1024);
  fs.file("log/syslog.1", 1024, 2000);
  fs.file("log/syslog.2.gz", 1024, 1000);
  fs.file("log/syslog.conf", 1024, 500);
  fs.file("log/other.1", 1024, 500);
  auto j = job(Bytes::mib(60));
  j.places = {fs.path("log/syslog")};
  auto r = act::cleanPlaces(j);
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_EQ(r.files[0].path, fs.path("log/syslog.2.gz"));
  EXPECT_EQ(r.files[1].path, fs.path("log/syslog.1"));
  EXPECT_EQ(r.files[2].path, fs.path("log/syslog"));
  EXPECT_EQ(r.files[2].action, "truncated");
  EXPECT_TRUE(TempFs::exists(fs.path("log/syslog.conf")));
  EXPECT_TRUE(TempFs::exists(fs.path("log/other.1")));
}

TEST(CleanerTmpfs, InodesComeBackFromRotatedFiles) {
  ORK_REQUIRE(::geteuid() == 0, "mounting filesystems needs root");
  TempFs fs;
  ASSERT_TRUE(fs.make("tmpfs", 8, 64));
  ::mkdir(fs.path("log").c_str(), 0755);
  for (int i = 1; i <= 40; ++i) fs.file("log/app.log." + std::to_string(i), 0, 1000 + i);
  std::uint64_t before = fs.freeInodes();
  act::CleanJob j;
  j.places = {fs.path("log")};
  j.device = fs.dev();
  j.needInodes = 10;
  auto r = act::cleanPlaces(j);
  EXPECT_EQ(r.files.size(), 10u);
  EXPECT_EQ(fs.freeInodes() - before, 10u);
  EXPECT_FALSE(TempFs::exists(fs.path("log/app.log.1"))) << "oldest first";
  EXPECT_TRUE(TempFs::exists(fs.path("log/app.log.11")));
}

}  // namespace
}  // namespace ork::test
