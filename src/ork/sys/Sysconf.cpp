#include "ork/sys/Sysconf.h"

#include <unistd.h>

namespace ork::sys {

long clockTicksPerSecond() {
  long hz = ::sysconf(_SC_CLK_TCK);
  return hz > 0 ? hz : 100;
}

long pageSize() {
  long page = ::sysconf(_SC_PAGESIZE);
  return page > 0 ? page : 4096;
}

int selfPid() { return static_cast<int>(::getpid()); }

}  // namespace ork::sys
