// Who dies: the victim choice, a pure function of the candidate table. The rules are
// written down in docs/scoring.md and shown by `ork top`.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ork/config/Config.h"
#include "ork/core/ProcessInfo.h"

namespace ork::policy {

// Why a process is not a candidate (None: it is one).
enum class Exclusion { None, KernelThread, Init, Vital, OomScoreAdjMin, Zombie, BeingActedOn, NoMemory };
const char* toString(Exclusion e);
Exclusion exclusionOf(const ProcessInfo& p);

// A unit that can be killed: one process, or a process with its descendants running
// the same program (a worker pool: killing only the parent would free nothing).
struct Candidate {
  int index = -1;    // the root process, an index into the entries
  int members = 1;   // processes killed together (1 for a single process)
  Bytes freed;       // resident + swapped memory of all members
  Bytes growth;      // of all members, within the growth window, each member's halved
                     // for every score.growth_half_life_s it has not grown
  // The score and its parts (docs/scoring.md):
  double sizePoints = 0;    // freed, in bytes
  double growthPoints = 0;  // growth_weight x growth
  double adjPoints = 0;     // oom_score_adj / 1000 x domain size
  double ownerFactor = 1;   // root_factor, system_factor or 1
  double patternFactor = 1; // prefer_factor, avoid_factor or 1
  double youthFactor = 1;   // 1 .. 1 + youth_bonus
  double score = 0;
  bool sufficient = false;  // freeing it alone brings memory back above soft
};

struct ScoreContext {
  Bytes domainTotal;
  Bytes need;  // to get back above the soft threshold
  const config::Config* cfg = nullptr;
  TimePoint now;  // for how long each process has not grown
};

// How many of the best candidates the kill path sorts (it re-reads 8 of them and
// chooses among the comparable ones, which are found without sorting).
inline constexpr std::size_t kKillPathSortedPrefix = 64;

// Fills out (cleared first) with every candidate, best first: all of them in order, or
// only the first sortedPrefix (the rest follow in no order; the kill path needs only
// the best few). Does not allocate when out has capacity for 2 x entries.size() (the
// daemon reserves it at refresh time). entries must be sorted by PID.
void rankCandidates(std::span<const ProcessInfo> entries, const ScoreContext& ctx,
                    std::vector<Candidate>& out, std::vector<int>& scratch,
                    std::size_t sortedPrefix = SIZE_MAX);

// The choice among ranked candidates: the best one, unless a candidate that is
// comparable (score >= comparable_ratio x best) frees enough alone while the best does
// not, or frees enough with less collateral: then the comparable candidate that frees
// enough with the least memory. ranked[0] must be the best; the rest may be in any
// order. Returns an index into ranked, or -1 when empty.
int chooseVictim(std::span<const Candidate> ranked, const config::Config& cfg);

// The members of a tree candidate: root first, then its same-program descendants.
// Returns how many were written to out (at most cap). Does not allocate.
int treeMembers(std::span<const ProcessInfo> entries, const Candidate& c, int* out, int cap);

}  // namespace ork::policy
