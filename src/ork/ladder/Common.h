// Small pieces every ladder uses: durations for journal lines, the fields that name a
// killed process, a sample or its warning.
#pragma once

#include <chrono>
#include <cstdio>
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

// A kill line's uid field: the number, or "unknown" when ORK could not read the owner.
inline std::string_view uidWord(const ProcessInfo& p, char (&buf)[16]) {
  if (!p.uidKnown) return "unknown";
  int n = std::snprintf(buf, sizeof buf, "%u", p.uid);
  return {buf, static_cast<std::size_t>(n)};
}

// A kill line's tail: the victim's command line (first 200 bytes) and cgroup.
inline void commandFields(journal::Line& l, const ProcessInfo& p) {
  if (p.identity) l.str("cmd", std::string_view(p.identity->cmdline).substr(0, 200));
  if (p.identity && !p.identity->cgroup.empty()) l.str("cgroup", p.identity->cgroup);
}

// A sensor's sample, or false and a warning (what=WHAT) said once until one works again.
template <class T>
bool sampledOrWarned(const Result<T>& sample, bool& warned, std::string_view what, journal::Journal& journal,
                     TimePoint now) {
  if (sample) {
    warned = false;
    return true;
  }
  if (!warned) {
    journal::Line w("warning");
    w.word("what", what).str("detail", sample.error().what);
    journal.write(w, journal::Priority::Warning, now);
    warned = true;
  }
  return false;
}

}  // namespace ork::ladder
