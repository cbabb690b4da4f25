#include "ork/sys/SelfProtect.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <string>

#include "ork/sys/Files.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace ork::sys {

SelfProtection protectSelf(const char* procRoot) {
  SelfProtection p;
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) {
    p.locked = p.lockedOnFault = true;
  } else if (errno == EINVAL && ::mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
    p.locked = true;
  } else {
    p.lockError = Error::sys(errno, "mlockall");
  }
  auto r = writeFile(std::string(procRoot) + "/self/oom_score_adj", "-1000");
  if (r) {
    p.oomExempt = true;
  } else {
    p.oomError = r.error();
  }
  p.niced = ::setpriority(PRIO_PROCESS, 0, -20) == 0;
  return p;
}

Result<void> ignoreSigpipe() {
  struct sigaction sa {};
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGPIPE, &sa, nullptr) != 0) return Error::sys(errno, "sigaction SIGPIPE");
  return success();
}

}  // namespace ork::sys
