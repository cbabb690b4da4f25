// Which VMs the ladders act on, as pure functions of hand-built views: the order in
// which VMs are hibernated (memory, step 1), whether a save fits on the save
// directory's filesystem, and which VMs to freeze on CPU overload (step 1). No clock,
// no files: the VM service (ladder/VmFleet) fills the views.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "ork/config/Config.h"
#include "ork/core/Units.h"

namespace ork::policy {

// A VM as the hibernation step sees it.
struct SaveCandidate {
  int id = 0;              // the caller's handle, returned as is
  Bytes memory;            // resident + swapped of its qemu process
  Bytes guest;             // the most the guest may hold: libvirt's max, its -m, or memory
  bool reachable = false;  // a libvirt domain ORK may act on (its UUID is not claimed twice)
  bool runningOrPaused = false;  // libvirt's state: only these can be saved
  bool saving = false;
  bool saved = false;
  bool cgroupFrozen = false;  // frozen through its cgroup: it cannot answer libvirt
  bool retryHeld = false;     // its last save failed or was skipped a moment ago
};

// The VMs that may be hibernated now, largest first (memory, then guest size, then
// id for a stable order). Writes their ids to out (cleared first).
void hibernationOrder(std::span<const SaveCandidate> vms, std::vector<int>& out);

// What the save directory's filesystem must have free for one VM's managed save: the
// guest's memory, plus vm.save_margin_percent of it, plus vm.save_margin_mib.
Bytes saveRoomNeeded(Bytes guest, const config::Config& cfg);
inline bool saveFits(Bytes guest, Bytes freeOnSaveFs, const config::Config& cfg) {
  return freeOnSaveFs >= saveRoomNeeded(guest, cfg);
}

// A VM as the CPU ladder's freeze step sees it.
struct FreezeCandidate {
  int id = 0;
  double cpus = 0;  // CPUs used over the overload window (1.0 = one CPU)
  bool frozen = false;  // already frozen (or, in dry-run, as if frozen)
  bool saving = false;
  bool saved = false;
};

struct FreezePlan {
  std::vector<int> ids;  // to freeze, the largest users first
  double cpus = 0;       // what they used together
};

// The VMs using the most CPU (at least minCpus each), as many as needed for what they
// use to cover `excess` (the runnable tasks beyond the CPUs, at least half a CPU).
void vmsToFreeze(std::span<const FreezeCandidate> vms, double excess, double minCpus, FreezePlan& out);

}  // namespace ork::policy
