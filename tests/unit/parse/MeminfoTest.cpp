// parseMeminfo: /proc/meminfo.
#include <gtest/gtest.h>

#include "Samples.h"
#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;
using testing::isParseError;
using testing::kInt64Max;
using testing::show;

struct MeminfoOk {
  const char* name;
  std::string_view input;
  std::int64_t total, free, available;
  bool hasAvailable;
  std::int64_t swapTotal, swapFree;
};

constexpr std::int64_t kKiB = 1024;

const MeminfoOk kOkCases[] = {
    {"real sample", samples::kMeminfo, 24684084 * kKiB, 24348752 * kKiB, 24327504 * kKiB, true, 0,
     0},
    // Kernel < 3.14: estimate = MemFree + Cached + Buffers; SwapCached must not count.
    {"no MemAvailable",
     "MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  10 kB\nCached:  20 kB\n"
     "SwapCached:  5 kB\nSwapTotal:  2048 kB\nSwapFree:  1024 kB\n",
     1000 * kKiB, 100 * kKiB, 130 * kKiB, false, 2048 * kKiB, 1024 * kKiB},
    {"no MemAvailable, no Cached/Buffers", "MemTotal: 8 kB\nMemFree: 3 kB\n", 8 * kKiB, 3 * kKiB,
     3 * kKiB, false, 0, 0},
    {"order does not matter", "SwapFree: 1 kB\nMemFree: 2 kB\nMemAvailable: 3 kB\nMemTotal: 4 kB",
     4 * kKiB, 2 * kKiB, 3 * kKiB, true, 0, 1 * kKiB},
    {"unit optional", "MemTotal: 5\nMemFree: 1\n", 5 * kKiB, 1 * kKiB, 1 * kKiB, false, 0, 0},
    {"tabs as blanks", "MemTotal:\t5\tkB\nMemFree:\t1 kB\t\n", 5 * kKiB, 1 * kKiB, 1 * kKiB, false,
     0, 0},
    {"garbage in unneeded keys ignored",
     "Foo: zzz\nMemTotal: 5 kB\nHugePages_Total: x y z\nMemFree: 1 kB\n\n\n", 5 * kKiB, 1 * kKiB,
     1 * kKiB, false, 0, 0},
    {"later duplicate wins", "MemTotal: 5 kB\nMemTotal: 6 kB\nMemFree: 1 kB\n", 6 * kKiB, 1 * kKiB,
     1 * kKiB, false, 0, 0},
    {"Cached prefix keys are other keys",
     "MemTotal: 100 kB\nMemFree: 1 kB\nSwapCached: 50 kB\nCachedX: 7 kB\n", 100 * kKiB, 1 * kKiB,
     1 * kKiB, false, 0, 0},
    // 2^54 kB does not fit in an int64 byte count: saturate.
    {"saturates", "MemTotal: 18014398509481984 kB\nMemFree: 18446744073709551615 kB\n", kInt64Max,
     kInt64Max, kInt64Max, false, 0, 0},
    {"estimate saturates",
     "MemTotal: 1 kB\nMemFree: 9007199254740991 kB\nCached: 9007199254740991 kB\n", 1 * kKiB,
     9007199254740991 * kKiB, kInt64Max, false, 0, 0},
    {"largest exact kB", "MemTotal: 9007199254740991 kB\nMemFree: 0 kB\n", 9007199254740991 * kKiB,
     0, 0, false, 0, 0},
};

TEST(Meminfo, OkCases) {
  for (const auto& c : kOkCases) {
    SCOPED_TRACE(c.name);
    const auto r = parseMeminfo(c.input);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->total.value, c.total);
    EXPECT_EQ(r->free.value, c.free);
    EXPECT_EQ(r->available.value, c.available);
    EXPECT_EQ(r->hasAvailable, c.hasAvailable);
    EXPECT_EQ(r->swapTotal.value, c.swapTotal);
    EXPECT_EQ(r->swapFree.value, c.swapFree);
  }
}

struct MeminfoErr {
  const char* name;
  std::string_view input;
  std::string_view message;
};

const MeminfoErr kErrCases[] = {
    {"empty", "", "missing MemTotal"},
    {"only newlines", "\n\n\n", "missing MemTotal"},
    {"no MemFree", "MemTotal: 5 kB\nMemAvailable: 3 kB\n", "missing MemFree"},
    {"no MemTotal", "MemFree: 5 kB\n", "missing MemTotal"},
    {"key must start the line", " MemTotal: 5 kB\nMemFree: 1 kB\n", "missing MemTotal"},
    {"key with NUL", "Mem\0Total: 5 kB\nMemFree: 1 kB\n"sv, "missing MemTotal"},
    {"zero total", "MemTotal: 0 kB\nMemFree: 0 kB\n", "MemTotal is 0"},
    {"letters", "MemTotal: abc kB\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"negative", "MemTotal: 5 kB\nMemFree: -1 kB\n", "bad value for MemFree"},
    {"plus sign", "MemTotal: +5 kB\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"other unit", "MemTotal: 5 MB\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"trailing junk", "MemTotal: 5 kB x\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"number then junk", "MemTotal: 5x kB\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"empty value", "MemTotal:\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"CRLF", "MemTotal: 5 kB\r\nMemFree: 1 kB\r\n", "bad value for MemTotal"},
    {"NUL in value", "MemTotal:\0 5 kB\nMemFree: 1 kB\n"sv, "bad value for MemTotal"},
    {"2^70 kB", "MemTotal: 1180591620717411303424 kB\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"2^64 kB", "MemTotal: 18446744073709551616 kB\nMemFree: 1 kB\n", "bad value for MemTotal"},
    {"bad MemAvailable", "MemTotal: 5 kB\nMemFree: 1 kB\nMemAvailable: ?\n",
     "bad value for MemAvailable"},
    {"bad SwapFree", "MemTotal: 5 kB\nMemFree: 1 kB\nSwapFree: 1 kB 2\n", "bad value for SwapFree"},
    {"bad Cached", "MemTotal: 5 kB\nMemFree: 1 kB\nCached: 1.5 kB\n", "bad value for Cached"},
};

TEST(Meminfo, ErrorCases) {
  for (const auto& c : kErrCases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(isParseError(parseMeminfo(c.input), c.message));
  }
}

// Every prefix of the real sample parses or fails cleanly. A prefix that cuts off
// before the MemFree line must fail; once both lines are complete it must succeed.
TEST(Meminfo, EveryPrefixOfRealSample) {
  const std::string_view full = samples::kMeminfo;
  const std::size_t freeStart = full.find("MemFree:");
  const std::size_t digitsEnd = full.find("24348752", freeStart) + 8;
  const std::size_t freeEnd = full.find('\n', freeStart);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    const auto r = parseMeminfo(text.view());
    if (n <= freeStart) {
      EXPECT_FALSE(r.ok()) << "prefix " << n;  // no MemFree line yet
    } else if (n < digitsEnd) {
      // MemFree is empty (error) or cut into a shorter number (undetectable).
      if (r.ok()) {
        EXPECT_LT(r->free.value, 24348752 * kKiB) << "prefix " << n;
      }
    } else if (n > freeEnd && full[n - 1] == '\n') {
      // Whole lines only: a later needed key cut mid-value (e.g. "MemAvailable:") is
      // an error.
      ASSERT_TRUE(r.ok()) << "prefix " << n << ": " << r.error().message();
      EXPECT_EQ(r->total.value, 24684084 * kKiB);
      EXPECT_EQ(r->free.value, 24348752 * kKiB);
    }
  }
}

TEST(Meminfo, ShowHelperEscapes) {
  // Sanity check of the helper used in failure messages of other tests.
  EXPECT_EQ(show("a\n\0"sv), "a\\x0a\\x00");
}

}  // namespace
}  // namespace ork::parse
