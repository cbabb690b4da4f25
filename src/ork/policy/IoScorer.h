// Who does the I/O on a saturated device, and whether anyone else waits for it
// (docs/scoring.md, "I/O"). Pure: two snapshots of the processes' and cgroups' I/O
// counters (the window's start and end, sense::IoScan) in, shares and a verdict out.
//
// Attribution to the device: a cgroup's counters are per device (v2 io.stat, v1 blkio),
// a process's (/proc/PID/io) are not. A process's bytes over the window count on the
// device in the share its cgroup did there (all of them when its cgroup did its I/O on
// that device alone; none when elsewhere); a cgroup without per-device counters (v1
// blkio files empty without a limit, no io controller) counts them all. Exact for a VM,
// which libvirt gives a cgroup of its own; an approximation for processes sharing a
// cgroup that use different disks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ork/core/ProcessInfo.h"
#include "ork/parse/Io.h"

namespace ork::policy {

struct IoCgroup {
  std::string path;  // the v2 path ("/system.slice/x.service"), else the v1 blkio path
  bool hasDevices = false;                // per-device counters were read
  std::vector<parse::CgroupIoDev> devices;
  std::int64_t psiSomeUs = -1;            // v2 io.pressure "some" total; -1: unknown
};

struct IoProc {
  int pid = 0;
  std::uint64_t startTimeTicks = 0;
  std::uint64_t bytes = 0;  // read_bytes + write_bytes
  std::uint64_t ios = 0;    // syscr + syscw
  int cgroup = -1;          // index into IoSnapshot::cgroups
};

struct IoSnapshot {
  TimePoint at;
  std::vector<IoProc> procs;  // sorted by PID
  std::vector<IoCgroup> cgroups;
  const IoCgroup* cgroup(const std::string& path) const;
};

// The bytes per second each entry did on device major:minor over the window (start,
// end): written into own (resized to entries.size(); entries sorted by PID). A process
// missing from start (or with another start time) started within the window: all its
// bytes count, over the window or its age if longer (a process the start missed is
// taken at its lifetime average). A process missing from end counts 0.
void ioBytesOnDevice(std::span<const ProcessInfo> entries, const IoSnapshot& start, const IoSnapshot& end,
                     unsigned major, unsigned minor, std::vector<double>& own);

// The share of the window the most stalled cgroup other than the culprit's waited for
// I/O (PSI io "some" delta / window), over the cgroups both snapshots have PSI for.
// culprit: the cgroups of the culprit's processes; a cgroup that is one of them, an
// ancestor (its PSI includes the culprit's stalls) or a descendant is not "other".
// -1 when no other cgroup has PSI (cgroup v1 only, or everything in one cgroup).
double othersStall(const IoSnapshot& start, const IoSnapshot& end, std::span<const std::string> culprit,
                   std::string* who);

}  // namespace ork::policy
