// The victim chosen in advance, published by the loop for the watchdog thread
// (daemon/Watchdog.h), which kills it only if the loop stalls while memory is at the
// hard threshold. Lock-free, and nothing here allocates.
//
// The slot is a small state machine on one atomic, so that neither side ever uses a
// pidfd the other may be closing:
//   Empty --(loop: fill)--> Ready --(watchdog: claim)--> Claimed --(watchdog: done)--> Spent
//   Ready/Spent --(loop: take back, close the fds)--> Empty
// The loop takes the slot back only from Ready or Spent (a compare-and-swap): while the
// watchdog holds it (Claimed) the loop leaves it alone, and the watchdog reads the
// fields only after its own compare-and-swap from Ready.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "ork/core/Units.h"
#include "ork/sys/Fd.h"

namespace ork::act {

class VictimSlot {
 public:
  static constexpr int kMaxMembers = 16;
  enum State : int { kEmpty = 0, kReady = 1, kClaimed = 2, kSpent = 3 };

  struct Victim {
    int pids[kMaxMembers] = {};
    int pidfds[kMaxMembers];  // owned by the slot while it is filled; -1: none (a
                              // --proc fixture's process, in dry-run)
    int count = 0;
    char name[17] = {};       // the first member's comm
    char group[16] = {};      // policy::toString(group): "process", "tree"...
    std::int64_t freedKib = 0;
    std::int64_t chosenAtNs = 0;  // the loop's monotonic clock
    std::uint64_t rootStartTicks = 0;
    Victim() {
      for (int& fd : pidfds) fd = -1;
    }
  };

  VictimSlot() = default;
  VictimSlot(const VictimSlot&) = delete;
  VictimSlot& operator=(const VictimSlot&) = delete;
  ~VictimSlot() { closeFds(); }

  // ---- the loop ----
  // Takes the slot back (closing its pidfds) when it is Ready or Spent; false while the
  // watchdog holds it (Claimed). Empty: true.
  bool takeBack() {
    int s = state_.load(std::memory_order_acquire);
    if (s == kEmpty) return true;
    if ((s == kReady || s == kSpent) && state_.compare_exchange_strong(s, kEmpty, std::memory_order_acq_rel)) {
      closeFds();
      return true;
    }
    return false;
  }
  // After takeBack() returned true: the new victim (its pidfds now owned by the slot).
  void publish(const Victim& v) {
    victim_ = v;
    state_.store(kReady, std::memory_order_release);
  }
  // The published victim's identity, to skip re-publishing the same one (loop only,
  // when the state is Ready).
  bool holds(int rootPid, std::uint64_t rootStartTicks, int count) const {
    return state_.load(std::memory_order_acquire) == kReady && victim_.count == count && victim_.count > 0 &&
           victim_.pids[0] == rootPid && victim_.rootStartTicks == rootStartTicks;
  }
  State state() const { return static_cast<State>(state_.load(std::memory_order_acquire)); }

  // ---- the watchdog ----
  // The victim, if one is Ready: the slot is then Claimed until release(); null otherwise.
  const Victim* claim() {
    int s = kReady;
    if (!state_.compare_exchange_strong(s, kClaimed, std::memory_order_acq_rel)) return nullptr;
    return &victim_;
  }
  // spent: the victim was signalled (the loop will replace it); else Ready again.
  void release(bool spent) { state_.store(spent ? kSpent : kReady, std::memory_order_release); }

 private:
  void closeFds() {
    for (int i = 0; i < victim_.count && i < kMaxMembers; ++i)
      if (victim_.pidfds[i] >= 0) ::close(victim_.pidfds[i]);
    victim_ = Victim();
  }

  std::atomic<int> state_{kEmpty};
  Victim victim_;
};

}  // namespace ork::act

namespace ork::act {

// What the loop tells the watchdog thread: when it last turned, the hard threshold in
// force, and the victim it would kill now.
struct WatchdogFeed {
  std::atomic<std::int64_t> heartbeatNs{0};  // monotonic; 0 = the loop has not started
  std::atomic<std::int64_t> hardBytes{0};    // 0 = unknown: never kill
  VictimSlot slot;
};

}  // namespace ork::act
