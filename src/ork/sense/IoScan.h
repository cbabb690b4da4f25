// The I/O ladder's look at who does I/O: for every process of the candidate table,
// /proc/PID/io and /proc/PID/cgroup; for every distinct cgroup among them, its I/O per
// device (v2 io.stat, else v1 blkio.throttle.*) and its I/O pressure (v2 io.pressure).
// Taken twice per action (the window's start and end), never in between. Runs on the
// loop: two small reads per process and up to four per cgroup, once at an overload's
// onset and once when the action is due (not measured at scale yet: a candidate for
// the ladder's own worker thread, as the disk ladder's scan, if it shows).
#pragma once

#include <span>
#include <string>

#include "ork/core/ProcessInfo.h"
#include "ork/policy/IoScorer.h"

namespace ork::sense {

// Where the cgroup hierarchies are mounted (empty: not mounted), from mountinfo text.
struct CgroupRoots {
  std::string v2;     // the cgroup2 mount (pure v2: /sys/fs/cgroup; hybrid: .../unified)
  std::string blkio;  // the v1 blkio hierarchy, if any
};
CgroupRoots cgroupRootsFrom(std::string_view mountinfo);

// out is overwritten (its vectors keep their capacity). A process that vanished or
// whose io cannot be read (another user's without CAP_SYS_PTRACE) is left out.
void scanIo(const std::string& procRoot, const CgroupRoots& roots, std::span<const ProcessInfo> entries,
            TimePoint now, policy::IoSnapshot& out);

}  // namespace ork::sense
