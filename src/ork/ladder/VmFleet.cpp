#include "ork/ladder/VmFleet.h"

#include <algorithm>
#include <cstdio>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/Common.h"
#include "ork/parse/FrozenState.h"
#include "ork/parse/ParseUtil.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Files.h"

namespace ork::ladder {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// How often the domain list is asked for while VMs exist (and at once when a new qemu
// process appears).
constexpr Nanos kListEvery = Seconds{30};
// The lanes' helpers are stopped when no VM has been seen for this long.
constexpr Nanos kLanesIdleStop = Seconds{60};
// While libvirt matters, the fleet looks at its lanes at least this often.
constexpr Nanos kUpkeep = Seconds{1};
// A thaw that failed is tried again after this, doubling up to kThawRetryMax.
constexpr Nanos kThawRetry = Seconds{5};
constexpr Nanos kThawRetryMax = Seconds{300};
// A cgroup freeze or thaw in flight is looked at this often, up to sys::kFreezeBound.
constexpr Nanos kFreezePoll = Millis{2};
// v1: a cgroup stuck in FREEZING gets the request written again this often.
constexpr Nanos kFreezeRewrite = Millis{100};
// libvirt's VIR_ERR_OPERATION_INVALID: e.g. resuming a domain that is not paused.
constexpr int kVirErrOperationInvalid = 55;
constexpr const char* kStateFile = "frozen-vms";

std::int64_t secs(Nanos d) { return std::chrono::duration_cast<Seconds>(d).count(); }

const char* methodOf(VmState::Freeze f) {
  switch (f) {
    case VmState::Freeze::CgroupV2: return "cgroup_v2";
    case VmState::Freeze::CgroupV1: return "cgroup_v1";
    default: return "libvirt";
  }
}
}  // namespace

VmFleet::LaneFactory VmFleet::virtLanes(const config::Config& cfg, bool readOnly) {
  return [&cfg, readOnly](LaneKind kind, sys::Poller* poller, std::uint64_t tag) -> std::unique_ptr<act::Lane> {
    std::string helper = act::findVirtHelper();
    if (helper.empty()) return nullptr;
    act::VmLane::Options o;
    o.helperPath = std::move(helper);
    o.uri = cfg.libvirtUri;
    o.readOnly = readOnly;
    o.name = kind == LaneKind::Control ? "vm-control" : "vm-save";
    o.epoll = poller;
    o.epollTag = tag;
    return std::make_unique<act::VmLane>(std::move(o));
  };
}

VmFleet::VmFleet(const Services& services, LaneFactory lanes, std::string stateDir)
    : s_(services), makeLane_(std::move(lanes)), stateDir_(std::move(stateDir)), table_(services.options->procRoot) {}

VmFleet::~VmFleet() = default;

act::Lane* VmFleet::lane(LaneKind k) { return k == LaneKind::Control ? control_.get() : save_.get(); }

const parse::VirtDomain* VmFleet::domainOf(const VmState& vm) const {
  if (vm.uuid.empty()) return nullptr;
  // Anyone may start a qemu with another guest's -uuid: a UUID that two processes claim
  // names no domain ORK may act on (VmTable::byUuid returns none for it).
  const sense::Vm* owner = table_.byUuid(vm.uuid);
  if (owner == nullptr || owner->pid != vm.pid) return nullptr;
  for (const auto& d : domains_)
    if (d.uuid == vm.uuid) return &d;
  return nullptr;
}

void VmFleet::fields(journal::Line& l, const VmState& vm) const {
  l.str("vm", vm.name.empty() ? std::string_view("?") : std::string_view(vm.name));
  if (!vm.uuid.empty()) l.word("uuid", vm.uuid);
  l.num("pid", vm.pid);
  if (const auto* d = domainOf(vm)) {
    if (!d->novaName.empty()) l.str("instance", d->novaName);
    if (!d->novaProject.empty()) l.str("project", d->novaProject);
  }
}

// ---- the loop's side ---------------------------------------------------------------

TimePoint VmFleet::nextDue() const {
  TimePoint due{Nanos::max()};
  for (const act::Lane* l : {control_.get(), save_.get()})
    if (l != nullptr && l->outstanding() > 0) due = std::min(due, l->nextDeadline());
  for (const auto& vm : vms_) {
    if (vm.freeze == VmState::Freeze::Freezing || vm.thawing) due = std::min(due, vm.lastRequestAt + kFreezePoll);
    if (vm.thawNow) due = std::min(due, vm.frozenAt);
  }
  // libvirt's upkeep (the domain list, reconnection, the lanes' idle stop): a list due
  // now (a new VM) at once, the rest at most every kUpkeep.
  const bool wantLibvirt = s_.cfg->flag(Key::VmLibvirt) && !vms_.empty() && libvirt_ != LibvirtState::Missing && !stopping_;
  if (wantLibvirt && listReq_ == 0) due = std::min(due, std::max(listDueAt_, libvirtRetryAt_));
  if (!vms_.empty() || control_ || save_) due = std::min(due, upkeepAt_);
  return due;
}

void VmFleet::onTimer(TimePoint now) {
  if (now >= upkeepAt_) upkeepAt_ = now + kUpkeep;
  for (auto* l : {control_.get(), save_.get()}) {
    if (l == nullptr || l->outstanding() == 0 || now < l->nextDeadline()) continue;
    l->checkDeadlines(now, [&](act::VmReply&& r) { deliver(std::move(r), now); });
  }
  for (auto& vm : vms_) {
    if (vm.freeze == VmState::Freeze::Freezing || vm.thawing) pollCgroup(vm, now);
    if (vm.thawNow && vm.isFrozen() && vm.thawReq == 0 && !vm.thawing) {
      vm.thawNow = false;
      thaw(vm, Reason::OrkRestarted, now);
    }
  }
  libvirtTick(now);
}

void VmFleet::onReady(std::uint64_t tag, TimePoint now) {
  act::Lane* l = tag == kTagSave ? save_.get() : control_.get();
  if (l != nullptr) l->onReadable([&](act::VmReply&& r) { deliver(std::move(r), now); });
}

void VmFleet::onTablePass(TimePoint now) { update(now); }

void VmFleet::survey() {
  if (s_.cfg->flag(Key::VmEnabled)) table_.update(s_.table->entries());
}

void VmFleet::describe(journal::Line& l) const {
  if (s_.cfg->flag(Key::VmEnabled)) l.num("vms", static_cast<std::int64_t>(table_.vms().size()));
  l.word("libvirt", libvirtState());
}

const char* VmFleet::libvirtState() const {
  if (!s_.cfg->flag(Key::VmEnabled) || !s_.cfg->flag(Key::VmLibvirt)) return "disabled";
  switch (libvirt_) {
    case LibvirtState::Up: return "up";
    case LibvirtState::Down: return "down";
    case LibvirtState::Missing: return "not_installed";
    case LibvirtState::Starting: return "connecting";
    case LibvirtState::Off: break;
  }
  // Off: no helper running. With VMs known, the next turn starts it.
  return table_.vms().empty() ? "not_needed" : "connecting";
}

// ---- knowing the VMs ----------------------------------------------------------------

void VmFleet::update(TimePoint now) {
  const config::Config& cfg = *s_.cfg;
  if (!cfg.flag(Key::VmEnabled)) return;
  table_.update(s_.table->entries());
  for (auto& st : vms_) st.seen = false;
  for (const auto& vm : table_.vms()) {
    auto it = std::find_if(vms_.begin(), vms_.end(), [&](const VmState& st) {
      return st.pid == vm.pid && st.startTimeTicks == vm.startTimeTicks;
    });
    if (it == vms_.end()) {
      VmState st(cfg);
      st.pid = vm.pid;
      st.startTimeTicks = vm.startTimeTicks;
      if (vm.cmd) {
        st.name = vm.cmd->name;
        st.uuid = vm.cmd->uuid;
        st.configured = vm.cmd->memory;
      }
      vms_.push_back(std::move(st));
      it = vms_.end() - 1;
      Line l("vm_found");
      fields(l, *it);
      l.kib("mem_kib", vm.memory);
      if (vm.cmd && vm.cmd->memory > Bytes{0}) l.kib("guest_kib", vm.cmd->memory);
      if (vm.cmd && vm.cmd->vcpus > 0) l.num("vcpus", vm.cmd->vcpus);
      s_.journal->write(l, Priority::Info, now);
      listDueAt_ = now;  // learn its domain
      // Frozen by an earlier run of ORK?
      for (auto r = restored_.begin(); r != restored_.end(); ++r) {
        if (r->pid != vm.pid || r->start != vm.startTimeTicks) continue;
        it->freeze = r->freeze;
        it->freezer.kind = r->freeze == VmState::Freeze::CgroupV1 ? sys::FreezerTarget::Kind::V1 : sys::FreezerTarget::Kind::V2;
        it->freezer.dir = r->dir;
        it->freezer.pid = vm.pid;
        it->freezer.procRoot = s_.options->procRoot;
        it->frozenAt = now;
        it->coolDown.onFrozen(now);
        if (cfg.flag(Key::CpuAutoThaw)) {
          it->thawNow = true;
        } else {
          Line k("freeze_kept");
          fields(k, *it);
          k.word("method", methodOf(it->freeze)).word("reason", toString(Reason::OrkRestarted))
              .str("detail", "frozen by an earlier run of ORK; cpu.auto_thaw = false keeps it frozen");
          s_.journal->write(k, Priority::Notice, now);
        }
        restored_.erase(r);
        break;
      }
    }
    it->seen = true;
    it->memory = vm.memory;
    it->cpuTicks = vm.cpuTicks;
  }
  bool changed = false;
  for (auto it = vms_.begin(); it != vms_.end();) {
    if (it->seen || it->saving) {
      ++it;
      continue;
    }
    if (!it->saved) {
      Line l("vm_gone");
      fields(l, *it);
      if (it->freeze != VmState::Freeze::None) l.flag("was_frozen", true);
      s_.journal->write(l, Priority::Info, now);
    }
    changed = changed || it->freeze != VmState::Freeze::None;
    it = vms_.erase(it);
  }
  // Records of an earlier run whose process is not a VM of this table: a cgroup ORK
  // froze is thawed all the same (nobody else would); libvirt ones need their VM.
  for (const auto& r : restored_) {
    if (r.freeze != VmState::Freeze::CgroupV1 && r.freeze != VmState::Freeze::CgroupV2) continue;
    auto start = s_.table->startTimeOf(r.pid);
    if (!start || *start != r.start || s_.options->dryRun) continue;
    sys::FreezerTarget t;
    t.kind = r.freeze == VmState::Freeze::CgroupV1 ? sys::FreezerTarget::Kind::V1 : sys::FreezerTarget::Kind::V2;
    t.dir = r.dir;
    auto done = sys::requestThaw(t);
    Line l("thaw");
    l.num("pid", r.pid).word("method", methodOf(r.freeze)).str("cgroup", r.dir)
        .word("reason", toString(Reason::OrkRestarted)).word("result", done ? "requested" : "failed");
    if (!done) l.str("error", done.error().what);
    s_.journal->write(l, done ? Priority::Notice : Priority::Error, now);
  }
  if (!restored_.empty()) {
    restored_.clear();
    changed = true;
  }
  if (changed) saveState();
  if (!vms_.empty()) lastVmSeenAt_ = now;
}

void VmFleet::libvirtTick(TimePoint now) {
  const config::Config& cfg = *s_.cfg;
  bool want = cfg.flag(Key::VmEnabled) && cfg.flag(Key::VmLibvirt) && !vms_.empty();
  if (!want) {
    // Keep libvirt out of memory on a host without guests: stop the helpers a while
    // after the last VM went away.
    if ((control_ || save_) && now - lastVmSeenAt_ >= kLanesIdleStop && (!save_ || save_->outstanding() == 0) &&
        (!control_ || control_->outstanding() == 0)) {
      control_.reset();
      save_.reset();
      libvirt_ = LibvirtState::Off;
      domains_.clear();
      listReq_ = 0;
    }
    return;
  }
  if (libvirt_ == LibvirtState::Missing || stopping_) return;
  if (!control_) {
    control_ = makeLane_(LaneKind::Control, poller_, kTagControl);
    if (!control_) {
      libvirt_ = LibvirtState::Missing;
      Line w("warning");
      w.word("what", "libvirt_unavailable")
          .str("detail", "the ork-virt helper is not installed")
          .word("fallback", "cgroup_freezer_no_hibernation");
      s_.journal->write(w, Priority::Warning, now);
      return;
    }
    libvirt_ = LibvirtState::Starting;
  }
  if (listReq_ == 0 && now >= listDueAt_ && now >= libvirtRetryAt_) {
    auto id = control_->submit(act::VmOp::List, "", now, cfg.millis(Key::VmCallDeadlineMs));
    if (id) listReq_ = *id;
    else libvirtDown(now, id.error().what);
  }
}

void VmFleet::libvirtDown(TimePoint now, std::string_view why) {
  Nanos max = s_.cfg->seconds(Key::VmReconnectMaxS);
  libvirtBackoff_ = libvirtBackoff_ == Nanos{0} ? Seconds{1} : std::min(max, libvirtBackoff_ * 2);
  libvirtRetryAt_ = now + libvirtBackoff_;
  if (libvirt_ != LibvirtState::Down) {
    Line w("warning");
    w.word("what", "libvirt_unavailable")
        .str("detail", why)
        .str("uri", s_.cfg->libvirtUri)
        .word("fallback", "cgroup_freezer_no_hibernation")
        .num("retry_ms", std::chrono::duration_cast<Millis>(libvirtBackoff_).count());
    s_.journal->write(w, Priority::Warning, now);
  }
  libvirt_ = LibvirtState::Down;
}

// Each lane numbers its own requests: a reply is matched by its operation (saves go to
// the save lane only; suspend and resume to the control lane), its id and its UUID.
void VmFleet::deliver(act::VmReply&& r, TimePoint now) {
  if (r.op == act::VmOp::List && r.id == listReq_) {
    listReq_ = 0;
    if (r.ok) {
      domains_ = std::move(r.domains);
      listDueAt_ = now + kListEvery;
      libvirtBackoff_ = Nanos{0};
      if (libvirt_ != LibvirtState::Up) {
        Line l("libvirt_connected");
        l.str("uri", s_.cfg->libvirtUri)
            .num("domains", static_cast<std::int64_t>(domains_.size()))
            .flag("read_only", s_.options->dryRun)
            .num("took_ms", std::chrono::duration_cast<Millis>(r.took).count());
        s_.journal->write(l, Priority::Info, now);
      }
      libvirt_ = LibvirtState::Up;
    } else {
      libvirtDown(now, r.message);
    }
    return;
  }
  for (auto& vm : vms_) {
    if (r.uuid != vm.uuid) continue;
    if (r.op == act::VmOp::Save && vm.saving && r.id == vm.saveReq) {
      onSaveReply(vm, r, now);
      return;
    }
    if (r.op == act::VmOp::Suspend && vm.freezeReq != 0 && r.id == vm.freezeReq) {
      vm.freezeReq = 0;
      onFreezeReply(vm, r, now);
      return;
    }
    if (r.op == act::VmOp::Resume && vm.thawReq != 0 && r.id == vm.thawReq) {
      vm.thawReq = 0;
      onThawReply(vm, r, now);
      return;
    }
  }
  // A reply to a request whose VM is gone, or a stale one: nothing to do.
}

// ---- hibernation --------------------------------------------------------------------

Result<std::uint64_t> VmFleet::startSave(VmState& vm, Bytes availNow, TimePoint now) {
  if (!save_) save_ = makeLane_(LaneKind::Save, poller_, kTagSave);
  if (!save_) return Error::make(ENOENT, "the ork-virt helper is not installed");
  auto id = save_->submit(act::VmOp::Save, vm.uuid, now, s_.cfg->seconds(Key::VmSaveDeadlineS));
  if (!id) return id.error();
  vm.saving = true;
  vm.saveReq = *id;
  vm.saveStartedAt = now;
  vm.memAtSave = vm.memory;
  vm.availAtSave = availNow;
  return *id;
}

void VmFleet::onSaveReply(VmState& vm, const act::VmReply& r, TimePoint now) {
  vm.saving = false;
  vm.saveReq = 0;
  if (r.ok) {
    vm.saved = true;
    if (vm.freeze != VmState::Freeze::None) {
      // The qemu process exits: whatever froze it is gone with it.
      vm.freeze = VmState::Freeze::None;
      saveState();
    }
  }
  if (saveListener_ != nullptr) saveListener_->onSaveDone(vm, r, now);
}

// ---- freezing -----------------------------------------------------------------------

bool VmFleet::freeze(VmState& vm, Reason why, TimePoint now) {
  vm.freezeWhy = why;
  if (s_.options->dryRun) {
    Line l("freeze");
    fields(l, vm);
    l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100)).word("reason", toString(why))
        .flag("dry_run", true).word("result", "dry_run");
    s_.journal->write(l, Priority::Warning, now);
    // As if frozen, so that a dry run shows the next step (the kill) too.
    vm.wouldBeFrozen = true;
    return true;
  }
  if (libvirt_ == LibvirtState::Up && domainOf(vm) != nullptr && control_) {
    auto id = control_->submit(act::VmOp::Suspend, vm.uuid, now, s_.cfg->millis(Key::VmCallDeadlineMs));
    if (id) {
      vm.freeze = VmState::Freeze::Pending;
      vm.freezeReq = *id;
      saveState();  // a suspend in flight may land after ORK died: resume it next time
      return true;
    }
  }
  return freezeByCgroup(vm, now, nullptr);
}

bool VmFleet::freezeByCgroup(VmState& vm, TimePoint now, const act::VmReply* libvirtFailure) {
  auto fail = [&](const char* method, const Error& e) {
    Line l("freeze");
    fields(l, vm);
    l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100)).word("reason", toString(vm.freezeWhy));
    if (libvirtFailure) l.str("libvirt_error", libvirtFailure->message);
    l.word("method", method).word("result", "failed").str("error", e.what);
    s_.journal->write(l, Priority::Warning, now);
    vm.freeze = VmState::Freeze::None;
    saveState();
    return false;
  };
  auto target = sys::freezerFor(vm.pid, s_.options->procRoot);
  if (!target) return fail("cgroup", target.error());
  const char* method = target->kind == sys::FreezerTarget::Kind::V2 ? "cgroup_v2" : "cgroup_v1";
  vm.freezer = *target;
  if (auto r = sys::requestFreeze(vm.freezer); !r) {
    (void)sys::requestThaw(vm.freezer);  // leave nothing half-frozen
    return fail(method, r.error());
  }
  // Confirmed (or not) by pollCgroup, off this call: the kernel may take a while.
  vm.freeze = VmState::Freeze::Freezing;
  vm.opStartedAt = vm.lastRequestAt = s_.clock->now();
  vm.libvirtError = libvirtFailure != nullptr ? libvirtFailure->message : std::string();
  saveState();
  pollCgroup(vm, now);
  return true;
}

void VmFleet::pollCgroup(VmState& vm, TimePoint now) {
  const bool freezing = vm.freeze == VmState::Freeze::Freezing;
  const char* method = vm.freezer.kind == sys::FreezerTarget::Kind::V2 ? "cgroup_v2" : "cgroup_v1";
  TimePoint t = s_.clock->now();
  auto state = sys::freezeState(vm.freezer);
  bool done = state && *state == (freezing ? sys::FreezeState::Frozen : sys::FreezeState::Thawed);
  bool timedOut = t - vm.opStartedAt >= sys::kFreezeBound;
  if (!done && state && !timedOut) {
    if (freezing && *state == sys::FreezeState::Freezing && vm.freezer.kind == sys::FreezerTarget::Kind::V1 &&
        t - vm.lastRequestAt >= kFreezeRewrite)
      (void)sys::requestFreeze(vm.freezer);
    vm.lastRequestAt = t;  // the next look is kFreezePoll from now
    return;
  }
  if (freezing) {
    Line l("freeze");
    fields(l, vm);
    l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100))
        .word("reason", toString(vm.freezeWhy))
        .word("method", method)
        .str("cgroup", vm.freezer.dir);
    if (!vm.libvirtError.empty()) l.str("libvirt_error", vm.libvirtError);
    // Someone may have joined between the check and the freeze (a helper libvirt put in
    // the VM's cgroup): an innocent must not stay frozen.
    Result<void> dedicated = done ? sys::checkDedicated(vm.freezer.dir, vm.pid, vm.freezer.procRoot) : success();
    if (done && dedicated) {
      vm.freeze = vm.freezer.kind == sys::FreezerTarget::Kind::V2 ? VmState::Freeze::CgroupV2 : VmState::Freeze::CgroupV1;
      vm.frozenAt = now;
      vm.coolDown.onFrozen(now);
      l.word("result", "ok").num("took_ms", msBetween(vm.opStartedAt, t)).num("cool_down_s", secs(vm.coolDown.current()));
      s_.journal->write(l, Priority::Warning, now);
      saveState();
      if (stopping_) thaw(vm, Reason::OrkStopping, now);
      return;
    }
    auto undo = sys::requestThaw(vm.freezer);
    l.word("result", "failed");
    if (!state) l.str("error", state.error().what);
    else if (!dedicated) l.str("error", dedicated.error().what);
    else l.str("error", "not confirmed by the kernel in time");
    l.word("undo", undo ? "thaw_requested" : "thaw_failed").num("took_ms", msBetween(vm.opStartedAt, t));
    s_.journal->write(l, Priority::Warning, now);
    vm.freeze = VmState::Freeze::None;
    saveState();
    return;
  }
  // Thawing.
  vm.thawing = false;
  Line l("thaw");
  fields(l, vm);
  l.word("method", method).word("reason", toString(vm.thawWhy)).num("frozen_s", secs(now - vm.frozenAt))
      .num("next_cool_down_s", secs(vm.coolDown.current()))
      .word("result", done ? "ok" : "failed").num("took_ms", msBetween(vm.opStartedAt, t));
  if (!done) {
    l.str("error", state ? "not confirmed by the kernel in time" : state.error().what);
    thawFailed(vm, now, l);
  } else {
    thawed(vm);
  }
  s_.journal->write(l, done ? Priority::Notice : Priority::Error, now);
}

void VmFleet::onFreezeReply(VmState& vm, const act::VmReply& r, TimePoint now) {
  vm.freeze = VmState::Freeze::None;
  if (vm.saving || vm.saved) {
    // Being hibernated meanwhile: a cgroup freeze would hang the save, a pause is moot.
    if (r.ok && !vm.saved) vm.freeze = VmState::Freeze::Libvirt;
    saveState();
    return;
  }
  if (!r.ok && (r.code >= 0 || r.code == act::kVmNoConnection || r.code == act::kVmReadOnly)) {
    // libvirt definitely did not suspend it: the cgroup freezer can, unless ORK stops.
    if (!stopping_) (void)freezeByCgroup(vm, now, &r);
    else saveState();
    return;
  }
  Line l("freeze");
  fields(l, vm);
  l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100)).word("reason", toString(vm.freezeWhy))
      .word("method", "libvirt");
  if (!r.ok) {
    // No answer (deadline, helper died): libvirt may have paused it or may yet. Treat
    // it as paused by libvirt, so that the thaw sends a resume (harmless if it is not).
    l.word("result", "unknown").num("code", r.code).str("error", r.message);
  } else {
    l.word("result", "ok").num("took_ms", std::chrono::duration_cast<Millis>(r.took).count());
  }
  vm.freeze = VmState::Freeze::Libvirt;
  vm.frozenAt = now;
  vm.coolDown.onFrozen(now);
  l.num("cool_down_s", secs(vm.coolDown.current()));
  s_.journal->write(l, Priority::Warning, now);
  saveState();
  if (stopping_) thaw(vm, Reason::OrkStopping, now);  // the suspend landed while ORK was stopping
}

void VmFleet::onThawReply(VmState& vm, const act::VmReply& r, TimePoint now) {
  // libvirt says "not paused" when the operator resumed it meanwhile: that is thawed.
  bool done = r.ok || r.code == kVirErrOperationInvalid;
  Line l("thaw");
  fields(l, vm);
  l.word("method", "libvirt").word("reason", toString(vm.thawWhy)).num("frozen_s", secs(now - vm.frozenAt))
      .num("next_cool_down_s", secs(vm.coolDown.current()))
      .word("result", r.ok ? "ok" : done ? "not_paused" : "failed")
      .num("took_ms", std::chrono::duration_cast<Millis>(r.took).count());
  if (!r.ok) l.num("code", r.code).str("error", r.message);
  if (!done) thawFailed(vm, now, l);
  else thawed(vm);
  s_.journal->write(l, done ? Priority::Notice : Priority::Error, now);
}

// A thaw failed: the VM stays frozen as ORK knows it, and the thaw is tried again.
void VmFleet::thawFailed(VmState& vm, TimePoint now, journal::Line& l) {
  vm.thawBackoff = vm.thawBackoff == Nanos{0} ? kThawRetry : std::min(kThawRetryMax, vm.thawBackoff * 2);
  vm.thawRetryAt = now + vm.thawBackoff;
  l.num("retry_s", secs(vm.thawBackoff));
}

void VmFleet::thawed(VmState& vm) {
  vm.freeze = VmState::Freeze::None;
  vm.thawBackoff = Nanos{0};
  vm.thawRetryAt = TimePoint{};
  saveState();
}

void VmFleet::thaw(VmState& vm, Reason why, TimePoint now) {
  if (!vm.isFrozen() || vm.thawReq != 0 || vm.thawing) return;
  vm.thawWhy = why;
  if (vm.freeze == VmState::Freeze::Libvirt) {
    if (!control_ && !stopping_ && s_.cfg->flag(Key::VmLibvirt)) libvirtTick(now);
    if (control_) {
      auto id = control_->submit(act::VmOp::Resume, vm.uuid, now, s_.cfg->millis(Key::VmCallDeadlineMs));
      if (id) {
        vm.coolDown.onThawed(now);
        vm.thawReq = *id;
        return;
      }
    }
    Line l("thaw");
    fields(l, vm);
    l.word("method", "libvirt").word("reason", toString(why)).num("frozen_s", secs(now - vm.frozenAt))
        .word("result", "failed").str("error", "libvirt is unavailable: resume it with virsh resume");
    thawFailed(vm, now, l);
    s_.journal->write(l, Priority::Error, now);
    return;
  }
  vm.opStartedAt = vm.lastRequestAt = s_.clock->now();
  auto r = sys::requestThaw(vm.freezer);
  if (!r) {
    Line l("thaw");
    fields(l, vm);
    l.word("method", methodOf(vm.freeze)).word("reason", toString(why)).num("frozen_s", secs(now - vm.frozenAt))
        .word("result", "failed").str("error", r.error().what);
    thawFailed(vm, now, l);
    s_.journal->write(l, Priority::Error, now);
    return;
  }
  vm.coolDown.onThawed(now);
  vm.thawing = true;
  pollCgroup(vm, now);
}

void VmFleet::thawBeforeKill(int pid, TimePoint now) {
  for (auto& vm : vms_) {
    if (vm.pid != pid || !vm.cgroupFrozen()) continue;
    // v2: a frozen task dies of SIGKILL all the same; v1: not until thawed. Either way
    // the cgroup is given back its CPU: the request is enough, the kill goes on. A thaw
    // that fails is not forgotten: the VM stays frozen as ORK knows it (and in the
    // state file), and the cool-down's thaw tries again if it survives.
    auto r = sys::requestThaw(vm.freezer);
    Line l("thaw");
    fields(l, vm);
    l.word("method", methodOf(vm.freeze)).word("reason", toString(Reason::MemoryBelowHard))
        .num("frozen_s", secs(now - vm.frozenAt)).word("result", r ? "requested" : "failed");
    if (!r) {
      l.str("error", r.error().what);
      thawFailed(vm, now, l);
    }
    s_.journal->write(l, r ? Priority::Notice : Priority::Error, now);
    if (r) {
      vm.thawing = false;
      thawed(vm);
    }
  }
}

void VmFleet::markLeaveAlone(std::span<ProcessInfo> entries, bool frozenToo, std::vector<int>& pids) const {
  pids.clear();
  for (const auto& vm : vms_) {
    bool alone = vm.saving || (frozenToo && (vm.freeze != VmState::Freeze::None || vm.wouldBeFrozen));
    auto it = std::lower_bound(entries.begin(), entries.end(), vm.pid,
                               [](const ProcessInfo& e, int pid) { return e.pid < pid; });
    if (it != entries.end() && it->pid == vm.pid && it->startTimeTicks == vm.startTimeTicks) it->leaveAlone = alone;
    if (alone && pids.size() < pids.capacity()) pids.push_back(vm.pid);  // capacity reserved by the caller
  }
  std::sort(pids.begin(), pids.end());
}

void VmFleet::endDryRunFreezes() {
  for (auto& vm : vms_) vm.wouldBeFrozen = false;
}

// ---- stop, and what outlives ORK ----------------------------------------------------

// On a clean stop, nothing ORK froze stays frozen: nobody else would resume it. A
// suspend or cgroup freeze still in flight is resumed as soon as it lands.
void VmFleet::stop(TimePoint now) {
  stopping_ = true;
  for (auto& vm : vms_) thaw(vm, Reason::OrkStopping, now);
}

bool VmFleet::settled() const {
  for (const auto& vm : vms_)
    if (vm.thawReq != 0 || vm.freezeReq != 0 || vm.thawing || vm.freeze == VmState::Freeze::Freezing) return false;
  return true;
}

void VmFleet::saveState() {
  if (stateDir_.empty() || s_.options->dryRun) return;
  std::string text;
  for (const auto& vm : vms_) {
    if (vm.freeze == VmState::Freeze::None) continue;
    using M = parse::FrozenRecord::Method;
    bool cgroup = vm.cgroupFrozen() || vm.freeze == VmState::Freeze::Freezing;
    M m = !cgroup ? M::Libvirt : vm.freezer.kind == sys::FreezerTarget::Kind::V1 ? M::CgroupV1 : M::CgroupV2;
    text += parse::formatFrozenRecord(m, vm.pid, vm.startTimeTicks, vm.uuid, cgroup ? vm.freezer.dir : std::string());
  }
  // An earlier run's records not matched to a VM yet stay on record until they are.
  for (const auto& r : restored_) {
    using M = parse::FrozenRecord::Method;
    M m = r.freeze == VmState::Freeze::Libvirt ? M::Libvirt : r.freeze == VmState::Freeze::CgroupV1 ? M::CgroupV1 : M::CgroupV2;
    text += parse::formatFrozenRecord(m, r.pid, r.start, r.uuid, r.dir);
  }
  auto r = sys::replaceFile(stateDir_, kStateFile, text);
  if (!r && !stateErrorLogged_) {
    Line w("warning");
    w.word("what", "state_file_failed").str("detail", r.error().what)
        .str("consequence", "VMs ORK froze are not resumed by its next run if it dies");
    s_.journal->write(w, Priority::Warning, TimePoint{});
  }
  stateErrorLogged_ = !r;
}

void VmFleet::restore(TimePoint now) {
  if (stateDir_.empty()) return;
  auto text = sys::readWholeFile(stateDir_ + "/" + kStateFile, 1 << 20);
  if (!text) return;  // no file: nothing was left frozen
  int records = 0, gone = 0, bad = 0;
  parse::detail::LineReader lines(*text);
  std::string_view line;
  while (lines.next(line)) {
    if (parse::detail::trimBlanks(line).empty()) continue;
    auto rec = parse::parseFrozenRecord(line);
    if (!rec) {
      ++bad;
      continue;
    }
    ++records;
    Restored r{};
    r.pid = rec->pid;
    r.start = rec->startTimeTicks;
    r.freeze = rec->method == parse::FrozenRecord::Method::Libvirt    ? VmState::Freeze::Libvirt
               : rec->method == parse::FrozenRecord::Method::CgroupV1 ? VmState::Freeze::CgroupV1
                                                                      : VmState::Freeze::CgroupV2;
    r.uuid = std::string(rec->uuid);
    r.dir = std::string(rec->dir);
    auto st = s_.table->startTimeOf(r.pid);
    if (!st || *st != r.start) {
      ++gone;
      continue;
    }
    restored_.push_back(std::move(r));
  }
  if (records == 0 && bad == 0) return;
  saveState();  // what is gone or unreadable is dropped from the record
  Line l("frozen_state");
  l.str("file", stateDir_ + "/" + kStateFile).num("records", records).num("still_there", records - gone);
  if (bad > 0) l.num("unreadable", bad);
  l.word("action", s_.cfg->flag(Key::CpuAutoThaw) ? "thaw" : "keep_frozen");
  s_.journal->write(l, Priority::Notice, now);
}

}  // namespace ork::ladder
