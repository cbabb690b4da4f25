// The candidate table: every process of the domain, kept fresh ahead of need.
//
// Reading /proc costs one open/read/close per process (about 9 µs each here, so
// ~90 ms for 10,000 processes): far too slow to do when memory is already short. So the
// table is refreshed in the background of the loop, a chunk of processes per turn
// (scan.chunk), rarely when memory is plentiful and every scan.near_interval_ms as
// it approaches the threshold. A refresh reads one file per known process
// (/proc/PID/stat: memory, parent, start time); a process seen for the first time
// also has its status, oom_score_adj, cmdline, exe and cgroup read once. At kill time
// only the best few candidates are re-read (reread()).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ork/config/Config.h"
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

  // Does one chunk of a refresh pass, starting a pass if none is running. Returns true
  // when this call completed a pass (entries() then shows it). Allocates (it is never
  // on the kill path).
  Result<bool> step(TimePoint now);
  // Runs a whole pass at once (for `ork top` and tests).
  Result<void> refreshAll(TimePoint now);
  bool passInProgress() const { return inPass_; }
  TimePoint lastPassCompleted() const { return lastComplete_; }
  bool hasCompletedPass() const { return passes_ > 0; }

  // The last complete pass, sorted by PID. Stable until the next pass completes.
  std::span<const ProcessInfo> entries() const { return current_; }
  std::span<ProcessInfo> mutableEntries() { return current_; }

  // Re-reads stat, status and oom_score_adj of one entry in place. Returns false when
  // the process is gone or its PID now belongs to another process (start time
  // differs). Never allocates.
  bool reread(ProcessInfo& entry, TimePoint now);

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
  Nanos ageOf(std::uint64_t startTicks) const;

  Options options_;
  sys::UniqueFd procFd_;
  std::vector<ProcessInfo> current_;
  std::vector<ProcessInfo> next_;
  std::vector<int> pids_;
  std::vector<int> listing_;  // scratch for addNewcomers
  int lastPidAtPassStart_ = -1;  // ns_last_pid when the current pass began (-1: unknown)
  int pidMax_ = 4194304;
  std::size_t cursor_ = 0;
  bool inPass_ = false;
  TimePoint lastComplete_;
  std::uint64_t passes_ = 0;
  double uptimeSeconds_ = 0;  // read at the start of each pass
  TimePoint uptimeReadAt_;
  long ticksPerSecond_ = 100;
  long pageSize_ = 4096;
  char buf_[8192];
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
