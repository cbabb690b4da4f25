// Identity-safe process signalling: pidfd_open, pidfd_send_signal, process_mrelease,
// called through syscall(2) so older libcs work. None of these allocate.
#pragma once

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

// pidfd for pid, or ESRCH if it is gone; ENOSYS on kernels < 5.3.
Result<UniqueFd> pidfdOpen(int pid);
// Sends sig through the pidfd: cannot reach a recycled PID.
Result<void> pidfdSendSignal(int pidfd, int sig);
// Reaps the address space of a process that was sent SIGKILL, so its memory returns
// now rather than when the exit path gets to it. ENOSYS before 5.15; EINVAL if the
// process is not dying (yet).
Result<void> processMrelease(int pidfd);

}  // namespace ork::sys
