// Pure parser for /proc/stat: what the CPU sensor needs from it. No I/O, no allocation,
// no exceptions; truncated, garbage and hostile input yields an Error (code 0).
#pragma once

#include <cstdint>
#include <string_view>

#include "ork/core/Result.h"

namespace ork::parse {

// The aggregate "cpu " line, in clock ticks (USER_HZ) summed over all CPUs, and the
// run-queue counts. guest and guest_nice are already inside user and nice (the kernel
// adds guest time to both), so they are kept for display but never added again.
struct ProcStatCpu {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0;
  std::uint64_t irq = 0, softirq = 0, steal = 0, guest = 0, guestNice = 0;
  std::uint64_t total = 0;  // user + nice + system + idle + iowait + irq + softirq + steal
  std::uint64_t busy = 0;   // total - idle - iowait: waiting for I/O is not using a CPU
  int cpus = 0;             // "cpuN" lines: the online CPUs
  int procsRunning = 0;     // runnable tasks (threads) at the moment of reading
  int procsBlocked = 0;     // tasks in uninterruptible sleep (0 when the line is absent)
};

// Needs the "cpu " line with at least user, nice, system and idle (older kernels have
// fewer columns: the missing ones are 0; columns beyond guest_nice from a future kernel
// are checked to be numbers and ignored), at least one "cpuN" line and procs_running.
// A counter sum that overflows 64 bits is an error, as is a repeated "cpu " or
// procs_running line.
Result<ProcStatCpu> parseProcStatCpu(std::string_view text);

}  // namespace ork::parse
