// Who creates the CPU load: usage per process over the overload window, summed per
// process tree, and the one tree (or lone process) whose death ends the overload. Pure:
// the table and a baseline in, an index out. The rules are in docs/scoring.md ("CPU").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ork/core/ProcessInfo.h"

namespace ork::policy {

// A process's CPU time when the window began.
struct CpuBaseline {
  int pid = 0;
  std::uint64_t startTimeTicks = 0;  // a recycled PID has another start time
  std::uint64_t cpuTicks = 0;
};

// out (cleared first) gets one baseline per entry, in the entries' PID order. Does not
// allocate when out has capacity for entries.size().
void takeCpuBaseline(std::span<const ProcessInfo> entries, std::vector<CpuBaseline>& out);

struct CpuWindow {
  std::span<const CpuBaseline> baseline;  // sorted by PID, taken at the window's start
  Nanos length{0};
  double ticksPerSecond = 100;  // sysconf(_SC_CLK_TCK)
};

// The CPUs (cores: 1.0 = one CPU all the time) p used over the window: its ticks since
// its baseline. Without a baseline (or with one of a recycled PID) it started within
// the window and all its ticks count; but a process older than the window that the
// baseline missed is taken at its lifetime average, never at all its ticks over the
// window (which would make an old idle process look like a storm).
double cpusUsed(const ProcessInfo& p, const CpuWindow& w);

// The per-VM helper: cpusUsed of the process pid in entries (sorted by PID), 0 when
// it is not there.
double cpusUsedByPid(std::span<const ProcessInfo> entries, int pid, const CpuWindow& w);

// A victim using less than this is no victim: whatever overloads the host, it is not
// something ORK can see (short-lived processes already reaped, kernel work).
inline constexpr double kCpuVictimFloor = 0.25;

struct CpuChoiceContext {
  CpuWindow window;
  std::span<const int> leaveAlone;  // PIDs never chosen nor killed (frozen VMs, VMs
                                    // being saved), any order
  double floorCpus = kCpuVictimFloor;
};

struct CpuVictim {
  int index = -1;   // the subtree's root, an index into entries; -1: no victim
  int members = 0;  // processes in the subtree, root included (may exceed what one
                    // kill can take: act::Killer::kMaxMembers)
  double cpus = 0;  // the subtree's usage over the window
};

// Working memory of chooseCpuVictim and cpuVictimMembers, per entry. reserve(n) once
// (after a table pass); neither function then allocates for up to n entries. The arrays
// but own are views into one block (reserve), not nine vectors: each heap block's
// header touches a page, so nine reserved vectors were ~40 KiB resident (locked) at
// 1,000 processes before the CPU ladder ever chose anything; one block is one page
// until it is used.
struct CpuScratch {
  CpuScratch() = default;
  CpuScratch(CpuScratch&&) noexcept = default;
  CpuScratch& operator=(CpuScratch&&) noexcept = default;

  std::vector<double> own;       // the process's usage (the I/O ladder fills it itself)
  std::span<int> parent;         // parent's index within a tree; -1: a root, or not in any tree
  std::span<int> firstChild;     // -1: none
  std::span<int> nextSibling;    // -1: none
  std::span<int> pending;        // children whose subtree is not summed yet
  std::span<int> queue;          // queued entries are queue[0, queued)
  std::size_t queued = 0;
  std::span<int> size;                // processes in the subtree
  std::span<double> subtree;          // its usage plus all its descendants'
  std::span<unsigned char> inTree;    // 0: excluded or left alone
  void reserve(std::size_t n);
  // The views for n entries (contents unspecified); allocates only beyond reserve().
  void resize(std::size_t n);

 private:
  std::unique_ptr<std::byte[]> block_;
  std::size_t capacity_ = 0;
};

// The tree creating the load (docs/scoring.md, "CPU"): trees are the non-excluded
// processes linked by PPID, cut at excluded ones (the memory killer's exclusions but
// NoMemory, and leaveAlone); from the root with the most usage, descend while one child's
// subtree holds >= 80 % of the current node's; the node reached dies with its subtree.
// No victim when that uses less than floorCpus. entries must be sorted by PID.
CpuVictim chooseCpuVictim(std::span<const ProcessInfo> entries, const CpuChoiceContext& ctx,
                          CpuScratch& scratch);

// The same tree choice on usage the caller already put in scratch.own (one value per
// entry, any unit: I/O bytes for the I/O ladder); floor in that unit.
CpuVictim chooseTreeVictim(std::span<const ProcessInfo> entries, std::span<const int> leaveAlone,
                           double floor, CpuScratch& scratch);

// The victim's members: root first, then its descendants breadth-first (every parent
// before its children, so the forking stops first). Returns how many were written to
// out (at most cap). Uses the scratch of the chooseCpuVictim call that found v, on the
// same entries. Does not allocate.
int cpuVictimMembers(const CpuScratch& scratch, const CpuVictim& v, int* out, int cap);

}  // namespace ork::policy
