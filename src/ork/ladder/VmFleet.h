// The VM service: the host's QEMU/KVM guests as ORK acts on them, shared by the
// ladders (memory hibernates them, CPU freezes them; disk and IOPS will too). It owns
// the VM table's bookkeeping, the two libvirt executor lanes (vm-control: list,
// suspend, resume; vm-save: managed saves), the routing of their replies, and the
// mechanics of freezing (libvirt, or the VM's own cgroup freezer, never waited for on
// the loop) and thawing. Ladders decide (policy/VmChoice.h); the fleet carries out and
// writes one journal line per action.
//
// What ORK froze survives ORK: the fleet keeps the set in a small state file
// (--state-dir, frozen-vms) and at start thaws what an earlier run left frozen (reason
// ork_restarted), or, with cpu.auto_thaw = false, keeps it frozen and says so.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ork/act/VmLane.h"
#include "ork/core/ProcessInfo.h"
#include "ork/core/Reason.h"
#include "ork/ladder/Ladder.h"
#include "ork/policy/CpuRule.h"
#include "ork/sense/VmTable.h"
#include "ork/sys/Freezer.h"

namespace ork::ladder {

enum class LibvirtState {
  Off,       // not needed: no VMs, or [vm] libvirt = false
  Starting,  // the control lane's helper asked for the first list
  Up,        // the last list succeeded
  Down,      // unreachable: retried with back-off
  Missing,   // no ork-virt helper installed
};

// A VM as the ladders act on it: what ORK did to it, and when.
struct VmState {
  int pid = 0;
  std::uint64_t startTimeTicks = 0;
  std::string name;
  std::string uuid;
  Bytes configured;  // -m of its command line
  Bytes memory;      // resident + swapped, of the qemu process
  std::uint64_t cpuTicks = 0;
  double cpus = 0;  // over the current CPU window (the CPU ladder sets it)
  bool seen = false;

  // Memory, step 1.
  bool saving = false;
  bool saved = false;
  std::uint64_t saveReq = 0;
  TimePoint saveStartedAt;
  TimePoint saveRetryAt;
  Bytes memAtSave;
  Bytes availAtSave;

  // Freezing (CPU step 1; later IOPS).
  enum class Freeze {
    None,
    Pending,   // libvirt suspend in flight
    Freezing,  // cgroup freeze requested, not confirmed yet
    Libvirt,
    CgroupV2,
    CgroupV1
  };
  Freeze freeze = Freeze::None;
  std::uint64_t freezeReq = 0;
  std::uint64_t thawReq = 0;
  bool thawing = false;        // cgroup thaw requested, not confirmed yet
  Reason freezeWhy = Reason::CpuOverload;  // which ladder froze it, for its lines
  Reason thawWhy = Reason::CooledDown;
  TimePoint opStartedAt;       // the cgroup request in flight
  TimePoint lastRequestAt;     // ... last (re)written
  bool wouldBeFrozen = false;  // dry-run: "frozen" until the CPU episode ends
  TimePoint frozenAt;
  TimePoint thawRetryAt;
  Nanos thawBackoff{0};
  bool thawNow = false;        // restored from the state file: thaw at once
  std::string libvirtError;    // why libvirt did not suspend it (the cgroup did)
  sys::FreezerTarget freezer;
  policy::CoolDown coolDown;

  explicit VmState(const config::Config& cfg) : coolDown(cfg) {}
  bool isFrozen() const {
    return freeze == Freeze::Libvirt || freeze == Freeze::CgroupV1 || freeze == Freeze::CgroupV2;
  }
  bool cgroupFrozen() const { return freeze == Freeze::CgroupV1 || freeze == Freeze::CgroupV2; }
};

// Told when a managed save ends (the memory ladder judges what it freed).
class SaveListener {
 public:
  virtual ~SaveListener() = default;
  virtual void onSaveDone(VmState& vm, const act::VmReply& reply, TimePoint now) = 0;
};

class VmFleet final : public Part {
 public:
  enum class LaneKind { Control, Save };
  // Makes a lane (the real ork-virt lanes, or a test's fakes); nullptr when the helper
  // is not installed. The lane registers its fds with poller under tag.
  using LaneFactory =
      std::function<std::unique_ptr<act::Lane>(LaneKind, sys::Poller* poller, std::uint64_t tag)>;
  // The real lanes: ork-virt found by act::findVirtHelper().
  static LaneFactory virtLanes(const config::Config& cfg, bool readOnly);

  // stateDir: where frozen-vms is kept ("" : nowhere, as in dry-run).
  VmFleet(const Services& services, LaneFactory lanes, std::string stateDir);
  ~VmFleet() override;

  const char* name() const override { return "vms"; }
  TimePoint nextDue() const override;
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void onTablePass(TimePoint now) override;
  void stop(TimePoint now) override;
  // Nothing in flight that stop() must wait for.
  bool settled() const;

  // Reads the state file of an earlier run (at start, before the first table pass).
  void restore(TimePoint now);
  // At start, after the table's first pass and before the parts hear of it: finds the
  // VMs among its entries without writing a line (vm_found comes after the start line).
  void survey();
  // The start, reload and state lines' fields: vms= (the qemu processes of the last
  // pass; absent with vm.enabled = false) and libvirt= (libvirtState()).
  void describe(journal::Line& l) const;
  void metrics(metrics::Writer& w) const override;  // ladder/LadderMetrics.cpp
  // The guests' NICs as libvirt tells them (MAC, tap, VM name and UUID): ork_nic_info
  // with or without the network ladder.
  void nics(std::vector<metrics::Nic>& out) const override;
  // What ORK knows of libvirt now, as a word: disabled ([vm] enabled or libvirt false),
  // not_needed (no VM: the helper starts with the first one), connecting (asked, no
  // answer yet), up (the last list succeeded), down (unreachable, retried),
  // not_installed (no ork-virt helper).
  const char* libvirtState() const;

  std::vector<VmState>& all() { return vms_; }
  const std::vector<VmState>& all() const { return vms_; }
  LibvirtState libvirt() const { return libvirt_; }
  // The libvirt domain of a VM, when ORK may act on it through libvirt.
  const parse::VirtDomain* domainOf(const VmState& vm) const;
  // vm=, uuid=, pid=, and the OpenStack instance and project when known.
  void fields(journal::Line& l, const VmState& vm) const;

  // Memory: starts a managed save on the save lane. The listener hears the end.
  Result<std::uint64_t> startSave(VmState& vm, Bytes availNow, TimePoint now);
  void setSaveListener(SaveListener* l) { saveListener_ = l; }

  // Freezes vm (libvirt suspend when reachable, else its cgroup freezer), writing the
  // line when it took effect. In dry-run writes the would-be line and marks it
  // wouldBeFrozen. Returns false when it could not even be started.
  bool freeze(VmState& vm, Reason why, TimePoint now);
  // Resumes a VM ORK froze.
  void thaw(VmState& vm, Reason why, TimePoint now);
  // The memory killer is about to take pid: a VM frozen through the v1 freezer does
  // not die until thawed, so its thaw is requested (not waited for).
  void thawBeforeKill(int pid, TimePoint now);
  // Marks in entries (sorted by PID) the VMs no killer may take: being saved, and,
  // with frozenToo, frozen (CPU killer). pids gets their PIDs, sorted.
  void markLeaveAlone(std::span<ProcessInfo> entries, bool frozenToo, std::vector<int>& pids) const;
  void endDryRunFreezes();

 private:
  static constexpr std::uint64_t kTagControl = 1;
  static constexpr std::uint64_t kTagSave = 2;

  void update(TimePoint now);
  void libvirtTick(TimePoint now);
  void libvirtDown(TimePoint now, std::string_view why);
  void deliver(act::VmReply&& r, TimePoint now);
  void onSaveReply(VmState& vm, const act::VmReply& r, TimePoint now);
  void onFreezeReply(VmState& vm, const act::VmReply& r, TimePoint now);
  void onThawReply(VmState& vm, const act::VmReply& r, TimePoint now);
  bool freezeByCgroup(VmState& vm, TimePoint now, const act::VmReply* libvirtFailure);
  void pollCgroup(VmState& vm, TimePoint now);
  void frozen(VmState& vm, TimePoint now);
  void thawFailed(VmState& vm, TimePoint now, journal::Line& l);
  void thawed(VmState& vm);
  void saveState();
  act::Lane* lane(LaneKind k);

  Services s_;
  LaneFactory makeLane_;
  std::string stateDir_;
  SaveListener* saveListener_ = nullptr;

  sense::VmTable table_;
  std::vector<VmState> vms_;
  std::vector<act::DomainInfo> domains_;
  LibvirtState libvirt_ = LibvirtState::Off;
  std::unique_ptr<act::Lane> control_;
  std::unique_ptr<act::Lane> save_;
  std::uint64_t listReq_ = 0;
  TimePoint listDueAt_;
  TimePoint libvirtRetryAt_;
  Nanos libvirtBackoff_{0};
  TimePoint lastVmSeenAt_;
  TimePoint upkeepAt_;
  bool stopping_ = false;
  bool stateErrorLogged_ = false;

  struct Restored {
    int pid;
    std::uint64_t start;
    VmState::Freeze freeze;
    std::string uuid;
    std::string dir;
  };
  std::vector<Restored> restored_;  // from the state file, until their VM is seen
};

}  // namespace ork::ladder
