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

// What trimCodePages did: the read-only mappings of ORK's own binary it trimmed, their
// size, and the first error (none is fatal: the pages then stay as they were).
struct CodeTrim {
  int mappings = 0;
  long pages = 0;
  Error error;
};

// Gives back the pages of ORK's binary (text, rodata) that were touched before the call
// (start-up code: the CLI, the configuration's parser) and makes every later fault bring
// in one page instead of the kernel's fault-around window (64 KiB: 16 pages, most never
// run, all kept by mlockall): each read-only, never-written mapping of
// /proc/self/exe (smaps Anonymous: 0) is unlocked, emptied (MADV_DONTNEED: clean file
// pages, the page cache keeps them), cut into one-page VMAs (MADV_RANDOM on every other
// page: fault-around never crosses a VMA) and locked again on fault (mlock2
// MLOCK_ONFAULT). Only when mlockall(MCL_ONFAULT) is in effect. Afterwards only the code
// that runs is resident and locked: the caller rehearses the kill path right after, so
// that its pages are among them. Costs one VMA per page of the binary (~600 here, ~100
// KiB of kernel memory, not in ORK's RSS).
CodeTrim trimCodePages();

// SIGPIPE ignored for the whole process: ORK must never die of its own logging (a
// reader of its stderr that went away). A write to a closed pipe or socket then fails
// with EPIPE, which the caller handles. Children started through sys/Spawn.h get every
// signal back at its default disposition, SIGPIPE included.
Result<void> ignoreSigpipe();

}  // namespace ork::sys
