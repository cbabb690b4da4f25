// Kills a victim (one process, or a tree of them) without ever hitting a recycled PID:
// pidfd_open, confirm the start time still matches what was chosen, pidfd_send_signal
// SIGKILL, then process_mrelease so that the memory returns at once rather than when
// the exit path gets to it. The pidfds are kept so the loop can wait for the deaths.
// Nothing here allocates or forks.
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

  // Returns the start time of a live PID (identity check), or an error if it is gone.
  using StartTimeOf = Result<std::uint64_t> (*)(void* ctx, int pid);

  Killer(StartTimeOf startTimeOf, void* ctx) : startTimeOf_(startTimeOf), ctx_(ctx) {}

  struct KillOutcome : ActionOutcome {
    int signalled = 0;      // members that were sent SIGKILL
    bool released = false;  // process_mrelease succeeded on the root
    int releaseErr = 0;
  };

  // members[0] is the root. In dry-run nothing is opened or sent. Victims still being
  // waited for from an earlier kill are forgotten first.
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
  StartTimeOf startTimeOf_;
  void* ctx_;
  std::array<sys::UniqueFd, kMaxMembers> fds_;
  int waiting_ = 0;
};

}  // namespace ork::act
