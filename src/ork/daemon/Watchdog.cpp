#include "ork/daemon/Watchdog.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "ork/sys/MirrorWriter.h"
#include "ork/sys/Pidfd.h"
#include "ork/sys/Sysconf.h"

namespace ork::daemon {

using journal::Line;
using journal::Priority;

namespace {
std::int64_t msOf(Nanos d) { return std::chrono::duration_cast<Millis>(d).count(); }
}  // namespace

Result<std::unique_ptr<Watchdog>> Watchdog::create(const Options& options, sense::MemorySensor sensor) {
  std::unique_ptr<Watchdog> w(new Watchdog());
  w->options_ = options;
  w->sensor_.emplace(std::move(sensor));
  auto writer = sys::KmsgWriter::open(options.kmsgPath);
  if (writer) {
    w->writer_ = std::move(*writer);
    w->hasWriter_ = true;
  }  // else: the journal said it (kmsg_unavailable); the watchdog then says on stderr only
  int n = std::snprintf(w->tag_, sizeof w->tag_, "ork[%d]: ", sys::selfPid());
  w->tagLen_ = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof w->tag_ - 1) : 0;
  return w;
}

Watchdog::~Watchdog() { stop(); }

Result<void> Watchdog::start() {
  if (running_) return success();
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  // ORK runs mlockall(MCL_CURRENT | MCL_FUTURE): every page of this stack is locked.
  ::pthread_attr_setstacksize(&attr, kStackSize);
  int e = ::pthread_create(&thread_, &attr, &Watchdog::threadMain, this);
  ::pthread_attr_destroy(&attr);
  if (e != 0) return Error::sys(e, "pthread_create (watchdog)");
  running_ = true;
  return success();
}

void Watchdog::stop() {
  if (!running_) return;
  stop_.store(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(&stop_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  ::pthread_join(thread_, nullptr);
  running_ = false;
}

void* Watchdog::threadMain(void* self) {
  // Signals are the loop's (its signalfd): blocked here too.
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  static_cast<Watchdog*>(self)->watch();
  return nullptr;
}

static_assert(std::atomic<std::int32_t>::is_always_lock_free && sizeof(std::atomic<std::int32_t>) == 4,
              "the stop word is waited on as a futex");

void Watchdog::watch() {
  Nanos wait = kCheckEvery;
  while (stop_.load(std::memory_order_acquire) == 0) {
    // Relative (CLOCK_MONOTONIC); returns early on stop() (the word is no longer 0) and
    // on spurious wake-ups, which only mean an early check.
    const std::int64_t ns = std::max<std::int64_t>(wait.count(), 1'000'000);
    timespec rel{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(&stop_), FUTEX_WAIT_PRIVATE, 0, &rel, nullptr, 0);
    if (stop_.load(std::memory_order_acquire) != 0) break;
    wait = check(clock_.now());
  }
}

Nanos Watchdog::check(TimePoint now) {
  const std::int64_t beat = feed_.heartbeatNs.load(std::memory_order_acquire);
  if (beat == 0) return kCheckEvery;  // the loop has not started
  const Nanos stalled = now - TimePoint{Nanos{beat}};
  if (stalled < kStallBound) {
    if (stallSaid_) {
      Line l("watchdog_resumed");
      l.num("stalled_ms", msOf(TimePoint{Nanos{beat}} - TimePoint{Nanos{stallStartNs_}}));
      say(l, Priority::Notice, now);
    }
    stallSaid_ = acted_ = noVictimSaid_ = false;
    return kStallBound - stalled;  // the moment the loop would be stalled
  }
  if (!stallSaid_) stallStartNs_ = beat;
  const Bytes hard{feed_.hardBytes.load(std::memory_order_acquire)};
  auto sample = sensor_->sample(now);
  const bool atHard = sample && hard > Bytes{0} && sample->available <= hard;
  if (!stallSaid_) {
    stallSaid_ = true;
    Line l("watchdog_stall");
    l.num("stalled_ms", msOf(stalled));
    if (sample) l.kib("avail_kib", sample->available);
    else l.str("sample_error", sample.error().what);
    l.kib("hard_kib", hard).word("action", !atHard ? "none" : options_.dryRun ? "would_kill" : "kill");
    say(l, Priority::Warning, now);
  }
  if (atHard && !acted_) act(now, *sample, hard, stalled);
  return kCheckEvery;
}

void Watchdog::act(TimePoint now, const MemorySample& sample, Bytes hard, Nanos stalled) {
  const act::VictimSlot::Victim* v = feed_.slot.claim();
  if (v == nullptr) {
    if (!noVictimSaid_) {
      noVictimSaid_ = true;
      Line l("watchdog_no_victim");
      l.num("stalled_ms", msOf(stalled)).kib("avail_kib", sample.available).kib("hard_kib", hard);
      say(l, Priority::Warning, now);
    }
    return;
  }
  acted_ = true;
  const char* result = "ok";
  int err = 0;
  int signalled = 0;
  bool released = false;
  if (options_.dryRun) {
    result = "dry_run";
  } else {
    // The root's oom_score_adj, once more: -1000 set since the loop chose it spares it.
    // The pidfd pins the process; if the PID was recycled meanwhile, the signal below
    // fails with ESRCH whatever this read says.
    bool shielded = false;
    int n = std::snprintf(adjPath_, sizeof adjPath_, "%s/%d/oom_score_adj", options_.procRoot.c_str(), v->pids[0]);
    if (n > 0 && static_cast<std::size_t>(n) < sizeof adjPath_) {
      int fd = ::open(adjPath_, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        char buf[16] = {};
        ssize_t r = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        shielded = r >= 5 && std::strncmp(buf, "-1000", 5) == 0;
      }
    }
    if (shielded) {
      result = "protected";
    } else {
      for (int i = 0; i < v->count; ++i) {
        auto sent = sys::pidfdSendSignal(v->pidfds[i], SIGKILL);
        if (sent) {
          ++signalled;
        } else if (i == 0) {
          err = sent.error().code;
          result = err == ESRCH ? "vanished" : "failed";
          break;
        }
      }
      if (signalled > 0) released = sys::processMrelease(v->pidfds[0]).ok();
    }
  }
  Line l(options_.dryRun ? "watchdog_would_kill" : "watchdog_kill");
  l.num("pid", v->pids[0])
      .str("name", v->name)
      .word("group", v->group)
      .num("members", v->count)
      .num("signalled", signalled)
      .kib("freed_kib", Bytes::kib(v->freedKib))
      .num("chosen_ago_ms", msOf(now - TimePoint{Nanos{v->chosenAtNs}}))
      .num("stalled_ms", msOf(stalled))
      .kib("avail_kib", sample.available)
      .kib("hard_kib", hard)
      .word("reason", "loop_stalled")
      .flag("dry_run", options_.dryRun)
      .word("result", result);
  if (err != 0) l.num("errno", err);
  if (signalled > 0) l.flag("mreleased", released);
  // A victim signalled is spent (the loop chooses the next one when it turns); one not
  // signalled stays ready, but this stall has had its one try.
  feed_.slot.release(signalled > 0);
  say(l, options_.dryRun ? Priority::Notice : Priority::Warning, now);
}

void Watchdog::say(const Line& line, Priority prio, TimePoint now) {
  char buf[1100];
  std::size_t n = 0;
  const bool kmsg = hasWriter_ && writer_.isKmsg();
  if (kmsg) n = static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "<%d>", static_cast<int>(prio)));
  const std::size_t tagAt = n;
  std::memcpy(buf + n, tag_, tagLen_);
  n += tagLen_;
  const std::string_view text = line.text();
  const std::size_t copy = std::min(text.size(), sizeof buf - n);
  std::memcpy(buf + n, text.data(), copy);
  n += copy;
  if (hasWriter_) (void)writer_.write({buf, n}, now);
  if (options_.mirrorStderr) (void)sys::MirrorWriter(STDERR_FILENO).write({buf + tagAt, n - tagAt});
}

}  // namespace ork::daemon
