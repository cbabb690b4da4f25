// Single-value files: oom_score_adj, parseUint, parseCgroupLimit, parseOomKillCount.
#include <gtest/gtest.h>

#include "Samples.h"
#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;
using testing::isParseError;
using testing::show;

// ---- /proc/uptime -------------------------------------------------------------------

// A finite, non-negative number of seconds, or an error: never NaN or inf (which would
// make every process "just started", through an undefined conversion).
TEST(Uptime, Cases) {
  struct Case {
    std::string_view input;
    bool ok;
    double seconds;
  };
  const Case cases[] = {
      {"10000.00 20000.00\n", true, 10000.0},
      {"350735.47 234388.90\n", true, 350735.47},
      {"0.01 0.00\n", true, 0.01},
      {"12\n", true, 12},
      {"999999999.99 1\n", true, 999999999.99},
      {"nan 1\n", false, 0},
      {"NaN\n", false, 0},
      {"inf 1\n", false, 0},
      {"-inf\n", false, 0},
      {"infinity\n", false, 0},
      {"1e400 1\n", false, 0},
      {"1e3\n", false, 0},
      {"-5.00 1\n", false, 0},
      {"+5.00 1\n", false, 0},
      {"18446744073709551616.00 1\n", false, 0},
      {"1000000000.00 1\n", false, 0},  // 10 integer digits: over 31 years
      {"0x10 1\n", false, 0},
      {"12.\n", false, 0},
      {"", false, 0},
      {"\n", false, 0},
      {" 12.00\n", true, 12},
      {"12.00garbage 1\n", false, 0},
  };
  for (const auto& c : cases) {
    const auto r = parseUptime(c.input);
    EXPECT_EQ(r.ok(), c.ok) << show(c.input);
    if (c.ok && r.ok()) {
      EXPECT_DOUBLE_EQ(*r, c.seconds) << show(c.input);
    }
    if (!c.ok) {
      EXPECT_TRUE(isParseError(r, "uptime: not a number of seconds")) << show(c.input);
    }
  }
}

TEST(BytesFromPages, SaturatesAtTheMostAProcessCanHold) {
  EXPECT_EQ(bytesFromPages(0, 4096).value, 0);
  EXPECT_EQ(bytesFromPages(-1, 4096).value, 0);
  EXPECT_EQ(bytesFromPages(10, 0).value, 0);
  EXPECT_EQ(bytesFromPages(10, -4096).value, 0);
  EXPECT_EQ(bytesFromPages(2500, 4096).value, 2500 * 4096);
  EXPECT_EQ(bytesFromPages(static_cast<std::int64_t>(kMaxRssPages), 4096).value, kMaxProcessMemory);
  EXPECT_EQ(bytesFromPages(static_cast<std::int64_t>(kMaxRssPages), 65536).value, kMaxProcessMemory);
  EXPECT_EQ(bytesFromPages(INT64_MAX, 4096).value, kMaxProcessMemory);
  EXPECT_EQ(bytesFromPages(INT64_MAX, 1).value, kMaxProcessMemory);
}

// ---- oom_score_adj ----------------------------------------------------------------

struct IntCase {
  std::string_view input;
  bool ok;
  int value;
};

const IntCase kOomScoreAdjCases[] = {
    {"0\n", true, 0},
    {"0", true, 0},
    {"-1000\n", true, -1000},
    {"1000\n", true, 1000},
    {"-17\n", true, -17},
    {"-0\n", true, 0},
    {"1001\n", false, 0},
    {"-1001\n", false, 0},
    {"2147483648\n", false, 0},
    {"-2147483649\n", false, 0},
    {"99999999999999999999999\n", false, 0},
    {"", false, 0},
    {"\n", false, 0},
    {"-", false, 0},
    {"+5\n", false, 0},
    {" 5\n", false, 0},
    {"5 \n", false, 0},
    {"5\n\n", false, 0},
    {"5\r\n", false, 0},
    {"0x10\n", false, 0},
    {"1e3\n", false, 0},
    {"5\0"sv, false, 0},
    {"\0"
     "5"sv,
     false, 0},
    {"abc", false, 0},
};

TEST(OomScoreAdj, Cases) {
  for (const auto& c : kOomScoreAdjCases) {
    SCOPED_TRACE(show(c.input));
    const auto r = parseOomScoreAdj(c.input);
    if (c.ok) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(*r, c.value);
    } else {
      EXPECT_TRUE(isParseError(r, "oom_score_adj"));
    }
  }
}

// ---- parseUint ----------------------------------------------------------------------

struct UintCase {
  std::string_view input;
  bool ok;
  std::uint64_t value;
};

const UintCase kUintCases[] = {
    {"123\n", true, 123},
    {"0", true, 0},
    {"007\n", true, 7},
    {"18446744073709551615\n", true, UINT64_MAX},
    {"18446744073709551616\n", false, 0},
    {"1180591620717411303424\n", false, 0},
    {"-1\n", false, 0},
    {"+1\n", false, 0},
    {"", false, 0},
    {"\n", false, 0},
    {"12a\n", false, 0},
    {"1 2\n", false, 0},
    {"1\n2\n", false, 0},
    {"max\n", false, 0},
    {"1.5\n", false, 0},
    {"1\0"sv, false, 0},
};

TEST(ParseUint, Cases) {
  for (const auto& c : kUintCases) {
    SCOPED_TRACE(show(c.input));
    const auto r = parseUint(c.input);
    if (c.ok) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(*r, c.value);
    } else {
      EXPECT_TRUE(isParseError(r, "not an unsigned"));
    }
  }
}

// ---- parseCgroupLimit ----------------------------------------------------------------

struct LimitCase {
  std::string_view input;
  bool ok;
  bool limited;
  std::uint64_t value;
};

const LimitCase kLimitCases[] = {
    {"max\n", true, false, 0},
    {"max", true, false, 0},
    {samples::kV1LimitInBytes, true, false, 0},  // 9223372036854771712: v1 "no limit"
    {"9223372036854710272\n", true, false, 0},   // v1 "no limit" with 64 KiB pages
    {"4611686018427387904\n", true, false, 0},   // 2^62
    {"18446744073709551615\n", true, false, 0},  // 2^64-1
    {"4611686018427387903\n", true, true, 4611686018427387903},  // 2^62-1
    {"536870912\n", true, true, 536870912},
    {"0\n", true, true, 0},
    {"4096", true, true, 4096},
    {"18446744073709551616\n", false, false, 0},
    {"", false, false, 0},
    {"\n", false, false, 0},
    {"MAX\n", false, false, 0},
    {"maxx\n", false, false, 0},
    {"ma", false, false, 0},
    {" max\n", false, false, 0},
    {"max \n", false, false, 0},
    {"max\n\n", false, false, 0},
    {"-1\n", false, false, 0},
    {"1G\n", false, false, 0},
    {"max\0"sv, false, false, 0},
};

TEST(CgroupLimit, Cases) {
  for (const auto& c : kLimitCases) {
    SCOPED_TRACE(show(c.input));
    const auto r = parseCgroupLimit(c.input);
    if (!c.ok) {
      EXPECT_TRUE(isParseError(r, "cgroup limit"));
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->has_value(), c.limited);
    if (c.limited) {
      EXPECT_EQ(**r, c.value);
    }
  }
}

// ---- parseOomKillCount ------------------------------------------------------------------

struct OomKillCase {
  const char* name;
  std::string_view input;
  bool ok;
  std::uint64_t value;
};

const OomKillCase kOomKillCases[] = {
    {"real v1 oom_control", samples::kV1OomControl, true, 0},
    {"v2 memory.events", samples::kV2MemoryEvents, true, 3},
    {"v1, no trailing newline", "oom_kill_disable 0\nunder_oom 0\noom_kill 3", true, 3},
    {"disable before", "oom_kill_disable 7\noom_kill 2\n", true, 2},
    {"disable after", "oom_kill 2\noom_kill_disable 7\n", true, 2},
    {"group kill is another key", "oom_group_kill 9\noom_kill 1\n", true, 1},
    {"max value", "oom_kill 18446744073709551615\n", true, UINT64_MAX},
    {"leading blanks", "  oom_kill\t4\n", true, 4},
    {"only disable", "oom_kill_disable 1\nunder_oom 0\n", false, 0},
    {"only group kill", "oom_group_kill 5\n", false, 0},
    {"prefixed key", "xoom_kill 3\n", false, 0},
    {"empty", "", false, 0},
    {"garbage", "\xff\xff\xff\n\0\0"sv, false, 0},
    {"no value", "oom_kill\n", false, 0},
    {"negative", "oom_kill -1\n", false, 0},
    {"2^64", "oom_kill 18446744073709551616\n", false, 0},
    {"trailing junk", "oom_kill 3 x\n", false, 0},
    {"colon form", "oom_kill: 3\n", false, 0},
};

TEST(OomKillCount, Cases) {
  for (const auto& c : kOomKillCases) {
    SCOPED_TRACE(c.name);
    const auto r = parseOomKillCount(c.input);
    if (c.ok) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(*r, c.value);
    } else {
      EXPECT_TRUE(isParseError(r, "oom_kill"));
    }
  }
}

TEST(OomKillCount, EveryPrefixOfRealSample) {
  const std::string_view full = samples::kV1OomControl;  // "...\noom_kill 0\n"
  const std::size_t valueStart = full.rfind(' ') + 1;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    const auto r = parseOomKillCount(text.view());
    EXPECT_EQ(r.ok(), n > valueStart) << n;
  }
}

TEST(ScalarFiles, EveryPrefixOfNumbers) {
  const std::string_view full = "9223372036854771712\n";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    const auto u = parseUint(text.view());
    const auto l = parseCgroupLimit(text.view());
    const auto a = parseOomScoreAdj(text.view());
    EXPECT_EQ(u.ok(), n > 0) << n;
    EXPECT_EQ(l.ok(), n > 0) << n;
    EXPECT_EQ(a.ok(), n >= 1 && n <= 3) << n;  // "9", "92", "922"
  }
}

}  // namespace
}  // namespace ork::parse
