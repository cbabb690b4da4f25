#include "ork/sys/Epoll.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace ork::sys {

namespace {

// The filesystems whose control files ORK may write to (linux/magic.h).
constexpr long kProcSuperMagic = 0x9fa0;
constexpr long kCgroupSuperMagic = 0x27e0eb;
constexpr long kCgroup2SuperMagic = 0x63677270;

// ENOTSUP unless fd is a file of one of the two kernel filesystems given: a file of a
// fixture tree (a tmpfs or disk copy of /proc or of a cgroup) is read-only to ORK.
Result<void> onKernelFs(int fd, const std::string& path, long magic1, long magic2) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return Error::sys(errno, path);
  const long type = static_cast<long>(fs.f_type);
  if (type == magic1 || type == magic2) return success();
  return Error::make(ENOTSUP, "%s: not a kernel file (a fixture tree?): nothing written", path.c_str());
}

}  // namespace

Result<Epoll> Epoll::create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return Error::sys(errno, "epoll_create1");
  Epoll e;
  e.fd_.reset(fd);
  return e;
}

Result<void> Epoll::add(int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return Error::sys(errno, "epoll_ctl add");
  return success();
}

Result<void> Epoll::remove(int fd) {
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) < 0)
    return Error::sys(errno, "epoll_ctl del");
  return success();
}

Result<int> Epoll::wait(epoll_event* out, int cap, Nanos timeout) {
  long long ms = timeout.count() <= 0 ? 0 : (timeout.count() + 999'999) / 1'000'000;
  int n = ::epoll_wait(fd_.get(), out, cap, static_cast<int>(ms));
  if (n < 0) {
    if (errno == EINTR) return 0;
    return Error::sys(errno, "epoll_wait");
  }
  return n;
}

Result<UniqueFd> openSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return Error::sys(errno, "sigprocmask");
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return Error::sys(errno, "signalfd");
  return UniqueFd(fd);
}

int readSignal(int sigfd) {
  signalfd_siginfo info{};
  ssize_t n = ::read(sigfd, &info, sizeof info);
  if (n != static_cast<ssize_t>(sizeof info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

Result<UniqueFd> openPsiTrigger(const std::string& path, std::uint64_t stallUs,
                                std::uint64_t windowUs) {
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  if (auto kernel = onKernelFs(fd, path, kProcSuperMagic, kCgroup2SuperMagic); !kernel) {
    ::close(fd);
    return kernel.error();
  }
  char buf[64];
  int len = std::snprintf(buf, sizeof buf, "some %llu %llu", static_cast<unsigned long long>(stallUs),
                          static_cast<unsigned long long>(windowUs));
  // The kernel wants the trailing NUL included.
  if (::write(fd, buf, static_cast<std::size_t>(len) + 1) < 0) {
    int e = errno;
    ::close(fd);
    return Error::make(e, "%s: trigger \"%s\": %s", path.c_str(), buf, std::strerror(e));
  }
  return UniqueFd(fd);
}

Result<UniqueFd> openCgroupV1Threshold(const std::string& cgroupDir, std::uint64_t thresholdBytes) {
  std::string usagePath = cgroupDir + "/memory.usage_in_bytes";
  std::string controlPath = cgroupDir + "/cgroup.event_control";
  int usage = ::open(usagePath.c_str(), O_RDONLY | O_CLOEXEC);
  if (usage < 0) return Error::sys(errno, usagePath);
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    int e = errno;
    ::close(usage);
    return Error::sys(e, "eventfd");
  }
  char buf[96];
  int len = std::snprintf(buf, sizeof buf, "%d %d %llu", efd, usage,
                          static_cast<unsigned long long>(thresholdBytes));
  int ctl = ::open(controlPath.c_str(), O_WRONLY | O_CLOEXEC);
  int e = errno;
  if (ctl >= 0) {
    if (auto kernel = onKernelFs(ctl, controlPath, kCgroupSuperMagic, kCgroupSuperMagic); !kernel) {
      ::close(ctl);
      ::close(usage);
      ::close(efd);
      return kernel.error();
    }
  }
  bool ok = ctl >= 0 && ::write(ctl, buf, static_cast<std::size_t>(len)) == len;
  if (ctl >= 0) e = errno;
  if (ctl >= 0) ::close(ctl);
  // The kernel keeps its own reference to the usage file for the registration.
  ::close(usage);
  if (!ok) {
    ::close(efd);
    return Error::sys(e, controlPath);
  }
  return UniqueFd(efd);
}

void drainEventFd(int fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

TimePoint MonotonicClock::now() const {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return TimePoint{Nanos{static_cast<long long>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec}};
}

}  // namespace ork::sys
