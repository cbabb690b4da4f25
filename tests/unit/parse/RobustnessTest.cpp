// Every parser against every prefix of every sample, random bytes and mutated samples.
// Nothing here may crash or read out of bounds (run under ASan to check the latter:
// inputs are exactly-sized heap copies). Invariants that hold for any input are
// asserted too.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "Samples.h"
#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;

const std::string_view kAllSamples[] = {
    samples::kMeminfo,
    samples::kSelfStat,
    samples::kKworkerStat,
    samples::kKthreaddStat,
    samples::kZombieStat,
    samples::kSelfStatus,
    samples::kKthreaddStatus,
    samples::kZombieStatus,
    samples::kPressureMemory,
    samples::kPressureCpu,
    samples::kV1MemoryStat,
    samples::kV1OomControl,
    samples::kV1LimitInBytes,
    samples::kHybridCgroup,
    samples::kPasswd,
    samples::kV2MemoryStat,
    samples::kV2MemoryEvents,
    samples::kArcstats,
    samples::kOldKernelUserStatus,
    samples::kOldKernelKthreadStatus,
};

bool within(std::string_view inner, std::string_view outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

// Runs every parser on text and checks the input-independent invariants. Returns the
// number of parsers that accepted the text (used only to make the calls observable).
int runAll(std::string_view text) {
  int accepted = 0;
  accepted += parseMeminfo(text).ok();
  if (const auto st = parseProcStat(text); st.ok()) {
    ++accepted;
    EXPECT_EQ(st->comm[16], '\0');
    EXPECT_GT(st->pid, 0);
  } else {
    EXPECT_EQ(st.error().code, detail::kParseErrorCode);
    EXPECT_LT(std::strlen(st.error().what), sizeof st.error().what);
  }
  accepted += parseProcStatus(text).ok();
  if (const auto adj = parseOomScoreAdj(text); adj.ok()) {
    ++accepted;
    EXPECT_GE(*adj, -1000);
    EXPECT_LE(*adj, 1000);
  }
  char out[32];
  std::memset(out, 'X', sizeof out);
  const std::size_t n = formatCmdline(text, out, 16);
  EXPECT_LT(n, 16u);
  EXPECT_EQ(out[n], '\0');
  EXPECT_EQ(out[16], 'X');
  EXPECT_TRUE(within(cgroupPathFromProc(text), text));
  accepted += parsePsi(text).ok();
  accepted += parseUint(text).ok();
  if (const auto lim = parseCgroupLimit(text); lim.ok()) {
    ++accepted;
    if (lim->has_value()) {
      EXPECT_LT(**lim, std::uint64_t{1} << 62);
    }
  }
  if (const auto ms = parseCgroupMemStat(text); ms.ok()) {
    ++accepted;
    EXPECT_GE(ms->anon.value, 0);
    EXPECT_GE(ms->file.value, 0);
  }
  accepted += parseOomKillCount(text).ok();
  accepted += parseArcstats(text).ok();
  EXPECT_TRUE(within(userNameFromPasswd(text, 0), text));
  EXPECT_TRUE(within(userNameFromPasswd(text, 5), text));
  return accepted;
}

TEST(Robustness, EveryPrefixOfEverySampleThroughEveryParser) {
  int accepted = 0;
  for (const std::string_view full : kAllSamples) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const HeapText text(full.substr(0, n));
      accepted += runAll(text.view());
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(Robustness, EverySuffixOfEverySample) {
  for (const std::string_view full : kAllSamples) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const HeapText text(full.substr(n));
      runAll(text.view());
    }
  }
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(12345);  // fixed seed: reproducible
  // Byte alphabets: all bytes, and one rich in the characters the parsers look for.
  const std::string_view rich =
      "0123456789 \t\n:()=.-kBmaxsomefulltotal_avg\0"
      "MemTotalFreeVmRSSUidKthread"sv;
  for (int iter = 0; iter < 20000; ++iter) {
    const std::size_t len = rng() % 200;
    std::string s(len, '\0');
    const bool useRich = iter % 2 == 0;
    for (char& c : s) {
      c = useRich ? rich[rng() % rich.size()] : static_cast<char>(rng() & 0xff);
    }
    const HeapText text(s);
    runAll(text.view());
  }
}

TEST(Robustness, MutatedSamples) {
  std::mt19937 rng(777);
  const char interesting[] = {'\0', '\n', ' ', '\t', ':', '(', ')', '=', '.', '-', '9', '\xff'};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s(kAllSamples[rng() % std::size(kAllSamples)]);
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[pos] = interesting[rng() % sizeof interesting];
          break;
        case 1:
          s.erase(pos, 1 + rng() % 8);
          break;
        case 2:
          s.insert(pos, 1, interesting[rng() % sizeof interesting]);
          break;
        default:
          s.insert(pos, std::string(1 + rng() % 25, '9'));
          break;  // huge numbers
      }
    }
    const HeapText text(s);
    runAll(text.view());
  }
}

TEST(Robustness, HugeNumbers) {
  const std::string big(5000, '9');
  EXPECT_FALSE(parseUint(big).ok());
  EXPECT_FALSE(parseCgroupLimit(big).ok());
  EXPECT_FALSE(parseOomScoreAdj(big).ok());
  EXPECT_FALSE(parseMeminfo("MemTotal: " + big + " kB\nMemFree: 1 kB\n").ok());
  EXPECT_FALSE(parseProcStatus("Name:\tx\nVmRSS:\t" + big + " kB\n").ok());
  EXPECT_FALSE(parsePsi("some avg10=" + big + " avg60=0 avg300=0 total=0\n").ok());
  EXPECT_FALSE(parsePsi("some avg10=0." + big + " avg60=0 avg300=0 total=0\n").ok());
  EXPECT_FALSE(parseCgroupMemStat("anon " + big + "\n").ok());
  EXPECT_FALSE(parseOomKillCount("oom_kill " + big + "\n").ok());
  EXPECT_FALSE(parseArcstats("size 4 " + big + "\nc_min 4 1\n").ok());
  EXPECT_EQ(userNameFromPasswd("x:x:" + big + ":0::/:/bin/sh\n", 0), "");
  // A huge pid / field: stat must refuse, not wrap.
  EXPECT_FALSE(
      parseProcStat(big + " (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\n").ok());
}

TEST(Robustness, LongLines) {
  // A 1 MiB name and a 1 MiB line of blanks: no quadratic blowup, no crash.
  const std::string name(1 << 20, 'a');
  const auto st =
      parseProcStat("1 (" + name + ") S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\n");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(std::string(st->comm), std::string(16, 'a'));
  const std::string blanks(1 << 20, ' ');
  EXPECT_FALSE(parseMeminfo(blanks).ok());
  EXPECT_FALSE(parsePsi(blanks).ok());
  EXPECT_FALSE(parseCgroupMemStat(blanks).ok());
}

}  // namespace
}  // namespace ork::parse
