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

// The top of the chain of same-program ancestors that are candidates themselves.
int treeRoot(std::span<const ProcessInfo> entries, int i) {
  int root = i;
  for (int depth = 0; depth < 64; ++depth) {
    int parent = indexOf(entries, entries[static_cast<std::size_t>(root)].ppid);
    if (parent < 0 || parent == root) break;
    const ProcessInfo& pe = entries[static_cast<std::size_t>(parent)];
    Exclusion why = exclusionOf(pe);
    if (why != Exclusion::None && why != Exclusion::NoMemory) break;
    if (exeKey(pe) == 0 || exeKey(pe) != exeKey(entries[static_cast<std::size_t>(i)])) break;
    root = parent;
  }
  return root;
}

// log10(1 + one week in seconds): the age at which the youth bonus reaches 0.
constexpr double kLogWeek = 5.781612500572057;

double youth(Nanos age, double bonus) {
  double seconds = std::max(0.0, std::chrono::duration<double>(age).count());
  double oldness = std::min(1.0, std::log10(1 + seconds) / kLogWeek);
  return 1 + bonus * (1 - oldness);
}

void score(Candidate& c, const ProcessInfo& root, const ScoreContext& ctx) {
  const config::Config& cfg = *ctx.cfg;
  c.sizePoints = static_cast<double>(c.freed.value);
  c.growthPoints = cfg.get(Key::ScoreGrowthWeight) * static_cast<double>(c.growth.value);
  c.adjPoints = root.oomScoreAdj / 1000.0 * static_cast<double>(ctx.domainTotal.value);
  bool system = root.identity != nullptr && root.identity->systemService;
  // An owner ORK could not read is not root: no discount for it.
  c.ownerFactor = root.uidKnown && root.uid == 0 ? cfg.get(Key::ScoreRootFactor)
                  : system                        ? cfg.get(Key::ScoreSystemFactor)
                                                  : 1.0;
  bool prefer = root.identity != nullptr && root.identity->prefer;
  bool avoid = root.identity != nullptr && root.identity->avoid;
  c.patternFactor = prefer && !avoid ? cfg.get(Key::ScorePreferFactor) : avoid && !prefer ? cfg.get(Key::ScoreAvoidFactor) : 1.0;
  c.youthFactor = youth(root.age, cfg.get(Key::ScoreYouthBonus));
  double raw = std::max(1.0, c.sizePoints + c.growthPoints + c.adjPoints);
  c.score = raw * c.ownerFactor * c.patternFactor * c.youthFactor;
  c.sufficient = c.freed >= ctx.need;
}


// Growth that stopped counts less: halved for every half-life without growth.
Bytes recentGrowth(const ProcessInfo& e, const ScoreContext& ctx) {
  if (e.growth <= Bytes{0} || ctx.now <= e.lastGrewAt) return e.growth;
  double still = std::chrono::duration<double>(ctx.now - e.lastGrewAt).count();
  double halfLife = ctx.cfg->get(Key::ScoreGrowthHalfLifeS);
  return e.growth.scaled(std::exp2(-still / halfLife));
}

}  // namespace

void rankCandidates(std::span<const ProcessInfo> entries, const ScoreContext& ctx,
                    std::vector<Candidate>& out, std::vector<int>& scratch, std::size_t sortedPrefix) {
  out.clear();
  // scratch[i]: index of the candidate that is entry i's tree, or -1.
  scratch.assign(entries.size(), -1);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ProcessInfo& e = entries[i];
    if (exclusionOf(e) != Exclusion::None) continue;
    Candidate single;
    single.index = static_cast<int>(i);
    single.freed = e.memory();
    single.growth = recentGrowth(e, ctx);
    out.push_back(single);
  }
  std::size_t singles = out.size();
  for (std::size_t k = 0; k < singles; ++k) {
    int i = out[k].index;
    int root = treeRoot(entries, i);
    if (root == i) continue;
    int& slot = scratch[static_cast<std::size_t>(root)];
    if (slot < 0) {
      Candidate tree;
      tree.index = root;
      tree.members = 1;
      tree.freed = entries[static_cast<std::size_t>(root)].memory();
      tree.growth = recentGrowth(entries[static_cast<std::size_t>(root)], ctx);
      slot = static_cast<int>(out.size());
      out.push_back(tree);
    }
    Candidate& t = out[static_cast<std::size_t>(slot)];
    t.members += 1;
    t.freed = saturatingAdd(t.freed, out[k].freed);  // sums of impossible sizes saturate
    t.growth = saturatingAdd(t.growth, out[k].growth);
  }
  for (auto& c : out) score(c, entries[static_cast<std::size_t>(c.index)], ctx);
  auto better = [&](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.members != b.members) return a.members < b.members;
    return entries[static_cast<std::size_t>(a.index)].pid > entries[static_cast<std::size_t>(b.index)].pid;
  };
  if (sortedPrefix < out.size()) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(sortedPrefix), out.end(), better);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
}

int chooseVictim(std::span<const Candidate> ranked, const config::Config& cfg) {
  if (ranked.empty()) return -1;
  double floor = ranked[0].score * cfg.get(Key::ScoreComparableRatio);
  int best = -1;
  // Every comparable candidate is looked at: beyond a partially sorted prefix the order
  // is arbitrary.
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const Candidate& c = ranked[i];
    if (c.score < floor || !c.sufficient) continue;
    if (best < 0 || c.freed < ranked[static_cast<std::size_t>(best)].freed ||
        (c.freed == ranked[static_cast<std::size_t>(best)].freed &&
         c.members < ranked[static_cast<std::size_t>(best)].members))
      best = static_cast<int>(i);
  }
  return best >= 0 ? best : 0;
}

int treeMembers(std::span<const ProcessInfo> entries, const Candidate& c, int* out, int cap) {
  int n = 0;
  if (cap <= 0) return 0;
  out[n++] = c.index;
  if (c.members <= 1) return n;
  for (std::size_t i = 0; i < entries.size() && n < cap; ++i) {
    if (static_cast<int>(i) == c.index || exclusionOf(entries[i]) != Exclusion::None) continue;
    if (treeRoot(entries, static_cast<int>(i)) == c.index) out[n++] = static_cast<int>(i);
  }
  return n;
}

}  // namespace ork::policy
