// One reading of a memory domain (the host, or one cgroup).
#pragma once

#include "ork/core/Units.h"

namespace ork {

struct MemorySample {
  TimePoint at;
  Bytes total;      // the domain's size: MemTotal, or the cgroup's limit
  Bytes available;  // what can be had without killing: MemAvailable (+ shrinkable ZFS
                    // ARC), or limit - usage + reclaimable cache for a cgroup
  Bytes swapTotal;  // 0 in a cgroup domain: swap does not gate cgroup kills
  Bytes swapFree;
  Bytes zfsArcShrinkable;  // part of `available` that is ZFS ARC above c_min
};

}  // namespace ork
