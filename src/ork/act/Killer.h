// Kills a victim (one process, or a tree of them) without ever hitting a recycled PID
// nor a protected process: for each member, pidfd_open, then re-check it (same start
// time as chosen? oom_score_adj -1000 now or before? a vital service?), then
// pidfd_send_signal SIGKILL; once every member is signalled, process_mrelease on each
// so that the memory returns at once rather than when the exit path gets to it (not
// between two signals: the members not yet signalled would go on allocating). A
// member found protected is not
// signalled; a root found protected stops the kill before anything is signalled
// (Outcome::Protected). The pidfds are kept so the loop can wait for the deaths.
// Nothing here allocates or forks (the re-check may, see ProcessTable::recheck).
#pragma once

#include <array>
#include <functional>
#include <span>

#include "ork/act/Action.h"
#include "ork/core/Clock.h"
#include "ork/core/ProcessInfo.h"
#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::act {

class Killer {
 public:
  static constexpr int kMaxMembers = 64;

  // Re-reads a live member just before its signal: start time, oom_score_adj, and
  // whether it is protected (sense::ProcessTable::recheckThunk, which knows the
  // rules and keeps what it learns). An error means the process is gone.
  using Recheck = Result<ProcessCheck> (*)(void* ctx, const ProcessInfo& member);
  Killer(Recheck recheck, void* ctx) : recheck_(recheck), ctx_(ctx) {}

  // Older form: returns the start time of a live PID, or an error if it is gone.
  // With it the Killer re-reads /proc/PID/oom_score_adj itself and takes a member as
  // protected when that is -1000, or when its entry says -1000 (now or before) or
  // vital; it cannot see an exec since the table's last look. Prefer Recheck.
  using StartTimeOf = Result<std::uint64_t> (*)(void* ctx, int pid);
  Killer(StartTimeOf startTimeOf, void* ctx) : startTimeOf_(startTimeOf), ctx_(ctx) {}

  struct KillOutcome : ActionOutcome {
    int signalled = 0;      // members that were sent SIGKILL
    int spared = 0;         // members found protected at the re-check: not signalled
    bool released = false;  // process_mrelease succeeded on the root
    int releaseErr = 0;
  };

  // members[0] is the root. In dry-run nothing is opened or sent, but every member is
  // re-checked as for real (outcome Protected, spared). Victims still
  // being waited for from an earlier kill are forgotten first. Outcome: Ok (the root
  // was signalled; members that changed, vanished or were found protected were
  // skipped), Protected (the root is protected now: nothing signalled; the caller
  // should choose again), Changed, Vanished, Failed (nothing signalled), DryRun.
  KillOutcome kill(std::span<const ProcessInfo* const> members, bool dryRun, const Clock& clock);

  // The pidfds of the victims not yet dead (valid entries only).
  int waitingCount() const { return waiting_; }
  // For each waiting pidfd: fd and slot, for the daemon's epoll registration.
  template <class F>
  void forEachWaiting(F&& f) const {
    for (int i = 0; i < kMaxMembers; ++i)
      if (fds_[static_cast<std::size_t>(i)].valid()) f(fds_[static_cast<std::size_t>(i)].get(), i);
  }
  // A pidfd in slot became readable: that victim has exited. Returns true when no
  // victim is left to wait for.
  bool onExited(int slot);
  // The deadline passed: stop waiting.
  void forget();

 private:
  Result<ProcessCheck> check(const ProcessInfo& m) const;

  Recheck recheck_ = nullptr;
  StartTimeOf startTimeOf_ = nullptr;
  void* ctx_;
  std::array<sys::UniqueFd, kMaxMembers> fds_;
  int waiting_ = 0;
};

}  // namespace ork::act
