// MemorySensor on fixture trees: host meminfo (with and without ZFS ARC, without
// MemAvailable, malformed) and cgroup v1/v2 directories.
#include "ork/sense/MemorySensor.h"

#include <gtest/gtest.h>

#include <string>

#include "TempTree.h"

namespace ork::sense {
namespace {

using testing::TempTree;

constexpr std::int64_t kKib = 1024;

std::string meminfo(std::int64_t totalKb, std::int64_t freeKb, std::int64_t availKb,
                    std::int64_t swapTotalKb = 0, std::int64_t swapFreeKb = 0) {
  std::string s = "MemTotal:       " + std::to_string(totalKb) + " kB\n" +
                  "MemFree:        " + std::to_string(freeKb) + " kB\n";
  if (availKb >= 0) s += "MemAvailable:   " + std::to_string(availKb) + " kB\n";
  s += "Buffers:          200000 kB\n"
       "Cached:          3000000 kB\n"
       "SwapCached:            0 kB\n"
       "Active:          5000000 kB\n"
       "SwapTotal:      " + std::to_string(swapTotalKb) + " kB\n" +
       "SwapFree:       " + std::to_string(swapFreeKb) + " kB\n"
       "Dirty:               12 kB\n";
  return s;
}

std::string arcstats(std::uint64_t size, std::uint64_t cMin) {
  return "13 1 0x01 123 33456 4262258410 1023482747612\n"
         "name                            type data\n"
         "hits                            4    12345\n"
         "c                               4    8000000000\n"
         "c_min                           4    " + std::to_string(cMin) + "\n"
         "c_max                           4    16000000000\n"
         "size                            4    " + std::to_string(size) + "\n";
}

class HostMemoryTest : public ::testing::Test {
 protected:
  TempTree tree_;
};

TEST_F(HostMemoryTest, ReadsMeminfo) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 8000000, 4096000, 2048000));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_EQ(sensor->domain(), MemorySensor::Domain::Host);
  EXPECT_STREQ(sensor->describe(), "host");
  EXPECT_EQ(sensor->pressurePath(), tree_.root() + "/pressure/memory");
  auto s = sensor->sample(TimePoint{Seconds{5}});
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->at, TimePoint{Seconds{5}});
  EXPECT_EQ(s->total, Bytes{16384000 * kKib});
  EXPECT_EQ(s->available, Bytes{8000000 * kKib});
  EXPECT_EQ(s->swapTotal, Bytes{4096000 * kKib});
  EXPECT_EQ(s->swapFree, Bytes{2048000 * kKib});
  EXPECT_EQ(s->zfsArcShrinkable, Bytes{0});
}

TEST_F(HostMemoryTest, RereadsTheKeptOpenFile) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 8000000));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  tree_.write("meminfo", meminfo(16384000, 100000, 500000));
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->available, Bytes{500000 * kKib});
}

TEST_F(HostMemoryTest, AddsShrinkableZfsArc) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 8000000));
  tree_.write("spl/kstat/zfs/arcstats", arcstats(5000000000, 1000000000));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_STREQ(sensor->describe(), "host (with ZFS ARC)");
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->zfsArcShrinkable, Bytes{4000000000});
  EXPECT_EQ(s->available, Bytes{8000000 * kKib + 4000000000});
}

TEST_F(HostMemoryTest, ZfsArcNotCountedWhenDisabled) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 8000000));
  tree_.write("spl/kstat/zfs/arcstats", arcstats(5000000000, 1000000000));
  auto sensor = MemorySensor::openHost(tree_.root(), false);
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_STREQ(sensor->describe(), "host");
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->zfsArcShrinkable, Bytes{0});
  EXPECT_EQ(s->available, Bytes{8000000 * kKib});
}

TEST_F(HostMemoryTest, ZfsArcBelowCMinAddsNothing) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 8000000));
  tree_.write("spl/kstat/zfs/arcstats", arcstats(500000000, 1000000000));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok());
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->zfsArcShrinkable, Bytes{0});
  EXPECT_EQ(s->available, Bytes{8000000 * kKib});
}

TEST_F(HostMemoryTest, AvailableWithArcIsCappedAtTotal) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 15000000));
  tree_.write("spl/kstat/zfs/arcstats", arcstats(9000000000, 1000000000));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok());
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->available, Bytes{16384000 * kKib});
}

TEST_F(HostMemoryTest, MemAvailableAbsentIsEstimated) {
  tree_.write("meminfo", meminfo(16384000, 1000000, -1));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  // MemFree + Cached + Buffers.
  EXPECT_EQ(s->available, Bytes{(1000000 + 3000000 + 200000) * kKib});
}

TEST_F(HostMemoryTest, MalformedMeminfoIsAnError) {
  const char* bad[] = {
      "",
      "garbage\n",
      "MemTotal: lots kB\nMemFree: 1 kB\n",
      "MemFree: 1000 kB\nMemAvailable: 500 kB\n",  // no MemTotal
  };
  for (const char* text : bad) {
    tree_.write("meminfo", text);
    auto sensor = MemorySensor::openHost(tree_.root(), true);
    EXPECT_FALSE(sensor.ok()) << text;
    if (!sensor.ok()) {
      EXPECT_FALSE(sensor.error().message().empty());
    }
  }
}

TEST_F(HostMemoryTest, MissingMeminfoIsAnError) {
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_FALSE(sensor.ok());
  EXPECT_EQ(sensor.error().code, ENOENT);
  EXPECT_NE(sensor.error().message().find("meminfo"), std::string_view::npos);
}

TEST_F(HostMemoryTest, MeminfoBrokenAfterOpenIsASampleError) {
  tree_.write("meminfo", meminfo(16384000, 1000000, 8000000));
  auto sensor = MemorySensor::openHost(tree_.root(), true);
  ASSERT_TRUE(sensor.ok());
  tree_.write("meminfo", "MemTot");
  EXPECT_FALSE(sensor->sample(TimePoint{}).ok());
}

// ---- cgroups ---------------------------------------------------------------------

class CgroupMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Host: 16384000 kB total, 8000000 kB available.
    tree_.write("proc/meminfo", meminfo(16384000, 1000000, 8000000, 4096000, 4096000));
  }
  std::string proc() const { return tree_.path("proc"); }
  TempTree tree_;
};

constexpr std::int64_t kMib = 1024 * 1024;

void writeV2(const TempTree& t, const std::string& rel, const std::string& max) {
  t.write(rel + "/memory.current", std::to_string(600 * kMib) + "\n");
  t.write(rel + "/memory.max", max + "\n");
  t.write(rel + "/memory.stat",
          "anon " + std::to_string(400 * kMib) + "\n" +
          "file " + std::to_string(200 * kMib) + "\n" +
          "kernel_stack 65536\n" +
          "active_file " + std::to_string(50 * kMib) + "\n" +
          "inactive_file " + std::to_string(100 * kMib) + "\n" +
          "slab_reclaimable " + std::to_string(20 * kMib) + "\n" +
          "shmem 0\n");
}

TEST_F(CgroupMemoryTest, V2WithLimit) {
  writeV2(tree_, "cg/vm1", std::to_string(1024 * kMib));
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/vm1"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_EQ(sensor->domain(), MemorySensor::Domain::CgroupV2);
  EXPECT_EQ(sensor->describe(), "cgroup2:" + tree_.path("cg/vm1"));
  EXPECT_EQ(sensor->pressurePath(), tree_.path("cg/vm1") + "/memory.pressure");
  auto s = sensor->sample(TimePoint{Seconds{1}});
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->total, Bytes{1024 * kMib});
  // free 424 MiB + reclaimable 170 MiB - reserve min(85 MiB, 1 % of 1 GiB).
  const std::int64_t reserve = 1024 * kMib / 100;
  EXPECT_EQ(s->available, Bytes{424 * kMib + 170 * kMib - reserve});
  EXPECT_EQ(s->swapTotal, Bytes{0});
  EXPECT_EQ(s->swapFree, Bytes{0});
}

TEST_F(CgroupMemoryTest, V2UnlimitedUsesHostTotal) {
  writeV2(tree_, "cg/big", "max");
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/big"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  const std::int64_t total = 16384000 * kKib;
  EXPECT_EQ(s->total, Bytes{total});
  // free = total - 600 MiB, plus 170 MiB less min(85 MiB, total/100): larger than the
  // host's MemAvailable, so capped by it.
  EXPECT_EQ(s->available, Bytes{8000000 * kKib});
}

TEST_F(CgroupMemoryTest, V2ReserveIsHalfOfSmallReclaimable) {
  // 10 GiB limit: 1 % is 102 MiB, more than half of the 170 MiB reclaimable (85 MiB).
  writeV2(tree_, "cg/x", std::to_string(10240 * kMib));
  tree_.write("proc/meminfo", meminfo(33554432, 1000000, 30000000));  // 32 GiB host
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/x"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->available, Bytes{(10240 - 600) * kMib + 85 * kMib});
}

TEST_F(CgroupMemoryTest, CappedByHostMemAvailable) {
  writeV2(tree_, "cg/vm1", std::to_string(1024 * kMib));
  tree_.write("proc/meminfo", meminfo(16384000, 10000, 100000));  // host nearly full
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/vm1"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->available, Bytes{100000 * kKib});
}

TEST_F(CgroupMemoryTest, UsageAboveLimitGivesOnlyReclaimable) {
  writeV2(tree_, "cg/vm1", std::to_string(512 * kMib));  // usage 600 MiB
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/vm1"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->available, Bytes{170 * kMib - 512 * kMib / 100});
}

TEST_F(CgroupMemoryTest, V1WithTotalKeysAndHugeLimit) {
  tree_.write("cg1/memory.usage_in_bytes", std::to_string(2048 * kMib) + "\n");
  tree_.write("cg1/memory.limit_in_bytes", "9223372036854771712\n");
  tree_.write("cg1/memory.stat",
              "cache 1048576\n"
              "rss 2097152\n"
              "active_file 1\n"
              "inactive_file 2\n"
              "total_cache " + std::to_string(300 * kMib) + "\n" +
              "total_rss " + std::to_string(1700 * kMib) + "\n" +
              "total_active_file " + std::to_string(100 * kMib) + "\n" +
              "total_inactive_file " + std::to_string(200 * kMib) + "\n");
  tree_.write("proc/meminfo", meminfo(16384000, 1000000, 16000000));
  auto sensor = MemorySensor::openCgroup(tree_.path("cg1"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_EQ(sensor->domain(), MemorySensor::Domain::CgroupV1);
  EXPECT_EQ(sensor->describe(), "cgroup1:" + tree_.path("cg1"));
  EXPECT_EQ(sensor->pressurePath(), "");
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok()) << s.error().message();
  const std::int64_t total = 16384000 * kKib;
  EXPECT_EQ(s->total, Bytes{total});
  // reclaimable 300 MiB (total_ keys win), reserve min(150 MiB, total / 100).
  const std::int64_t reserve = std::min<std::int64_t>(150 * kMib, total / 100);
  EXPECT_EQ(s->available, Bytes{total - 2048 * kMib + 300 * kMib - reserve});
}

TEST_F(CgroupMemoryTest, V1WithLimit) {
  tree_.write("cg1/memory.usage_in_bytes", std::to_string(100 * kMib) + "\n");
  tree_.write("cg1/memory.limit_in_bytes", std::to_string(200 * kMib) + "\n");
  tree_.write("cg1/memory.stat", "total_active_file 0\ntotal_inactive_file 0\n");
  auto sensor = MemorySensor::openCgroup(tree_.path("cg1"), proc());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto s = sensor->sample(TimePoint{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->total, Bytes{200 * kMib});
  EXPECT_EQ(s->available, Bytes{100 * kMib});
}

TEST_F(CgroupMemoryTest, DirectoryWithoutMemoryFilesIsAClearError) {
  tree_.mkdir("cg/empty");
  tree_.write("cg/empty/cgroup.procs", "");
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/empty"), proc());
  ASSERT_FALSE(sensor.ok());
  EXPECT_EQ(sensor.error().code, ENOENT);
  std::string msg(sensor.error().message());
  EXPECT_NE(msg.find(tree_.path("cg/empty")), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a cgroup with the memory controller"), std::string::npos) << msg;
}

TEST_F(CgroupMemoryTest, MissingDirectoryIsAnError) {
  auto sensor = MemorySensor::openCgroup(tree_.path("nope"), proc());
  EXPECT_FALSE(sensor.ok());
}

TEST_F(CgroupMemoryTest, MissingStatIsAnError) {
  tree_.write("cg/x/memory.current", "1\n");
  tree_.write("cg/x/memory.max", "max\n");
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/x"), proc());
  ASSERT_FALSE(sensor.ok());
  EXPECT_NE(sensor.error().message().find("memory.stat"), std::string_view::npos);
}

TEST_F(CgroupMemoryTest, GarbageLimitIsAnError) {
  writeV2(tree_, "cg/x", "lots");
  auto sensor = MemorySensor::openCgroup(tree_.path("cg/x"), proc());
  EXPECT_FALSE(sensor.ok());
}

}  // namespace
}  // namespace ork::sense
