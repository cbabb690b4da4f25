// A synthetic candidate table: N ProcessInfo, sorted by PID, shaped like a busy host
// (kernel threads, root daemons, user sessions, worker pools that form process trees,
// a few large processes). Deterministic (fixed seed).
#pragma once

#include <vector>

#include "ork/core/ProcessInfo.h"

namespace ork::bench {

std::vector<ProcessInfo> syntheticTable(int n, unsigned seed = 42);

}  // namespace ork::bench
