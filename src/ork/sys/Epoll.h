// The event sources of the loop: epoll, a signalfd for SIGTERM/SIGINT/SIGHUP, PSI
// trigger fds, cgroup v1 threshold eventfds, and the monotonic clock.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string>

#include "ork/core/Clock.h"
#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

// Where an fd is registered to be watched: the loop's epoll, or a ladder's view of it
// (daemon/ maps the tags), or a test's recorder.
class Poller {
 public:
  virtual ~Poller() = default;
  // events: EPOLLIN / EPOLLPRI; tag comes back when the fd is ready.
  virtual Result<void> add(int fd, std::uint32_t events, std::uint64_t tag) = 0;
  virtual Result<void> remove(int fd) = 0;
};

class Epoll final : public Poller {
 public:
  static Result<Epoll> create();
  Result<void> add(int fd, std::uint32_t events, std::uint64_t tag) override;
  Result<void> remove(int fd) override;
  // Waits up to timeout (rounded up to the millisecond; 0 = poll). Fills out with at most
  // cap events; returns how many. EINTR returns 0.
  Result<int> wait(epoll_event* out, int cap, Nanos timeout);

 private:
  UniqueFd fd_;
};

// Blocks SIGTERM, SIGINT, SIGHUP and returns a signalfd that reports them.
Result<UniqueFd> openSignalFd();
// Reads one pending signal number from the signalfd, or 0 when none.
int readSignal(int sigfd);

// Opens a PSI trigger on a pressure file: writes "some <stallUs> <windowUs>". The fd
// is to be polled for EPOLLPRI. EINVAL means the kernel refused the window (unprivileged
// writers need windows that are multiples of 2 s); callers fall back. Only a kernel
// file is written to (procfs or cgroup2): a pressure file in a fixture tree (--proc
// DIR) is left untouched, and the error (ENOTSUP) says so.
Result<UniqueFd> openPsiTrigger(const std::string& path, std::uint64_t stallUs,
                                std::uint64_t windowUs);

// cgroup v1: an eventfd that becomes readable when memory.usage_in_bytes crosses
// thresholdBytes (either way), registered through cgroup.event_control. Only a kernel
// cgroup.event_control is written to (cgroup v1): ENOTSUP otherwise.
Result<UniqueFd> openCgroupV1Threshold(const std::string& cgroupDir, std::uint64_t thresholdBytes);
// Drains an eventfd (or any fd signalled by a counter); ignores errors.
void drainEventFd(int fd);

// The real monotonic clock.
class MonotonicClock final : public Clock {
 public:
  TimePoint now() const override;
};

}  // namespace ork::sys
