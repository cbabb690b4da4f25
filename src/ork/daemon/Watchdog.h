// The last shield's last shield: a thread that watches the loop's heartbeat and, if the
// loop stalls (a stuck syscall, a page fault under pressure, a bug) while memory is at
// the hard threshold, kills the victim the loop chose in advance (act::VictimSlot).
//
// The thread allocates nothing after it starts: a small fixed stack (ORK locks its
// memory, so a default 8 MiB stack would be locked too), its own memory sensor (kept-open
// fds read into preallocated buffers), its own journal writer, and lines formatted in a
// stack buffer. It never chooses: it kills only what the normal policy chose, at most
// once per stall, never when memory is above the hard threshold, and in dry run only
// says what it would do. docs/journal.md lists its lines (event=watchdog_*).
#pragma once

#include <pthread.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "ork/act/VictimSlot.h"
#include "ork/core/Result.h"
#include "ork/journal/Journal.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/KmsgWriter.h"

namespace ork::daemon {

class Watchdog {
 public:
  // The loop is stalled when it has not turned for this long. The loop turns at least
  // every kBeatEvery, whatever its timers want.
  static constexpr Nanos kStallBound = Seconds{5};
  static constexpr Nanos kBeatEvery = Seconds{1};
  // The thread sleeps until the loop would be stalled (its last beat + kStallBound: about
  // one wake-up every four seconds while all is well, a stall seen the moment it is
  // one); during a stall, and before the first beat, it looks again this often.
  static constexpr Nanos kCheckEvery = Millis{500};
  static constexpr std::size_t kStackSize = 64 * 1024;

  struct Options {
    bool dryRun = false;
    std::string kmsgPath = "/dev/kmsg";  // its own writer on the journal's file
    bool mirrorStderr = true;
    std::string procRoot = "/proc";      // for the victim's oom_score_adj, re-read before the kill
  };

  // Opens what the thread needs (it starts in start()). sensor: the same domain as the
  // memory ladder's, a separate instance (the thread's own buffers).
  static Result<std::unique_ptr<Watchdog>> create(const Options& options, sense::MemorySensor sensor);
  ~Watchdog();  // stops and joins the thread

  Result<void> start();
  void stop();
  act::WatchdogFeed& feed() { return feed_; }
  // The loop turned (each iteration).
  void beat(TimePoint now) { feed_.heartbeatNs.store(now.sinceOrigin.count(), std::memory_order_release); }

 private:
  Watchdog() = default;
  static void* threadMain(void* self);
  void watch();
  // Checks; returns how long to sleep before the next check.
  Nanos check(TimePoint now);
  void act(TimePoint now, const MemorySample& sample, Bytes hard, Nanos stalled);
  void say(const journal::Line& line, journal::Priority prio, TimePoint now);

  Options options_;
  std::optional<sense::MemorySensor> sensor_;
  sys::KmsgWriter writer_;
  bool hasWriter_ = false;
  sys::MonotonicClock clock_;
  act::WatchdogFeed feed_;
  // 1 once stop() was asked; the thread sleeps on it (a futex), so a stop wakes it.
  std::atomic<std::int32_t> stop_{0};
  pthread_t thread_{};
  bool running_ = false;
  char tag_[32] = {};
  std::size_t tagLen_ = 0;
  char adjPath_[64] = {};  // "/proc/PID/oom_score_adj", formatted without allocation
  // Per stall: said once, acted once.
  bool stallSaid_ = false;
  bool acted_ = false;
  bool noVictimSaid_ = false;
  std::int64_t stallStartNs_ = 0;
};

}  // namespace ork::daemon
