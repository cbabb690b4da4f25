// Small pieces every ladder uses: durations for journal lines, the killer's identity
// check through the candidate table, and the fields that name a killed process.
#pragma once

#include <chrono>
#include <string_view>

#include "ork/core/ProcessInfo.h"
#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/journal/Journal.h"
#include "ork/sense/ProcessTable.h"

namespace ork::ladder {

inline std::int64_t msBetween(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<Millis>(b - a).count();
}

// act::Killer's identity check: the start time of a live PID, read by the table.
inline Result<std::uint64_t> startTimeThunk(void* table, int pid) {
  return static_cast<sense::ProcessTable*>(table)->startTimeOf(pid);
}

// A kill line's tail: the victim's command line (first 200 bytes) and cgroup.
inline void commandFields(journal::Line& l, const ProcessInfo& p) {
  if (p.identity) l.str("cmd", std::string_view(p.identity->cmdline).substr(0, 200));
  if (p.identity && !p.identity->cgroup.empty()) l.str("cgroup", p.identity->cgroup);
}

}  // namespace ork::ladder
