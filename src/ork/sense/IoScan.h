// The I/O ladder's look at who does I/O: for every process of the candidate table,
// /proc/PID/io and /proc/PID/cgroup; for every distinct cgroup among them, its I/O per
// device (v2 io.stat, else v1 blkio.throttle.*) and its I/O pressure (v2 io.pressure).
// Taken twice per action (the window's start and end), never in between: two small
// reads per process and up to four per cgroup, ~0.25 s at 11,000 processes on the
// project's machine (docs/benchmarks.md), so the ladder runs it on a worker thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ork/core/ProcessInfo.h"
#include "ork/policy/IoScorer.h"

namespace ork::sense {

// Where the cgroup hierarchies are mounted (empty: not mounted), from mountinfo text.
struct CgroupRoots {
  std::string v2;     // the cgroup2 mount (pure v2: /sys/fs/cgroup; hybrid: .../unified)
  std::string blkio;  // the v1 blkio hierarchy, if any
};
CgroupRoots cgroupRootsFrom(std::string_view mountinfo);

// What a scan needs of a process: copied from the candidate table on the loop, so that
// the scan can run on a worker thread while the loop goes on changing the table.
struct IoScanTarget {
  int pid = 0;
  std::uint64_t startTimeTicks = 0;
};
// The table's processes as targets (kernel threads left out), in PID order.
void ioScanTargets(std::span<const ProcessInfo> entries, std::vector<IoScanTarget>& out);

// out is overwritten (its vectors keep their capacity); out.at is now. A process that
// vanished or whose io cannot be read (another user's without CAP_SYS_PTRACE) is left
// out. Blocking (one open per file): the I/O ladder runs it on its worker thread.
void scanIo(const std::string& procRoot, const CgroupRoots& roots, std::span<const IoScanTarget> targets,
            TimePoint now, policy::IoSnapshot& out);
// The same over the table directly (`ork top`, benchmarks).
void scanIo(const std::string& procRoot, const CgroupRoots& roots, std::span<const ProcessInfo> entries,
            TimePoint now, policy::IoSnapshot& out);

}  // namespace ork::sense
