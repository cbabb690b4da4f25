// ORK protecting itself: locked in memory, exempt from the kernel OOM killer, and
// scheduled ahead of the processes it watches.
#pragma once

#include "ork/core/Result.h"

namespace ork::sys {

struct SelfProtection {
  bool locked = false;         // mlockall succeeded
  bool lockedOnFault = false;  // ... with MCL_ONFAULT (pages locked as they are touched)
  bool oomExempt = false;      // oom_score_adj set to -1000
  bool niced = false;          // nice -20 succeeded
  Error lockError;             // why mlockall failed, when it did
  Error oomError;
};

// mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT), retried without MCL_ONFAULT on kernels
// that refuse it (< 4.4, EINVAL); oom_score_adj -1000 at procRoot/self; nice -20.
// Each failure is recorded, none is fatal.
SelfProtection protectSelf(const char* procRoot);

// SIGPIPE ignored for the whole process: ORK must never die of its own logging (a
// reader of its stderr that went away). A write to a closed pipe or socket then fails
// with EPIPE, which the caller handles. Children started through sys/Spawn.h get every
// signal back at its default disposition, SIGPIPE included.
Result<void> ignoreSigpipe();

}  // namespace ork::sys
