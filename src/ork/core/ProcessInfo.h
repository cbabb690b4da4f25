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
  // One of these per process, resident and locked: 128 bytes on x86-64 (176 before
  // memory was kept as 32-bit KiB). The fields are ordered by size, so that none is
  // padded. Memory figures are Kib32: a process's rss, swap or growth saturates at
  // 4 TiB - 1 KiB (then its growth is counted up to there only).
  std::uint64_t startTimeTicks = 0;  // identity: a recycled PID has another start time
  Nanos age{0};   // since the process started
  std::uint64_t cpuTicks = 0;  // utime + stime, clock ticks, all threads
  std::shared_ptr<const ProcessIdentity> identity;

  // Growth bookkeeping (ProcessTable): the memory at an earlier refresh (base) and at the
  // one that will be the next base (mid, since midAt).
  TimePoint midAt;
  // When ORK last saw the process grow.
  TimePoint lastGrewAt;
  Kib32 rss;
  Kib32 swap;
  Kib32 growth;   // memory ORK saw it gain within the growth window (all of it for a
                  // process found at kill time, which started since the last pass)
  Kib32 baseMem;
  Kib32 midMem;
  Kib32 lastMem;  // the memory at the previous look

  int pid = 0;
  int ppid = 0;
  int session = 0;  // session ID: == pid for a session leader (a login shell, a daemon)
  std::uint32_t uid = 0;
  std::uint32_t execs = 0;      // execs ORK noticed since it first saw the process
  std::uint32_t layoutKey = 0;  // parse::ProcStat::layoutKey at the last look (0: unknown)
  std::int16_t oomScoreAdj = 0;  // -1000 .. 1000 (parse::parseOomScoreAdj)
  char comm[17] = {};
  char state = '?';
  bool hasTty : 1 = false;  // has a controlling terminal (a login shell has one, a daemon not)
  // uid was read (a "Uid:" line of /proc/PID/status). Unknown (status garbled or without
  // it) is not root: no owner discount, no user pattern matches, shown as unknown.
  bool uidKnown : 1 = false;
  bool kernelThread : 1 = false;
  // oom_score_adj was -1000 at some look since ORK first saw this (pid, start time):
  // sticky, so a process that protected itself for a while is never killed.
  bool adjMinSeen : 1 = false;
  bool leaveAlone : 1 = false;  // a VM ORK is saving or has frozen: no killer takes it

  Bytes memory() const { return saturatingAdd(rss, swap); }
};
static_assert(sizeof(void*) != 8 || sizeof(ProcessInfo) <= 128, "ProcessInfo grew: it is one per process");

// What is read again of a process just before it is signalled (act::Killer).
struct ProcessCheck {
  std::uint64_t startTimeTicks = 0;  // differs from the chosen one: another process
  int oomScoreAdj = 0;
  // Must not be killed: oom_score_adj -1000 now or at any earlier look, a vital service
  // or protect pattern (for the program it runs now), PID 1, a kernel thread.
  bool isProtected = false;
};

}  // namespace ork
