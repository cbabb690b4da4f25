// The candidate table: every process of the domain, kept fresh ahead of need.
//
// Reading /proc costs one open/read/close per process (about 9 µs each here, so
// ~90 ms for 10,000 processes): far too slow to do when memory is already short. So the
// table is refreshed in the background of the loop, a chunk of processes per turn
// (scan.chunk), rarely when memory is plentiful and every scan.near_interval_ms as
// it approaches the threshold. A refresh reads one file per known process
// (/proc/PID/stat: memory, parent, start time); a process seen for the first time
// also has its status, oom_score_adj, cmdline, exe and cgroup read. At kill time
// only the best few candidates are re-read (reread()), and every member of the chosen
// victim is re-checked by act::Killer through recheck() just before its signal.
//
// Identity follows exec. The same (pid, start time) runs another program after an
// exec (a libvirtd child becomes qemu): the table notices from /proc/PID/stat alone,
// at no extra read, when comm or the layout of the address space (start of code and
// stack, argv: parse::ProcStat::layoutKey) differs from the last look, and then reads
// status, oom_score_adj, cmdline, exe and cgroup again and classifies anew (vital,
// prefer, avoid, protect). An exec of a binary with the same comm is seen by the
// layout alone, which needs ptrace access (ORK runs as root); without it, such an
// exec goes unnoticed until the process ends.
//
// oom_score_adj -1000 is sticky: once seen for a (pid, start time), across exec (the
// kernel keeps the value across exec too), the entry stays excluded
// (ProcessInfo::adjMinSeen). Processes of 64 MiB and more have oom_score_adj read on
// every pass; smaller ones one pass in kSmallAdjEvery, in rotation (the re-check
// before the signal is what guarantees that no -1000 process is killed).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/core/ProcessInfo.h"
#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sense {

class UserNames;

class ProcessTable {
 public:
  struct Options {
    std::string procRoot = "/proc";
    std::string cgroupDir;  // non-empty: only processes in this cgroup (and below)
    int selfPid = 0;
    std::size_t chunk = 256;
    Nanos growthWindow = Seconds{60};
    bool readSwap = false;  // also read VmSwap of every process on each pass
    const std::vector<config::Pattern>* prefer = nullptr;
    const std::vector<config::Pattern>* avoid = nullptr;
    const std::vector<config::Pattern>* protect = nullptr;
    const UserNames* users = nullptr;
  };

  static Result<ProcessTable> open(Options options);

  // Does one chunk of a refresh pass (at most scan.chunk processes), starting a pass if
  // none is running. Returns true when this call completed a pass (entries() then shows
  // it). With a clock, the chunk also ends once clock->now() reaches `until` (looked at
  // every 16 processes), so that a slow chunk (first sight of many processes, a loaded
  // host) never delays what the loop must do next. Allocates (never on the kill path).
  Result<bool> step(TimePoint now, const Clock* clock = nullptr, TimePoint until = TimePoint{Nanos::max()});
  // Runs a whole pass at once (for `ork top` and tests).
  Result<void> refreshAll(TimePoint now);
  bool passInProgress() const { return inPass_; }
  TimePoint lastPassCompleted() const { return lastComplete_; }
  bool hasCompletedPass() const { return passes_ > 0; }

  // The last complete pass, sorted by PID. Stable until the next pass completes.
  std::span<const ProcessInfo> entries() const { return current_; }
  std::span<ProcessInfo> mutableEntries() { return current_; }

  // Processes under 64 MiB have oom_score_adj re-read one pass in this many.
  static constexpr std::uint64_t kSmallAdjEvery = 16;

  // Re-reads stat, status and oom_score_adj of one entry in place. Returns false when
  // the process is gone or its PID now belongs to another process (start time
  // differs). Allocates only when the process exec'd since the last look (its
  // identity is read again).
  bool reread(ProcessInfo& entry, TimePoint now);

  // At kill time: re-reads (reread()) the processes younger than the growth window, the
  // youngest first, at most cap of them; one that is gone is marked dead (state 'X').
  // The table's figures for a young process are from its first look, often taken just
  // after its fork: a burst still allocating would otherwise look empty and its growth
  // nil, and the largest steady process would be chosen instead. Returns how many were
  // read. Does not allocate (but after an exec).
  int rereadYoung(std::span<ProcessInfo> entries, TimePoint now, int cap);

  // Just before member is signalled (act::Killer): reads its stat and oom_score_adj
  // and says whether it may still be killed. startTimeTicks differs from member's when
  // the PID now belongs to another process (nothing else is then checked). Protected:
  // oom_score_adj -1000 now, or at any earlier look at this (pid, start time), or
  // identity vital (re-read if it exec'd since the last look), PID 1, a kernel thread;
  // an oom_score_adj that cannot be parsed counts as protected. What it learns is kept
  // in the table's entry for that process (adj, sticky protection, new identity).
  // Error: the process is gone. Allocates only after an exec.
  Result<ProcessCheck> recheck(const ProcessInfo& member);
  // recheck() for act::Killer: ctx is the ProcessTable.
  static Result<ProcessCheck> recheckThunk(void* ctx, const ProcessInfo& member) {
    return static_cast<ProcessTable*>(ctx)->recheck(member);
  }

  // Adds the processes that the last pass did not see (a process that started since,
  // e.g. a fast hog), reading them in full. Called at kill time only. Host-wide, it
  // probes the PIDs allocated since the last pass began (from ns_last_pid: a few
  // openat calls instead of a listing of /proc, which costs ~10 ms at 10,000
  // processes); in a cgroup, or when that range is too wide or unknown, it lists the
  // domain again. Returns how many were added.
  Result<int> addNewcomers(TimePoint now);

  // Reads /proc/PID/stat of pid and returns its start time, or an error if it is gone.
  Result<std::uint64_t> startTimeOf(int pid);

  void setReadSwap(bool v) { options_.readSwap = v; }
  const Options& options() const { return options_; }

 private:
  Result<void> beginPass(TimePoint now);
  Result<void> listPids(std::vector<int>& out);
  int readLastPid();
  bool addIfNew(int pid, TimePoint now);
  bool readOne(int pid, const ProcessInfo* previous, TimePoint now, ProcessInfo& out);
  std::shared_ptr<const ProcessIdentity> readIdentity(int pid, const ProcessInfo& info);
  Result<void> listCgroupPids(const std::string& dir, std::vector<int>& out, int depth);
  void updateGrowth(ProcessInfo& e, TimePoint now) const;
  // Since the process started, sinceUptimeRead seconds after the pass read the uptime.
  Nanos ageOf(std::uint64_t startTicks, double sinceUptimeRead = 0) const;
  ProcessInfo* entryOf(int pid, std::uint64_t startTicks);

  Options options_;
  sys::UniqueFd procFd_;
  std::vector<ProcessInfo> current_;
  std::vector<ProcessInfo> next_;
  std::vector<int> pids_;
  std::vector<int> listing_;  // scratch for addNewcomers
  std::shared_ptr<const ProcessIdentity> lastIdentity_;  // the last one read (shared when equal)
  int lastPidAtPassStart_ = -1;  // ns_last_pid when the current pass began (-1: unknown)
  int pidMax_ = 4194304;
  std::size_t cursor_ = 0;
  bool inPass_ = false;
  TimePoint lastComplete_;
  std::uint64_t passes_ = 0;
  double uptimeSeconds_ = 0;  // read at the start of each pass
  TimePoint uptimeReadAt_;
  TimePoint passBegan_;           // when the pass in progress began
  TimePoint completedPassBegan_;  // when the last complete pass began
  long ticksPerSecond_ = 100;
  long pageSize_ = 4096;
  // The reads' buffer, on the heap: the table is built and moved through Result at
  // start, and 8 KiB inline made each of those frames (the loop thread's stack, locked
  // for good) 8 KiB deeper.
  static constexpr std::size_t kBufSize = 8192;
  std::unique_ptr<char[]> buf_ = std::make_unique_for_overwrite<char[]>(kBufSize);
};

// uid -> user name, loaded from a passwd file (no NSS: nothing on the kill path may
// block on a directory service). Unknown uids print as numbers.
class UserNames {
 public:
  void load(const std::string& passwdPath);
  // The name, or "" when unknown. The view stays valid until the next load().
  std::string_view nameOf(std::uint32_t uid) const;

 private:
  std::string passwd_;  // the file as read; parse::userNameFromPasswd looks up in it
};

}  // namespace ork::sense
