#include "ork/policy/IoScorer.h"

#include <algorithm>

namespace ork::policy {

namespace {

const IoProc* procOf(const IoSnapshot& s, int pid) {
  auto it = std::lower_bound(s.procs.begin(), s.procs.end(), pid, [](const IoProc& p, int v) { return p.pid < v; });
  return it != s.procs.end() && it->pid == pid ? &*it : nullptr;
}

std::uint64_t forward(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : 0; }

// The share of a cgroup's I/O over the window that went to major:minor; 1 when the
// cgroup has no per-device counters or they moved by nothing (nothing to split by).
double deviceShare(const IoCgroup* a, const IoCgroup* b, unsigned major, unsigned minor) {
  if (b == nullptr || !b->hasDevices) return 1;
  std::uint64_t all = 0, there = 0;
  for (const parse::CgroupIoDev& d : b->devices) {
    std::uint64_t before = 0;
    if (a != nullptr && a->hasDevices)
      for (const parse::CgroupIoDev& o : a->devices)
        if (o.major == d.major && o.minor == d.minor) before = o.bytes();
    const std::uint64_t moved = forward(d.bytes(), before);
    all += moved;
    if (d.major == major && d.minor == minor) there = moved;
  }
  return all == 0 ? 1 : static_cast<double>(there) / static_cast<double>(all);
}

// a is b, or an ancestor or a descendant of b, as cgroup paths.
bool related(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() <= b.size() ? a : b;
  const std::string& longer = a.size() <= b.size() ? b : a;
  if (longer.compare(0, shorter.size(), shorter) != 0) return false;
  return longer.size() == shorter.size() || shorter == "/" || longer[shorter.size()] == '/';
}

}  // namespace

const IoCgroup* IoSnapshot::cgroup(const std::string& path) const {
  for (const IoCgroup& c : cgroups)
    if (c.path == path) return &c;
  return nullptr;
}

void ioBytesOnDevice(std::span<const ProcessInfo> entries, const IoSnapshot& start, const IoSnapshot& end,
                     unsigned major, unsigned minor, std::vector<double>& own) {
  own.assign(entries.size(), 0.0);
  const double seconds = std::chrono::duration<double>(end.at - start.at).count();
  if (seconds <= 0) return;
  // The device share of each of end's cgroups, once.
  std::vector<double> share(end.cgroups.size(), 1.0);
  for (std::size_t c = 0; c < end.cgroups.size(); ++c)
    share[c] = deviceShare(start.cgroup(end.cgroups[c].path), &end.cgroups[c], major, minor);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const IoProc* b = procOf(end, entries[i].pid);
    if (b == nullptr || b->startTimeTicks != entries[i].startTimeTicks) continue;
    const IoProc* a = procOf(start, entries[i].pid);
    const double s = b->cgroup >= 0 && static_cast<std::size_t>(b->cgroup) < share.size() ? share[static_cast<std::size_t>(b->cgroup)] : 1.0;
    if (a != nullptr && a->startTimeTicks == b->startTimeTicks) {
      own[i] = static_cast<double>(forward(b->bytes, a->bytes)) * s / seconds;
    } else {
      // Not in the window's start: it started within the window (all its bytes count),
      // unless the start missed it; then its lifetime average, never all its bytes.
      const double age = std::chrono::duration<double>(entries[i].age).count();
      own[i] = static_cast<double>(b->bytes) * s / std::max(seconds, age);
    }
  }
}

double othersStall(const IoSnapshot& start, const IoSnapshot& end, std::span<const std::string> culprit,
                   std::string* who) {
  const double us = std::chrono::duration<double, std::micro>(end.at - start.at).count();
  if (us <= 0) return -1;
  double worst = -1;
  for (const IoCgroup& c : end.cgroups) {
    if (c.psiSomeUs < 0) continue;
    bool mine = false;
    for (const std::string& p : culprit) mine = mine || related(c.path, p);
    if (mine) continue;
    const IoCgroup* a = start.cgroup(c.path);
    if (a == nullptr || a->psiSomeUs < 0) continue;
    const double stall = static_cast<double>(forward(static_cast<std::uint64_t>(c.psiSomeUs), static_cast<std::uint64_t>(a->psiSomeUs))) / us;
    if (stall > worst) {
      worst = std::min(stall, 1.0);
      if (who != nullptr) *who = c.path;
    }
  }
  return worst;
}

}  // namespace ork::policy
