// Victim choice: exclusions, score parts, the minimum-kill rule and tree candidates,
// on hand-built candidate tables.
#include "ork/policy/VictimScorer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "ork/config/Config.h"

namespace ork::policy {
namespace {

using config::Config;
using config::Key;

constexpr Nanos kOld = Seconds{30 * 86400};  // older than a week: youth factor 1

struct IdentitySpec {
  std::uint64_t exeKey = 0;
  bool vital = false;
  bool prefer = false;
  bool avoid = false;
  bool systemService = false;
};

ProcessInfo proc(int pid, Bytes rss, IdentitySpec id = {}) {
  ProcessInfo p;
  p.pid = pid;
  p.ppid = 1;
  p.uid = 1000;
  p.uidKnown = true;
  p.state = 'S';
  p.rss = rss;
  p.age = kOld;
  auto identity = std::make_shared<ProcessIdentity>();
  identity->exeKey = id.exeKey != 0 ? id.exeKey : 0x1000u + static_cast<std::uint64_t>(pid);
  identity->vital = id.vital;
  identity->prefer = id.prefer;
  identity->avoid = id.avoid;
  identity->systemService = id.systemService;
  p.identity = identity;
  return p;
}

class VictimScorerTest : public ::testing::Test {
 protected:
  // Ranks entries (sorted by pid first) with the given need in a 16 GiB domain.
  const std::vector<Candidate>& rank(std::vector<ProcessInfo>& entries, Bytes need = Bytes{0},
                                     TimePoint now = TimePoint{}) {
    std::sort(entries.begin(), entries.end(),
              [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
    ScoreContext ctx{kDomain, need, &cfg_, now};
    rankCandidates(entries, ctx, ranked_, scratch_);
    return ranked_;
  }
  int pidOf(const std::vector<ProcessInfo>& entries, const Candidate& c) {
    return entries[static_cast<std::size_t>(c.index)].pid;
  }
  const Candidate* findSingle(const std::vector<ProcessInfo>& entries, int pid) {
    for (const auto& c : ranked_)
      if (c.group == Group::Process && pidOf(entries, c) == pid) return &c;
    return nullptr;
  }

  static constexpr Bytes kDomain = Bytes::gib(16);
  Config cfg_;
  std::vector<Candidate> ranked_;
  RankScratch scratch_;
};

// ---- exclusions ------------------------------------------------------------------

struct ExclusionCase {
  const char* name;
  void (*mutate)(ProcessInfo&);
  Exclusion want;
};

TEST(ExclusionOfTest, Table) {
  const ExclusionCase cases[] = {
      {"normal", [](ProcessInfo&) {}, Exclusion::None},
      {"pid1", [](ProcessInfo& p) { p.pid = 1; }, Exclusion::Init},
      {"pid1 kernel thread", [](ProcessInfo& p) { p.pid = 1; p.kernelThread = true; }, Exclusion::Init},
      {"kthread", [](ProcessInfo& p) { p.kernelThread = true; }, Exclusion::KernelThread},
      {"vital",
       [](ProcessInfo& p) {
         auto id = std::make_shared<ProcessIdentity>(*p.identity);
         id->vital = true;
         p.identity = id;
       },
       Exclusion::Vital},
      {"adj -1000", [](ProcessInfo& p) { p.oomScoreAdj = -1000; }, Exclusion::OomScoreAdjMin},
      {"adj -999", [](ProcessInfo& p) { p.oomScoreAdj = -999; }, Exclusion::None},
      {"zombie", [](ProcessInfo& p) { p.state = 'Z'; }, Exclusion::Zombie},
      {"dead", [](ProcessInfo& p) { p.state = 'X'; }, Exclusion::Zombie},
      {"no memory", [](ProcessInfo& p) { p.rss = Bytes{0}; }, Exclusion::NoMemory},
      {"swap only", [](ProcessInfo& p) { p.rss = Bytes{0}; p.swap = Bytes::mib(1); }, Exclusion::None},
      {"no identity", [](ProcessInfo& p) { p.identity = nullptr; }, Exclusion::None},
  };
  for (const auto& c : cases) {
    ProcessInfo p = proc(100, Bytes::mib(100));
    c.mutate(p);
    EXPECT_EQ(exclusionOf(p), c.want) << c.name << " got " << toString(exclusionOf(p));
  }
}

TEST_F(VictimScorerTest, ExcludedProcessesAreNeverCandidatesEvenIfBiggest) {
  std::vector<ProcessInfo> e;
  e.push_back(proc(1, Bytes::gib(8)));  // init
  ProcessInfo kt = proc(2, Bytes::gib(8));
  kt.kernelThread = true;
  e.push_back(kt);
  e.push_back(proc(50, Bytes::gib(8), {.vital = true}));
  ProcessInfo adj = proc(60, Bytes::gib(8));
  adj.oomScoreAdj = -1000;
  e.push_back(adj);
  ProcessInfo zombie = proc(70, Bytes::gib(8));
  zombie.state = 'Z';
  e.push_back(zombie);
  e.push_back(proc(300, Bytes::mib(100)));
  const auto& r = rank(e, Bytes::gib(1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(pidOf(e, r[0]), 300);
  EXPECT_EQ(chooseVictim(r, cfg_), 0);
}

TEST_F(VictimScorerTest, OnlyExcludedMeansNoVictim) {
  std::vector<ProcessInfo> e;
  e.push_back(proc(1, Bytes::gib(8)));
  const auto& r = rank(e);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(chooseVictim(r, cfg_), -1);
}

// ---- score parts -----------------------------------------------------------------

TEST_F(VictimScorerTest, BiggestWinsWhenNothingElseDiffers) {
  std::vector<ProcessInfo> e = {proc(100, Bytes::gib(1)), proc(200, Bytes::gib(3)),
                                proc(300, Bytes::gib(2))};
  const auto& r = rank(e);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(pidOf(e, r[0]), 200);
  EXPECT_EQ(pidOf(e, r[1]), 300);
  EXPECT_EQ(pidOf(e, r[2]), 100);
  EXPECT_DOUBLE_EQ(r[0].score, static_cast<double>(Bytes::gib(3).value));
  EXPECT_DOUBLE_EQ(r[0].sizePoints, static_cast<double>(Bytes::gib(3).value));
  EXPECT_EQ(r[0].freed, Bytes::gib(3));
  EXPECT_EQ(r[0].members, 1);
  EXPECT_DOUBLE_EQ(r[0].ownerFactor, 1.0);
  EXPECT_DOUBLE_EQ(r[0].patternFactor, 1.0);
  EXPECT_DOUBLE_EQ(r[0].youthFactor, 1.0);
  EXPECT_EQ(pidOf(e, r[static_cast<std::size_t>(chooseVictim(r, cfg_))]), 200);
}

TEST_F(VictimScorerTest, SwapCountsAsFreedMemory) {
  ProcessInfo a = proc(100, Bytes::gib(1));
  a.swap = Bytes::gib(3);
  std::vector<ProcessInfo> e = {a, proc(200, Bytes::gib(2))};
  const auto& r = rank(e);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 100);
  EXPECT_EQ(r[0].freed, Bytes::gib(4));
}

TEST_F(VictimScorerTest, GrowerBeatsBiggerSteadyProcess) {
  ProcessInfo grower = proc(100, Bytes::gib(2));
  grower.growth = Bytes::gib(2);
  std::vector<ProcessInfo> e = {grower, proc(200, Bytes::gib(3))};
  const auto& r = rank(e, Bytes::gib(8));  // neither suffices: the best is chosen
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 100);
  EXPECT_DOUBLE_EQ(r[0].growthPoints, 2.0 * static_cast<double>(Bytes::gib(2).value));
  // A culprit's score leaves its size out: 2 x 2 GiB.
  EXPECT_TRUE(r[0].grew);
  EXPECT_FALSE(r[1].grew);
  EXPECT_DOUBLE_EQ(r[0].score, static_cast<double>(Bytes::gib(4).value));
  EXPECT_EQ(r[0].growth, Bytes::gib(2));
  EXPECT_EQ(pidOf(e, r[static_cast<std::size_t>(chooseVictim(r, cfg_))]), 100);
}

TEST_F(VictimScorerTest, AdjPlus1000IsPreferred) {
  ProcessInfo small = proc(100, Bytes::gib(1));
  small.oomScoreAdj = 1000;
  std::vector<ProcessInfo> e = {small, proc(200, Bytes::gib(8))};
  const auto& r = rank(e, Bytes::gib(32));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 100);
  EXPECT_DOUBLE_EQ(r[0].adjPoints, static_cast<double>(kDomain.value));
  EXPECT_DOUBLE_EQ(r[0].score, static_cast<double>((Bytes::gib(1) + kDomain).value));
}

TEST_F(VictimScorerTest, NegativeAdjLowersScoreButFloorsAtOne) {
  ProcessInfo p = proc(100, Bytes::gib(1));
  p.oomScoreAdj = -500;  // -8 GiB of points: raw score clamps to 1
  std::vector<ProcessInfo> e = {p};
  const auto& r = rank(e);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_DOUBLE_EQ(r[0].adjPoints, -0.5 * static_cast<double>(kDomain.value));
  EXPECT_DOUBLE_EQ(r[0].score, 1.0);
}

TEST_F(VictimScorerTest, RootOwnedScoresAQuarter) {
  ProcessInfo root = proc(100, Bytes::gib(2));
  root.uid = 0;
  ProcessInfo user = proc(200, Bytes::gib(2));
  std::vector<ProcessInfo> e = {root, user};
  const auto& r = rank(e);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 200);
  EXPECT_EQ(pidOf(e, r[1]), 100);
  EXPECT_DOUBLE_EQ(r[1].ownerFactor, 0.25);
  EXPECT_DOUBLE_EQ(r[1].score, 0.25 * static_cast<double>(Bytes::gib(2).value));
  EXPECT_DOUBLE_EQ(r[0].ownerFactor, 1.0);
}

constexpr std::uint32_t kUnknownUid = 0xffffffff;

// Sizes no process can have (hand-built here; the parsers saturate at 4 PiB) are held
// at the most a ProcessInfo keeps (Kib32: 4 TiB - 1 KiB for rss, swap and growth
// each), never wrapped: a pool of such processes is still ranked, its sums exact.
TEST_F(VictimScorerTest, ImpossibleSizesSaturate) {
  const Bytes most{std::int64_t{Kib32::kMax} * 1024};
  ProcessInfo a = proc(100, Bytes{INT64_MAX}, {.exeKey = 7});
  a.swap = Bytes{INT64_MAX};
  a.growth = Bytes{INT64_MAX};
  ProcessInfo b = proc(101, Bytes{INT64_MAX}, {.exeKey = 7});
  b.ppid = 100;
  b.growth = Bytes{INT64_MAX};
  EXPECT_EQ(a.memory(), Bytes{2 * most.value});
  EXPECT_EQ(b.growth.bytes(), most);
  std::vector<ProcessInfo> e = {a, b};
  const auto& r = rank(e);
  ASSERT_EQ(r.size(), 3u);  // each alone, and the pool
  for (const auto& c : r) {
    EXPECT_EQ(c.freed, Bytes{(c.members == 2 ? 3 : c.index == 0 ? 2 : 1) * most.value});
    EXPECT_TRUE(std::isfinite(c.score));
  }
}

TEST_F(VictimScorerTest, OwnerAndPatternFactorsTable) {
  struct Case {
    const char* name;
    std::uint32_t uid;
    IdentitySpec id;
    double owner;
    double pattern;
  };
  const Case cases[] = {
      {"user", 1000, {}, 1.0, 1.0},
      {"root", 0, {}, 0.25, 1.0},
      {"system service", 1000, {.systemService = true}, 0.5, 1.0},
      {"root system service", 0, {.systemService = true}, 0.25, 1.0},
      {"prefer", 1000, {.prefer = true}, 1.0, 4.0},
      {"avoid", 1000, {.avoid = true}, 1.0, 0.125},
      {"prefer and avoid cancel", 1000, {.prefer = true, .avoid = true}, 1.0, 1.0},
      {"root prefer", 0, {.prefer = true}, 0.25, 4.0},
      // An owner ORK could not read (status garbled): uid stays 0, but it is not root.
      {"unknown owner", kUnknownUid, {}, 1.0, 1.0},
      {"unknown owner, system slice", kUnknownUid, {.systemService = true}, 0.5, 1.0},
  };
  for (const auto& c : cases) {
    ProcessInfo p = proc(100, Bytes::gib(1), c.id);
    p.uid = c.uid == kUnknownUid ? 0 : c.uid;
    p.uidKnown = c.uid != kUnknownUid;
    std::vector<ProcessInfo> e = {p};
    const auto& r = rank(e);
    ASSERT_EQ(r.size(), 1u) << c.name;
    EXPECT_DOUBLE_EQ(r[0].ownerFactor, c.owner) << c.name;
    EXPECT_DOUBLE_EQ(r[0].patternFactor, c.pattern) << c.name;
    EXPECT_DOUBLE_EQ(r[0].score, static_cast<double>(Bytes::gib(1).value) * c.owner * c.pattern)
        << c.name;
  }
}

TEST_F(VictimScorerTest, PreferredSmallerProcessBeatsBiggerOne) {
  std::vector<ProcessInfo> e = {proc(100, Bytes::gib(1), {.prefer = true}),
                                proc(200, Bytes::gib(3))};
  const auto& r = rank(e, Bytes::gib(100));
  EXPECT_EQ(pidOf(e, r[0]), 100);
}

TEST_F(VictimScorerTest, AvoidedBiggerProcessLosesToSmallerOne) {
  std::vector<ProcessInfo> e = {proc(100, Bytes::gib(1)),
                                proc(200, Bytes::gib(4), {.avoid = true})};
  const auto& r = rank(e, Bytes::gib(100));
  EXPECT_EQ(pidOf(e, r[0]), 100);
}

TEST_F(VictimScorerTest, ConfiguredFactorsAreUsed) {
  cfg_.set(Key::ScoreRootFactor, 0.5);
  cfg_.set(Key::ScoreGrowthWeight, 0);
  ProcessInfo p = proc(100, Bytes::gib(1));
  p.uid = 0;
  p.growth = Bytes::gib(1);
  std::vector<ProcessInfo> e = {p};
  const auto& r = rank(e);
  EXPECT_DOUBLE_EQ(r[0].ownerFactor, 0.5);
  EXPECT_DOUBLE_EQ(r[0].growthPoints, 0.0);
  EXPECT_DOUBLE_EQ(r[0].score, 0.5 * static_cast<double>(Bytes::gib(1).value));
}

TEST_F(VictimScorerTest, YouthFactor) {
  struct Case {
    Nanos age;
    double want;
  };
  const double week = 7 * 86400.0;
  const Case cases[] = {
      {Nanos{0}, 1.1},
      {Seconds{10}, 1 + 0.1 * (1 - std::log10(11.0) / std::log10(1 + week))},
      {Seconds{3600}, 1 + 0.1 * (1 - std::log10(3601.0) / std::log10(1 + week))},
      {Seconds{7 * 86400}, 1.0},
      {kOld, 1.0},
  };
  for (const auto& c : cases) {
    ProcessInfo p = proc(100, Bytes::gib(1));
    p.age = c.age;
    std::vector<ProcessInfo> e = {p};
    const auto& r = rank(e);
    EXPECT_NEAR(r[0].youthFactor, c.want, 1e-12) << c.age.count();
    EXPECT_NEAR(r[0].score, static_cast<double>(Bytes::gib(1).value) * c.want, 1.0);
  }
}

TEST_F(VictimScorerTest, YoungerWinsAmongEqualProcesses) {
  ProcessInfo old = proc(100, Bytes::gib(1));
  ProcessInfo young = proc(200, Bytes::gib(1));
  young.age = Seconds{60};
  ProcessInfo older = proc(300, Bytes::gib(1));
  older.age = Seconds{86400};
  std::vector<ProcessInfo> e = {old, young, older};
  const auto& r = rank(e, Bytes::gib(100));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(pidOf(e, r[0]), 200);
  EXPECT_EQ(pidOf(e, r[1]), 300);
  EXPECT_EQ(pidOf(e, r[2]), 100);
  EXPECT_EQ(chooseVictim(r, cfg_), 0);
}

TEST_F(VictimScorerTest, SufficientFlag) {
  std::vector<ProcessInfo> e = {proc(100, Bytes::gib(1)), proc(200, Bytes::gib(2))};
  const auto& r = rank(e, Bytes::gib(2));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].sufficient);   // 2 GiB >= 2 GiB
  EXPECT_FALSE(r[1].sufficient);  // 1 GiB
}

// ---- chooseVictim: the minimum-kill rule ----------------------------------------

Candidate cand(double score, Bytes freed, bool sufficient, int members = 1) {
  Candidate c;
  c.index = 0;
  c.score = score;
  c.freed = freed;
  c.sufficient = sufficient;
  c.members = members;
  return c;
}

Candidate culprit(Candidate c) {
  c.grew = true;
  return c;
}

TEST(ChooseVictimTest, Table) {
  Config cfg;
  struct Case {
    const char* name;
    std::vector<Candidate> ranked;
    int want;
  };
  const Case cases[] = {
      {"empty", {}, -1},
      {"one", {cand(100, Bytes::gib(1), false)}, 0},
      {"none suffices: best",
       {cand(100, Bytes::gib(2), false), cand(90, Bytes::gib(1), false)}, 0},
      {"best suffices alone", {cand(100, Bytes::gib(2), true), cand(50, Bytes::gib(1), true)}, 0},
      {"comparable sufficient beats insufficient best",
       {cand(100, Bytes::gib(1), false), cand(80, Bytes::gib(3), true)}, 1},
      {"both suffice: the one that frees less",
       {cand(100, Bytes::gib(4), true), cand(90, Bytes::gib(2), true),
        cand(80, Bytes::gib(3), true)},
       1},
      {"non-comparable sufficient not chosen",
       {cand(100, Bytes::gib(1), false), cand(74, Bytes::gib(3), true)}, 0},
      {"exactly 0.75 is comparable",
       {cand(100, Bytes::gib(1), false), cand(75, Bytes::gib(3), true)}, 1},
      {"non-comparable smaller sufficient not chosen over sufficient best",
       {cand(100, Bytes::gib(4), true), cand(70, Bytes::gib(2), true)}, 0},
      {"equal freed: fewer members",
       {cand(100, Bytes::gib(2), true, 5), cand(90, Bytes::gib(2), true, 1)}, 1},
      {"equal freed and members: the better score",
       {cand(100, Bytes::gib(2), true), cand(90, Bytes::gib(2), true)}, 0},
      {"fewer members before less memory",
       {cand(100, Bytes::gib(2), true, 5), cand(90, Bytes::gib(3), true, 1)}, 1},
      {"another tier is never comparable",
       {culprit(cand(100, Bytes::gib(1), false)), cand(99, Bytes::gib(3), true)}, 0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(chooseVictim(c.ranked, cfg), c.want) << c.name;
  }
}

TEST(ChooseVictimTest, ComparableRatioIsConfigurable) {
  Config cfg;
  cfg.set(Key::ScoreComparableRatio, 0.5);
  std::vector<Candidate> ranked = {cand(100, Bytes::gib(1), false), cand(60, Bytes::gib(3), true)};
  EXPECT_EQ(chooseVictim(ranked, cfg), 1);
  cfg.set(Key::ScoreComparableRatio, 0.7);
  EXPECT_EQ(chooseVictim(ranked, cfg), 0);
}

TEST_F(VictimScorerTest, MinimumKillThroughRanking) {
  // Best (score 3 GiB) does not free the 2.5 GiB needed; a comparable (2.75 GiB
  // resident, 0.92 x best) one does and is chosen.
  ProcessInfo grower = proc(100, Bytes::gib(1));
  grower.growth = Bytes::gib(1);  // score 3 GiB, frees 1 GiB
  ProcessInfo big = proc(200, Bytes::mib(2816));
  big.growth = Bytes::mib(768);
  std::vector<ProcessInfo> e = {grower, big};
  const auto& r = rank(e, Bytes::mib(2560));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 100);
  EXPECT_TRUE(r[0].grew);
  EXPECT_TRUE(r[1].grew);
  EXPECT_FALSE(r[0].sufficient);
  EXPECT_TRUE(r[1].sufficient);
  EXPECT_EQ(chooseVictim(r, cfg_), 1);
  EXPECT_STREQ(whyChosen(r, 1), "frees_enough");
}

TEST_F(VictimScorerTest, WhatDidNotGrowIsNeverChosenOverWhatGrew) {
  // The big one frees enough and the grower does not: the grower still dies first.
  ProcessInfo grower = proc(100, Bytes::gib(1));
  grower.growth = Bytes::gib(1);
  ProcessInfo big = proc(200, Bytes::mib(2816));
  std::vector<ProcessInfo> e = {grower, big};
  const auto& r = rank(e, Bytes::mib(2560));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 100);
  EXPECT_TRUE(r[0].grew);
  EXPECT_FALSE(r[1].grew);
  EXPECT_EQ(chooseVictim(r, cfg_), 0);
  EXPECT_STREQ(whyChosen(r, 0), "grew_most");
}

// ---- tree candidates -------------------------------------------------------------

class TreeTest : public VictimScorerTest {
 protected:
  static constexpr std::uint64_t kPool = 0xabcdef;
  void SetUp() override {
    ProcessInfo init = proc(1, Bytes::mib(10));
    entries_.push_back(init);
    ProcessInfo parent = proc(100, Bytes::mib(256), {.exeKey = kPool});
    entries_.push_back(parent);
    for (int pid = 101; pid <= 104; ++pid) {
      ProcessInfo child = proc(pid, Bytes::mib(512), {.exeKey = kPool});
      child.ppid = 100;
      entries_.push_back(child);
    }
    ProcessInfo other = proc(105, Bytes::mib(300), {.exeKey = 0x999});
    other.ppid = 100;
    entries_.push_back(other);
  }
  // The pool headed by 100 (its same-program children).
  const Candidate* tree() {
    for (const auto& c : ranked_)
      if (c.group == Group::Pool) return &c;
    return nullptr;
  }
  std::vector<ProcessInfo> entries_;
};

TEST_F(TreeTest, ParentWithSameProgramChildrenFormsPool) {
  rank(entries_, Bytes::gib(10));
  // 6 singles (100..105) and the pool 100..104: 100 is a child of PID 1, a boundary,
  // so no tree takes it with its other-program child, and its only other-program child
  // is no burst.
  ASSERT_EQ(ranked_.size(), 7u);
  const Candidate* t = tree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(pidOf(entries_, *t), 100);
  EXPECT_EQ(t->members, 5);
  EXPECT_EQ(t->freed, Bytes::mib(256 + 4 * 512));
  int pools = 0, trees = 0;
  for (const auto& c : ranked_) {
    pools += c.group == Group::Pool;
    trees += c.group == Group::Tree;
  }
  EXPECT_EQ(pools, 1);
  EXPECT_EQ(trees, 0);

  int members[16];
  int n = treeMembers(entries_, scratch_, *t, members, 16);
  ASSERT_EQ(n, 5);
  std::vector<int> pids;
  for (int i = 0; i < n; ++i) pids.push_back(entries_[static_cast<std::size_t>(members[i])].pid);
  EXPECT_EQ(pids, (std::vector<int>{100, 101, 102, 103, 104}));  // 105 runs another program
}

TEST_F(TreeTest, TreeMembersRespectsCap) {
  rank(entries_, Bytes::gib(10));
  const Candidate* t = tree();
  ASSERT_NE(t, nullptr);
  int members[3] = {-1, -1, -1};
  EXPECT_EQ(treeMembers(entries_, scratch_, *t, members, 2), 2);
  EXPECT_EQ(entries_[static_cast<std::size_t>(members[0])].pid, 100);
  EXPECT_EQ(members[2], -1);
  EXPECT_EQ(treeMembers(entries_, scratch_, *t, members, 0), 0);
}

TEST_F(TreeTest, SingleCandidateHasOnlyItselfAsMember) {
  rank(entries_, Bytes::gib(10));
  const Candidate* c = findSingle(entries_, 102);
  ASSERT_NE(c, nullptr);
  int members[8];
  ASSERT_EQ(treeMembers(entries_, scratch_, *c, members, 8), 1);
  EXPECT_EQ(entries_[static_cast<std::size_t>(members[0])].pid, 102);
}

TEST_F(TreeTest, TreeChosenWhenNoSingleSuffices) {
  const auto& r = rank(entries_, Bytes::gib(2));
  int choice = chooseVictim(r, cfg_);
  ASSERT_GE(choice, 0);
  const Candidate& c = r[static_cast<std::size_t>(choice)];
  // The pool (2304 MiB, 5 kills) frees enough.
  EXPECT_EQ(c.members, 5);
  EXPECT_EQ(c.group, Group::Pool);
  EXPECT_EQ(pidOf(entries_, c), 100);
  EXPECT_TRUE(c.sufficient);
}

TEST_F(TreeTest, ComparableSufficientSingleBeatsTree) {
  entries_.push_back(proc(200, Bytes::gib(2)));  // 2048 MiB vs tree 2304 MiB: 0.89
  const auto& r = rank(entries_, Bytes::gib(2));
  ASSERT_EQ(r[0].members, 5);  // the pool scores best
  int choice = chooseVictim(r, cfg_);
  ASSERT_GE(choice, 0);
  const Candidate& c = r[static_cast<std::size_t>(choice)];
  EXPECT_EQ(c.members, 1);
  EXPECT_EQ(pidOf(entries_, c), 200);
}

TEST_F(TreeTest, ExcludedChildIsNotAMember) {
  entries_[3].oomScoreAdj = -1000;  // pid 102
  rank(entries_, Bytes::gib(10));
  const Candidate* t = tree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->members, 4);
  EXPECT_EQ(t->freed, Bytes::mib(256 + 3 * 512));
  int members[8];
  ASSERT_EQ(treeMembers(entries_, scratch_, *t, members, 8), 4);
  EXPECT_EQ(entries_[static_cast<std::size_t>(members[2])].pid, 103);
}

TEST_F(TreeTest, GrandchildrenJoinTheTree) {
  ProcessInfo grandchild = proc(110, Bytes::mib(100), {.exeKey = kPool});
  grandchild.ppid = 101;
  entries_.push_back(grandchild);
  rank(entries_, Bytes::gib(10));
  const Candidate* t = tree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(pidOf(entries_, *t), 100);
  EXPECT_EQ(t->members, 6);
  EXPECT_EQ(t->freed, Bytes::mib(256 + 4 * 512 + 100));
  int pools = 0;
  for (const auto& c : ranked_) pools += c.group == Group::Pool;
  EXPECT_EQ(pools, 1);  // 101 is not a pool head of its own
}

TEST_F(TreeTest, ZombieChildExcluded) {
  entries_[2].state = 'Z';  // pid 101
  rank(entries_, Bytes::gib(10));
  EXPECT_EQ(findSingle(entries_, 101), nullptr);
  const Candidate* t = tree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->members, 4);
}

TEST_F(TreeTest, TreeRootOwnedByRootGetsRootFactor) {
  entries_[1].uid = 0;  // parent 100
  rank(entries_, Bytes::gib(10));
  const Candidate* t = tree();
  ASSERT_NE(t, nullptr);
  EXPECT_DOUBLE_EQ(t->ownerFactor, 0.25);
}

}  // namespace
}  // namespace ork::policy

namespace ork::policy {
namespace {

// The lab's scenario 2: a larger process that grew at start-up and holds still, beside a
// smaller one still leaking. Growth that stopped is halved every growth_half_life_s
// (5 s), so the leaker is the culprit.
TEST_F(VictimScorerTest, GrowthThatStoppedCountsLess) {
  const TimePoint now{Seconds{1000}};
  ProcessInfo steady = proc(100, Bytes::mib(232));
  steady.growth = Bytes::mib(206);
  steady.lastGrewAt = TimePoint{Seconds{990}};
  ProcessInfo leaker = proc(200, Bytes::mib(166));
  leaker.growth = Bytes::mib(150);
  leaker.lastGrewAt = now;
  std::vector<ProcessInfo> e = {steady, leaker};
  const auto& r = rank(e, Bytes{0}, now);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(pidOf(e, r[0]), 200);
  EXPECT_EQ(findSingle(e, 100)->growth, Bytes::mib(206).scaled(0.25));  // two half-lives
  EXPECT_EQ(findSingle(e, 200)->growth, Bytes::mib(150));
  // Without the time, growth is taken whole and the larger grower wins.
  const auto& whole = rank(e, Bytes{0}, TimePoint{});
  EXPECT_EQ(pidOf(e, whole[0]), 100);
}

}  // namespace
}  // namespace ork::policy

// ---- groups: process trees and bursts (docs/scoring.md, "Candidates") -----------

namespace ork::policy {
namespace {

constexpr std::uint64_t kShell = 0x5e11;
constexpr std::uint64_t kHog = 0x406;

class GroupTest : public VictimScorerTest {
 protected:
  // A process born since ORK's previous look: all it holds is growth, just now.
  static ProcessInfo newborn(int pid, int ppid, Bytes rss, std::uint64_t exe = kHog) {
    ProcessInfo p = proc(pid, rss, {.exeKey = exe});
    p.ppid = ppid;
    p.age = Seconds{2};
    p.growth = rss;
    p.lastGrewAt = kNow;
    return p;
  }
  static ProcessInfo settled(int pid, int ppid, Bytes rss, std::uint64_t exe) {
    ProcessInfo p = proc(pid, rss, {.exeKey = exe});
    p.ppid = ppid;
    return p;
  }
  // A login shell: a session leader, child of sshd (vital).
  void loginShell(int pid) {
    entries_.push_back(proc(1, Bytes::mib(10)));
    entries_.push_back(proc(50, Bytes::mib(8), {.vital = true}));  // sshd
    ProcessInfo sh = settled(pid, 50, Bytes::mib(5), kShell);
    sh.session = pid;
    sh.hasTty = true;  // pts/0
    entries_.push_back(sh);
  }
  const Candidate& chosen(Bytes need) {
    const auto& r = rank(entries_, need, kNow);
    choice_ = chooseVictim(r, cfg_);
    EXPECT_GE(choice_, 0);
    return r[static_cast<std::size_t>(std::max(choice_, 0))];
  }
  std::vector<int> memberPids(const Candidate& c) {
    int idx[act_cap];
    int n = treeMembers(entries_, scratch_, c, idx, act_cap);
    std::vector<int> pids;
    for (int i = 0; i < n; ++i) pids.push_back(entries_[static_cast<std::size_t>(idx[i])].pid);
    return pids;
  }
  static constexpr int act_cap = 64;
  static constexpr TimePoint kNow{Seconds{1000}};
  std::vector<ProcessInfo> entries_;
  int choice_ = -1;
};

// A 100 MiB process holding steady; a shell starts 20 children at once, 18 MiB each.
// No child outweighs the big one, but the children grew and it did not: they die, all
// of them in one action, and the shell (a session leader) lives.
TEST_F(GroupTest, BurstOfSmallChildrenDiesAsOneNotTheSteadyBigProcess) {
  loginShell(200);
  entries_.push_back(settled(150, 1, Bytes::mib(100), 0x100));
  for (int pid = 201; pid <= 220; ++pid) entries_.push_back(newborn(pid, 200, Bytes::mib(18)));
  const Candidate& c = chosen(Bytes::mib(60));
  EXPECT_EQ(c.group, Group::Burst);
  EXPECT_FALSE(c.headIncluded);
  EXPECT_EQ(pidOf(entries_, c), 200);
  EXPECT_EQ(c.members, 20);
  EXPECT_TRUE(c.grew);
  EXPECT_STREQ(whyChosen(ranked_, choice_), "grew_most");
  std::vector<int> pids = memberPids(c);
  ASSERT_EQ(pids.size(), 20u);
  EXPECT_EQ(pids.front(), 201);
  EXPECT_EQ(pids.back(), 220);
  // The steady one is not even a culprit.
  EXPECT_FALSE(findSingle(entries_, 150)->grew);
}

// A worker pool that settled long ago, beside another parent's burst: the burst.
TEST_F(GroupTest, SettledPoolLosesToABurst) {
  loginShell(200);
  entries_.push_back(settled(300, 1, Bytes::mib(40), 0xf9));  // php-fpm master
  for (int pid = 301; pid <= 308; ++pid) entries_.push_back(settled(pid, 300, Bytes::mib(60), 0xf9));
  ProcessInfo script = newborn(400, 200, Bytes::mib(4), kShell);  // a script run from the shell
  entries_.push_back(script);
  for (int pid = 401; pid <= 410; ++pid) entries_.push_back(newborn(pid, 400, Bytes::mib(30)));
  const Candidate& c = chosen(Bytes::mib(200));
  EXPECT_NE(c.group, Group::Pool);
  EXPECT_TRUE(c.grew);
  std::vector<int> pids = memberPids(c);
  EXPECT_GE(pids.size(), 10u);
  for (int pid : pids) EXPECT_GE(pid, 400) << "an innocent member: " << pid;
  // The pool holds the most memory but did not grow.
  for (const auto& r : ranked_) {
    if (r.group != Group::Pool) continue;
    EXPECT_FALSE(r.grew);
  }
}

// parent -> child -> grandchildren, all new: the smallest subtree that holds the growth
// and frees enough goes as one; what started it goes with it when it is part of it.
TEST_F(GroupTest, DeepTreeDiesAsOneAction) {
  loginShell(200);
  entries_.push_back(settled(150, 1, Bytes::mib(300), 0x100));  // big, steady
  entries_.push_back(newborn(500, 200, Bytes::mib(12), 0x9a));   // python parent.py
  entries_.push_back(newborn(501, 500, Bytes::mib(12), 0x9b));   // its child
  for (int pid = 510; pid <= 515; ++pid) entries_.push_back(newborn(pid, 501, Bytes::mib(40)));
  const Candidate& c = chosen(Bytes::mib(200));
  EXPECT_EQ(c.group, Group::Tree);
  EXPECT_TRUE(c.headIncluded);
  std::vector<int> pids = memberPids(c);
  // The child and its six children at least; never the shell nor the big one.
  EXPECT_GE(pids.size(), 7u);
  for (int pid : pids) EXPECT_TRUE(pid >= 500) << pid;
  for (int pid = 510; pid <= 515; ++pid) EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end());
}

// One member grew and frees enough: it dies alone (the old kernel's "sacrifice child"),
// not its settled siblings.
TEST_F(GroupTest, OneChildThatSufficesDiesAlone) {
  loginShell(200);
  ProcessInfo leaker = settled(601, 200, Bytes::mib(400), kHog);
  leaker.growth = Bytes::mib(350);
  leaker.lastGrewAt = kNow;
  entries_.push_back(leaker);
  for (int pid = 602; pid <= 606; ++pid) {
    ProcessInfo sibling = settled(pid, 200, Bytes::mib(30), kHog);
    sibling.growth = Bytes::mib(8);
    sibling.lastGrewAt = kNow;
    entries_.push_back(sibling);
  }
  const Candidate& c = chosen(Bytes::mib(200));
  EXPECT_EQ(c.group, Group::Process);
  EXPECT_EQ(pidOf(entries_, c), 601);
  EXPECT_EQ(ranked_[0].group, Group::Burst);  // the group holding it scores a little more
  EXPECT_STREQ(whyChosen(ranked_, choice_), "fewer_kills");
}

// The growth spread over many members: none of them is comparable to the group.
TEST_F(GroupTest, SpreadGrowthTakesTheGroupEvenWhenOneMemberWouldFreeEnough) {
  loginShell(200);
  for (int pid = 601; pid <= 610; ++pid) entries_.push_back(newborn(pid, 200, Bytes::mib(50)));
  const Candidate& c = chosen(Bytes::mib(40));
  EXPECT_EQ(c.group, Group::Burst);
  EXPECT_EQ(c.members, 10);
}

// Boundaries: a session leader, a process in another cgroup, a child of a protected
// process are never killed with their parent's group.
TEST_F(GroupTest, TreesStopAtSessionsCgroupsAndProtectedParents) {
  loginShell(200);
  ProcessInfo tmux = newborn(700, 200, Bytes::mib(5), 0x7);
  tmux.session = 700;  // setsid: a session of its own
  entries_.push_back(tmux);
  for (int pid = 701; pid <= 704; ++pid) entries_.push_back(newborn(pid, 700, Bytes::mib(50)));
  ProcessInfo scoped = newborn(800, 200, Bytes::mib(5), 0x8);
  auto id = std::make_shared<ProcessIdentity>(*scoped.identity);
  id->cgroup = "/system.slice/run-r1.scope";
  scoped.identity = id;
  entries_.push_back(scoped);
  for (int pid = 801; pid <= 803; ++pid) {
    ProcessInfo p = newborn(pid, 800, Bytes::mib(50));
    p.identity = id;
    entries_.push_back(p);
  }
  ProcessInfo guard = newborn(900, 200, Bytes::mib(5), 0x9);
  guard.oomScoreAdj = -1000;
  entries_.push_back(guard);
  for (int pid = 901; pid <= 903; ++pid) entries_.push_back(newborn(pid, 900, Bytes::mib(50)));
  rank(entries_, Bytes::mib(100), kNow);
  for (const auto& c : ranked_) {
    if (c.group == Group::Process) continue;
    std::vector<int> pids = memberPids(c);
    int head = pidOf(entries_, c);
    for (int pid : pids) {
      EXPECT_NE(pid, 200) << "the login shell";
      EXPECT_NE(pid, 900) << "the protected process";
      if (head == 200) {
        EXPECT_FALSE(pid >= 700 && pid < 710) << "across the session boundary: " << pid;
        EXPECT_FALSE(pid >= 800 && pid < 810) << "across the cgroup boundary: " << pid;
        EXPECT_FALSE(pid > 900 && pid < 910) << "below a protected process: " << pid;
      }
    }
    // The tmux server and the scoped process lead sessions/units: their own trees
    // never take them (a pool does: its head runs the same program).
    if (c.group == Group::Tree && (head == 700 || head == 800)) {
      EXPECT_FALSE(c.headIncluded) << head;
    }
  }
  // The children of the protected process are still candidates, each on its own or as
  // the group... of nobody: their parent is not a candidate.
  ASSERT_NE(findSingle(entries_, 901), nullptr);
}

TEST_F(GroupTest, ARecycledParentPidIsNotAParent) {
  loginShell(200);
  ProcessInfo child = newborn(1001, 1000, Bytes::mib(50));
  child.startTimeTicks = 100;
  ProcessInfo parent = newborn(1000, 200, Bytes::mib(50));
  parent.startTimeTicks = 200;  // started after its "child": PID 1000 was reused
  entries_.push_back(child);
  entries_.push_back(parent);
  ProcessInfo other = newborn(1002, 1000, Bytes::mib(1));
  other.startTimeTicks = 300;
  entries_.push_back(other);
  rank(entries_, Bytes::mib(10), kNow);
  for (const auto& c : ranked_) {
    if (c.group == Group::Process) continue;
    for (int pid : memberPids(c)) EXPECT_NE(pid, 1001);
  }
}

// Parents in a cycle (a table read over time, PIDs reused): no group, but each is still
// a candidate of its own.
TEST_F(GroupTest, ACycleOfParentsLeavesEachACandidate) {
  entries_.push_back(proc(1, Bytes::mib(10)));
  ProcessInfo a = newborn(500, 501, Bytes::mib(40));
  ProcessInfo b = newborn(501, 500, Bytes::mib(60));
  entries_.push_back(a);
  entries_.push_back(b);
  entries_.push_back(newborn(502, 501, Bytes::mib(5)));
  rank(entries_, Bytes::mib(10), kNow);
  EXPECT_NE(findSingle(entries_, 500), nullptr);
  EXPECT_NE(findSingle(entries_, 501), nullptr);
  EXPECT_NE(findSingle(entries_, 502), nullptr);
  const Candidate& c = chosen(Bytes::mib(10));
  EXPECT_GE(c.index, 0);
}

// More members than a kill can take: the largest.
TEST_F(GroupTest, MembersBeyondTheCapAreTheSmallest) {
  loginShell(200);
  for (int pid = 2000; pid < 2100; ++pid) entries_.push_back(newborn(pid, 200, Bytes::mib(pid < 2010 ? 90 : 10)));
  const Candidate& c = chosen(Bytes::gib(2));
  ASSERT_EQ(c.members, 100);
  int idx[12];
  int n = treeMembers(entries_, scratch_, c, idx, 12);
  ASSERT_EQ(n, 12);
  int big = 0;
  for (int i = 0; i < n; ++i) big += entries_[static_cast<std::size_t>(idx[i])].pid < 2010;
  EXPECT_EQ(big, 10);
}

// Nothing grew, and nothing frees enough: a build tree (make -> make -> sh -> cc) is
// not killed whole while one member (the compiler) is as guilty as the tree.
TEST_F(GroupTest, SettledTreeIsNotKilledWholeForItsBiggestMember) {
  loginShell(200);
  entries_.push_back(settled(300, 200, Bytes::mib(8), 0x3a));   // make
  entries_.push_back(settled(301, 300, Bytes::mib(8), 0x3a));   // make (pool with 300)
  entries_.push_back(settled(302, 301, Bytes::mib(2), 0x3b));   // sh
  entries_.push_back(settled(303, 302, Bytes::mib(230), 0x3c)); // cc1plus
  const Candidate& c = chosen(Bytes::gib(2));
  EXPECT_FALSE(ranked_[0].grew);
  EXPECT_NE(ranked_[0].group, Group::Process);  // the tree holds the most
  EXPECT_EQ(c.group, Group::Process);
  EXPECT_EQ(pidOf(entries_, c), 303);
  EXPECT_STREQ(whyChosen(ranked_, choice_), "fewer_kills");
}

// Children of one parent started at different times (a supervisor's programs, a
// driver's steady process and later a launcher) are not one group: an innocent sibling
// that allocated once and holds is never killed with the culprits.
TEST_F(GroupTest, SiblingsBornApartAreNotOneGroup) {
  entries_.push_back(proc(1, Bytes::mib(10)));
  ProcessInfo driver = settled(100, 1, Bytes::mib(2), 0xd);
  entries_.push_back(driver);
  ProcessInfo steady = newborn(101, 100, Bytes::mib(135), 0x51);
  steady.startTimeTicks = 1000;
  steady.lastGrewAt = kNow + (-Seconds{2});
  entries_.push_back(steady);
  ProcessInfo launcher = newborn(102, 100, Bytes::mib(2), 0x7a);
  launcher.startTimeTicks = 1200;  // two seconds later
  entries_.push_back(launcher);
  for (int pid = 110; pid < 130; ++pid) {
    ProcessInfo p = newborn(pid, 102, Bytes::mib(15));
    p.startTimeTicks = 1201;
    entries_.push_back(p);
  }
  const Candidate& c = chosen(Bytes::mib(25));
  std::vector<int> pids = memberPids(c);
  EXPECT_EQ(std::find(pids.begin(), pids.end(), 101), pids.end()) << "the steady sibling";
  EXPECT_EQ(c.members, 21);  // the launcher (born in the episode) and its 20 children
  EXPECT_EQ(pidOf(entries_, c), 102);
  for (const auto& r : ranked_) {
    std::vector<int> m = memberPids(r);
    bool steadyIn = std::find(m.begin(), m.end(), 101) != m.end();
    EXPECT_TRUE(!steadyIn || m.size() == 1) << toString(r.group) << " of " << pidOf(entries_, r);
  }
}

// Two bursts from one shell, a minute apart: two groups.
TEST_F(GroupTest, TwoBurstsFromOneShellAreTwoGroups) {
  loginShell(200);
  for (int pid = 300; pid < 305; ++pid) {
    ProcessInfo p = newborn(pid, 200, Bytes::mib(20));
    p.startTimeTicks = 1000 + static_cast<std::uint64_t>(pid - 300) * 20;  // 0.2 s apart: one burst
    entries_.push_back(p);
  }
  for (int pid = 400; pid < 405; ++pid) {
    ProcessInfo p = newborn(pid, 200, Bytes::mib(20));
    p.startTimeTicks = 7000;
    entries_.push_back(p);
  }
  rank(entries_, Bytes::mib(50), kNow);
  int bursts = 0;
  for (const auto& c : ranked_) {
    if (c.group != Group::Burst) continue;
    ++bursts;
    EXPECT_EQ(c.members, 5);
    std::vector<int> m = memberPids(c);
    ASSERT_EQ(m.size(), 5u);
    EXPECT_EQ(m.front() / 100, m.back() / 100);
  }
  EXPECT_EQ(bursts, 2);
}

// A login shell that started a subshell (bash -> bash) heads no pool and no tree: the
// session is never killed for what runs in it.
TEST_F(GroupTest, InteractiveSessionLeaderIsNeverPartOfAGroup) {
  loginShell(200);
  entries_.push_back(newborn(201, 200, Bytes::mib(3), kShell));  // ( ... ) subshell
  for (int pid = 210; pid <= 215; ++pid) entries_.push_back(newborn(pid, 201, Bytes::mib(40)));
  rank(entries_, Bytes::mib(100), kNow);
  for (const auto& c : ranked_) {
    if (c.group == Group::Process) continue;
    for (int pid : memberPids(c)) EXPECT_NE(pid, 200) << toString(c.group) << " of " << pidOf(entries_, c);
  }
  const Candidate& c = chosen(Bytes::mib(100));
  EXPECT_NE(pidOf(entries_, c), 200);
}

// A daemon (a session leader without a terminal) heading a pool is killed with it, as
// a pool: its workers alone would be started again.
TEST_F(GroupTest, DaemonPoolHeadGoesWithItsWorkers) {
  entries_.push_back(proc(1, Bytes::mib(10)));
  ProcessInfo master = newborn(300, 1, Bytes::mib(5), 0xf9);
  master.session = 300;
  entries_.push_back(master);
  for (int pid = 301; pid <= 304; ++pid) entries_.push_back(newborn(pid, 300, Bytes::mib(35), 0xf9));
  const Candidate& c = chosen(Bytes::mib(13));
  EXPECT_EQ(c.members, 5);
  EXPECT_EQ(pidOf(entries_, c), 300);
  EXPECT_TRUE(c.headIncluded);
}

// Every candidate set is listed once.
TEST_F(GroupTest, NoCandidateSetTwice) {
  loginShell(200);
  entries_.push_back(newborn(500, 200, Bytes::mib(12), 0x9a));
  entries_.push_back(newborn(501, 500, Bytes::mib(12), 0x9b));
  for (int pid = 510; pid <= 512; ++pid) entries_.push_back(newborn(pid, 501, Bytes::mib(40)));
  entries_.push_back(settled(300, 1, Bytes::mib(40), 0xf9));
  for (int pid = 301; pid <= 303; ++pid) entries_.push_back(settled(pid, 300, Bytes::mib(60), 0xf9));
  rank(entries_, Bytes::mib(100), kNow);
  std::vector<std::vector<int>> sets;
  for (const auto& c : ranked_) {
    std::vector<int> pids = memberPids(c);
    std::sort(pids.begin(), pids.end());
    for (const auto& s : sets) EXPECT_NE(s, pids) << "set of " << pids.size() << " from " << pids.front();
    sets.push_back(pids);
  }
}

}  // namespace
}  // namespace ork::policy

// ---- the kill path keeps only the best ---------------------------------------------

namespace ork::policy {
namespace {

// A random host: pools of workers, trees, bursts, some growth. Keeping only the K best
// (the kill path) gives exactly the first K of the full ranking, and the same victim.
TEST_F(VictimScorerTest, KeepingTheBestGivesTheFullRankingsPrefix) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::srand(seed);
    std::vector<ProcessInfo> entries;
    int pid = 100;
    for (int head = 0; head < 60; ++head) {
      ProcessInfo h = proc(pid++, Bytes::mib(1 + std::rand() % 300), {.exeKey = 7u + static_cast<unsigned>(std::rand() % 5)});
      h.session = h.pid;
      h.startTimeTicks = 1000;
      if (std::rand() % 3 == 0) h.growth = Bytes::mib(std::rand() % 50);
      int kids = std::rand() % 12;
      for (int k = 0; k < kids; ++k) {
        ProcessInfo c = proc(pid++, Bytes::mib(1 + std::rand() % 100),
                             {.exeKey = std::rand() % 2 ? h.identity->exeKey : 0u});
        c.ppid = h.pid;
        c.session = h.pid;
        c.startTimeTicks = 2000 + static_cast<std::uint64_t>(std::rand() % 400);
        if (std::rand() % 4 == 0) c.growth = Bytes::mib(std::rand() % 20);
        entries.push_back(c);
      }
      entries.push_back(h);
    }
    std::vector<ProcessInfo> sorted = entries;
    std::vector<Candidate> all = rank(sorted, Bytes::mib(200));
    ASSERT_GT(all.size(), 64u) << seed;
    int full = chooseVictim(all, cfg_);
    ScoreContext ctx{kDomain, Bytes::mib(200), &cfg_, TimePoint{}};
    for (std::size_t keep : {std::size_t{1}, std::size_t{8}, std::size_t{64}, all.size() + 10}) {
      std::vector<Candidate> kept;
      RankScratch scratch;
      rankCandidates(sorted, ctx, kept, scratch, SIZE_MAX, keep);
      ASSERT_EQ(kept.size(), std::min(keep, all.size())) << seed;
      for (std::size_t i = 0; i < kept.size(); ++i) {
        EXPECT_EQ(kept[i].index, all[i].index) << seed << " keep " << keep << " at " << i;
        EXPECT_EQ(kept[i].group, all[i].group) << seed << " keep " << keep << " at " << i;
        EXPECT_EQ(kept[i].members, all[i].members) << seed << " keep " << keep << " at " << i;
        EXPECT_DOUBLE_EQ(kept[i].score, all[i].score) << seed << " keep " << keep << " at " << i;
      }
      // The same victim whenever every candidate as guilty as the best was kept.
      const double floor = all[0].score * cfg_.get(Key::ScoreComparableRatio);
      std::size_t comparable = 0;
      for (const auto& c : all) comparable += c.grew == all[0].grew && c.score >= floor;
      if (comparable <= keep) {
        int k = chooseVictim(kept, cfg_);
        ASSERT_GE(k, 0);
        EXPECT_EQ(kept[static_cast<std::size_t>(k)].index, all[static_cast<std::size_t>(full)].index) << seed;
        EXPECT_EQ(kept[static_cast<std::size_t>(k)].group, all[static_cast<std::size_t>(full)].group) << seed;
      }
    }
  }
}

}  // namespace
}  // namespace ork::policy
