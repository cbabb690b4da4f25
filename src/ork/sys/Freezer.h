// Freezing a VM without libvirt: the cgroup freezer (v2 cgroup.freeze, or the v1
// freezer controller) stops every task of a cgroup where it stands, at once, and gives
// them back their CPU on thaw. The guest sees only lost time.
//
// The danger is freezing innocents: a cgroup shared with other processes (or the root
// cgroup) would stop them too, possibly the very services that could relieve the host.
// So ORK freezes a cgroup only when it holds the one process it means, checked when
// the target is found and again right before and right after each freeze.
//
// Which cgroup: the pid's own, except that libvirt keeps a qemu process's main thread
// in a sub-cgroup "emulator" beside "vcpu0".."vcpuN" (cpu/cpuset controllers, and v2):
// freezing "emulator" alone would leave the vCPU threads running, so the parent (the
// VM's cgroup, holding all of qemu's threads) is frozen instead.
//
// v1 and v2 differ in a way that matters to a killer: a task frozen by the v2 freezer
// still dies on SIGKILL, a task frozen by the v1 freezer does not die until thawed.
//
// freeze() and thaw() wait for the kernel's confirmation, up to kFreezeBound: too slow
// for the loop's thread once pressure is high (an executor lane's job).
#pragma once

#include <string>

#include "ork/core/Result.h"
#include "ork/core/Units.h"

namespace ork::sys {

struct FreezerTarget {
  enum class Kind { V2, V1 } kind = Kind::V2;
  std::string dir;  // absolute cgroup dir
  // The process the cgroup was found dedicated to; freeze() checks again that the
  // cgroup holds nothing else (0: no check, for a cgroup the caller vouches for).
  int pid = 0;
  std::string procRoot = "/proc";  // where pid's threads are listed (task/TID)
};

// How long freeze() and thaw() wait for the kernel to confirm.
inline constexpr Millis kFreezeBound{1000};

// The cgroup to freeze for pid (e.g. a qemu process), found from procRoot/PID/cgroup
// and the mounts in mountinfoPath (default procRoot/self/mountinfo). The v2 cgroup
// (cgroup.freeze, kernel >= 5.2) is preferred; the v1 freezer hierarchy is used when
// the v2 one is unusable, as on hybrid hosts where libvirt places VMs in v1 cgroups
// only and the v2 cgroup of a qemu process is its daemon's, or the root.
// REFUSES (Error EPERM) when the cgroup is the root cgroup or is not dedicated: every
// process listed in its cgroup.procs, recursively through child cgroups, must be pid
// (threaded v2 children list threads, which must be pid's). ESRCH when pid is gone,
// ENOTSUP when no freezer is available at all.
Result<FreezerTarget> freezerFor(int pid, const std::string& procRoot = "/proc",
                                 const std::string& mountinfoPath = "");

// Fails (EPERM, with the first stranger named) unless every process of dir's subtree
// is pid, and pid is in it.
Result<void> checkDedicated(const std::string& dir, int pid, const std::string& procRoot = "/proc");

// Freeze/thaw and wait up to kFreezeBound for the kernel to confirm ("frozen 1" in
// cgroup.events on v2, "FROZEN" in freezer.state on v1, where "FREEZING" means still in
// progress). On timeout the request is left in place and the Error says in which state
// the cgroup was (thaw() to undo a freeze that did not complete).
Result<void> freeze(const FreezerTarget&);
Result<void> thaw(const FreezerTarget&);
Result<bool> isFrozen(const FreezerTarget&);

// The same without waiting, for the loop's thread: the request is written and the
// caller polls freezeState() until it reads Frozen (or Thawed), bounded by its own
// deadline. requestFreeze() checks that the cgroup is dedicated first (EPERM if not);
// the caller checks again once frozen (checkDedicated) and thaws if a stranger joined.
// On v1, a cgroup stuck in Freezing (a task in uninterruptible sleep) is helped by
// requesting the freeze again.
enum class FreezeState { Thawed, Freezing, Frozen };
Result<void> requestFreeze(const FreezerTarget&);
Result<void> requestThaw(const FreezerTarget&);
Result<FreezeState> freezeState(const FreezerTarget&);

}  // namespace ork::sys
