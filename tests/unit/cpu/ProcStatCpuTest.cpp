// parseProcStatCpu: real /proc/stat readings, every prefix of them, older and future
// kernels' columns, and malformed input.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "StatSamples.h"
#include "ork/parse/Cpu.h"
#include "ork/parse/ParseUtil.h"

namespace ork::parse {
namespace {

// The first columns of kProcStat1's "cpu" line.
constexpr std::uint64_t kUser = 571161, kSystem = 148697, kIdle = 495164, kIowait = 2587,
                        kSoftirq = 836, kSteal = 19344;

TEST(ProcStatCpu, RealSample) {
  auto r = parseProcStatCpu(samples::kProcStat1);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->user, kUser);
  EXPECT_EQ(r->nice, 0u);
  EXPECT_EQ(r->system, kSystem);
  EXPECT_EQ(r->idle, kIdle);
  EXPECT_EQ(r->iowait, kIowait);
  EXPECT_EQ(r->irq, 0u);
  EXPECT_EQ(r->softirq, kSoftirq);
  EXPECT_EQ(r->steal, kSteal);
  EXPECT_EQ(r->total, 1237789u);
  EXPECT_EQ(r->busy, 740038u);  // total - idle - iowait
  EXPECT_EQ(r->cpus, 2);
  EXPECT_EQ(r->procsRunning, 1);
  EXPECT_EQ(r->procsBlocked, 0);
}

TEST(ProcStatCpu, SecondRealSampleMovesForward) {
  auto a = parseProcStatCpu(samples::kProcStat1);
  auto b = parseProcStatCpu(samples::kProcStat2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(b->total, a->total);
  EXPECT_GE(b->busy, a->busy);
  EXPECT_EQ(b->procsRunning, 2);
}

// Every prefix parses or fails cleanly. Until the procs_running line has a digit it
// fails (the "cpu" line cut at any byte can still look valid, but procs_running comes
// after it), and so does a cut after "procs_blocked" before its digit; otherwise the
// "cpu" figures are those of the whole text.
TEST(ProcStatCpu, EveryPrefixOfRealSamples) {
  for (std::string_view full : {samples::kProcStat1, samples::kProcStat2}) {
    auto whole = parseProcStatCpu(full);
    ASSERT_TRUE(whole.ok());
    const std::size_t running = full.find("procs_running ");
    ASSERT_NE(running, std::string_view::npos);
    const std::size_t runningEnd = full.find('\n', running);
    const std::size_t blocked = full.find("procs_blocked ");
    ASSERT_NE(blocked, std::string_view::npos);
    for (std::size_t n = 0; n <= full.size(); ++n) {
      // An exact heap copy so that an over-read is caught by ASan.
      std::string copy(full.substr(0, n));
      auto r = parseProcStatCpu(copy);
      if (n < running + 15 || n == blocked + 13 || n == blocked + 14) {
        EXPECT_FALSE(r.ok()) << "prefix " << n;
        continue;
      }
      ASSERT_TRUE(r.ok()) << "prefix " << n << ": " << r.error().message();
      EXPECT_EQ(r->total, whole->total) << "prefix " << n;
      EXPECT_EQ(r->busy, whole->busy) << "prefix " << n;
      EXPECT_EQ(r->cpus, whole->cpus) << "prefix " << n;
      if (n >= runningEnd) {
        EXPECT_EQ(r->procsRunning, whole->procsRunning) << "prefix " << n;
      }
    }
  }
}

struct OkCase {
  const char* name;
  std::string_view text;
  std::uint64_t total, busy;
  int cpus, running, blocked;
};

const OkCase kOk[] = {
    {"kernel 2.4: four columns", "cpu  10 20 30 40\ncpu0 10 20 30 40\nprocs_running 3\n", 100, 60,
     1, 3, 0},
    {"kernel 2.6.0: seven columns",
     "cpu 1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\nprocs_running 1\nprocs_blocked 2\n", 28, 19, 1, 1, 2},
    {"guest time is inside user and nice, not added again",
     "cpu 100 50 10 1000 5 0 0 0 80 40\ncpu0 100 50 10 1000 5 0 0 0 80 40\nprocs_running 2\n", 1165,
     160, 1, 2, 0},
    {"a future column is ignored",
     "cpu 1 1 1 1 1 1 1 1 0 0 77\ncpu0 1 1 1 1 1 1 1 1 0 0 77\nprocs_running 0\n", 8, 6, 1, 0, 0},
    {"no trailing newline",
     "cpu 1 0 0 1\ncpu0 1 0 0 1\ncpu1 0 0 0 0\ncpu7 0 0 0 0\nprocs_running 9", 2, 1, 3, 9, 0},
    {"lines in another order", "procs_running 4\ncpu3 0 0 0 0\ncpu 0 0 0 5\nintr 1 2 3\n", 5, 0, 1,
     4, 0},
    {"counters at the top of 64 bits",
     "cpu 18446744073709551615 0 0 0\ncpu0 0 0 0 0\nprocs_running 1\n", UINT64_MAX, UINT64_MAX, 1,
     1, 0},
};

TEST(ProcStatCpu, Accepts) {
  for (const auto& c : kOk) {
    auto r = parseProcStatCpu(c.text);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error().message();
    EXPECT_EQ(r->total, c.total) << c.name;
    EXPECT_EQ(r->busy, c.busy) << c.name;
    EXPECT_EQ(r->cpus, c.cpus) << c.name;
    EXPECT_EQ(r->procsRunning, c.running) << c.name;
    EXPECT_EQ(r->procsBlocked, c.blocked) << c.name;
  }
}

struct BadCase {
  const char* name;
  std::string_view text;
  std::string_view why;
};

const BadCase kBad[] = {
    {"empty", "", "missing \"cpu\""},
    {"no cpu line", "cpu0 1 2 3 4\nprocs_running 1\n", "missing \"cpu\""},
    {"no cpuN line", "cpu 1 2 3 4\nprocs_running 1\n", "no \"cpuN\""},
    {"no procs_running", "cpu 1 2 3 4\ncpu0 1 2 3 4\nprocs_blocked 0\n", "missing procs_running"},
    {"three columns", "cpu 1 2 3\ncpu0 1 2 3\nprocs_running 1\n", "bad \"cpu\""},
    {"negative column", "cpu 1 -2 3 4\ncpu0 1 2 3 4\nprocs_running 1\n", "bad \"cpu\""},
    {"word in the columns", "cpu 1 2 x 4\ncpu0 1 2 3 4\nprocs_running 1\n", "bad \"cpu\""},
    {"sum overflows", "cpu 18446744073709551615 1 0 0\ncpu0 0 0 0 0\nprocs_running 1\n",
     "bad \"cpu\""},
    {"column too large", "cpu 18446744073709551616 0 0 0\ncpu0 0 0 0 0\nprocs_running 1\n",
     "bad \"cpu\""},
    {"repeated cpu line", "cpu 1 2 3 4\ncpu 1 2 3 4\ncpu0 1 2 3 4\nprocs_running 1\n", "repeated"},
    {"negative procs_running", "cpu 1 2 3 4\ncpu0 1 2 3 4\nprocs_running -1\n",
     "bad procs_running"},
    {"empty procs_running", "cpu 1 2 3 4\ncpu0 1 2 3 4\nprocs_running\n", "bad procs_running"},
    {"junk after procs_running", "cpu 1 2 3 4\ncpu0 1 2 3 4\nprocs_running 1 2\n",
     "bad procs_running"},
    {"repeated procs_running", "cpu 1 2 3 4\ncpu0 1\nprocs_running 1\nprocs_running 1\n",
     "repeated"},
    {"bad procs_blocked", "cpu 1 2 3 4\ncpu0 1\nprocs_running 1\nprocs_blocked x\n",
     "bad procs_blocked"},
};

TEST(ProcStatCpu, Rejects) {
  for (const auto& c : kBad) {
    auto r = parseProcStatCpu(c.text);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, detail::kParseErrorCode) << c.name;
    EXPECT_NE(r.error().message().find(c.why), std::string_view::npos)
        << c.name << ": " << r.error().message();
  }
}

// "cpu" must be a whole key: "cpux", "cpu0x" and "cpus" lines are other lines.
TEST(ProcStatCpu, CpuKeysAreWholeWords) {
  auto r = parseProcStatCpu("cpu 1 1 1 1\ncpux 1\ncpu0x 1\ncpus 4\ncpu0 1\nprocs_running 1\n");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->cpus, 1);
}

// Every byte of a real sample replaced by bytes that matter to the parser: no crash,
// no over-read (ASan), and whatever parses is consistent.
TEST(ProcStatCpu, MutatedRealSample) {
  const std::string_view full = samples::kProcStat1;
  for (std::size_t i = 0; i < full.size(); ++i) {
    for (char c : {' ', '\n', '-', '9', 'x', '\0', '\t'}) {
      std::string copy(full);
      copy[i] = c;
      auto r = parseProcStatCpu(copy);
      if (!r.ok()) continue;
      EXPECT_GE(r->cpus, 1) << i;
      EXPECT_LE(r->busy, r->total) << i;
      EXPECT_GE(r->procsRunning, 0) << i;
    }
  }
}

}  // namespace
}  // namespace ork::parse
