// The helpers in ParseUtil.h.
#include <gtest/gtest.h>

#include <vector>

#include "TestUtil.h"
#include "ork/parse/ParseUtil.h"

namespace ork::parse::detail {
namespace {

using namespace std::string_view_literals;
using testing::kInt64Max;

TEST(ParseUtil, LineReader) {
  struct Case {
    std::string_view text;
    std::vector<std::string_view> lines;
  };
  const Case cases[] = {
      {"", {}},
      {"\n", {""}},
      {"a", {"a"}},
      {"a\n", {"a"}},
      {"a\nb", {"a", "b"}},
      {"a\n\nb\n", {"a", "", "b"}},
      {"a\0b\n\0"sv, {"a\0b"sv, "\0"sv}},
  };
  for (const auto& c : cases) {
    LineReader r(c.text);
    std::vector<std::string_view> got;
    std::string_view line;
    while (r.next(line)) got.push_back(line);
    EXPECT_EQ(got, c.lines);
  }
}

TEST(ParseUtil, ParseDecimal) {
  struct Case {
    std::string_view in;
    bool ok;
    double value;
  };
  const Case cases[] = {
      {"0", true, 0},           {"0.00", true, 0},
      {"1.23", true, 1.23},     {"100.00", true, 100},
      {"0.01", true, 0.01},     {"999999999.5", true, 999999999.5},
      {"007.50", true, 7.5},    {"", false, 0},
      {".", false, 0},          {"1.", false, 0},
      {".1", false, 0},         {"-1", false, 0},
      {"+1", false, 0},         {"1e3", false, 0},
      {"1 ", false, 0},         {" 1", false, 0},
      {"inf", false, 0},        {"0x1", false, 0},
      {"1234567890", false, 0}, {"0.1234567890", false, 0},
  };
  for (const auto& c : cases) {
    double v = -1;
    EXPECT_EQ(parseDecimal(c.in, v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.value) << c.in;
    }
  }
}

TEST(ParseUtil, ParseInt) {
  std::uint64_t u = 0;
  EXPECT_TRUE(parseInt("18446744073709551615"sv, u));
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_FALSE(parseInt("18446744073709551616"sv, u));
  EXPECT_FALSE(parseInt("-0"sv, u));
  EXPECT_FALSE(parseInt(""sv, u));
  std::int64_t s = 0;
  EXPECT_TRUE(parseInt("-9223372036854775808"sv, s));
  EXPECT_EQ(s, INT64_MIN);
  EXPECT_FALSE(parseInt("-9223372036854775809"sv, s));
  EXPECT_FALSE(parseInt("-"sv, s));
  std::uint32_t w = 7;
  EXPECT_FALSE(parseInt("4294967296"sv, w));
  EXPECT_EQ(w, 7u) << "untouched on failure";
}

TEST(ParseUtil, SaturatingConversions) {
  EXPECT_EQ(bytesFromKib(0).value, 0);
  EXPECT_EQ(bytesFromKib(1).value, 1024);
  EXPECT_EQ(bytesFromKib(9007199254740991).value, 9007199254740991 * 1024);
  EXPECT_EQ(bytesFromKib(9007199254740992).value, kInt64Max);
  EXPECT_EQ(bytesFromKib(UINT64_MAX).value, kInt64Max);
  EXPECT_EQ(bytesFromU64(9223372036854775807u).value, kInt64Max);
  EXPECT_EQ(bytesFromU64(9223372036854775808u).value, kInt64Max);
  EXPECT_EQ(bytesFromU64(5).value, 5);
  EXPECT_EQ(saturatingAdd(Bytes{kInt64Max}, Bytes{1}).value, kInt64Max);
  EXPECT_EQ(saturatingAdd(Bytes{INT64_MIN}, Bytes{-1}).value, INT64_MIN);
  EXPECT_EQ(saturatingAdd(Bytes{2}, Bytes{3}).value, 5);
}

// What ProcessInfo keeps of a process's memory: 32-bit KiB, rounded up, saturating at
// 4 TiB - 1 KiB (a 4 TiB process and larger), never wrapping; nothing stays nothing.
TEST(ParseUtil, Kib32RoundsUpAndSaturates) {
  constexpr std::int64_t kTib = std::int64_t{1} << 40;
  const Bytes most{std::int64_t{Kib32::kMax} * 1024};
  struct Case {
    Bytes in;
    Bytes out;
  };
  for (const Case& c : {Case{Bytes{0}, Bytes{0}}, Case{Bytes{-5}, Bytes{0}}, Case{Bytes{INT64_MIN}, Bytes{0}},
                        Case{Bytes{1}, Bytes::kib(1)}, Case{Bytes{1023}, Bytes::kib(1)}, Case{Bytes{1024}, Bytes::kib(1)},
                        Case{Bytes{1025}, Bytes::kib(2)}, Case{Bytes::gib(3), Bytes::gib(3)},
                        Case{Bytes{kTib - 1024}, Bytes{kTib - 1024}}, Case{Bytes{kTib * 4 - 1024}, most},
                        Case{Bytes{kTib * 4 - 1}, most}, Case{Bytes{kTib * 4}, most}, Case{Bytes{kTib * 5}, most},
                        Case{Bytes{kInt64Max}, most}}) {
    Kib32 k;
    k = c.in;
    EXPECT_EQ(k.bytes(), c.out) << c.in.value;
    EXPECT_EQ(static_cast<Bytes>(k), c.out) << c.in.value;
    EXPECT_EQ(k.saturated(), c.out == most) << c.in.value;
    EXPECT_EQ(Kib32(c.in).bytes(), c.out) << c.in.value;
  }
  EXPECT_EQ(most.value, 4 * kTib - 1024);
  static_assert(sizeof(Kib32) == 4);
}

TEST(ParseUtil, NextTokenAndTrim) {
  std::string_view s = " \ta  b\t";
  EXPECT_EQ(nextToken(s), "a");
  EXPECT_EQ(nextToken(s), "b");
  EXPECT_EQ(nextToken(s), "");
  EXPECT_EQ(nextToken(s), "");
  EXPECT_EQ(trimBlanks(" \t x y \t"), "x y");
  EXPECT_EQ(trimBlanks(" \t "), "");
  EXPECT_EQ(dropNewline("1\n"), "1");
  EXPECT_EQ(dropNewline("1\n\n"), "1\n");
  EXPECT_EQ(dropNewline(""), "");
}

}  // namespace
}  // namespace ork::parse::detail
