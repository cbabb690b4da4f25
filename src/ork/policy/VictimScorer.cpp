#include "ork/policy/VictimScorer.h"

#include <algorithm>
#include <cmath>

namespace ork::policy {

using config::Key;

const char* toString(Exclusion e) {
  switch (e) {
    case Exclusion::None: return "candidate";
    case Exclusion::KernelThread: return "kernel thread";
    case Exclusion::Init: return "PID 1";
    case Exclusion::Vital: return "vital service";
    case Exclusion::OomScoreAdjMin: return "oom_score_adj -1000";
    case Exclusion::Zombie: return "zombie";
    case Exclusion::BeingActedOn: return "VM being saved or frozen";
    case Exclusion::NoMemory: return "no memory";
  }
  return "?";
}

const char* toString(Group g) {
  switch (g) {
    case Group::Process: return "process";
    case Group::Pool: return "pool";
    case Group::Tree: return "tree";
    case Group::Burst: return "burst";
  }
  return "?";
}

Exclusion exclusionOf(const ProcessInfo& p) {
  if (p.pid == 1) return Exclusion::Init;
  if (p.kernelThread) return Exclusion::KernelThread;
  if (p.identity != nullptr && p.identity->vital) return Exclusion::Vital;
  if (p.oomScoreAdj <= -1000 || p.adjMinSeen) return Exclusion::OomScoreAdjMin;
  if (p.state == 'Z' || p.state == 'X') return Exclusion::Zombie;
  if (p.leaveAlone) return Exclusion::BeingActedOn;
  if (p.memory() <= Bytes{0}) return Exclusion::NoMemory;
  return Exclusion::None;
}

namespace {

int indexOf(std::span<const ProcessInfo> entries, int pid) {
  auto it = std::lower_bound(entries.begin(), entries.end(), pid,
                             [](const ProcessInfo& e, int p) { return e.pid < p; });
  if (it == entries.end() || it->pid != pid) return -1;
  return static_cast<int>(it - entries.begin());
}

std::uint64_t exeKey(const ProcessInfo& p) { return p.identity ? p.identity->exeKey : 0; }

// Whether the edge from a candidate child to its candidate parent is cut: the child
// starts a session (a login shell, an sshd session, a daemon), or was put in a cgroup
// of its own (a service, a scope, a container), or the "parent" started after it (its
// PID was reused). The other boundaries (parent PID 1, protected or outside the
// domain) are parents that are not candidates.
bool boundary(const ProcessInfo& child, const ProcessInfo& parent) {
  if (child.session == child.pid) return true;
  if (parent.startTimeTicks > child.startTimeTicks) return true;
  if (child.identity != nullptr && parent.identity != nullptr &&
      child.identity->cgroup != parent.identity->cgroup)
    return true;
  return false;
}

// A session leader with a controlling terminal: a login shell, an interactive ssh
// session. Never killed as part of a group (pool or tree): that would end the session
// for the fault of what runs in it.
bool interactiveSession(const ProcessInfo& p) { return p.session == p.pid && p.hasTty; }

// log10(1 + one week in seconds): the age at which the youth bonus reaches 0.
constexpr double kLogWeek = 5.781612500572057;

double youth(Nanos age, double bonus) {
  double seconds = std::max(0.0, std::chrono::duration<double>(age).count());
  double oldness = std::min(1.0, std::log10(1 + seconds) / kLogWeek);
  return 1 + bonus * (1 - oldness);
}

struct Factors {
  double owner = 1, pattern = 1, youth = 1;
  double product() const { return owner * pattern * youth; }
};

Factors factorsOf(const ProcessInfo& p, const config::Config& cfg) {
  Factors f;
  bool system = p.identity != nullptr && p.identity->systemService;
  // An owner ORK could not read is not root: no discount for it.
  f.owner = p.uidKnown && p.uid == 0 ? cfg.get(Key::ScoreRootFactor) : system ? cfg.get(Key::ScoreSystemFactor) : 1.0;
  bool prefer = p.identity != nullptr && p.identity->prefer;
  bool avoid = p.identity != nullptr && p.identity->avoid;
  f.pattern = prefer && !avoid ? cfg.get(Key::ScorePreferFactor) : avoid && !prefer ? cfg.get(Key::ScoreAvoidFactor) : 1.0;
  f.youth = youth(p.age, cfg.get(Key::ScoreYouthBonus));
  return f;
}

double adjPointsOf(const ProcessInfo& p, const ScoreContext& ctx) {
  return p.oomScoreAdj / 1000.0 * static_cast<double>(ctx.domainTotal.value);
}

// Growth that stopped counts less: halved for every half-life without growth.
Bytes recentGrowth(const ProcessInfo& e, const ScoreContext& ctx) {
  const Bytes growth = e.growth;
  if (growth <= Bytes{0} || ctx.now <= e.lastGrewAt) return growth;
  double still = std::chrono::duration<double>(ctx.now - e.lastGrewAt).count();
  double halfLife = ctx.cfg->get(Key::ScoreGrowthHalfLifeS);
  return growth.scaled(std::exp2(-still / halfLife));
}

// A candidate of one program (a process, a pool): its head's factors on the sums.
Candidate headed(Group g, int index, int members, Bytes freed, Bytes growth, const ProcessInfo& head,
                 const Factors& f, const ScoreContext& ctx) {
  Candidate c;
  c.index = index;
  c.group = g;
  c.members = members;
  c.freed = freed;
  c.growth = growth;
  c.sizePoints = static_cast<double>(freed.value);
  c.growthPoints = ctx.cfg->get(Key::ScoreGrowthWeight) * static_cast<double>(growth.value);
  c.adjPoints = adjPointsOf(head, ctx);
  c.ownerFactor = f.owner;
  c.patternFactor = f.pattern;
  c.youthFactor = f.youth;
  c.weightedSize = c.sizePoints * f.product();
  c.weightedGrowth = c.growthPoints * f.product();
  c.weightedAdj = c.adjPoints * f.product();
  return c;
}

}  // namespace

namespace {

// Orders candidates, best first: culprits first, then the score, then fewer members,
// then the newer process (higher PID), then the kind.
struct Better {
  std::span<const ProcessInfo> entries;
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.grew != b.grew) return a.grew;
    if (a.score != b.score) return a.score > b.score;
    if (a.members != b.members) return a.members < b.members;
    if (a.index != b.index) return entries[static_cast<std::size_t>(a.index)].pid > entries[static_cast<std::size_t>(b.index)].pid;
    return a.group < b.group;
  }
};

// Where the candidates go: all of them, or (keep bounded) only the keep best, held as
// a heap whose top is the worst kept, so that the kill path's working memory does not
// grow with the number of processes.
class Sink {
 public:
  Sink(std::vector<Candidate>& out, std::size_t keep, Better better, Bytes significant, Bytes need,
       double growthWeight)
      : out_(out), keep_(keep), better_(better), significant_(significant), need_(need), growthWeight_(growthWeight) {}

  void add(Candidate c) {
    // growth_weight 0: the operator turned growth off, culprits with it.
    c.grew = growthWeight_ > 0 && c.growth > Bytes{0} && c.growth >= significant_;
    // Among culprits size is left out: what grew, not what is big.
    double raw = c.grew ? c.weightedGrowth + c.weightedAdj : c.weightedSize + c.weightedGrowth + c.weightedAdj;
    c.score = std::max(1.0, raw);
    c.sufficient = c.freed >= need_;
    if (keep_ == SIZE_MAX) {
      out_.push_back(c);
      return;
    }
    if (keep_ == 0) return;
    if (out_.size() < keep_) {
      out_.push_back(c);
      std::push_heap(out_.begin(), out_.end(), better_);
    } else if (better_(c, out_.front())) {
      std::pop_heap(out_.begin(), out_.end(), better_);
      out_.back() = c;
      std::push_heap(out_.begin(), out_.end(), better_);
    }
  }

 private:
  std::vector<Candidate>& out_;
  std::size_t keep_;
  Better better_;
  Bytes significant_, need_;
  double growthWeight_;
};

}  // namespace

void rankCandidates(std::span<const ProcessInfo> entries, const ScoreContext& ctx,
                    std::vector<Candidate>& out, RankScratch& scratch, std::size_t sortedPrefix,
                    std::size_t keep) {
  const config::Config& cfg = *ctx.cfg;
  const double growthWeight = cfg.get(Key::ScoreGrowthWeight);
  const std::size_t n = entries.size();
  out.clear();
  auto& nodes = scratch.nodes;
  auto& order = scratch.order;
  nodes.assign(n, RankScratch::Node{});
  order.clear();

  // The edges: each candidate to its parent, unless a boundary cuts it.
  for (std::size_t i = 0; i < n; ++i) {
    const ProcessInfo& e = entries[i];
    if (exclusionOf(e) != Exclusion::None) continue;
    int p = indexOf(entries, e.ppid);
    if (p < 0 || static_cast<std::size_t>(p) == i) continue;
    const ProcessInfo& pe = entries[static_cast<std::size_t>(p)];
    if (exclusionOf(pe) != Exclusion::None || boundary(e, pe)) continue;
    RankScratch::Node& nd = nodes[i];
    RankScratch::Node& pn = nodes[static_cast<std::size_t>(p)];
    nd.parent = p;
    pn.children += 1;
    if (exeKey(e) != 0 && exeKey(e) == exeKey(pe) && !interactiveSession(pe)) {
      nd.poolEdge = true;
      pn.hasPoolChild = true;
    }
  }
  // Bottom-up (children before parents, Kahn's order): each process adds its subtree's
  // sums to its parent's. One pass, whatever the depth. poolMembers counts down the
  // children not yet ordered; a process it never reaches (its subtree holds a cycle of
  // parents, which a table read over time could show after PID reuse) is unreached.
  for (std::size_t i = 0; i < n; ++i) {
    nodes[i].poolMembers = static_cast<int>(nodes[i].children);
    if (nodes[i].children == 0 && exclusionOf(entries[i]) == Exclusion::None) order.push_back(static_cast<int>(i));
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    const int p = nodes[static_cast<std::size_t>(order[k])].parent;
    if (p >= 0 && --nodes[static_cast<std::size_t>(p)].poolMembers == 0) order.push_back(p);
  }
  for (std::size_t i = 0; i < n; ++i) {
    nodes[i].unreached = nodes[i].poolMembers != 0;
    nodes[i].poolMembers = 0;
  }
  // The pools' sums (along same-program edges), in freed, growth and poolMembers: the
  // pools' growth for the tier, poolMembers for the trees below. Called again once the
  // trees' candidates are made, for the pools' (freed and growth then hold the trees').
  auto poolSums = [&](auto&& atHead) {
    for (std::size_t i = 0; i < n; ++i) {
      nodes[i].freed = nodes[i].growth = Bytes{0};
      nodes[i].poolMembers = 0;
    }
    for (int i : order) {
      RankScratch::Node& nd = nodes[static_cast<std::size_t>(i)];
      const ProcessInfo& e = entries[static_cast<std::size_t>(i)];
      nd.poolMembers += 1;
      nd.freed = saturatingAdd(nd.freed, e.memory());
      nd.growth = saturatingAdd(nd.growth, recentGrowth(e, ctx));
      if (nd.poolEdge) {
        RankScratch::Node& pn = nodes[static_cast<std::size_t>(nd.parent)];
        pn.poolMembers += nd.poolMembers;
        pn.freed = saturatingAdd(pn.freed, nd.freed);
        pn.growth = saturatingAdd(pn.growth, nd.growth);
      } else if (nd.hasPoolChild) {
        atHead(i, nd);
      }
    }
  };
  Bytes largest{0};
  poolSums([&](int, const RankScratch::Node& nd) { largest = std::max(largest, nd.growth); });
  for (std::size_t i = 0; i < n; ++i) nodes[i].freed = nodes[i].growth = Bytes{0};

  // The trees' sums. The candidates are not made here: the tier needs the largest growth
  // of any candidate first (below), and the sums, once complete, are each head's group.
  for (int oi : order) {
    const std::size_t i = static_cast<std::size_t>(oi);
    const ProcessInfo& e = entries[i];
    RankScratch::Node& nd = nodes[i];
    const Bytes freed = e.memory();
    const Bytes growth = recentGrowth(e, ctx);
    const double f = factorsOf(e, cfg).product();
    const double adjPoints = adjPointsOf(e, ctx);

    largest = std::max(largest, growth);
    if (nd.children > 0) {
      // The head goes with its descendants when it is part of the group: it is not a
      // boundary (a boundary has no tree edge to its parent), and it grew (or was born
      // in the growth window) or runs one of its children's program. Never an
      // interactive session's leader. Otherwise its children may form bursts (below); a
      // boundary heading a pool goes with it as the pool (a shell between fork and exec
      // looks like one for a moment: that must not take the shell with its tree).
      nd.headIncluded = !interactiveSession(e) && nd.parent >= 0 && (nd.hasPoolChild || e.growth >= kCulpritFloor);
      // The same set as the pool headed here: listed once, as the pool (members does
      // not count this process yet, poolMembers does).
      bool samePool = nd.hasPoolChild && !nd.poolEdge && nd.poolMembers == nd.members + 1;
      nd.headsTree = nd.headIncluded && !samePool;
      if (nd.headsTree) largest = std::max(largest, saturatingAdd(nd.growth, growth));
    }

    nd.members += 1;
    nd.freed = saturatingAdd(nd.freed, freed);
    nd.growth = saturatingAdd(nd.growth, growth);
    nd.sizeF += static_cast<double>(freed.value) * f;
    nd.growthF += growthWeight * static_cast<double>(growth.value) * f;
    nd.adjF += adjPoints * f;
    nd.adjSum += adjPoints;
    if (nd.parent >= 0) {
      RankScratch::Node& pn = nodes[static_cast<std::size_t>(nd.parent)];
      pn.members += nd.members;
      pn.freed = saturatingAdd(pn.freed, nd.freed);
      pn.growth = saturatingAdd(pn.growth, nd.growth);
      pn.sizeF += nd.sizeF;
      pn.growthF += nd.growthF;
      pn.adjF += nd.adjF;
      pn.adjSum += nd.adjSum;
    }
  }

  for (std::size_t i = 0; i < n; ++i)  // a cycle's processes (below) are candidates too
    if (nodes[i].unreached && exclusionOf(entries[i]) == Exclusion::None)
      largest = std::max(largest, recentGrowth(entries[i], ctx));

  // Bursts: the children of a head that does not go with its tree, by start time; a
  // run of two or more, each born within kBurstGap of the previous one, is a group.
  auto& kids = scratch.list;
  kids.clear();
  for (int i : order) {
    const RankScratch::Node& nd = nodes[static_cast<std::size_t>(i)];
    if (nd.parent < 0) continue;
    const RankScratch::Node& pn = nodes[static_cast<std::size_t>(nd.parent)];
    // A pool head's own program's children are its pool's, not a burst's: a daemon's
    // workers alone would be started again.
    if (pn.children >= 2 && !pn.headIncluded && !nd.poolEdge) kids.push_back(i);
  }
  std::sort(kids.begin(), kids.end(), [&](int a, int b) {
    int pa = nodes[static_cast<std::size_t>(a)].parent, pb = nodes[static_cast<std::size_t>(b)].parent;
    if (pa != pb) return pa < pb;
    return entries[static_cast<std::size_t>(a)].startTimeTicks < entries[static_cast<std::size_t>(b)].startTimeTicks;
  });
  const auto gapTicks = static_cast<std::uint64_t>(
      std::chrono::duration<double>(kBurstGap).count() * static_cast<double>(ctx.ticksPerSecond));
  // Each run of kids [a, b) that is a burst, in order (called twice: for the largest
  // growth, then for the candidates).
  auto forEachBurst = [&](auto&& fn) {
    for (std::size_t a = 0; a < kids.size();) {
      const int head = nodes[static_cast<std::size_t>(kids[a])].parent;
      std::size_t b = a + 1;
      while (b < kids.size() && nodes[static_cast<std::size_t>(kids[b])].parent == head &&
             entries[static_cast<std::size_t>(kids[b])].startTimeTicks <=
                 entries[static_cast<std::size_t>(kids[b - 1])].startTimeTicks + gapTicks)
        ++b;
      if (b - a >= 2) fn(head, a, b);
      a = b;
    }
  };
  auto burst = [&](int head, std::size_t a, std::size_t b) {
    Candidate t;
    t.index = head;
    t.group = Group::Burst;
    t.headIncluded = false;
    t.burstFrom = entries[static_cast<std::size_t>(kids[a])].startTimeTicks;
    t.burstTo = entries[static_cast<std::size_t>(kids[b - 1])].startTimeTicks;
    t.members = 0;
    for (std::size_t k = a; k < b; ++k) {
      const RankScratch::Node& c = nodes[static_cast<std::size_t>(kids[k])];
      t.members += c.members;
      t.freed = saturatingAdd(t.freed, c.freed);
      t.growth = saturatingAdd(t.growth, c.growth);
      t.adjPoints += c.adjSum;
      t.weightedSize += c.sizeF;
      t.weightedGrowth += c.growthF;
      t.weightedAdj += c.adjF;
    }
    t.sizePoints = static_cast<double>(t.freed.value);
    t.growthPoints = growthWeight * static_cast<double>(t.growth.value);
    Factors hf = factorsOf(entries[static_cast<std::size_t>(head)], cfg);
    t.ownerFactor = hf.owner;
    t.patternFactor = hf.pattern;
    t.youthFactor = hf.youth;
    return t;
  };
  forEachBurst([&](int head, std::size_t a, std::size_t b) {
    Bytes g{0};
    for (std::size_t k = a; k < b; ++k) g = saturatingAdd(g, nodes[static_cast<std::size_t>(kids[k])].growth);
    (void)head;
    largest = std::max(largest, g);
  });

  // The tier: a culprit grew significantly, against what must be freed and against the
  // largest growth of any candidate (a group's growth is its members' summed).
  const Bytes significant =
      std::max({kCulpritFloor, ctx.need.scaled(kCulpritShareOfNeed), largest.scaled(kCulpritShareOfLargest)});
  const Better better{entries};
  Sink sink(out, keep, better, significant, ctx.need, growthWeight);

  // The candidates, from the complete sums: each process; the tree it heads, the bursts
  // below it; then (the pools' sums again) the pool it heads. A process the bottom-up
  // pass never reached is a candidate on its own.
  for (std::size_t i = 0; i < n; ++i) {
    const ProcessInfo& e = entries[i];
    if (exclusionOf(e) != Exclusion::None) continue;
    const RankScratch::Node& nd = nodes[i];
    const Bytes freed = e.memory();
    const Bytes growth = recentGrowth(e, ctx);
    const Factors ef = factorsOf(e, cfg);
    sink.add(headed(Group::Process, static_cast<int>(i), 1, freed, growth, e, ef, ctx));
    if (nd.unreached) continue;
    if (nd.headsTree) {
      Candidate t;
      t.index = static_cast<int>(i);
      t.group = Group::Tree;
      t.members = nd.members;
      t.freed = nd.freed;
      t.growth = nd.growth;
      t.sizePoints = static_cast<double>(t.freed.value);
      t.growthPoints = growthWeight * static_cast<double>(t.growth.value);
      t.adjPoints = nd.adjSum;
      t.ownerFactor = ef.owner;
      t.patternFactor = ef.pattern;
      t.youthFactor = ef.youth;
      // Each member's points times its own factors: the score of the whole is the sum
      // of its members'.
      t.weightedSize = nd.sizeF;
      t.weightedGrowth = nd.growthF;
      t.weightedAdj = nd.adjF;
      sink.add(t);
    }
  }
  forEachBurst([&](int head, std::size_t a, std::size_t b) { sink.add(burst(head, a, b)); });
  poolSums([&](int i, const RankScratch::Node& nd) {
    const ProcessInfo& e = entries[static_cast<std::size_t>(i)];
    sink.add(headed(Group::Pool, i, nd.poolMembers, nd.freed, nd.growth, e, factorsOf(e, cfg), ctx));
  });

  if (keep != SIZE_MAX) std::sort_heap(out.begin(), out.end(), better);  // best first
  else if (sortedPrefix < out.size())
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(sortedPrefix), out.end(), better);
  else
    std::sort(out.begin(), out.end(), better);
}

int chooseVictim(std::span<const Candidate> ranked, const config::Config& cfg) {
  if (ranked.empty()) return -1;
  const Candidate& top = ranked[0];
  const double floor = top.score * cfg.get(Key::ScoreComparableRatio);
  // Among the candidates as guilty as the best (every one is looked at: beyond a
  // partially sorted prefix the order is arbitrary): one that frees enough, with the
  // fewest members, then the least memory; when none frees enough, the fewest members,
  // then the best score (a tree is not killed whole while one of its members is as
  // guilty: that member first, and the next kill, if still needed, after it died).
  int enough = -1;
  int fewest = 0;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const Candidate& c = ranked[i];
    if (c.grew != top.grew || c.score < floor) continue;
    const Candidate& f = ranked[static_cast<std::size_t>(fewest)];
    if (c.members < f.members || (c.members == f.members && c.score > f.score)) fewest = static_cast<int>(i);
    if (!c.sufficient) continue;
    if (enough < 0) {
      enough = static_cast<int>(i);
      continue;
    }
    const Candidate& b = ranked[static_cast<std::size_t>(enough)];
    if (c.members < b.members || (c.members == b.members && c.freed < b.freed)) enough = static_cast<int>(i);
  }
  return enough >= 0 ? enough : fewest;
}

const char* whyChosen(std::span<const Candidate> ranked, int choice) {
  if (choice < 0 || static_cast<std::size_t>(choice) >= ranked.size()) return "none";
  const Candidate& top = ranked[0];
  if (choice == 0) return top.grew ? "grew_most" : "largest";
  const Candidate& c = ranked[static_cast<std::size_t>(choice)];
  if (c.members < top.members) return "fewer_kills";
  if (!top.sufficient) return "frees_enough";
  return "less_memory";
}

int treeMembers(std::span<const ProcessInfo> entries, RankScratch& scratch, const Candidate& c, int* out,
                int cap) {
  if (cap <= 0 || c.index < 0 || static_cast<std::size_t>(c.index) >= entries.size()) return 0;
  int n = 0;
  if (c.headIncluded) out[n++] = c.index;
  if (c.group == Group::Process) return n;
  auto& nodes = scratch.nodes;
  auto& list = scratch.list;
  list.clear();
  if (nodes.size() != entries.size()) return n;
  // Top-down (parents before children: the bottom-up order backwards): a member is the
  // head's descendant by tree edges (a pool: by same-program edges only; a burst: below
  // the head's children born in the burst).
  nodes[static_cast<std::size_t>(c.index)].mark = true;
  for (auto it = scratch.order.rbegin(); it != scratch.order.rend(); ++it) {
    RankScratch::Node& nd = nodes[static_cast<std::size_t>(*it)];
    if (*it == c.index || nd.parent < 0) continue;
    if (c.group == Group::Pool && !nd.poolEdge) continue;
    if (!nodes[static_cast<std::size_t>(nd.parent)].mark) continue;
    if (c.group == Group::Burst && nd.parent == c.index) {
      std::uint64_t born = entries[static_cast<std::size_t>(*it)].startTimeTicks;
      if (nd.poolEdge || born < c.burstFrom || born > c.burstTo) continue;
    }
    nd.mark = true;
    list.push_back(*it);
  }
  for (int i : list) nodes[static_cast<std::size_t>(i)].mark = false;
  nodes[static_cast<std::size_t>(c.index)].mark = false;
  // More than the Killer can hold: the largest first.
  std::size_t room = static_cast<std::size_t>(cap - n);
  if (list.size() > room) {
    std::nth_element(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(room), list.end(), [&](int a, int b) {
      return entries[static_cast<std::size_t>(a)].memory() > entries[static_cast<std::size_t>(b)].memory();
    });
    list.resize(room);
  }
  std::sort(list.begin(), list.end());
  for (int i : list) out[n++] = i;
  return n;
}

}  // namespace ork::policy
