// CpuSensor on fixture proc roots (successive /proc/stat and /proc/pressure/cpu
// contents written between samples), and once on the real /proc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "ork/sense/CpuSensor.h"
#include "unit/sense/TempTree.h"

namespace ork::sense {
namespace {

using testing::TempTree;

TimePoint at(Nanos d) { return TimePoint{} + d; }

// A /proc/stat with the given aggregate counters on `cpus` CPUs (the per-CPU lines
// are not read, only counted).
std::string stat(std::uint64_t user, std::uint64_t system, std::uint64_t idle, std::uint64_t iowait,
                 int cpus, int running) {
  std::string s = "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " +
                  std::to_string(idle) + " " + std::to_string(iowait) + " 0 0 0 0 0\n";
  for (int i = 0; i < cpus; ++i) s += "cpu" + std::to_string(i) + " 1 0 1 1 0 0 0 0 0 0\n";
  s += "intr 5878134 0 0 0\nctxt 14690224\nbtime 1795335878\nprocesses 123041\n";
  s += "procs_running " + std::to_string(running) + "\nprocs_blocked 0\n";
  s += "softirq 1750081 0 206903 4 14583 279098 0 6 716513 0 532974\n";
  return s;
}

std::string psi(std::uint64_t someTotalUs) {
  return "some avg10=1.70 avg60=0.68 avg300=1.83 total=" + std::to_string(someTotalUs) +
         "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
}

class CpuSensorTest : public ::testing::Test {
 protected:
  TempTree tree_;
};

TEST_F(CpuSensorTest, FirstSampleHasNoRatesThenDeltas) {
  tree_.write("stat", stat(1000, 500, 8000, 100, 4, 3));
  tree_.write("pressure/cpu", psi(5'000'000));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_TRUE(sensor->hasPressure());
  EXPECT_STREQ(sensor->describe(), "cpu (with PSI)");

  auto first = sensor->sample(at(Seconds{10}));
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->at, at(Seconds{10}));
  EXPECT_EQ(first->interval, Nanos{0});
  EXPECT_EQ(first->busy, 0);
  EXPECT_EQ(first->pressure, -1);
  EXPECT_EQ(first->cpus, 4);
  EXPECT_EQ(first->runnable, 2);  // procs_running 3, less ORK itself

  // One second on 4 CPUs = 400 ticks: 300 busy (user 250 + system 50), 90 idle,
  // 10 iowait (not busy). PSI some grew by 0.4 s.
  tree_.write("stat", stat(1250, 550, 8090, 110, 4, 9));
  tree_.write("pressure/cpu", psi(5'400'000));
  auto second = sensor->sample(at(Seconds{11}));
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->interval, Seconds{1});
  EXPECT_DOUBLE_EQ(second->busy, 0.75);
  EXPECT_DOUBLE_EQ(second->pressure, 0.4);
  EXPECT_EQ(second->runnable, 8);

  // Half a second later: rates over the half second since the previous sample.
  tree_.write("stat", stat(1450, 550, 8090, 110, 4, 1));
  tree_.write("pressure/cpu", psi(5'650'000));
  auto third = sensor->sample(at(Millis{11'500}));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->interval, Millis{500});
  EXPECT_DOUBLE_EQ(third->busy, 1.0);
  EXPECT_DOUBLE_EQ(third->pressure, 0.5);
  EXPECT_EQ(third->runnable, 0);
}

TEST_F(CpuSensorTest, NoPsiMeansPressureUnknown) {
  tree_.write("stat", stat(1000, 0, 1000, 0, 2, 1));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_FALSE(sensor->hasPressure());
  EXPECT_STREQ(sensor->describe(), "cpu");
  ASSERT_TRUE(sensor->sample(at(Seconds{1})).ok());
  tree_.write("stat", stat(1100, 0, 1100, 0, 2, 1));
  auto s = sensor->sample(at(Seconds{2}));
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->busy, 0.5);
  EXPECT_EQ(s->pressure, -1);
}

TEST_F(CpuSensorTest, UnreadablePsiAtOpenMeansPressureUnknown) {
  tree_.write("stat", stat(1000, 0, 1000, 0, 2, 1));
  tree_.write("pressure/cpu", "psi is disabled\n");
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  EXPECT_FALSE(sensor->hasPressure());
}

// PSI that fails to parse at one sample gives an unknown pressure for that sample and
// the next (which has no base to compare with), then deltas again.
TEST_F(CpuSensorTest, PsiFailingLaterIsUnknownForThatSample) {
  tree_.write("stat", stat(0, 0, 0, 0, 1, 1));
  tree_.write("pressure/cpu", psi(0));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok());
  ASSERT_TRUE(sensor->sample(at(Seconds{1})).ok());
  tree_.write("stat", stat(100, 0, 0, 0, 1, 1));
  tree_.write("pressure/cpu", "garbage\n");
  auto bad = sensor->sample(at(Seconds{2}));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->pressure, -1);
  EXPECT_DOUBLE_EQ(bad->busy, 1.0);
  tree_.write("stat", stat(200, 0, 0, 0, 1, 1));
  tree_.write("pressure/cpu", psi(100'000));
  EXPECT_EQ(sensor->sample(at(Seconds{3}))->pressure, -1);
  tree_.write("stat", stat(300, 0, 0, 0, 1, 1));
  tree_.write("pressure/cpu", psi(400'000));
  EXPECT_DOUBLE_EQ(sensor->sample(at(Seconds{4}))->pressure, 0.3);
}

// Less than one tick since the previous reading: no rate, and the previous reading
// stays the base, so the next sample spans both intervals.
TEST_F(CpuSensorTest, NoTickYetKeepsTheBase) {
  tree_.write("stat", stat(0, 0, 0, 0, 2, 1));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok());
  ASSERT_TRUE(sensor->sample(at(Seconds{1})).ok());
  auto same = sensor->sample(at(Millis{1'005}));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->interval, Nanos{0});
  tree_.write("stat", stat(150, 0, 50, 0, 2, 1));
  auto next = sensor->sample(at(Seconds{2}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->interval, Seconds{1});
  EXPECT_DOUBLE_EQ(next->busy, 0.75);
}

// A failed reading keeps the base too: the next good one spans the gap.
TEST_F(CpuSensorTest, FailedSampleKeepsTheBase) {
  tree_.write("stat", stat(0, 0, 0, 0, 2, 1));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok());
  ASSERT_TRUE(sensor->sample(at(Seconds{1})).ok());
  tree_.write("stat", "cpu 1 2\n");
  EXPECT_FALSE(sensor->sample(at(Seconds{2})).ok());
  tree_.write("stat", stat(100, 100, 200, 0, 2, 1));
  auto s = sensor->sample(at(Seconds{3}));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->interval, Seconds{2});
  EXPECT_DOUBLE_EQ(s->busy, 0.5);
}

// Idle time stepping back (seen on NO_HZ kernels) counts as no time, not as a wrap.
TEST_F(CpuSensorTest, CounterSteppingBackIsNotAWrap) {
  tree_.write("stat", stat(1000, 0, 5000, 0, 1, 1));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok());
  ASSERT_TRUE(sensor->sample(at(Seconds{1})).ok());
  tree_.write("stat", stat(1100, 0, 4990, 0, 1, 1));
  auto s = sensor->sample(at(Seconds{2}));
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->busy, 1.0);
}

TEST_F(CpuSensorTest, OpenFailsWithoutAUsableStat) {
  EXPECT_FALSE(CpuSensor::open(tree_.root()).ok());       // no stat at all
  tree_.write("stat", "cpu 1 2 3 4\nprocs_running 1\n");  // no cpuN line
  auto r = CpuSensor::open(tree_.root());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("cpuN"), std::string_view::npos) << r.error().message();
}

// The buffer is sized at open; a /proc/stat that grew past it is an error, not a
// reading cut before procs_running.
TEST_F(CpuSensorTest, StatGrownPastItsBufferIsAnError) {
  tree_.write("stat", stat(0, 0, 0, 0, 2, 1));
  auto sensor = CpuSensor::open(tree_.root());
  ASSERT_TRUE(sensor.ok());
  tree_.write("stat", stat(0, 0, 0, 0, 2000, 1));  // ~50 KB
  auto s = sensor->sample(at(Seconds{1}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EFBIG);
}

TEST(CpuSensorRealTest, ReadsTheHost) {
  auto sensor = CpuSensor::open("/proc");
  ASSERT_TRUE(sensor.ok()) << sensor.error().message();
  auto first = sensor->sample(at(Seconds{1}));
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->cpus, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  ::usleep(50'000);
  auto second = sensor->sample(at(Millis{1'050}));
  ASSERT_TRUE(second.ok()) << second.error().message();
  if (second->interval > Nanos{0}) {
    EXPECT_GE(second->busy, 0.0);
    EXPECT_LE(second->busy, 1.0);
    if (sensor->hasPressure()) {
      EXPECT_GE(second->pressure, 0.0);
      EXPECT_LE(second->pressure, 1.0);
    }
  }
  EXPECT_GE(second->runnable, 0);
}

}  // namespace
}  // namespace ork::sense
