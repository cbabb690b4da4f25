// What the kernel tells every process at start (the auxiliary vector, via sysconf):
// the clock-tick rate of /proc times and the page size of /proc memory counts; and the
// process's own PID.
#pragma once

namespace ork::sys {

// USER_HZ: the unit of utime, stime and starttime in /proc/PID/stat (100 when unknown).
long clockTicksPerSecond();
// The unit of rss in /proc/PID/stat (4096 when unknown).
long pageSize();
// getpid(): ORK's PID, for the journal's tag (ork[PID]).
int selfPid();
// This process's PID as procRoot numbers it (the procRoot/self link), for leaving ORK
// out of its own table; 0 where procRoot has no such link (a fixture: none of its PIDs
// is ORK, though one may equal ORK's real PID).
int selfPidIn(const char* procRoot);

}  // namespace ork::sys
