#include "ork/sys/Sysconf.h"

#include <unistd.h>

#include <cstdio>

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

int selfPidIn(const char* procRoot) {
  char path[4096];
  char target[32] = {};
  if (std::snprintf(path, sizeof path, "%s/self", procRoot) >= static_cast<int>(sizeof path)) return 0;
  const ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n <= 0) return 0;  // not a procfs (a fixture): none of its PIDs is ORK
  int pid = 0;
  for (ssize_t i = 0; i < n; ++i) {
    if (target[i] < '0' || target[i] > '9') return 0;
    pid = pid * 10 + (target[i] - '0');
    if (pid > 1 << 22) return 0;
  }
  return pid;
}

}  // namespace ork::sys
