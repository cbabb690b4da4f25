// parsePsi: /proc/pressure/* and cgroup *.pressure.
#include <gtest/gtest.h>

#include "Samples.h"
#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;
using testing::isParseError;

struct PsiOk {
  const char* name;
  std::string_view input;
  PsiLine some;
  bool hasFull;
  PsiLine full;
};

const PsiOk kOkCases[] = {
    {"real memory", samples::kPressureMemory, {0, 0, 0, 0}, true, {0, 0, 0, 0}},
    {"real cpu", samples::kPressureCpu, {1.14, 1.52, 1.29, 7355086}, true, {0, 0, 0, 0}},
    {"cpu, old kernel: no full",
     "some avg10=0.31 avg60=0.12 avg300=0.05 total=123456\n",
     {0.31, 0.12, 0.05, 123456},
     false,
     {}},
    {"values",
     "some avg10=12.34 avg60=100.00 avg300=0.01 total=18446744073709551615\n"
     "full avg10=99.99 avg60=50.50 avg300=7.07 total=42\n",
     {12.34, 100.00, 0.01, UINT64_MAX},
     true,
     {99.99, 50.50, 7.07, 42}},
    {"full first",
     "full avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
     "some avg10=5.00 avg60=6.00 avg300=7.00 total=8",
     {5, 6, 7, 8},
     true,
     {1, 2, 3, 4}},
    {"no decimals, many decimals",
     "some avg10=1 avg60=0.123456789 avg300=999999999 total=0\n",
     {1, 0.123456789, 999999999, 0},
     false,
     {}},
    {"tabs, extra blanks",
     "some\tavg10=1.00  avg60=2.00\tavg300=3.00 total=4 \n",
     {1, 2, 3, 4},
     false,
     {}},
    {"unknown key skipped",
     "some avg10=1.00 avg60=2.00 avg300=3.00 total=4 avg1=9.00\n",
     {1, 2, 3, 4},
     false,
     {}},
    {"keys in any order",
     "some total=4 avg300=3.00 avg60=2.00 avg10=1.00\n",
     {1, 2, 3, 4},
     false,
     {}},
    {"unknown lines skipped",
     "other avg10=x\n\nsome avg10=1.00 avg60=2.00 avg300=3.00 total=4\n",
     {1, 2, 3, 4},
     false,
     {}},
};

TEST(Psi, OkCases) {
  for (const auto& c : kOkCases) {
    SCOPED_TRACE(c.name);
    const auto r = parsePsi(c.input);
    ASSERT_TRUE(r.ok()) << r.error().message();
    // Exact: "1.14" must give the double nearest to 1.14, as the literal does.
    EXPECT_EQ(r->some.avg10, c.some.avg10);
    EXPECT_EQ(r->some.avg60, c.some.avg60);
    EXPECT_EQ(r->some.avg300, c.some.avg300);
    EXPECT_EQ(r->some.totalUs, c.some.totalUs);
    EXPECT_EQ(r->hasFull, c.hasFull);
    EXPECT_EQ(r->full.avg10, c.full.avg10);
    EXPECT_EQ(r->full.avg60, c.full.avg60);
    EXPECT_EQ(r->full.avg300, c.full.avg300);
    EXPECT_EQ(r->full.totalUs, c.full.totalUs);
  }
}

struct PsiErr {
  const char* name;
  std::string_view input;
  std::string_view message;
};

const PsiErr kErrCases[] = {
    {"empty", "", "missing \"some\""},
    {"garbage", "\xff\xfe\x01\n", "missing \"some\""},
    {"only full", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "missing \"some\""},
    {"bare some", "some\n", "bad \"some\""},
    {"missing total", "some avg10=0.00 avg60=0.00 avg300=0.00\n", "bad \"some\""},
    {"missing avg300", "some avg10=0.00 avg60=0.00 total=0\n", "bad \"some\""},
    {"token without =", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 x\n", "bad \"some\""},
    {"empty value", "some avg10= avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"trailing dot", "some avg10=1. avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"leading dot", "some avg10=.5 avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"negative", "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"exponent", "some avg10=1e5 avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"comma decimal", "some avg10=1,50 avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"two dots", "some avg10=1.2.3 avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"nan", "some avg10=nan avg60=0.00 avg300=0.00 total=0\n", "bad \"some\""},
    {"10 integer digits", "some avg10=1234567890.00 avg60=0.00 avg300=0.00 total=0\n",
     "bad \"some\""},
    {"10 fraction digits", "some avg10=0.1234567890 avg60=0.00 avg300=0.00 total=0\n",
     "bad \"some\""},
    {"huge", "some avg10=99999999999999999999999999.00 avg60=0 avg300=0 total=0\n", "bad \"some\""},
    {"total 2^64", "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n",
     "bad \"some\""},
    {"total float", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1.5\n", "bad \"some\""},
    {"NUL in value", "some avg10=0.0\0 avg60=0.00 avg300=0.00 total=0\n"sv, "bad \"some\""},
    {"bad full", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=x\n", "bad \"full\""},
    {"truncated full", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg",
     "bad \"full\""},
};

TEST(Psi, ErrorCases) {
  for (const auto& c : kErrCases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(isParseError(parsePsi(c.input), c.message));
  }
}

TEST(Psi, EveryPrefixOfRealSample) {
  const std::string_view full = samples::kPressureCpu;
  const std::size_t someTotal = full.find("total=") + 7;  // just past the total's first digit
  const std::size_t fullStart = full.find("full");
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    const auto r = parsePsi(text.view());
    if (n < someTotal) {
      EXPECT_FALSE(r.ok()) << n;
    } else if (n <= fullStart + 4) {
      // "some" complete (its total maybe cut short); "f", "fu", "ful" are unknown
      // lines, a bare "full" is a bad line.
      EXPECT_EQ(r.ok(), n < fullStart + 4) << n;
      if (r.ok()) {
        EXPECT_EQ(r->some.avg10, 1.14);
        EXPECT_FALSE(r->hasFull);
      }
    } else if (n == full.size()) {
      ASSERT_TRUE(r.ok());
      EXPECT_TRUE(r->hasFull);
    }
  }
}

}  // namespace
}  // namespace ork::parse
