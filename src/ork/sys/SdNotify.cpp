#include "ork/sys/SdNotify.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ork::sys {

Result<void> parseNotifyAddress(std::string_view text, sockaddr_un& addr, socklen_t& len) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (text.size() < 2 || (text[0] != '/' && text[0] != '@'))
    return Error::make(EINVAL, "NOTIFY_SOCKET: not an absolute path nor @abstract: \"%.*s\"",
                       static_cast<int>(std::min<std::size_t>(text.size(), 64)), text.data());
  if (text.size() >= sizeof addr.sun_path)
    return Error::make(EINVAL, "NOTIFY_SOCKET: longer than %zu bytes", sizeof addr.sun_path - 1);
  if (text.find('\0') != std::string_view::npos) return Error::make(EINVAL, "NOTIFY_SOCKET: a NUL inside");
  std::memcpy(addr.sun_path, text.data(), text.size());
  if (text[0] == '@') {
    // Abstract: a leading NUL and exactly the name's bytes (no terminating NUL counted).
    addr.sun_path[0] = '\0';
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size());
  } else {
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
  }
  return success();
}

namespace {
// A decimal unsigned number, whole; false for anything else.
bool parseUnsigned(const char* s, std::uint64_t& out) {
  if (s == nullptr || *s == '\0') return false;
  std::uint64_t v = 0;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  out = v;
  return true;
}
}  // namespace

Nanos watchdogInterval(const char* usec, const char* pid, int selfPid) {
  std::uint64_t us = 0;
  if (!parseUnsigned(usec, us) || us == 0) return Nanos{0};
  if (pid != nullptr) {
    std::uint64_t p = 0;
    if (!parseUnsigned(pid, p) || p != static_cast<std::uint64_t>(selfPid)) return Nanos{0};
  }
  // Bounded (a year): the arithmetic below must not overflow.
  if (us > 365ULL * 24 * 3600 * 1000000) us = 365ULL * 24 * 3600 * 1000000;
  return Micros{static_cast<std::int64_t>(us)};
}

Result<SdNotify> SdNotify::open(std::string_view address, Nanos watchdog) {
  SdNotify n;
  if (auto r = parseNotifyAddress(address, n.addr_, n.addrLen_); !r) return r.error();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error::sys(errno, "socket(AF_UNIX, SOCK_DGRAM)");
  n.fd_.reset(fd);
  n.watchdog_ = watchdog;
  return n;
}

Result<SdNotify> SdNotify::fromEnvironment() {
  const char* sock = std::getenv("NOTIFY_SOCKET");
  Nanos wd = watchdogInterval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), static_cast<int>(::getpid()));
  Result<SdNotify> out = SdNotify();
  if (sock != nullptr) out = open(sock, wd);
  // Meant for ORK alone: a helper it starts must not speak for it.
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  return out;
}

Result<void> SdNotify::send(std::string_view message) {
  if (!fd_.valid()) return success();
  for (;;) {
    ssize_t n = ::sendto(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                         reinterpret_cast<const sockaddr*>(&addr_), addrLen_);
    if (n >= 0) return success();
    if (errno == EINTR) continue;
    return Error::sys(errno, "sd_notify");
  }
}

Result<bool> SdNotify::ping(TimePoint now) {
  if (!fd_.valid() || watchdog_ <= Nanos{0}) return false;
  if (pinged_ && now - lastPing_ < watchdog_ / 2) return false;
  pinged_ = true;
  lastPing_ = now;
  if (auto r = send("WATCHDOG=1"); !r) return r.error();
  return true;
}

Nanos SdNotify::pingSlack(TimePoint now) const {
  if (!fd_.valid() || watchdog_ <= Nanos{0}) return Nanos::max();
  if (!pinged_) return Nanos{0};
  Nanos left = lastPing_ + watchdog_ / 2 - now;
  return left > Nanos{0} ? left : Nanos{0};
}

}  // namespace ork::sys
