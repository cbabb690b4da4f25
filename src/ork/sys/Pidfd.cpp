#include "ork/sys/Pidfd.h"

#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

namespace ork::sys {

Result<UniqueFd> pidfdOpen(int pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return Error::make(errno, "pidfd_open %d: %s", pid, std::strerror(errno));
  return UniqueFd(static_cast<int>(fd));
}

Result<void> pidfdSendSignal(int pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
    return Error::make(errno, "pidfd_send_signal: %s", std::strerror(errno));
  return success();
}

Result<void> processMrelease(int pidfd) {
  if (::syscall(SYS_process_mrelease, pidfd, 0) < 0)
    return Error::make(errno, "process_mrelease: %s", std::strerror(errno));
  return success();
}

}  // namespace ork::sys
