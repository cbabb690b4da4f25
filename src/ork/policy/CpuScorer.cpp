#include "ork/policy/CpuScorer.h"

#include <algorithm>
#include <type_traits>

#include "ork/policy/VictimScorer.h"

namespace ork::policy {

namespace {

// A child holding at least this share of its parent's subtree usage is where the load
// is: the descent goes on into it.
constexpr double kDescendShare = 0.8;

int indexOf(std::span<const ProcessInfo> entries, int pid) {
  auto it = std::lower_bound(entries.begin(), entries.end(), pid,
                             [](const ProcessInfo& e, int p) { return e.pid < p; });
  if (it == entries.end() || it->pid != pid) return -1;
  return static_cast<int>(it - entries.begin());
}

const CpuBaseline* baselineOf(std::span<const CpuBaseline> baseline, int pid) {
  auto it = std::lower_bound(baseline.begin(), baseline.end(), pid,
                             [](const CpuBaseline& b, int p) { return b.pid < p; });
  if (it == baseline.end() || it->pid != pid) return nullptr;
  return &*it;
}

// The memory killer's protections apply, but not its NoMemory rule: a process can burn
// CPUs while holding no memory worth counting.
bool protectedFromCpuKill(const ProcessInfo& p) {
  Exclusion why = exclusionOf(p);
  return why != Exclusion::None && why != Exclusion::NoMemory;
}

bool contains(std::span<const int> pids, int pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

}  // namespace

void takeCpuBaseline(std::span<const ProcessInfo> entries, std::vector<CpuBaseline>& out) {
  out.clear();
  for (const ProcessInfo& p : entries)
    out.push_back(CpuBaseline{p.pid, p.startTimeTicks, p.cpuTicks});
}

double cpusUsed(const ProcessInfo& p, const CpuWindow& w) {
  const double seconds = std::chrono::duration<double>(w.length).count();
  if (seconds <= 0 || w.ticksPerSecond <= 0) return 0;
  const CpuBaseline* b = baselineOf(w.baseline, p.pid);
  if (b != nullptr && b->startTimeTicks == p.startTimeTicks) {
    const std::uint64_t ticks = p.cpuTicks >= b->cpuTicks ? p.cpuTicks - b->cpuTicks : 0;
    return static_cast<double>(ticks) / w.ticksPerSecond / seconds;
  }
  // Not in the baseline: it started within the window, unless the baseline missed it.
  const double age = std::chrono::duration<double>(p.age).count();
  const double over = age > seconds ? age : seconds;
  return static_cast<double>(p.cpuTicks) / w.ticksPerSecond / over;
}

double cpusUsedByPid(std::span<const ProcessInfo> entries, int pid, const CpuWindow& w) {
  int i = indexOf(entries, pid);
  return i < 0 ? 0 : cpusUsed(entries[static_cast<std::size_t>(i)], w);
}

void CpuScratch::reserve(std::size_t n) {
  own.reserve(n);
  if (n <= capacity_) return;
  // Doubles first (alignment), then the six int arrays, then the flags; not zero-filled
  // (resize() hands out views, chooseTreeVictim fills them).
  block_ = std::make_unique_for_overwrite<std::byte[]>(n * (sizeof(double) + 6 * sizeof(int) + 1));
  capacity_ = n;
  parent = firstChild = nextSibling = pending = queue = size = {};
  subtree = {};
  inTree = {};
  queued = 0;
}

void CpuScratch::resize(std::size_t n) {
  if (n > capacity_) reserve(n);
  std::byte* at = block_.get();
  auto take = [&](auto& view, std::size_t count) {
    using T = typename std::remove_reference_t<decltype(view)>::element_type;
    view = {reinterpret_cast<T*>(at), count};
    at += capacity_ * sizeof(T);
  };
  take(subtree, n);
  take(parent, n);
  take(firstChild, n);
  take(nextSibling, n);
  take(pending, n);
  take(queue, n);
  take(size, n);
  take(inTree, n);
  queued = 0;
}

CpuVictim chooseCpuVictim(std::span<const ProcessInfo> entries, const CpuChoiceContext& ctx,
                          CpuScratch& s) {
  s.own.assign(entries.size(), 0.0);
  for (std::size_t i = 0; i < entries.size(); ++i) s.own[i] = cpusUsed(entries[i], ctx.window);
  return chooseTreeVictim(entries, ctx.leaveAlone, ctx.floorCpus, s);
}

CpuVictim chooseTreeVictim(std::span<const ProcessInfo> entries, std::span<const int> leaveAlone,
                           double floor, CpuScratch& s) {
  const std::size_t n = entries.size();
  s.own.resize(n, 0.0);
  s.resize(n);
  std::fill(s.parent.begin(), s.parent.end(), -1);
  std::fill(s.firstChild.begin(), s.firstChild.end(), -1);
  std::fill(s.nextSibling.begin(), s.nextSibling.end(), -1);
  std::fill(s.pending.begin(), s.pending.end(), 0);
  std::fill(s.size.begin(), s.size.end(), 1);
  std::fill(s.subtree.begin(), s.subtree.end(), 0.0);
  std::fill(s.inTree.begin(), s.inTree.end(), static_cast<unsigned char>(0));

  for (std::size_t i = 0; i < n; ++i) {
    const ProcessInfo& p = entries[i];
    if (protectedFromCpuKill(p) || contains(leaveAlone, p.pid)) continue;
    s.inTree[i] = 1;
    s.subtree[i] = s.own[i];
  }
  // Link each process to its parent when both are in a tree: an excluded parent (or one
  // not in the table) makes the child a root, so no tree ever spans a protected process.
  for (std::size_t i = 0; i < n; ++i) {
    if (!s.inTree[i]) continue;
    const int p = indexOf(entries, entries[i].ppid);
    if (p < 0 || static_cast<std::size_t>(p) == i || !s.inTree[static_cast<std::size_t>(p)])
      continue;
    const auto pu = static_cast<std::size_t>(p);
    s.parent[i] = p;
    s.nextSibling[i] = s.firstChild[pu];
    s.firstChild[pu] = static_cast<int>(i);
    ++s.pending[pu];
  }
  // Subtree sums, leaves first (Kahn's order, no recursion: a fork chain may be deep).
  // PPIDs read at different moments can in theory form a cycle; its members are never
  // summed into a root, so they are never reached from one.
  for (std::size_t i = 0; i < n; ++i)
    if (s.inTree[i] && s.pending[i] == 0) s.queue[s.queued++] = static_cast<int>(i);
  for (std::size_t head = 0; head < s.queued; ++head) {
    const int i = s.queue[head];
    const int p = s.parent[static_cast<std::size_t>(i)];
    if (p < 0) continue;
    const auto pu = static_cast<std::size_t>(p);
    s.subtree[pu] += s.subtree[static_cast<std::size_t>(i)];
    s.size[pu] += s.size[static_cast<std::size_t>(i)];
    if (--s.pending[pu] == 0) s.queue[s.queued++] = p;
  }

  // The root whose tree uses the most; on a tie the younger (higher PID) one.
  int node = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (!s.inTree[i] || s.parent[i] >= 0 || s.pending[i] != 0) continue;
    if (node < 0 || s.subtree[i] >= s.subtree[static_cast<std::size_t>(node)])
      node = static_cast<int>(i);
  }
  if (node < 0) return {};
  // Down while one child holds the load: past the idle shell above a burner or a
  // make, but not into one of many similar children (a storm's or a make's jobs).
  for (std::size_t depth = 0; depth < n; ++depth) {
    const auto nu = static_cast<std::size_t>(node);
    int heavy = -1;
    for (int c = s.firstChild[nu]; c >= 0; c = s.nextSibling[static_cast<std::size_t>(c)])
      if (heavy < 0 ||
          s.subtree[static_cast<std::size_t>(c)] > s.subtree[static_cast<std::size_t>(heavy)])
        heavy = c;
    if (heavy < 0 || s.subtree[nu] <= 0 ||
        s.subtree[static_cast<std::size_t>(heavy)] < kDescendShare * s.subtree[nu])
      break;
    node = heavy;
  }
  const auto nu = static_cast<std::size_t>(node);
  if (s.subtree[nu] < floor) return {};
  return CpuVictim{node, s.size[nu], s.subtree[nu]};
}

int cpuVictimMembers(const CpuScratch& s, const CpuVictim& v, int* out, int cap) {
  if (v.index < 0 || cap <= 0 || static_cast<std::size_t>(v.index) >= s.firstChild.size()) return 0;
  int count = 0;
  out[count++] = v.index;
  // Breadth-first with out as the queue: parents always before their children.
  for (int head = 0; head < count && count < cap; ++head) {
    for (int c = s.firstChild[static_cast<std::size_t>(out[head])]; c >= 0 && count < cap;
         c = s.nextSibling[static_cast<std::size_t>(c)])
      out[count++] = c;
  }
  return count;
}

}  // namespace ork::policy
