// Memory thresholds, levels, the episode state machine, kill pacing and the adaptive
// sampling interval, with a fake clock.
#include "ork/policy/MemoryRule.h"

#include <gtest/gtest.h>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"

namespace ork::policy {
namespace {

using config::Config;
using config::Key;

MemorySample sample(TimePoint at, Bytes total, Bytes available, Bytes swapTotal = Bytes{0},
                    Bytes swapFree = Bytes{0}) {
  MemorySample s;
  s.at = at;
  s.total = total;
  s.available = available;
  s.swapTotal = swapTotal;
  s.swapFree = swapFree;
  return s;
}

TimePoint at(Nanos d) { return TimePoint{} + d; }

// ---- thresholds -------------------------------------------------------------------

TEST(MemoryThresholdsTest, Table) {
  Config cfg;
  struct Case {
    const char* name;
    Bytes total;
    Bytes soft;
    Bytes hard;
  };
  const Case cases[] = {
      // 10 % and 5 % of 16 GiB, truncated to whole bytes.
      {"16 GiB", Bytes::gib(16), Bytes{1717986918}, Bytes{858993459}},
      {"1 GiB", Bytes::gib(1), Bytes{107374182}, Bytes{53687091}},
      // 10 % of 40 GiB = 4 GiB exactly: equal to the cap.
      {"40 GiB", Bytes::gib(40), Bytes::mib(4096), Bytes::mib(2048)},
      {"64 GiB: capped", Bytes::gib(64), Bytes::mib(4096), Bytes::mib(2048)},
      {"1 TiB: capped", Bytes::gib(1024), Bytes::mib(4096), Bytes::mib(2048)},
      {"empty", Bytes{0}, Bytes{0}, Bytes{0}},
  };
  for (const auto& c : cases) {
    MemoryThresholds t = memoryThresholds(c.total, cfg);
    EXPECT_EQ(t.soft, c.soft) << c.name;
    EXPECT_EQ(t.hard, c.hard) << c.name;
  }
}

TEST(MemoryThresholdsTest, CustomCaps) {
  Config cfg;
  cfg.set(Key::MemorySoftMaxMib, 8192);
  cfg.set(Key::MemoryHardMaxMib, 1024);
  MemoryThresholds t = memoryThresholds(Bytes::gib(1024), cfg);
  EXPECT_EQ(t.soft, Bytes::mib(8192));
  EXPECT_EQ(t.hard, Bytes::mib(1024));
}

TEST(MemoryThresholdsTest, HardNeverAboveSoft) {
  Config cfg;
  cfg.set(Key::MemorySoftMaxMib, 100);  // soft capped far below the hard cap
  MemoryThresholds t = memoryThresholds(Bytes::gib(1024), cfg);
  EXPECT_EQ(t.soft, Bytes::mib(100));
  EXPECT_EQ(t.hard, Bytes::mib(100));
}

// ---- classify ------------------------------------------------------------------------

TEST(ClassifyTest, Table) {
  Config cfg;
  const MemoryThresholds t{Bytes::gib(2), Bytes::gib(1)};
  const Bytes total = Bytes::gib(32);
  const Bytes swap = Bytes::gib(8);
  const Bytes swapFloor = Bytes{858993459};  // 10 % of 8 GiB
  struct Case {
    const char* name;
    Bytes available;
    Bytes swapTotal;
    Bytes swapFree;
    MemoryLevel want;
  };
  const Case cases[] = {
      {"plenty", Bytes::gib(10), Bytes{0}, Bytes{0}, MemoryLevel::Ok},
      {"at soft", Bytes::gib(2), Bytes{0}, Bytes{0}, MemoryLevel::Ok},
      {"just below soft", Bytes::gib(2) - Bytes{1}, Bytes{0}, Bytes{0}, MemoryLevel::Soft},
      {"at hard", Bytes::gib(1), Bytes{0}, Bytes{0}, MemoryLevel::Soft},
      {"below hard, no swap", Bytes::gib(1) - Bytes{1}, Bytes{0}, Bytes{0}, MemoryLevel::Hard},
      {"zero", Bytes{0}, Bytes{0}, Bytes{0}, MemoryLevel::Hard},
      {"below hard, plenty of swap", Bytes::mib(100), swap, Bytes::gib(4), MemoryLevel::Soft},
      {"below hard, swap just above floor", Bytes::mib(100), swap, swapFloor + Bytes{1},
       MemoryLevel::Soft},
      {"below hard, swap at floor", Bytes::mib(100), swap, swapFloor, MemoryLevel::Hard},
      {"below hard, swap exhausted", Bytes::mib(100), swap, Bytes::mib(10), MemoryLevel::Hard},
      {"soft with swap", Bytes::mib(1500), swap, Bytes{0}, MemoryLevel::Soft},
      {"ok with swap exhausted", Bytes::gib(3), swap, Bytes{0}, MemoryLevel::Ok},
  };
  for (const auto& c : cases) {
    MemorySample s = sample(TimePoint{}, total, c.available, c.swapTotal, c.swapFree);
    EXPECT_EQ(classify(s, t, cfg), c.want) << c.name;
  }
}

TEST(ClassifyTest, SwapFreePercentIsConfigurable) {
  Config cfg;
  cfg.set(Key::MemorySwapFreePercent, 60);
  const MemoryThresholds t{Bytes::gib(2), Bytes::gib(1)};
  MemorySample s = sample(TimePoint{}, Bytes::gib(32), Bytes::mib(100), Bytes::gib(8), Bytes::gib(4));
  EXPECT_EQ(classify(s, t, cfg), MemoryLevel::Hard);
  cfg.set(Key::MemorySwapFreePercent, 0);
  s.swapFree = Bytes{1};
  EXPECT_EQ(classify(s, t, cfg), MemoryLevel::Soft);
}

// ---- the episode ---------------------------------------------------------------------

class MemoryRuleTest : public ::testing::Test {
 protected:
  // 16 GiB host: soft 1717986918 bytes, hard 858993459 bytes, no swap.
  static constexpr Bytes kTotal = Bytes::gib(16);
  static constexpr Bytes kOkAvail = Bytes::gib(8);
  static constexpr Bytes kSoftAvail = Bytes::gib(1);  // between hard and soft
  static constexpr Bytes kHardAvail = Bytes::mib(512);
  static constexpr Bytes kSoft = Bytes{1717986918};

  MemoryVerdict eval(MemoryRule& rule, Bytes available) {
    return rule.evaluate(sample(clock_.now(), kTotal, available), clock_.now());
  }
  Config cfg_;
  FakeClock clock_;
};

TEST_F(MemoryRuleTest, EpisodeFlags) {
  MemoryRule rule(cfg_, false);
  MemoryVerdict v = eval(rule, kOkAvail);
  EXPECT_EQ(v.level, MemoryLevel::Ok);
  EXPECT_FALSE(v.episodeStarted || v.hardEntered || v.episodeEnded || v.killDue);
  EXPECT_EQ(v.need, Bytes{0});
  EXPECT_EQ(v.thresholds.soft, kSoft);
  EXPECT_FALSE(rule.inEpisode());

  clock_.advance(Seconds{1});
  v = eval(rule, kSoftAvail);
  EXPECT_EQ(v.level, MemoryLevel::Soft);
  EXPECT_TRUE(v.episodeStarted);
  EXPECT_FALSE(v.hardEntered);
  EXPECT_FALSE(v.killDue);
  EXPECT_FALSE(v.episodeEnded);
  EXPECT_EQ(v.need, kSoft - kSoftAvail);
  EXPECT_TRUE(rule.inEpisode());

  clock_.advance(Seconds{1});
  const TimePoint hardAt = clock_.now();
  v = eval(rule, kHardAvail);
  EXPECT_EQ(v.level, MemoryLevel::Hard);
  EXPECT_FALSE(v.episodeStarted);
  EXPECT_TRUE(v.hardEntered);
  EXPECT_TRUE(v.killDue);
  EXPECT_EQ(v.need, kSoft - kHardAvail);
  EXPECT_EQ(rule.hardSince(), hardAt);

  clock_.advance(Millis{10});
  v = eval(rule, kHardAvail);
  EXPECT_FALSE(v.episodeStarted);
  EXPECT_FALSE(v.hardEntered);
  EXPECT_TRUE(v.killDue);  // no kill was made yet
  EXPECT_EQ(rule.hardSince(), hardAt);

  clock_.advance(Millis{10});
  v = eval(rule, kSoftAvail);  // back above hard, still in the episode
  EXPECT_EQ(v.level, MemoryLevel::Soft);
  EXPECT_FALSE(v.episodeStarted || v.hardEntered || v.episodeEnded || v.killDue);

  clock_.advance(Millis{10});
  v = eval(rule, kHardAvail);
  EXPECT_TRUE(v.hardEntered);  // a new stretch below hard
  EXPECT_EQ(rule.hardSince(), clock_.now());

  clock_.advance(Millis{10});
  v = eval(rule, kOkAvail);
  EXPECT_EQ(v.level, MemoryLevel::Ok);
  EXPECT_TRUE(v.episodeEnded);
  EXPECT_FALSE(rule.inEpisode());

  clock_.advance(Millis{10});
  v = eval(rule, kOkAvail);
  EXPECT_FALSE(v.episodeEnded);  // once only
}

TEST_F(MemoryRuleTest, StraightToHardStartsEpisodeAndEntersHard) {
  MemoryRule rule(cfg_, false);
  MemoryVerdict v = eval(rule, kHardAvail);
  EXPECT_TRUE(v.episodeStarted);
  EXPECT_TRUE(v.hardEntered);
  EXPECT_TRUE(v.killDue);
}

TEST_F(MemoryRuleTest, KillDueWaitsForDeadline) {
  MemoryRule rule(cfg_, false);
  ASSERT_TRUE(eval(rule, kHardAvail).killDue);
  const TimePoint killedAt = clock_.now();
  rule.onKill(killedAt);
  EXPECT_TRUE(rule.killInFlight(killedAt));
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  clock_.set(killedAt + Millis{2999});
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  EXPECT_TRUE(rule.killInFlight(clock_.now()));
  clock_.set(killedAt + Millis{3000});
  EXPECT_TRUE(eval(rule, kHardAvail).killDue);
  EXPECT_FALSE(rule.killInFlight(clock_.now()));
}

TEST_F(MemoryRuleTest, DeadlineIsConfigurable) {
  cfg_.set(Key::KillDeadlineMs, 500);
  MemoryRule rule(cfg_, false);
  const TimePoint killedAt = clock_.now();
  rule.onKill(killedAt);
  clock_.set(killedAt + Millis{499});
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  clock_.set(killedAt + Millis{500});
  EXPECT_TRUE(eval(rule, kHardAvail).killDue);
}

TEST_F(MemoryRuleTest, VictimGoneAllowsNextKillAtOnce) {
  MemoryRule rule(cfg_, false);
  ASSERT_TRUE(eval(rule, kHardAvail).killDue);
  rule.onKill(clock_.now());
  clock_.advance(Millis{100});
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  rule.onVictimGone();
  EXPECT_FALSE(rule.killInFlight(clock_.now()));
  EXPECT_TRUE(eval(rule, kHardAvail).killDue);
}

TEST_F(MemoryRuleTest, EpisodeEndClearsPendingKill) {
  MemoryRule rule(cfg_, false);
  ASSERT_TRUE(eval(rule, kHardAvail).killDue);
  rule.onKill(clock_.now());
  clock_.advance(Millis{100});
  EXPECT_TRUE(eval(rule, kOkAvail).episodeEnded);
  EXPECT_FALSE(rule.killInFlight(clock_.now()));
  clock_.advance(Millis{100});
  MemoryVerdict v = eval(rule, kHardAvail);
  EXPECT_TRUE(v.episodeStarted);
  EXPECT_TRUE(v.killDue);
}

TEST_F(MemoryRuleTest, DryRunRepeatsEveryDryRunRepeatS) {
  MemoryRule rule(cfg_, true);
  ASSERT_TRUE(eval(rule, kHardAvail).killDue);
  const TimePoint killedAt = clock_.now();
  rule.onKill(killedAt);
  EXPECT_FALSE(rule.killInFlight(killedAt));  // nothing dies in dry-run
  clock_.set(killedAt + Millis{3000});        // the real deadline does not apply
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  clock_.set(killedAt + Millis{9999});
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  clock_.set(killedAt + Seconds{10});
  EXPECT_TRUE(eval(rule, kHardAvail).killDue);
}

TEST_F(MemoryRuleTest, DryRunRepeatIsConfigurable) {
  cfg_.set(Key::KillDryRunRepeatS, 2);
  MemoryRule rule(cfg_, true);
  const TimePoint killedAt = clock_.now();
  rule.onKill(killedAt);
  clock_.set(killedAt + Millis{1999});
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  clock_.set(killedAt + Seconds{2});
  EXPECT_TRUE(eval(rule, kHardAvail).killDue);
}

TEST_F(MemoryRuleTest, HoldOff) {
  MemoryRule rule(cfg_, false);
  rule.holdOff(clock_.now() + Seconds{1});
  EXPECT_FALSE(eval(rule, kHardAvail).killDue);
  clock_.advance(Seconds{1});
  EXPECT_TRUE(eval(rule, kHardAvail).killDue);
}

TEST_F(MemoryRuleTest, SwapWithPlentyFreeStaysSoft) {
  MemoryRule rule(cfg_, false);
  MemoryVerdict v = rule.evaluate(
      sample(clock_.now(), kTotal, kHardAvail, Bytes::gib(8), Bytes::gib(6)), clock_.now());
  EXPECT_EQ(v.level, MemoryLevel::Soft);
  EXPECT_TRUE(v.episodeStarted);
  EXPECT_FALSE(v.hardEntered);
  EXPECT_FALSE(v.killDue);
}

// ---- fill rate and sampling interval -------------------------------------------------

TEST(FillRateTest, PeakDecaysByHalfEveryTenSeconds) {
  FillRate rate;
  EXPECT_DOUBLE_EQ(rate.bytesPerSecond(), 0.0);
  const Bytes total = Bytes::gib(16);
  rate.update(sample(at(Seconds{0}), total, Bytes::gib(10)));
  EXPECT_DOUBLE_EQ(rate.bytesPerSecond(), 0.0);  // one sample: no rate yet
  rate.update(sample(at(Seconds{1}), total, Bytes::gib(9)));
  EXPECT_DOUBLE_EQ(rate.bytesPerSecond(), static_cast<double>(Bytes::gib(1).value));
  rate.update(sample(at(Seconds{11}), total, Bytes::gib(9)));
  EXPECT_NEAR(rate.bytesPerSecond(), static_cast<double>(Bytes::mib(512).value), 1.0);
  rate.update(sample(at(Seconds{21}), total, Bytes::gib(9)));
  EXPECT_NEAR(rate.bytesPerSecond(), static_cast<double>(Bytes::mib(256).value), 1.0);
  // Memory coming back does not raise the rate.
  rate.update(sample(at(Seconds{31}), total, Bytes::gib(12)));
  EXPECT_NEAR(rate.bytesPerSecond(), static_cast<double>(Bytes::mib(128).value), 1.0);
  // A faster fall replaces the decayed peak.
  rate.update(sample(at(Seconds{31} + Millis{500}), total, Bytes::gib(11)));
  EXPECT_NEAR(rate.bytesPerSecond(), static_cast<double>(Bytes::gib(2).value), 1.0);
}

TEST(FillRateTest, SameInstantIsIgnored) {
  FillRate rate;
  const Bytes total = Bytes::gib(16);
  rate.update(sample(at(Seconds{1}), total, Bytes::gib(10)));
  rate.update(sample(at(Seconds{1}), total, Bytes::gib(5)));
  EXPECT_DOUBLE_EQ(rate.bytesPerSecond(), 0.0);
}

class SamplingTest : public ::testing::Test {
 protected:
  // Hard threshold 1 GiB; defaults: assumed 1024 MiB/s, [2 ms, 1000 ms].
  const MemoryThresholds t_{Bytes::gib(2), Bytes::gib(1)};
  const Bytes total_ = Bytes::gib(64);
  Config cfg_;
  FillRate none_;
};

TEST_F(SamplingTest, IntervalTable) {
  struct Case {
    const char* name;
    Bytes available;
    Nanos want;
  };
  const Case cases[] = {
      {"lots of headroom: max", Bytes::gib(10), Millis{1000}},
      {"exactly 1 s of headroom", Bytes::gib(2), Millis{1000}},
      {"half a second", Bytes::gib(1) + Bytes::mib(512), Millis{500}},
      {"a quarter", Bytes::gib(1) + Bytes::mib(256), Millis{250}},
      {"1 MiB above hard: min", Bytes::gib(1) + Bytes::mib(1), Millis{2}},
      {"below hard: min", Bytes::mib(10), Millis{2}},
  };
  for (const auto& c : cases) {
    MemorySample s = sample(TimePoint{}, total_, c.available);
    EXPECT_EQ(nextSampleInterval(s, t_, none_, cfg_), c.want) << c.name;
  }
}

TEST_F(SamplingTest, HighObservedFillRateShortensInterval) {
  FillRate rate;
  rate.update(sample(at(Seconds{0}), total_, Bytes::gib(10)));
  rate.update(sample(at(Seconds{1}), total_, Bytes::gib(8)));  // 2 GiB/s: speed 4 GiB/s
  ASSERT_DOUBLE_EQ(rate.bytesPerSecond(), static_cast<double>(Bytes::gib(2).value));
  MemorySample s = sample(at(Seconds{1}), total_, Bytes::gib(1) + Bytes::mib(512));
  EXPECT_EQ(nextSampleInterval(s, t_, rate, cfg_), Millis{125});
  EXPECT_EQ(nextSampleInterval(s, t_, none_, cfg_), Millis{500});
}

TEST_F(SamplingTest, SlowObservedRateDoesNotLengthenInterval) {
  FillRate rate;
  rate.update(sample(at(Seconds{0}), total_, Bytes::gib(10)));
  rate.update(sample(at(Seconds{1}), total_, Bytes::gib(10) - Bytes::mib(1)));
  MemorySample s = sample(at(Seconds{1}), total_, Bytes::gib(1) + Bytes::mib(512));
  EXPECT_EQ(nextSampleInterval(s, t_, rate, cfg_), Millis{500});
}

TEST_F(SamplingTest, ConfiguredBounds) {
  cfg_.set(Key::SamplingMaxIntervalMs, 200);
  cfg_.set(Key::SamplingMinIntervalMs, 20);
  EXPECT_EQ(nextSampleInterval(sample(TimePoint{}, total_, Bytes::gib(10)), t_, none_, cfg_),
            Millis{200});
  EXPECT_EQ(nextSampleInterval(sample(TimePoint{}, total_, Bytes::gib(1)), t_, none_, cfg_),
            Millis{20});
  cfg_.set(Key::SamplingAssumedFillMibPerS, 256);  // 32 MiB headroom at 256 MiB/s
  EXPECT_EQ(nextSampleInterval(sample(TimePoint{}, total_, Bytes::gib(1) + Bytes::mib(32)), t_,
                               none_, cfg_),
            Millis{125});
}

TEST_F(SamplingTest, Approaching) {
  // soft 2 GiB: below 4 GiB is approaching whatever the rate.
  EXPECT_TRUE(approaching(sample(TimePoint{}, total_, Bytes::gib(4) - Bytes{1}), t_, none_));
  EXPECT_FALSE(approaching(sample(TimePoint{}, total_, Bytes::gib(4)), t_, none_));
  EXPECT_FALSE(approaching(sample(TimePoint{}, total_, Bytes::gib(40)), t_, none_));

  FillRate rate;  // 1 GiB/s
  rate.update(sample(at(Seconds{0}), total_, Bytes::gib(50)));
  rate.update(sample(at(Seconds{1}), total_, Bytes::gib(49)));
  // 1 GiB hard + 29 GiB: 29 s left at 1 GiB/s.
  EXPECT_TRUE(approaching(sample(at(Seconds{1}), total_, Bytes::gib(30)), t_, rate));
  // 31 GiB: exactly 30 s left: not approaching.
  EXPECT_FALSE(approaching(sample(at(Seconds{1}), total_, Bytes::gib(31)), t_, rate));
  EXPECT_FALSE(approaching(sample(at(Seconds{1}), total_, Bytes::gib(40)), t_, rate));
}

}  // namespace
}  // namespace ork::policy
