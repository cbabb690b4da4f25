// The journal's bound (LineBudget): token buckets driven by hand-made TimePoints, the
// `suppressed` lines, and a mirror that cannot be written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ork/journal/Journal.h"
#include "ork/journal/LineBudget.h"

namespace ork::journal {
namespace {

TimePoint at(Nanos d) { return TimePoint{Seconds{1000} + d}; }

TEST(LineKeyTest, EventAndWhat) {
  EXPECT_EQ(Line("kill").num("pid", 1).event(), "kill");
  EXPECT_EQ(Line("kill").num("pid", 1).key(), "kill");
  EXPECT_EQ(Line("warning").word("what", "scan_failed").str("detail", "x y").key(),
            "warning what=scan_failed");
  EXPECT_EQ(Line("warning").word("what", "scan_failed").key(), "warning what=scan_failed");
  // Only a first field named what counts.
  EXPECT_EQ(Line("freeze").str("vm", "a").word("what", "b").key(), "freeze");
  EXPECT_EQ(Line("warning").word("whatever", "b").key(), "warning");
  EXPECT_EQ(Line("e").key(), "e");
}

TEST(ClassifyTest, ActionsAreEvidenceStartStopAlwaysTheRestRoutine) {
  for (const char* e : {"start", "stop", "suppressed"})
    EXPECT_EQ(classify(e), LineClass::Always) << e;
  for (const char* e :
       {"pressure", "kill", "would_kill", "abort", "exited", "deadline", "recovered", "hibernate",
        "hibernated", "freeze", "thaw", "cpu_overload", "cpu_recovered", "vm_found", "vm_gone",
        "mac_duplicate", "link_down", "would_link_down", "link_protected"})
    EXPECT_EQ(classify(e), LineClass::Evidence) << e;
  for (const char* e :
       {"warning", "no_candidate", "hibernate_skipped", "libvirt_connected", "new_thing", ""})
    EXPECT_EQ(classify(e), LineClass::Routine) << e;
}

TEST(LineBudgetTest, RoutineKeyHasABurstThenASteadyRate) {
  LineBudget b;
  const auto burst = LineBudget::kRoutine.burst;
  const auto every = std::chrono::duration_cast<Millis>(LineBudget::kRoutine.every);
  for (int i = 0; i < burst; ++i)
    EXPECT_TRUE(b.admit("warning what=x", LineClass::Routine, at(Millis{0})));
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(b.admit("warning what=x", LineClass::Routine, at(Millis{i})));
  EXPECT_TRUE(b.pending());
  LineBudget::Report r;
  EXPECT_FALSE(b.takeReport(at(every - Millis{1}), false, r))
      << "reported before the bucket refilled";
  // One token back: the count may be told; the report takes no token.
  ASSERT_TRUE(b.takeReport(at(every), false, r));
  EXPECT_EQ(r.key, "warning what=x");
  EXPECT_EQ(r.count, 1000u);
  EXPECT_EQ(r.firstDropped, at(Millis{0}));
  EXPECT_FALSE(b.pending());
  EXPECT_FALSE(b.takeReport(at(every), false, r));
  EXPECT_TRUE(b.admit("warning what=x", LineClass::Routine, at(every)));
  EXPECT_FALSE(b.admit("warning what=x", LineClass::Routine, at(every)));
  // A long calm refills the burst, no more.
  const TimePoint later = at(every * 1000);
  for (int i = 0; i < burst; ++i) EXPECT_TRUE(b.admit("warning what=x", LineClass::Routine, later));
  EXPECT_FALSE(b.admit("warning what=x", LineClass::Routine, later));
}

TEST(LineBudgetTest, SteadyFloodWritesOneLineEveryInterval) {
  LineBudget b;
  // 140,000 lines a second for a minute, as the incident: 10 + 10 a minute get through.
  int written = 0;
  for (long us = 0; us < 60'000'000; us += 7) {
    written += b.admit("warning what=scan_failed", LineClass::Routine,
                       TimePoint{Seconds{5} + std::chrono::microseconds{us}})
                   ? 1
                   : 0;
  }
  EXPECT_EQ(written, LineBudget::kRoutine.burst + 9);  // t=6,12,...,54 s (60 s not reached)
}

TEST(LineBudgetTest, KeysAreIndependentAndEvidenceSharesOneHighCeiling) {
  LineBudget b;
  for (int i = 0; i < 100; ++i) (void)b.admit("warning what=a", LineClass::Routine, at(Millis{0}));
  EXPECT_TRUE(b.admit("warning what=b", LineClass::Routine, at(Millis{0})));
  EXPECT_TRUE(b.admit("no_candidate", LineClass::Routine, at(Millis{0})));
  // Evidence: far above any real action rate, then counted.
  const int ceiling = LineBudget::kEvidence.burst;
  for (int i = 0; i < ceiling / 2; ++i) {
    EXPECT_TRUE(b.admit("kill", LineClass::Evidence, at(Millis{1})));
    EXPECT_TRUE(b.admit("exited", LineClass::Evidence, at(Millis{1})));
  }
  EXPECT_FALSE(b.admit("kill", LineClass::Evidence, at(Millis{1})));
  EXPECT_FALSE(b.admit("freeze", LineClass::Evidence, at(Millis{1})));
  EXPECT_TRUE(b.admit("kill", LineClass::Evidence, at(Millis{1} + LineBudget::kEvidence.every)))
      << "the steady rate is not given back";
  LineBudget::Report r;
  std::vector<std::string> keys;
  while (b.takeReport(at(Seconds{6}), false, r)) keys.emplace_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"warning what=a", "kill", "freeze"}));
  // Start and stop are never counted.
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(b.admit("stop", LineClass::Always, at(Millis{0})));
}

TEST(LineBudgetTest, ForceReportsEvenWithoutTokensAndTheTableHasAnOverflowSlot) {
  LineBudget b({1, Seconds{60}}, {1, Seconds{60}});
  for (std::size_t i = 0; i < LineBudget::kKeys + 10; ++i) {
    const std::string key = "e" + std::to_string(i);
    EXPECT_TRUE(b.admit(key, LineClass::Routine, at(Millis{0})) || i >= LineBudget::kKeys - 1)
        << key;
    EXPECT_FALSE(b.admit(key, LineClass::Routine, at(Millis{0})));
  }
  LineBudget::Report r;
  EXPECT_FALSE(b.takeReport(at(Millis{1}), false, r));
  std::uint64_t total = 0;
  std::string last;
  while (b.takeReport(at(Millis{1}), true, r)) {
    total += r.count;
    last = std::string(r.key);
  }
  EXPECT_EQ(last, "other");
  // One drop per tracked key, and every line of the overflowing keys but the first.
  EXPECT_EQ(total, (LineBudget::kKeys - 1) + 2 * 11 - 1);
}

TEST(LineBudgetTest, ATimeGoingBackwardsGivesNothing) {
  LineBudget b({1, Seconds{1}}, {1, Seconds{1}});
  EXPECT_TRUE(b.admit("x", LineClass::Routine, at(Millis{5000})));
  EXPECT_FALSE(b.admit("x", LineClass::Routine, at(Millis{0})));
  EXPECT_FALSE(b.admit("x", LineClass::Routine, at(Millis{5999})));
  EXPECT_TRUE(b.admit("x", LineClass::Routine, at(Millis{6000})));
}

// ---- through Journal -------------------------------------------------------------------

class JournalFile {
 public:
  JournalFile() {
    char tmpl[] = "/tmp/ork-budget-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    dir_ = d ? d : "/tmp";
    path_ = dir_ + "/kmsg";
  }
  ~JournalFile() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    std::string l;
    // Without the local time each line of a file starts with (JournalTest checks it).
    while (std::getline(in, l))
      out.push_back(l.substr(std::min(l.size(), sys::KmsgWriter::kStampLen)));
    return out;
  }
  int count(const std::string& frag) const {
    int n = 0;
    for (const auto& l : lines()) n += l.find(frag) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  std::string dir_, path_;
};

TEST(JournalBoundTest, AFloodIsCountedAndToldOnceAllowedAgainWhileActionsGoThrough) {
  JournalFile f;
  auto j = Journal::open(f.path(), false, 4242);
  ASSERT_TRUE(j.ok());
  j->write(Line("start"), Priority::Notice, at(Millis{0}));
  for (int i = 0; i < 140'000; ++i) {
    const TimePoint t = at(Millis{i / 140});  // 140 a millisecond, for a second
    j->write(Line("warning").word("what", "scan_failed").str("detail", "EMFILE"), Priority::Warning,
             t);
    if (i % 1000 == 0) j->write(Line("kill").num("pid", i), Priority::Warning, t);
  }
  EXPECT_EQ(f.count("what=scan_failed"), LineBudget::kRoutine.burst);
  EXPECT_EQ(f.count("event=kill"), 140) << "an action line was lost to the bound";
  EXPECT_EQ(f.count("event=suppressed"), 0);
  // Nothing more of that warning comes; the loop's flush tells the count when allowed.
  j->flush(at(Millis{5999}));
  EXPECT_EQ(f.count("event=suppressed"), 0);
  j->flush(at(Millis{6000}));
  const auto ls = f.lines();
  ASSERT_FALSE(ls.empty());
  EXPECT_EQ(ls.back(), "ork[4242]: event=suppressed of=warning what=scan_failed lines=" +
                           std::to_string(140'000 - LineBudget::kRoutine.burst) + " over_ms=6000");
  j->flush(at(Millis{7000}));
  EXPECT_EQ(f.count("event=suppressed"), 1);
}

TEST(JournalBoundTest, StopTellsEveryCountFirst) {
  JournalFile f;
  auto j = Journal::open(f.path(), false, 4242);
  ASSERT_TRUE(j.ok());
  for (int i = 0; i < 25; ++i)
    j->write(Line("no_candidate").num("n", i), Priority::Warning, at(Millis{i}));
  j->write(Line("stop").num("signal", 15), Priority::Notice, at(Millis{100}));
  const auto ls = f.lines();
  ASSERT_EQ(ls.size(), 12u);
  EXPECT_EQ(ls[10], "ork[4242]: event=suppressed of=no_candidate lines=15 over_ms=90");
  EXPECT_EQ(ls[11], "ork[4242]: event=stop signal=15");
}

TEST(JournalBoundTest, AKeyAllowedAgainIsPrecededByItsCount) {
  JournalFile f;
  auto j = Journal::open(f.path(), false, 4242);
  ASSERT_TRUE(j.ok());
  for (int i = 0; i < 12; ++i)
    j->write(Line("warning").word("what", "sample_failed"), Priority::Warning, at(Millis{0}));
  j->write(Line("warning").word("what", "sample_failed").num("n", 13), Priority::Warning,
           at(Millis{6000}));
  const auto ls = f.lines();
  ASSERT_EQ(ls.size(), 12u);
  EXPECT_EQ(ls[10],
            "ork[4242]: event=suppressed of=warning what=sample_failed lines=2 over_ms=6000");
  EXPECT_EQ(ls[11], "ork[4242]: event=warning what=sample_failed n=13");
}

}  // namespace
}  // namespace ork::journal
