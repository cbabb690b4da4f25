// One process as ORK knows it: what the candidate table holds for each PID.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ork/core/Units.h"

namespace ork {

// What does not change while a process runs one program: read at first sight and again
// after each exec the table notices (ProcessTable.h); shared between successive passes
// of the table, never copied.
struct ProcessIdentity {
  std::string cmdline;  // argv joined by spaces, control bytes as '?'
  std::string exe;      // /proc/PID/exe target ("" when unreadable)
  std::string cgroup;   // v2 path or v1 memory path
  std::uint64_t exeKey = 0;  // hash of exe (or comm): same program, same key
  bool vital = false;        // compiled-in vital service or operator's protect pattern
  bool prefer = false;       // operator's prefer pattern
  bool avoid = false;        // operator's avoid pattern
  bool systemService = false;  // uid 1-999 or cgroup under /system.slice
};

struct ProcessInfo {
  // The fields are ordered by size, so that none is padded: one of these per process,
  // resident and locked (176 bytes on x86-64, 192 in declaration order).
  std::uint64_t startTimeTicks = 0;  // identity: a recycled PID has another start time
  std::uint64_t layoutKey = 0;  // parse::ProcStat::layoutKey at the last look (0: unknown)
  Bytes rss;
  Bytes swap;
  Bytes growth;   // memory ORK saw it gain within the growth window (all of it for a
                  // process found at kill time, which started since the last pass)
  Nanos age{0};   // since the process started
  std::uint64_t cpuTicks = 0;  // utime + stime, clock ticks, all threads
  std::shared_ptr<const ProcessIdentity> identity;

  // Growth bookkeeping: the memory at two earlier refreshes.
  TimePoint baseAt;
  Bytes baseMem;
  TimePoint midAt;
  Bytes midMem;
  // The memory at the previous look, and when ORK last saw the process grow.
  Bytes lastMem;
  TimePoint lastGrewAt;

  int pid = 0;
  int ppid = 0;
  int session = 0;  // session ID: == pid for a session leader (a login shell, a daemon)
  int tty = 0;      // controlling terminal (0: none; a login shell has one, a daemon not)
  std::uint32_t uid = 0;
  int oomScoreAdj = 0;
  std::uint32_t execs = 0;      // execs ORK noticed since it first saw the process
  char comm[17] = {};
  char state = '?';
  // uid was read (a "Uid:" line of /proc/PID/status). Unknown (status garbled or without
  // it) is not root: no owner discount, no user pattern matches, shown as unknown.
  bool uidKnown = false;
  bool kernelThread = false;
  // oom_score_adj was -1000 at some look since ORK first saw this (pid, start time):
  // sticky, so a process that protected itself for a while is never killed.
  bool adjMinSeen = false;
  bool leaveAlone = false;     // a VM ORK is saving or has frozen: no killer takes it

  Bytes memory() const { return saturatingAdd(rss, swap); }
};
static_assert(sizeof(void*) != 8 || sizeof(ProcessInfo) <= 176, "ProcessInfo grew: it is one per process");

// What is read again of a process just before it is signalled (act::Killer).
struct ProcessCheck {
  std::uint64_t startTimeTicks = 0;  // differs from the chosen one: another process
  int oomScoreAdj = 0;
  // Must not be killed: oom_score_adj -1000 now or at any earlier look, a vital service
  // or protect pattern (for the program it runs now), PID 1, a kernel thread.
  bool isProtected = false;
};

}  // namespace ork
