// The sd_notify(3) datagram protocol, hand-written (ORK is linked statically, without
// libsystemd): one AF_UNIX SOCK_DGRAM message of "KEY=VALUE\n" lines to the socket
// systemd names in $NOTIFY_SOCKET (a path, or "@name" for an abstract socket). READY=1,
// RELOADING=1, STOPPING=1 and WATCHDOG=1 are what ORK sends. The watchdog interval is
// $WATCHDOG_USEC, meant for this process only when $WATCHDOG_PID is unset or its PID.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class SdNotify {
 public:
  SdNotify() = default;
  // From the environment ($NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID), which is then
  // cleared so that no child (ork-virt) inherits it. Disabled (every send a no-op) when
  // there is no socket; an error only when $NOTIFY_SOCKET is set but unusable.
  static Result<SdNotify> fromEnvironment();
  // A given socket address ($NOTIFY_SOCKET's syntax) and watchdog interval.
  static Result<SdNotify> open(std::string_view address, Nanos watchdog);

  bool enabled() const { return fd_.valid(); }
  // Zero: systemd watches no heartbeat.
  Nanos watchdog() const { return watchdog_; }
  // One datagram (nonblocking, no allocation). Ok when disabled.
  Result<void> send(std::string_view message);
  // The loop's heartbeat to systemd: WATCHDOG=1, at most once per half interval.
  // Returns whether a ping was due (and sent, or failed: see the Result).
  Result<bool> ping(TimePoint now);
  // How long the loop may sleep and still ping in time (Nanos::max() without a watchdog).
  Nanos pingSlack(TimePoint now) const;

 private:
  UniqueFd fd_;
  sockaddr_un addr_{};
  socklen_t addrLen_ = 0;
  Nanos watchdog_{0};
  TimePoint lastPing_{};
  bool pinged_ = false;
};

}  // namespace ork::sys
