// What the disk ladder reads besides statvfs (which goes through sys::FsProbe):
// the filesystems to watch (mountinfo + whether each device spins), and, for step 2,
// who writes to a filesystem. listFilesystems reads only /proc and /sys (never a
// mounted filesystem): fine on the loop. scanWriters opens every process's fds and is
// run on the disk ladder's worker thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ork/config/Config.h"
#include "ork/core/Result.h"
#include "ork/policy/DiskRule.h"

namespace ork::sense {

Result<std::vector<policy::WatchedFs>> listFilesystems(const std::string& procRoot, const std::string& sysRoot,
                                                       const config::DiskSettings& cfg);

// One process as the writer search sees it.
struct WriterSample {
  int pid = 0;
  std::uint64_t startTime = 0;   // /proc/PID/stat field 22: identity
  std::uint64_t writeBytes = 0;  // /proc/PID/io write_bytes (storage; 0 on tmpfs)
  std::uint64_t wchar = 0;       // ... wchar (every write(2))
  std::uint64_t syscw = 0;
  std::uint64_t cpuTicks = 0;    // utime + stime
  bool writesThere = false;      // holds a regular file on the filesystem open for writing
  bool worksThere = false;       // its cwd is on the filesystem (file creators)
};

// Every process of procRoot with its counters and whether it writes on device dev.
// Blocking (stat of every fd): run on a worker thread.
std::vector<WriterSample> scanWriters(const std::string& procRoot, dev_t dev);

}  // namespace ork::sense
