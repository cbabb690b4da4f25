// The CPU rule: what is overload, when it is sustained, the episode, the window after
// an action, and the frozen VMs' cool-down; with a fake clock.
#include <gtest/gtest.h>

#include <vector>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/policy/CpuRule.h"

namespace ork::policy {
namespace {

using config::Config;
using config::Key;

CpuSample sample(TimePoint at, Nanos interval, double busy, int cpus, int runnable,
                 double pressure) {
  CpuSample s;
  s.at = at;
  s.interval = interval;
  s.busy = busy;
  s.cpus = cpus;
  s.runnable = runnable;
  s.pressure = pressure;
  return s;
}

// ---- what is overload ------------------------------------------------------------

TEST(CpuOverloadedTest, Table) {
  Config cfg;  // busy_percent 90, pressure_percent 40
  struct Case {
    const char* name;
    double busy;
    int cpus, runnable;
    double pressure;
    bool want;
  };
  const Case cases[] = {
      {"busy and waiting (PSI)", 0.97, 4, 12, 0.60, true},
      {"thresholds exactly", 0.90, 4, 12, 0.40, true},
      {"busy, little waiting (PSI)", 0.97, 4, 12, 0.39, false},
      {"waiting, not busy enough", 0.89, 4, 12, 0.90, false},
      {"N tasks on N cores (PSI: nobody waits)", 1.00, 4, 4, 0.01, false},
      {"N tasks on N cores (no PSI)", 1.00, 4, 4, -1, false},
      {"one busy core out of 2", 0.50, 2, 1, 0.00, false},
      {"one busy core out of 2, no PSI", 0.50, 2, 1, -1, false},
      {"one long compile on an idle 8-core host", 0.13, 8, 1, 0.00, false},
      {"no PSI: more runnable than CPUs", 0.95, 4, 5, -1, true},
      {"no PSI: busy but runnable fit the CPUs", 0.95, 4, 3, -1, false},
      {"no PSI: runnable beyond CPUs but idle", 0.30, 4, 40, -1, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(
        cpuOverloaded(sample(TimePoint{}, Seconds{1}, c.busy, c.cpus, c.runnable, c.pressure), cfg),
        c.want)
        << c.name;
  }
}

// ---- the rule, fed one sample per second -------------------------------------------

class CpuRuleTest : public ::testing::Test {
 protected:
  void SetUp() override { reset(); }
  void reset() {
    rule_ = std::make_unique<CpuRule>(cfg_);
    // The sensor's first reading: no interval, ignored.
    last_ = rule_->evaluate(sample(clock_.now(), Nanos{0}, 1.0, 4, 20, 0.9), clock_.now());
  }
  // One more second, overloaded (busy, PSI 60 %) or calm (busy 30 %).
  CpuVerdict step(bool overloaded, Nanos interval = Seconds{1}) {
    clock_.advance(interval);
    CpuSample s = overloaded ? sample(clock_.now(), interval, 0.98, 4, 12, 0.6)
                             : sample(clock_.now(), interval, 0.30, 4, 1, 0.0);
    last_ = rule_->evaluate(s, clock_.now());
    return last_;
  }
  // Steps until actDue (or max steps); returns the number of steps taken, 0 if never.
  int stepsUntilDue(int max, bool overloaded = true) {
    for (int i = 1; i <= max; ++i)
      if (step(overloaded).actDue) return i;
    return 0;
  }

  Config cfg_;
  FakeClock clock_;
  std::unique_ptr<CpuRule> rule_;
  CpuVerdict last_;
};

TEST_F(CpuRuleTest, FirstSampleWithoutIntervalIsIgnored) {
  EXPECT_FALSE(last_.overloaded);
  EXPECT_FALSE(last_.episodeStarted);
  EXPECT_FALSE(last_.actDue);
  EXPECT_FALSE(rule_->inEpisode());
}

// Overload from the first second: due once the samples cover the whole 10 s window.
TEST_F(CpuRuleTest, SustainedOverloadIsDue) {
  for (int i = 1; i < 10; ++i) {
    CpuVerdict v = step(true);
    EXPECT_TRUE(v.overloaded) << i;
    EXPECT_EQ(v.episodeStarted, i == 1) << i;
    EXPECT_FALSE(v.actDue) << "second " << i;
  }
  CpuVerdict v = step(true);
  EXPECT_TRUE(v.actDue);
  EXPECT_EQ(v.window, Seconds{10});
  EXPECT_DOUBLE_EQ(v.overloadedShare, 1.0);
}

// A spike: 5 s of overload in a 10 s window, then calm. Never due.
TEST_F(CpuRuleTest, SpikeIsLeftAlone) {
  for (int i = 0; i < 20; ++i) step(false);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(step(true).actDue);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(step(false).actDue);
  // A second spike within the same episode: still not.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(step(true).actDue);
}

// "80 % of the seconds, and the last one": with calm history before it, a fresh
// overload is due after 8 of the window's 10 seconds, not earlier.
TEST_F(CpuRuleTest, EightySharePlusLatest) {
  for (int i = 0; i < 20; ++i) step(false);
  EXPECT_EQ(stepsUntilDue(20), 8);
  EXPECT_DOUBLE_EQ(last_.overloadedShare, 0.8);
}

// Dips are tolerated (one calm second in five is exactly 80 %), but never as the
// latest sample.
TEST_F(CpuRuleTest, DipsTolerated) {
  for (int i = 0; i < 20; ++i) step(false);
  bool dueOnCalm = false, dueSeen = false;
  for (int i = 0; i < 40; ++i) {
    bool over = i % 5 != 4;
    CpuVerdict v = step(over);
    dueOnCalm |= v.actDue && !over;
    dueSeen |= v.actDue;
  }
  EXPECT_TRUE(dueSeen);
  EXPECT_FALSE(dueOnCalm);
  // One calm second in three: any 10 s window holds at least 3 calm ones. Never due.
  reset();
  for (int i = 0; i < 20; ++i) step(false);
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(step(i % 3 != 2).actDue) << i;
}

// N tasks on N cores keep the CPUs 100 % busy and are not overload.
TEST_F(CpuRuleTest, NTasksOnNCoresNeverDue) {
  for (int i = 0; i < 60; ++i) {
    clock_.advance(Seconds{1});
    CpuVerdict v = rule_->evaluate(sample(clock_.now(), Seconds{1}, 1.0, 4, 4, 0.02), clock_.now());
    EXPECT_FALSE(v.overloaded);
    EXPECT_FALSE(v.actDue);
  }
  EXPECT_FALSE(rule_->inEpisode());
}

// Without PSI the runnable count decides.
TEST_F(CpuRuleTest, PressureUnknownFallsBackToRunnable) {
  for (int i = 0; i < 60; ++i) {
    clock_.advance(Seconds{1});
    EXPECT_FALSE(
        rule_->evaluate(sample(clock_.now(), Seconds{1}, 1.0, 2, 2, -1), clock_.now()).overloaded);
  }
  int due = 0;
  for (int i = 1; i <= 20 && due == 0; ++i) {
    clock_.advance(Seconds{1});
    CpuVerdict v = rule_->evaluate(sample(clock_.now(), Seconds{1}, 1.0, 2, 3, -1), clock_.now());
    EXPECT_TRUE(v.overloaded);
    if (v.actDue) due = i;
  }
  EXPECT_EQ(due, 8);
}

// After an action, the next needs kill_after_s of fresh overload: what happened before
// the action does not count again.
TEST_F(CpuRuleTest, AfterActionKillAfterOfFreshOverload) {
  cfg_.set(Key::CpuKillAfterS, 20);
  reset();
  ASSERT_EQ(stepsUntilDue(30), 10);
  rule_->onActed(clock_.now());
  EXPECT_FALSE(step(true).actDue);  // the very next second: not again
  EXPECT_EQ(last_.window, Seconds{20});
  EXPECT_EQ(stepsUntilDue(30), 19);  // 20 s after the action
  rule_->onActed(clock_.now());
  EXPECT_EQ(stepsUntilDue(30), 20);
}

// An action mid-way (between two samples) counts only the time after it.
TEST_F(CpuRuleTest, ActionBetweenSamples) {
  ASSERT_EQ(stepsUntilDue(30), 10);
  rule_->onActed(clock_.now() + Millis{500});
  // Samples at +1 .. +10 s cover 9.5 s after the action: within the half-sample
  // jitter allowed, so due at +10 s, not +11 s.
  EXPECT_EQ(stepsUntilDue(30), 10);
}

// The daemon does not act (say nothing to freeze, no victim) and does not call
// onActed: the rule stays due on every overloaded sample.
TEST_F(CpuRuleTest, StaysDueUntilActed) {
  ASSERT_EQ(stepsUntilDue(30), 10);
  EXPECT_TRUE(step(true).actDue);
  EXPECT_TRUE(step(true).actDue);
}

TEST_F(CpuRuleTest, CalmFor) {
  step(true);
  EXPECT_EQ(last_.calmFor, Nanos{0});
  step(false);
  EXPECT_EQ(last_.calmFor, Seconds{1});
  step(false);
  EXPECT_EQ(last_.calmFor, Seconds{2});
  // now later than the sample: calm until now.
  clock_.advance(Seconds{1});
  CpuVerdict v =
      rule_->evaluate(sample(clock_.now(), Seconds{1}, 0.1, 4, 0, 0), clock_.now() + Millis{300});
  EXPECT_EQ(v.calmFor, Millis{3300});
  step(true);
  EXPECT_EQ(last_.calmFor, Nanos{0});
}

// Never overloaded since ORK started: calm since its first sample.
TEST_F(CpuRuleTest, CalmSinceStart) {
  for (int i = 0; i < 5; ++i) step(false);
  EXPECT_EQ(last_.calmFor, Seconds{5});
}

TEST_F(CpuRuleTest, EpisodeEndsAfterSustainOfCalm) {
  cfg_.set(Key::CpuKillAfterS, 30);
  reset();
  ASSERT_EQ(stepsUntilDue(30), 10);
  rule_->onActed(clock_.now());
  EXPECT_TRUE(rule_->actedInEpisode());
  for (int i = 1; i < 10; ++i) {
    CpuVerdict v = step(false);
    EXPECT_FALSE(v.episodeEnded) << i;
    EXPECT_TRUE(rule_->inEpisode());
  }
  CpuVerdict end = step(false);
  EXPECT_TRUE(end.episodeEnded);
  EXPECT_FALSE(rule_->inEpisode());
  EXPECT_FALSE(rule_->actedInEpisode());
  EXPECT_FALSE(step(false).episodeEnded);  // once
  // A new episode: its first action needs sustain_s again, not kill_after_s.
  CpuVerdict start = step(true);
  EXPECT_TRUE(start.episodeStarted);
  EXPECT_EQ(start.window, Seconds{10});
  EXPECT_EQ(stepsUntilDue(30), 7);  // 8 s of overload: calm seconds before it count
}

// A short calm does not end the episode: after an action, the window stays kill_after_s.
TEST_F(CpuRuleTest, ShortCalmKeepsTheEpisode) {
  cfg_.set(Key::CpuKillAfterS, 20);
  reset();
  ASSERT_EQ(stepsUntilDue(30), 10);
  rule_->onActed(clock_.now());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(step(false).episodeEnded);
  EXPECT_FALSE(step(true).episodeStarted);
  EXPECT_EQ(last_.window, Seconds{20});
}

// Samples every 10 ms are merged into slots; the rule still needs the full window.
TEST_F(CpuRuleTest, FastSampling) {
  int due = 0;
  for (int i = 1; i <= 2000 && due == 0; ++i)
    if (step(true, Millis{10}).actDue) due = i;
  EXPECT_GE(due, 995);
  EXPECT_LE(due, 1000);
}

// The longest window (an hour) at one sample a second fits the fixed ring.
TEST_F(CpuRuleTest, HourLongWindow) {
  cfg_.set(Key::CpuSustainS, 3600);
  reset();
  EXPECT_EQ(stepsUntilDue(4000), 3600);
  rule_->onActed(clock_.now());
  // Long after the first action, with 10 s kill_after: fresh 10 s again.
  EXPECT_EQ(stepsUntilDue(100), 10);
}

// A long stall (one sample spanning 30 s) covers the window by itself.
TEST_F(CpuRuleTest, OneLongSampleCoversTheWindow) {
  for (int i = 0; i < 5; ++i) step(false);
  EXPECT_TRUE(step(true, Seconds{30}).actDue);
}

// ---- the cool-down ---------------------------------------------------------------

class CoolDownTest : public ::testing::Test {
 protected:
  TimePoint t(int seconds) { return TimePoint{} + Seconds{seconds}; }
  Config cfg_;  // cool_down_s 60, cool_down_max_s 1800, auto_thaw
};

TEST_F(CoolDownTest, FirstFreeze) {
  CoolDown c(cfg_);
  c.onFrozen(t(100));
  EXPECT_EQ(c.current(), Seconds{60});
  EXPECT_FALSE(c.thawDue(Seconds{59}));
  EXPECT_TRUE(c.thawDue(Seconds{60}));
}

TEST_F(CoolDownTest, DoublesOnQuickRefreezeUpToTheCap) {
  CoolDown c(cfg_);
  c.onFrozen(t(0));
  int now = 0;
  const int want[] = {120, 240, 480, 960, 1800, 1800};
  for (int w : want) {
    now += static_cast<int>(std::chrono::duration_cast<Seconds>(c.current()).count());
    c.onThawed(t(now));
    now += 300;  // overloads the host again five minutes after its thaw
    c.onFrozen(t(now));
    EXPECT_EQ(c.current(), Seconds{w});
    EXPECT_FALSE(c.thawDue(Seconds{w - 1}));
    EXPECT_TRUE(c.thawDue(Seconds{w}));
  }
}

TEST_F(CoolDownTest, BackToBaseAfterALongCalm) {
  CoolDown c(cfg_);
  c.onFrozen(t(0));
  c.onThawed(t(60));
  c.onFrozen(t(100));
  EXPECT_EQ(c.current(), Seconds{120});
  c.onThawed(t(220));
  c.onFrozen(t(220 + 1800));  // exactly cool_down_max_s later: still "within"
  EXPECT_EQ(c.current(), Seconds{240});
  c.onThawed(t(3000));
  c.onFrozen(t(3000 + 1801));  // longer: forgiven
  EXPECT_EQ(c.current(), Seconds{60});
}

TEST_F(CoolDownTest, NoAutoThaw) {
  cfg_.set(Key::CpuAutoThaw, 0);
  CoolDown c(cfg_);
  c.onFrozen(t(0));
  EXPECT_FALSE(c.thawDue(Seconds{86400 * 365}));
}

TEST_F(CoolDownTest, MaxBelowBaseIsTheBase) {
  cfg_.set(Key::CpuCoolDownS, 600);
  cfg_.set(Key::CpuCoolDownMaxS, 300);
  CoolDown c(cfg_);
  c.onFrozen(t(0));
  c.onThawed(t(600));
  c.onFrozen(t(700));
  EXPECT_EQ(c.current(), Seconds{600});
}

}  // namespace
}  // namespace ork::policy
