// Who dies: the victim choice, a pure function of the candidate table. The rules are
// written down in docs/scoring.md ("Candidates" and "The choice") and shown by `ork top`.
#pragma once

#include <algorithm>
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

// What a candidate kills.
//  - Process: one process.
//  - Pool: a process and its descendants running the same program, down an unbroken
//    chain of that program (a worker pool: killing only the parent would free nothing).
//  - Tree: a process's descendants, cut at the boundaries below, with the process itself
//    (its head) when the head is part of the group (headIncluded): it runs the program
//    of one of its children (a pool's head), or it grew or was born since ORK's previous
//    look and is not a boundary. Boundaries (a tree never reaches across one): a session
//    leader (a login shell, an sshd session, a daemon), a process whose parent is PID 1,
//    outside the domain or not a candidate (protected, vital: sshd, systemd --user,
//    libvirtd...), and a process in another cgroup than its parent (a service's main
//    process, a scope, a container). A session leader with a terminal (an interactive
//    session) is never killed with a group, not even as a pool's head.
//  - Burst: children of one process born together (each within kBurstGap of the
//    previous one), with their descendants, without that process: a shell's `for ...;
//    do hog & done`, a launcher's fan-out. Only under a head that does not go with its
//    own tree (a boundary, or a process that neither grew nor heads a pool): siblings
//    started at different times (a supervisor's services) are not one group.
enum class Group : std::uint8_t { Process, Pool, Tree, Burst };
const char* toString(Group g);

struct Candidate {
  int index = -1;    // the head: the process, the pool's root, the tree's head (an index
                     // into the entries); for a tree with !headIncluded not a member
  Group group = Group::Process;
  bool headIncluded = true;
  std::uint64_t burstFrom = 0, burstTo = 0;  // a burst: its children's start times (ticks)
  int members = 1;   // processes killed together (1 for a single process)
  Bytes freed;       // resident + swapped memory of all members
  Bytes growth;      // of all members, within the growth window, each member's halved
                     // for every score.growth_half_life_s it has not grown
  // The score and its parts (docs/scoring.md). For a tree the parts are sums over the
  // members of each member's part times its own factors, and the factors shown are the
  // head's (information only).
  double sizePoints = 0;    // freed, in bytes
  double growthPoints = 0;  // growth_weight x growth
  double adjPoints = 0;     // oom_score_adj / 1000 x domain size
  double ownerFactor = 1;   // root_factor, system_factor or 1
  double patternFactor = 1; // prefer_factor, avoid_factor or 1
  double youthFactor = 1;   // 1 .. 1 + youth_bonus
  double score = 0;
  // The parts as scored: each member's part times its own factors, summed (for one
  // program, the head's factors on the sums).
  double weightedSize = 0, weightedGrowth = 0, weightedAdj = 0;
  // A culprit: it grew significantly (kCulprit* below). Culprits rank before every
  // candidate that did not grow, whatever its size, and among culprits the score
  // leaves size out: what grew, not what is big.
  bool grew = false;
  bool sufficient = false;  // freeing it alone brings memory back above soft
};

// A candidate's growth is significant (a culprit) when it is at least all of:
inline constexpr Bytes kCulpritFloor = Bytes::mib(1);
inline constexpr double kCulpritShareOfNeed = 0.125;    // of what must be freed
inline constexpr double kCulpritShareOfLargest = 0.25;  // of the largest candidate growth

// Children born closer together than this, one after the other, are one burst.
inline constexpr Nanos kBurstGap = Seconds{1};

struct ScoreContext {
  Bytes domainTotal;
  Bytes need;  // to get back above the soft threshold
  const config::Config* cfg = nullptr;
  TimePoint now;  // for how long each process has not grown
  long ticksPerSecond = 100;  // of ProcessInfo::startTimeTicks (USER_HZ)
};

// Per-process working space of rankCandidates, kept between calls (the kill path
// reserves it at refresh time: reserve(entries) then no allocation).
struct RankScratch {
  struct Node {
    int parent = -1;      // tree edge to the parent (-1: a boundary, or no parent)
    int members = 0;      // of the subtree (itself included)
    int poolMembers = 0;  // of the same-program chain below it (itself included); the
                          // children not yet ordered while the bottom-up order is made
    // One of these per process, resident and locked: 64 bytes on x86-64 (88 when the
    // pool's sums had fields of their own: they are summed in freed and growth by a
    // pass of their own, before and after the tree's).
    std::uint32_t children : 26 = 0;  // tree children (a process has fewer than 2^22)
    bool poolEdge : 1 = false;      // the edge to the parent is a pool edge (same program)
    bool hasPoolChild : 1 = false;
    bool headIncluded : 1 = false;  // of this process's own tree candidate
    bool headsTree : 1 = false;     // heads a tree candidate (not the same set as its pool)
    bool mark : 1 = false;          // treeMembers' working flag
    bool unreached : 1 = false;     // not in the bottom-up order (a cycle of parents below it)
    Bytes freed, growth;  // of the subtree (of the pool during the pool's passes)
    double sizeF = 0, growthF = 0, adjF = 0;  // subtree sums of factor-weighted points
    double adjSum = 0;                        // and of oom_score_adj points (shown)
  };
  static_assert(sizeof(void*) != 8 || sizeof(Node) <= 64, "Node grew: it is one per process");
  std::vector<Node> nodes;
  std::vector<int> order;  // bottom-up: children before parents
  std::vector<int> list;   // treeMembers' working list, and the bursts' children
  void reserve(std::size_t entries) {
    // At least 64 KiB (1,024 nodes): above malloc's mmap threshold (8 KiB,
    // sys::protectSelf) and its trim threshold, so that the nodes are mmap'd, never
    // carved out of the heap, where a block freed when the
    // table grows would stay resident (locked). Only the nodes of the entries are
    // touched; the rest of the reservation is address space.
    nodes.reserve(std::max(entries, std::size_t{64 * 1024 / sizeof(Node) + 1}));
    order.reserve(entries);
    list.reserve(entries);
  }
};

// How many candidates the kill path keeps: the best ones, whatever the number of
// processes (its working memory is this many Candidates, not one per process, resident
// and locked). More than this many as guilty as the best are many alike (the workers of
// a pool, the members of a burst), and the best of them as good a choice as the rest;
// the test KeepingTheBestGivesTheFullRankingsPrefix checks the choice is otherwise the
// same.
inline constexpr std::size_t kKillPathKept = 128;

// Fills out (cleared first) with the candidates, best first: all of them in order, or
// only the first sortedPrefix (the rest follow in no order), or, with keep bounded, only
// the keep best, all in order (the kill path: kKillPathKept). One pass over the table,
// bottom-up, then one over the sums: no walk per candidate. Does not allocate when out
// has capacity for keep (unbounded: 3 x entries.size()) and scratch was reserved for
// entries.size() (the daemon reserves both at refresh time). entries must be sorted by
// PID.
void rankCandidates(std::span<const ProcessInfo> entries, const ScoreContext& ctx,
                    std::vector<Candidate>& out, RankScratch& scratch,
                    std::size_t sortedPrefix = SIZE_MAX, std::size_t keep = SIZE_MAX);

// The choice among ranked candidates (docs/scoring.md, "The choice"): among those as
// guilty as the best (the same tier, culprit or not, and score >= comparable_ratio x
// best), one that frees enough alone, with the fewest members, then with the least
// memory; when none frees enough, the one with the fewest members, then the best score.
// So a member that holds most of a group's guilt dies alone; growth spread over many
// members takes the group. ranked[0] must be the best; the rest may be in any order.
// Returns an index into ranked, or -1 when empty.
int chooseVictim(std::span<const Candidate> ranked, const config::Config& cfg);

// Why chooseVictim chose ranked[choice], in one word (the journal's why=, `ork top`):
// grew_most (the best, a culprit), largest (the best, nothing grew), fewer_kills (as
// guilty as the best, fewer members: a member of the best group, or a process instead
// of a group), frees_enough (the best does not free enough, this does), less_memory (as
// guilty, frees enough, as many killed, less memory lost).
const char* whyChosen(std::span<const Candidate> ranked, int choice);

// The members of a candidate: the head first when it is a member, then the others
// (for a tree or pool cut at cap: the largest). scratch must be the one rankCandidates
// filled for these entries. Returns how many were written to out (at most cap). Does
// not allocate when scratch was reserved.
int treeMembers(std::span<const ProcessInfo> entries, RankScratch& scratch, const Candidate& c, int* out,
                int cap);

}  // namespace ork::policy
