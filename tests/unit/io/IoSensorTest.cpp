// IoSensor on fixture roots (successive /proc/diskstats and /proc/pressure/io written
// between samples, a /sys/class/block with a partition), and once on the real /proc.
#include <gtest/gtest.h>

#include <string>

#include "ork/sense/IoSensor.h"
#include "unit/sense/TempTree.h"

namespace ork::sense {
namespace {

using testing::TempTree;

TimePoint at(Nanos d) { return TimePoint{} + d; }

// One line: reads/writes completed, their ms, io_ticks and weighted ms.
std::string line(int major, int minor, const char* name, std::uint64_t reads, std::uint64_t readMs, std::uint64_t writes,
                 std::uint64_t writeMs, std::uint64_t ticks, std::uint64_t weighted) {
  return std::to_string(major) + " " + std::to_string(minor) + " " + name + " " + std::to_string(reads) + " 0 " +
         std::to_string(reads * 8) + " " + std::to_string(readMs) + " " + std::to_string(writes) + " 0 " +
         std::to_string(writes * 128) + " " + std::to_string(writeMs) + " 0 " + std::to_string(ticks) + " " +
         std::to_string(weighted) + " 0 0 0 0 0 0\n";
}

std::string psi(std::uint64_t some) {
  return "some avg10=0 avg60=0 avg300=0 total=" + std::to_string(some) + "\nfull avg10=0 avg60=0 avg300=0 total=" +
         std::to_string(some / 2) + "\n";
}

TEST(IoSensor, RatesPerWholeDisk) {
  TempTree t;
  t.mkdir("sys/class/block/sda");
  t.mkdir("sys/class/block/sda1");
  t.write("sys/class/block/sda1/partition", "1\n");
  auto stats = [&](std::uint64_t k) {
    return line(8, 0, "sda", 100 + 50 * k, 10 + 2000 * k, 10 + 50 * k, 10 + 3000 * k, 5 + 950 * k, 5 + 5000 * k) +
           line(8, 1, "sda1", 100 + 50 * k, 10 + 2000 * k, 10 + 50 * k, 10 + 3000 * k, 5 + 950 * k, 5 + 5000 * k) +
           line(1, 0, "ram0", 10 + k, 1, 10, 1, 1, 1) + line(7, 1, "loop1", 0, 0, 0, 0, 0, 0);
  };
  t.write("proc/diskstats", stats(0));
  t.write("proc/pressure/io", psi(1000));
  auto s = IoSensor::open(t.path("proc"), t.path("sys"));
  ASSERT_TRUE(s) << s.error().what;
  EXPECT_TRUE(s->hasPressure());
  auto first = s->sample(at(Seconds{10}));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->interval, Nanos{0});
  t.write("proc/diskstats", stats(1));
  t.write("proc/pressure/io", psi(1000 + 400000));
  auto second = s->sample(at(Seconds{11}));
  ASSERT_TRUE(second);
  ASSERT_EQ(second->count, 1);  // not the partition, the ram disk, the idle loop device
  const IoDevice& d = second->devices[0];
  EXPECT_STREQ(d.name, "sda");
  EXPECT_NEAR(d.util, 0.95, 1e-9);
  EXPECT_NEAR(d.awaitMs, 50.0, 1e-9);  // 5000 ms over 100 I/Os
  EXPECT_NEAR(d.queue, 5.0, 1e-9);
  EXPECT_NEAR(d.iops, 100.0, 1e-9);
  EXPECT_NEAR(d.bytesPerS, (50 * 8 + 50 * 128) * 512.0, 1e-6);
  EXPECT_NEAR(second->pressure, 0.4, 1e-9);
  EXPECT_NEAR(second->pressureFull, 0.2, 1e-9);
}

TEST(IoSensor, BusyWithNothingCompletedAndCountersStepBack) {
  TempTree t;
  t.mkdir("sys/class/block");
  t.write("proc/diskstats", line(8, 0, "sdb", 10, 10, 10, 10, 100, 100));
  auto s = IoSensor::open(t.path("proc"), t.path("sys"));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->hasPressure());
  ASSERT_TRUE(s->sample(at(Seconds{1})));
  // A hung device: in flight the whole second, nothing completed.
  t.write("proc/diskstats", line(8, 0, "sdb", 10, 10, 10, 10, 1100, 4100));
  auto a = s->sample(at(Seconds{2}));
  ASSERT_TRUE(a);
  ASSERT_EQ(a->count, 1);
  EXPECT_NEAR(a->devices[0].util, 1.0, 1e-9);
  EXPECT_NEAR(a->devices[0].awaitMs, 1000.0, 1e-9);
  EXPECT_LT(a->pressure, 0);
  // Counters that step back (a wrap, a reset) count as no time, never as huge.
  t.write("proc/diskstats", line(8, 0, "sdb", 5, 5, 5, 5, 50, 50));
  auto b = s->sample(at(Seconds{3}));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->devices[0].util, 0);
}

TEST(IoSensor, BadInputIsAnErrorAndTheSensorGoesOn) {
  TempTree t;
  t.mkdir("sys/class/block");
  t.write("proc/diskstats", "garbage\n");
  EXPECT_FALSE(IoSensor::open(t.path("proc"), t.path("sys")));
  t.write("proc/diskstats", line(8, 0, "sdb", 10, 10, 10, 10, 100, 100));
  auto s = IoSensor::open(t.path("proc"), t.path("sys"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->sample(at(Seconds{1})));
  t.write("proc/diskstats", "8 0 sdb 1 2\n");
  EXPECT_FALSE(s->sample(at(Seconds{2})));
  t.write("proc/diskstats", line(8, 0, "sdb", 20, 20, 20, 20, 200, 200));
  auto c = s->sample(at(Seconds{3}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->interval, Seconds{2});  // the failed sample kept the base
}

TEST(IoSensor, RealProc) {
  auto s = IoSensor::open("/proc", "/sys");
  ASSERT_TRUE(s) << s.error().what;
  ASSERT_TRUE(s->sample(TimePoint{} + Seconds{1}));
  auto b = s->sample(TimePoint{} + Seconds{2});
  ASSERT_TRUE(b) << b.error().what;
  for (const IoDevice& d : *b) {
    EXPECT_GE(d.util, 0);
    EXPECT_LE(d.util, 1);
    EXPECT_GE(d.awaitMs, 0);
  }
}

}  // namespace
}  // namespace ork::sense
