#include "ork/sys/SdNotify.h"

#include "ork/parse/Notify.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ork::sys {

Result<SdNotify> SdNotify::open(std::string_view address, Nanos watchdog) {
  SdNotify n;
  if (auto r = parse::parseNotifyAddress(address, n.addr_, n.addrLen_); !r) return r.error();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error::sys(errno, "socket(AF_UNIX, SOCK_DGRAM)");
  n.fd_.reset(fd);
  n.watchdog_ = watchdog;
  return n;
}

Result<SdNotify> SdNotify::fromEnvironment() {
  const char* sock = std::getenv("NOTIFY_SOCKET");
  Nanos wd = parse::parseWatchdogInterval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), static_cast<int>(::getpid()));
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
