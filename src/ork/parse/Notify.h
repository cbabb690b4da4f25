// The words of systemd's notification environment, parsed (sys/SdNotify.h sends):
// $NOTIFY_SOCKET (a path, or "@name" for an abstract socket) and $WATCHDOG_USEC /
// $WATCHDOG_PID. Pure: no I/O, no allocation.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Units.h"

namespace ork::parse {

// The address in $NOTIFY_SOCKET: an absolute path, or '@' then an abstract name.
// EINVAL for anything else (empty, relative, too long, a NUL inside). len counts the
// path's terminating NUL, and for an abstract name exactly its bytes after the leading
// NUL (as systemd binds it).
Result<void> parseNotifyAddress(std::string_view text, sockaddr_un& addr, socklen_t& len);
// The watchdog interval from $WATCHDOG_USEC and $WATCHDOG_PID (either may be null);
// zero when there is none, it is malformed or it is meant for another process. At most
// a year.
Nanos parseWatchdogInterval(const char* usec, const char* pid, int selfPid);

}  // namespace ork::parse
