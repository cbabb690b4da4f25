// The VM steps of both ladders and the CPU ladder, beside the memory path of
// Daemon.cpp. Everything here runs on the loop's one thread; libvirt is reached only
// through the two executor lanes (ork-virt helper processes), never called directly.
#include <algorithm>
#include <cstring>

#include "ork/daemon/Daemon.h"
#include "ork/daemon/State.h"

namespace ork::daemon {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// How often the domain list is asked for while VMs exist (and at once when a new qemu
// process appears).
constexpr Nanos kListEvery = Seconds{30};
// The lanes' helpers are stopped when no VM has been seen for this long.
constexpr Nanos kLanesIdleStop = Seconds{60};
// A VM whose save failed or was skipped is not tried again before this.
constexpr Nanos kSaveRetry = Seconds{60};
// After a save, the next one waits this long for the memory to come back.
constexpr Nanos kSaveSettle = Seconds{2};
// A thaw that failed is tried again after this, doubling up to kThawRetryMax.
constexpr Nanos kThawRetry = Seconds{5};
constexpr Nanos kThawRetryMax = Seconds{300};
// libvirt's VIR_ERR_OPERATION_INVALID: e.g. resuming a domain that is not paused.
constexpr int kVirErrOperationInvalid = 55;
// When the host is calm for this long, the CPU attribution window starts afresh.
constexpr Nanos kCpuBaselineReset = Seconds{3};

std::int64_t msBetween(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<Millis>(b - a).count();
}
}  // namespace

const parse::VirtDomain* Daemon::domainOf(const VmState& vm) const {
  if (vm.uuid.empty()) return nullptr;
  // Anyone may start a qemu with another guest's -uuid: a UUID that two processes claim
  // names no domain ORK may act on (VmTable::byUuid returns none for it).
  const sense::Vm* owner = s_->vmTable.byUuid(vm.uuid);
  if (owner == nullptr || owner->pid != vm.pid) return nullptr;
  for (const auto& d : s_->domains)
    if (d.uuid == vm.uuid) return &d;
  return nullptr;
}

void Daemon::vmFields(journal::Line& l, const VmState& vm) const {
  l.str("vm", vm.name.empty() ? std::string_view("?") : std::string_view(vm.name));
  if (!vm.uuid.empty()) l.word("uuid", vm.uuid);
  l.num("pid", vm.pid);
  if (const auto* d = domainOf(vm)) {
    if (!d->novaName.empty()) l.str("instance", d->novaName);
    if (!d->novaProject.empty()) l.str("project", d->novaProject);
  }
}

// ---- knowing the VMs ----------------------------------------------------------------

void Daemon::updateVms(TimePoint now) {
  State& s = *s_;
  if (!s.cfg.flag(Key::VmEnabled)) return;
  s.vmTable.update(s.table->entries());
  for (auto& st : s.vms) st.seen = false;
  for (const auto& vm : s.vmTable.vms()) {
    auto it = std::find_if(s.vms.begin(), s.vms.end(), [&](const VmState& st) {
      return st.pid == vm.pid && st.startTimeTicks == vm.startTimeTicks;
    });
    if (it == s.vms.end()) {
      VmState st(s.cfg);
      st.pid = vm.pid;
      st.startTimeTicks = vm.startTimeTicks;
      if (vm.cmd) {
        st.name = vm.cmd->name;
        st.uuid = vm.cmd->uuid;
        st.configured = vm.cmd->memory;
      }
      s.vms.push_back(std::move(st));
      it = s.vms.end() - 1;
      Line l("vm_found");
      vmFields(l, *it);
      l.kib("mem_kib", vm.memory);
      if (vm.cmd && vm.cmd->memory > Bytes{0}) l.kib("guest_kib", vm.cmd->memory);
      if (vm.cmd && vm.cmd->vcpus > 0) l.num("vcpus", vm.cmd->vcpus);
      s.journal.write(l, Priority::Info, now);
      s.listDueAt = now;  // learn its domain
    }
    it->seen = true;
    it->memory = vm.memory;
    it->cpuTicks = vm.cpuTicks;
  }
  for (auto it = s.vms.begin(); it != s.vms.end();) {
    if (it->seen || it->saving) {
      ++it;
      continue;
    }
    if (!it->saved) {
      Line l("vm_gone");
      vmFields(l, *it);
      if (it->freeze != VmState::Freeze::None) l.flag("was_frozen", true);
      s.journal.write(l, Priority::Info, now);
    }
    it = s.vms.erase(it);
  }
  if (!s.vms.empty()) s.lastVmSeenAt = now;
}

void Daemon::libvirtTick(TimePoint now) {
  State& s = *s_;
  bool want = s.cfg.flag(Key::VmEnabled) && s.cfg.flag(Key::VmLibvirt) && !s.vms.empty();
  if (!want) {
    // Keep libvirt out of memory on a host without guests: stop the helpers a while
    // after the last VM went away.
    if ((s.controlLane || s.saveLane) && now - s.lastVmSeenAt >= kLanesIdleStop &&
        (!s.saveLane || s.saveLane->outstanding() == 0) && (!s.controlLane || s.controlLane->outstanding() == 0)) {
      s.controlLane.reset();
      s.saveLane.reset();
      s.libvirt = LibvirtState::Off;
      s.domains.clear();
      s.listReq = 0;
    }
    return;
  }
  if (s.libvirt == LibvirtState::Missing) return;
  if (!s.controlLane) {
    std::string helper = act::findVirtHelper();
    if (helper.empty()) {
      s.libvirt = LibvirtState::Missing;
      Line w("warning");
      w.word("what", "libvirt_unavailable")
          .str("detail", "the ork-virt helper is not installed")
          .word("fallback", "cgroup_freezer_no_hibernation");
      s.journal.write(w, Priority::Warning, now);
      return;
    }
    act::VmLane::Options o;
    o.helperPath = helper;
    o.uri = s.cfg.libvirtUri;
    o.readOnly = s.options.dryRun;
    o.name = "vm-control";
    o.epoll = &s.epoll;
    o.epollTag = kTagControlLane;
    s.controlLane = std::make_unique<act::VmLane>(std::move(o));
    s.libvirt = LibvirtState::Starting;
  }
  if (s.listReq == 0 && now >= s.listDueAt && now >= s.libvirtRetryAt) {
    auto id = s.controlLane->submit(act::VmOp::List, "", now, s.cfg.millis(Key::VmCallDeadlineMs));
    if (id) {
      s.listReq = *id;
    } else {
      libvirtDown(now, id.error().what);
    }
  }
}

void Daemon::libvirtDown(TimePoint now, std::string_view why) {
  State& s = *s_;
  Nanos max = s.cfg.seconds(Key::VmReconnectMaxS);
  s.libvirtBackoff = s.libvirtBackoff == Nanos{0} ? Seconds{1} : std::min(max, s.libvirtBackoff * 2);
  s.libvirtRetryAt = now + s.libvirtBackoff;
  if (s.libvirt != LibvirtState::Down) {
    Line w("warning");
    w.word("what", "libvirt_unavailable")
        .str("detail", why)
        .str("uri", s.cfg.libvirtUri)
        .word("fallback", "cgroup_freezer_no_hibernation")
        .num("retry_ms", std::chrono::duration_cast<Millis>(s.libvirtBackoff).count());
    s.journal.write(w, Priority::Warning, now);
  }
  s.libvirt = LibvirtState::Down;
}

void Daemon::onLaneReadable(bool saveLane, TimePoint now) {
  State& s = *s_;
  act::VmLane* lane = saveLane ? s.saveLane.get() : s.controlLane.get();
  if (lane == nullptr) return;
  lane->onReadable([&](act::VmReply&& r) { onVmReply(std::move(r), now); });
}

void Daemon::checkLaneDeadlines(TimePoint now) {
  State& s = *s_;
  for (act::VmLane* lane : {s.controlLane.get(), s.saveLane.get()}) {
    if (lane == nullptr || lane->outstanding() == 0 || now < lane->nextDeadline()) continue;
    lane->checkDeadlines(now, [&](act::VmReply&& r) { onVmReply(std::move(r), now); });
  }
}

void Daemon::onVmReply(act::VmReply&& r, TimePoint now) {
  State& s = *s_;
  if (r.op == act::VmOp::List && r.id == s.listReq) {
    s.listReq = 0;
    if (r.ok) {
      s.domains = std::move(r.domains);
      s.listDueAt = now + kListEvery;
      s.libvirtBackoff = Nanos{0};
      if (s.libvirt != LibvirtState::Up) {
        Line l("libvirt_connected");
        l.str("uri", s.cfg.libvirtUri).num("domains", static_cast<std::int64_t>(s.domains.size()))
            .flag("read_only", s.options.dryRun).num("took_ms", std::chrono::duration_cast<Millis>(r.took).count());
        s.journal.write(l, Priority::Info, now);
      }
      s.libvirt = LibvirtState::Up;
    } else {
      libvirtDown(now, r.message);
    }
    return;
  }
  // Each lane numbers its own requests: a reply is matched by its operation (saves go
  // to the save lane only; suspend and resume to the control lane) and its UUID.
  for (auto& vm : s.vms) {
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
      // libvirt says "not paused" when the operator resumed it meanwhile: that is thawed.
      bool done = r.ok || r.code == kVirErrOperationInvalid;
      Line l("thaw");
      vmFields(l, vm);
      l.word("method", "libvirt").word("reason", toString(s.stopping ? Reason::OrkStopping : Reason::CooledDown))
          .num("frozen_s", std::chrono::duration_cast<Seconds>(now - vm.frozenAt).count())
          .num("next_cool_down_s", std::chrono::duration_cast<Seconds>(vm.coolDown.current()).count())
          .word("result", r.ok ? "ok" : done ? "not_paused" : "failed")
          .num("took_ms", std::chrono::duration_cast<Millis>(r.took).count());
      if (!r.ok) l.num("code", r.code).str("error", r.message);
      if (!done) thawFailed(vm, now, l);
      else vm.freeze = VmState::Freeze::None;
      s.journal.write(l, done ? Priority::Notice : Priority::Error, now);
      return;
    }
  }
  // A reply to a request whose VM is gone: nothing to do.
}

// ---- memory, step 1: hibernate --------------------------------------------------------

void Daemon::hibernateStep(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint now) {
  State& s = *s_;
  if (!s.cfg.flag(Key::VmEnabled) || !s.cfg.flag(Key::VmHibernate) || v.level == policy::MemoryLevel::Ok) return;
  if (s.vms.empty()) return;
  for (const auto& vm : s.vms)
    if (vm.saving) return;  // one save at a time: the next one only if still needed
  if (now < s.hibernateHoldOff) return;
  if (s.libvirt != LibvirtState::Up) {
    if (!s.hibernateUnavailableLogged) {
      Line l("hibernate_skipped");
      l.word("reason", toString(Reason::LibvirtUnavailable))
          .num("vms", static_cast<std::int64_t>(s.vms.size()))
          .kib("avail_kib", sample.available)
          .kib("soft_kib", v.thresholds.soft);
      s.journal.write(l, Priority::Warning, now);
      s.hibernateUnavailableLogged = true;
    }
    return;
  }
  // The largest first.
  std::vector<VmState*>& order = s.vmOrder;
  order.clear();
  for (auto& vm : s.vms) {
    // A VM frozen through its cgroup cannot answer libvirt: saving it would only hang
    // until the deadline. One paused by libvirt saves fine (and comes back paused).
    bool cgroupFrozen = vm.freeze == VmState::Freeze::CgroupV1 || vm.freeze == VmState::Freeze::CgroupV2;
    if (!vm.saved && !cgroupFrozen && now >= vm.saveRetryAt && domainOf(vm) != nullptr) order.push_back(&vm);
  }
  std::sort(order.begin(), order.end(), [](const VmState* a, const VmState* b) { return a->memory > b->memory; });
  for (VmState* vm : order) {
    const act::DomainInfo* d = domainOf(*vm);
    if (d->state != "running" && d->state != "paused") continue;
    Bytes guest = std::max({d->maxMemory, d->memory, vm->configured, vm->memory});
    Bytes room = guest + guest.scaled(s.cfg.get(Key::VmSaveMarginPercent) / 100.0) + s.cfg.mib(Key::VmSaveMarginMib);
    auto space = sys::fsSpace(s.cfg.saveDir);
    if (!space || space->available < room) {
      Line l("hibernate_skipped");
      vmFields(l, *vm);
      l.word("reason", toString(Reason::NoRoomForSave)).str("save_dir", s.cfg.saveDir);
      if (space) l.kib("free_kib", space->available);
      else l.str("error", space.error().what);
      l.kib("needs_kib", room).kib("mem_kib", vm->memory);
      s.journal.write(l, Priority::Warning, now);
      vm->saveRetryAt = now + kSaveRetry;
      continue;
    }
    Line l("hibernate");
    vmFields(l, *vm);
    l.kib("mem_kib", vm->memory)
        .kib("guest_kib", guest)
        .word("reason", toString(Reason::MemoryBelowSoft))
        .kib("avail_kib", sample.available)
        .kib("soft_kib", v.thresholds.soft)
        .kib("need_kib", v.need)
        .kib("save_free_kib", space->available)
        .flag("dry_run", s.options.dryRun);
    if (s.options.dryRun) {
      l.word("result", "dry_run");
      s.journal.write(l, Priority::Warning, now);
      s.hibernateHoldOff = now + s.cfg.seconds(Key::KillDryRunRepeatS);
      return;
    }
    if (!s.saveLane) {
      act::VmLane::Options o;
      o.helperPath = act::findVirtHelper();
      o.uri = s.cfg.libvirtUri;
      o.name = "vm-save";
      o.epoll = &s.epoll;
      o.epollTag = kTagSaveLane;
      s.saveLane = std::make_unique<act::VmLane>(std::move(o));
    }
    auto id = s.saveLane->submit(act::VmOp::Save, vm->uuid, now, s.cfg.seconds(Key::VmSaveDeadlineS));
    if (!id) {
      l.word("result", "failed").str("error", id.error().what);
      s.journal.write(l, Priority::Warning, now);
      vm->saveRetryAt = now + kSaveRetry;
      return;
    }
    l.word("result", "started");
    s.journal.write(l, Priority::Warning, now);
    vm->saving = true;
    vm->saveReq = *id;
    vm->saveStartedAt = now;
    vm->memAtSave = vm->memory;
    vm->availAtSave = sample.available;
    return;
  }
}

void Daemon::onSaveReply(VmState& vm, const act::VmReply& r, TimePoint now) {
  State& s = *s_;
  vm.saving = false;
  vm.saveReq = 0;
  auto after = s.memory.sample(now);
  // No answer (deadline, helper died) is not a failure known: libvirt may finish it.
  bool unknown = !r.ok && (r.code == act::kVmDeadline || r.code == act::kVmHelperDied);
  Line l("hibernated");
  vmFields(l, vm);
  l.word("result", r.ok ? "ok" : unknown ? "unknown" : "failed")
      .num("took_ms", msBetween(vm.saveStartedAt, now));
  if (r.ok) {
    // The qemu process exits: what it held (resident and swapped) is what came back.
    l.kib("freed_kib", vm.memAtSave);
    vm.saved = true;
    if (vm.freeze != VmState::Freeze::None) vm.freeze = VmState::Freeze::None;
  } else {
    l.num("code", r.code).str("error", r.message);
    vm.saveRetryAt = now + kSaveRetry;
  }
  l.kib("avail_before_kib", vm.availAtSave);
  if (after) l.kib("avail_kib", after->available);
  if (r.ok) l.str("restore", "virsh start " + (vm.name.empty() ? vm.uuid : vm.name));
  s.journal.write(l, r.ok ? Priority::Warning : Priority::Error, now);
  s.nextSampleAt = now;
  // libvirt answers as qemu exits; its memory returns as the kernel tears it down. Let
  // that show in the samples before judging whether another VM must go.
  s.hibernateHoldOff = now + kSaveSettle;
}

// A VM being saved is no candidate of either killer (the save frees its memory); a VM
// ORK froze is no candidate of the CPU killer (it uses no CPU) but stays one of the
// memory killer, which must be able to take it if memory runs out all the same.
void Daemon::markLeaveAlone(std::span<ProcessInfo> entries, bool frozenToo) {
  State& s = *s_;
  s.leaveAlone.clear();
  for (const auto& vm : s.vms) {
    bool alone = vm.saving || (frozenToo && vm.freeze != VmState::Freeze::None);
    auto it = std::lower_bound(entries.begin(), entries.end(), vm.pid,
                               [](const ProcessInfo& e, int pid) { return e.pid < pid; });
    if (it != entries.end() && it->pid == vm.pid && it->startTimeTicks == vm.startTimeTicks) it->leaveAlone = alone;
    if (alone && s.leaveAlone.size() < s.leaveAlone.capacity()) s.leaveAlone.push_back(vm.pid);  // reserved in afterPass
  }
  std::sort(s.leaveAlone.begin(), s.leaveAlone.end());
}

// ---- CPU --------------------------------------------------------------------------------

void Daemon::takeCpuBaseline(TimePoint now) {
  State& s = *s_;
  if (auto r = s.table->refreshAll(now); !r) return;
  afterPass();
  policy::takeCpuBaseline(s.table->entries(), s.cpuBase);
  s.cpuBaseAt = now;
  s.cpuBaseValid = true;
}

void Daemon::cpuTick(TimePoint now) {
  State& s = *s_;
  auto smp = s.cpu.sample(now);
  if (!smp) {
    if (!s.cpuErrorLogged) {
      Line w("warning");
      w.word("what", "cpu_sample_failed").str("detail", smp.error().what);
      s.journal.write(w, Priority::Warning, now);
      s.cpuErrorLogged = true;
    }
    return;
  }
  s.cpuErrorLogged = false;
  policy::CpuVerdict v = s.cpuRule->evaluate(*smp, now);
  if (v.overloaded && !s.cpuBaseValid) takeCpuBaseline(now);
  if (!v.overloaded && v.calmFor >= kCpuBaselineReset) s.cpuBaseValid = false;
  if (v.episodeEnded)
    for (auto& vm : s.vms) vm.wouldBeFrozen = false;
  if (v.episodeEnded && s.cpuEpisodeActs > 0) {
    Line l("cpu_recovered");
    l.word("reason", toString(Reason::CpuRecovered))
        .num("busy_pct", static_cast<std::int64_t>(smp->busy * 100))
        .num("actions", s.cpuEpisodeActs)
        .num("duration_ms", msBetween(s.cpuEpisodeStart, now));
    s.journal.write(l, Priority::Info, now);
    s.cpuEpisodeActs = 0;
  }
  if (v.actDue) cpuAct(*smp, now);

  // Thaw what has cooled down.
  for (auto& vm : s.vms) {
    if (vm.freeze == VmState::Freeze::None || vm.freeze == VmState::Freeze::Pending || vm.thawReq != 0) continue;
    if (!vm.coolDown.thawDue(v.calmFor) || now < vm.thawRetryAt) continue;
    thawVm(vm, now);
  }
}

void Daemon::cpuAct(const CpuSample& smp, TimePoint now) {
  State& s = *s_;
  if (!s.cpuBaseValid) {
    // No baseline (it could not be read): every process counts at its lifetime average
    // over a window of sustain_s.
    s.cpuBase.clear();
    s.cpuBaseAt = TimePoint{now.sinceOrigin - s.cfg.seconds(Key::CpuSustainS)};
  }
  if (s.cpuEpisodeActs == 0) s.cpuEpisodeStart = now;
  ++s.cpuEpisodeActs;
  // A fresh look at every process: the CPU time used since the window began.
  if (auto r = s.table->refreshAll(now); r) afterPass();
  updateVms(now);

  double excess = std::max(0.5, static_cast<double>(smp.runnable - smp.cpus));
  Line head("cpu_overload");
  head.word("reason", toString(Reason::CpuOverload))
      .num("busy_pct", static_cast<std::int64_t>(smp.busy * 100))
      .num("cpus", smp.cpus)
      .num("runnable", smp.runnable);
  if (smp.pressure >= 0) head.num("pressure_pct", static_cast<std::int64_t>(smp.pressure * 100));
  head.num("window_s", std::chrono::duration_cast<Seconds>(now - s.cpuBaseAt).count());

  // Step 1: freeze the VMs using the most CPU, as many as needed.
  double minCpus = s.cfg.get(Key::CpuVmMinPercent) / 100.0;
  std::vector<VmState*>& order = s.vmOrder;
  order.clear();
  policy::CpuWindow window{s.cpuBase, now - s.cpuBaseAt, s.ticksPerSecond};
  for (auto& vm : s.vms) {
    vm.cpus = policy::cpusUsedByPid(s.table->entries(), vm.pid, window);
    if (vm.freeze == VmState::Freeze::None && !vm.wouldBeFrozen && !vm.saving && !vm.saved && vm.cpus >= minCpus)
      order.push_back(&vm);
  }
  std::sort(order.begin(), order.end(), [](const VmState* a, const VmState* b) { return a->cpus > b->cpus; });
  // As many as needed: the largest users until what they use covers the excess.
  double planned = 0;
  std::size_t take = 0;
  while (take < order.size() && planned < excess) planned += order[take++]->cpus;
  order.resize(take);
  if (!order.empty()) {
    // The decision, then one line per freeze (written when it took effect).
    head.word("action", "freeze").num("vms", static_cast<std::int64_t>(order.size()))
        .num("vm_cpu_pct", static_cast<std::int64_t>(planned * 100));
    s.journal.write(head, Priority::Warning, now);
    int froze = 0;
    for (VmState* vm : order) froze += freezeVm(*vm, now) ? 1 : 0;
    if (froze == 0) {
      // Not one could be frozen: step 2 now rather than after another window.
      Line again("cpu_overload");
      again.word("reason", toString(Reason::CpuOverload)).word("action", "kill").str("detail", "no VM could be frozen");
      s.journal.write(again, Priority::Warning, now);
      cpuKill(now);
    }
  } else {
    head.word("action", "kill");
    s.journal.write(head, Priority::Warning, now);
    cpuKill(now);
  }
  s.cpuRule->onActed(now);
  takeCpuBaseline(now);
}

bool Daemon::freezeVm(VmState& vm, TimePoint now) {
  State& s = *s_;
  if (s.options.dryRun) {
    Line l("freeze");
    vmFields(l, vm);
    l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100)).word("reason", toString(Reason::CpuOverload))
        .flag("dry_run", true).word("result", "dry_run");
    s.journal.write(l, Priority::Warning, now);
    // As if frozen, so that a dry run shows the next step (the kill) too.
    vm.wouldBeFrozen = true;
    return true;
  }
  if (s.libvirt == LibvirtState::Up && domainOf(vm) != nullptr && s.controlLane) {
    auto id = s.controlLane->submit(act::VmOp::Suspend, vm.uuid, now, s.cfg.millis(Key::VmCallDeadlineMs));
    if (id) {
      vm.freeze = VmState::Freeze::Pending;
      vm.freezeReq = *id;
      return true;
    }
  }
  return freezeByCgroup(vm, now, nullptr);
}

bool Daemon::freezeByCgroup(VmState& vm, TimePoint now, const act::VmReply* libvirtFailure) {
  State& s = *s_;
  Line l("freeze");
  vmFields(l, vm);
  l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100)).word("reason", toString(Reason::CpuOverload));
  if (libvirtFailure) l.str("libvirt_error", libvirtFailure->message);
  auto target = sys::freezerFor(vm.pid, s.options.procRoot);
  if (!target) {
    l.word("method", "cgroup").word("result", "failed").str("error", target.error().what);
    s.journal.write(l, Priority::Warning, now);
    vm.freeze = VmState::Freeze::None;
    return false;
  }
  TimePoint t0 = s.clock.now();
  auto r = sys::freeze(*target);
  TimePoint t1 = s.clock.now();
  l.word("method", target->kind == sys::FreezerTarget::Kind::V2 ? "cgroup_v2" : "cgroup_v1").str("cgroup", target->dir);
  if (!r) {
    l.word("result", "failed").str("error", r.error().what);
    s.journal.write(l, Priority::Warning, now);
    (void)sys::thaw(*target);  // leave nothing half-frozen
    vm.freeze = VmState::Freeze::None;
    return false;
  }
  vm.freeze = target->kind == sys::FreezerTarget::Kind::V2 ? VmState::Freeze::CgroupV2 : VmState::Freeze::CgroupV1;
  vm.freezer = *target;
  vm.frozenAt = now;
  vm.coolDown.onFrozen(now);
  l.word("result", "ok").num("took_ms", msBetween(t0, t1))
      .num("cool_down_s", std::chrono::duration_cast<Seconds>(vm.coolDown.current()).count());
  s.journal.write(l, Priority::Warning, now);
  return true;
}

void Daemon::onFreezeReply(VmState& vm, const act::VmReply& r, TimePoint now) {
  State& s = *s_;
  vm.freeze = VmState::Freeze::None;
  if (vm.saving || vm.saved) {
    // Being hibernated meanwhile: a cgroup freeze would hang the save, a pause is moot.
    if (r.ok && vm.saved) return;
    if (r.ok) vm.freeze = VmState::Freeze::Libvirt;
    return;
  }
  if (!r.ok && (r.code >= 0 || r.code == act::kVmNoConnection || r.code == act::kVmReadOnly)) {
    // libvirt definitely did not suspend it: the cgroup freezer can, unless ORK stops.
    if (!s.stopping) (void)freezeByCgroup(vm, now, &r);
    return;
  }
  if (!r.ok) {
    // No answer (deadline, helper died): libvirt may have paused it or may yet. Treat
    // it as paused by libvirt, so that the thaw sends a resume (harmless if it is not).
    Line l("freeze");
    vmFields(l, vm);
    l.word("reason", toString(Reason::CpuOverload)).word("method", "libvirt").word("result", "unknown")
        .num("code", r.code).str("error", r.message);
    s.journal.write(l, Priority::Warning, now);
    vm.freeze = VmState::Freeze::Libvirt;
    vm.frozenAt = now;
    vm.coolDown.onFrozen(now);
    if (s.stopping) thawVm(vm, now);
    return;
  }
  vm.freeze = VmState::Freeze::Libvirt;
  vm.frozenAt = now;
  vm.coolDown.onFrozen(now);
  Line l("freeze");
  vmFields(l, vm);
  l.num("cpu_pct", static_cast<std::int64_t>(vm.cpus * 100))
      .word("reason", toString(Reason::CpuOverload))
      .word("method", "libvirt")
      .word("result", "ok")
      .num("took_ms", std::chrono::duration_cast<Millis>(r.took).count())
      .num("cool_down_s", std::chrono::duration_cast<Seconds>(vm.coolDown.current()).count());
  s.journal.write(l, Priority::Warning, now);
  if (s.stopping) thawVm(vm, now);  // the suspend landed while ORK was stopping
}

// A thaw failed: the VM stays frozen as ORK knows it, and the thaw is tried again.
void Daemon::thawFailed(VmState& vm, TimePoint now, journal::Line& l) {
  vm.thawBackoff = vm.thawBackoff == Nanos{0} ? kThawRetry : std::min(kThawRetryMax, vm.thawBackoff * 2);
  vm.thawRetryAt = now + vm.thawBackoff;
  l.num("retry_s", std::chrono::duration_cast<Seconds>(vm.thawBackoff).count());
}

void Daemon::thawVm(VmState& vm, TimePoint now) {
  State& s = *s_;
  Reason why = s.stopping ? Reason::OrkStopping : Reason::CooledDown;
  if (vm.freeze == VmState::Freeze::Libvirt) {
    if (s.controlLane) {
      auto id = s.controlLane->submit(act::VmOp::Resume, vm.uuid, now, s.cfg.millis(Key::VmCallDeadlineMs));
      if (id) {
        vm.coolDown.onThawed(now);
        vm.thawReq = *id;
        return;
      }
    }
    Line l("thaw");
    vmFields(l, vm);
    l.word("method", "libvirt").word("reason", toString(why))
        .num("frozen_s", std::chrono::duration_cast<Seconds>(now - vm.frozenAt).count())
        .word("result", "failed").str("error", "libvirt is unavailable: resume it with virsh resume");
    thawFailed(vm, now, l);
    s.journal.write(l, Priority::Error, now);
    return;
  }
  TimePoint t0 = s.clock.now();
  auto r = sys::thaw(vm.freezer);
  if (r) vm.coolDown.onThawed(now);
  Line l("thaw");
  vmFields(l, vm);
  l.word("method", vm.freeze == VmState::Freeze::CgroupV2 ? "cgroup_v2" : "cgroup_v1")
      .word("reason", toString(why))
      .num("frozen_s", std::chrono::duration_cast<Seconds>(now - vm.frozenAt).count())
      .num("next_cool_down_s", std::chrono::duration_cast<Seconds>(vm.coolDown.current()).count())
      .word("result", r ? "ok" : "failed")
      .num("took_ms", msBetween(t0, s.clock.now()));
  if (!r) {
    l.str("error", r.error().what);
    thawFailed(vm, now, l);
  } else {
    vm.freeze = VmState::Freeze::None;
    vm.thawBackoff = Nanos{0};
  }
  s.journal.write(l, r ? Priority::Notice : Priority::Error, now);
}

void Daemon::cpuKill(TimePoint now) {
  State& s = *s_;
  auto entries = s.table->mutableEntries();
  markLeaveAlone(entries, /*frozenToo=*/true);
  policy::CpuChoiceContext ctx;
  ctx.window = policy::CpuWindow{s.cpuBase, now - s.cpuBaseAt, s.ticksPerSecond};
  ctx.leaveAlone = s.leaveAlone;
  auto choice = policy::chooseCpuVictim(entries, ctx, s.cpuScratch);
  if (choice.index < 0) {
    Line l("no_candidate");
    l.word("reason", toString(Reason::CpuOverload)).num("processes", static_cast<std::int64_t>(entries.size()));
    s.journal.write(l, Priority::Warning, now);
    return;
  }
  int count = policy::cpuVictimMembers(s.cpuScratch, choice, s.memberIdx.data(), static_cast<int>(s.memberIdx.size()));
  for (int i = 0; i < count; ++i) s.members[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(s.memberIdx[static_cast<std::size_t>(i)])];
  auto outcome = s.cpuKiller->kill({s.members.data(), static_cast<std::size_t>(count)}, s.options.dryRun, s.clock);
  TimePoint after = s.clock.now();
  const ProcessInfo& root = entries[static_cast<std::size_t>(choice.index)];
  if (outcome.outcome == Outcome::Ok) {
    s.cpuKiller->forEachWaiting([&](int fd, int slot) {
      (void)s.epoll.add(fd, EPOLLIN, kTagCpuVictim + static_cast<std::uint64_t>(slot));
    });
    for (int i = 0; i < count; ++i) entries[static_cast<std::size_t>(s.memberIdx[static_cast<std::size_t>(i)])].state = 'X';
  }
  std::string_view user = s.users.nameOf(root.uid);
  Line l("kill");
  l.num("pid", root.pid)
      .str("name", root.comm)
      .str("user", user)
      .num("uid", root.uid)
      .num("members", choice.members)
      .num("cpu_pct", static_cast<std::int64_t>(choice.cpus * 100))
      .num("signalled", outcome.signalled)
      .word("reason", toString(Reason::CpuOverload))
      .flag("dry_run", s.options.dryRun)
      .word("result", toString(outcome.outcome));
  if (outcome.err != 0) l.num("errno", outcome.err);
  if (root.identity) l.str("cmd", std::string_view(root.identity->cmdline).substr(0, 200));
  if (root.identity && !root.identity->cgroup.empty()) l.str("cgroup", root.identity->cgroup);
  s.journal.write(l, Priority::Warning, after);
}

// On a clean stop, nothing ORK froze stays frozen: nobody else would resume it. A
// suspend still in flight is resumed as soon as it lands (onFreezeReply, stopping).
void Daemon::thawAllOnStop(TimePoint now) {
  State& s = *s_;
  s.stopping = true;
  for (auto& vm : s.vms) {
    if (vm.freeze == VmState::Freeze::None || vm.freeze == VmState::Freeze::Pending || vm.thawReq != 0) continue;
    thawVm(vm, now);
  }
  auto outstanding = [&] {
    for (const auto& vm : s.vms)
      if (vm.thawReq != 0 || vm.freezeReq != 0) return true;
    return false;
  };
  // Wait (bounded: the lane answers every request by its deadline plus grace) for
  // libvirt's answers.
  TimePoint until = now + s.cfg.millis(Key::VmCallDeadlineMs) + Seconds{3};
  while (outstanding() && s.controlLane && s.clock.now() < until) {
    std::array<epoll_event, 8> events{};
    auto n = s.epoll.wait(events.data(), static_cast<int>(events.size()), Millis{100});
    if (!n) break;
    TimePoint t = s.clock.now();
    for (int i = 0; i < *n; ++i)
      if (events[static_cast<std::size_t>(i)].data.u64 == kTagControlLane) onLaneReadable(false, t);
    checkLaneDeadlines(t);
  }
}

// A VM frozen through the v1 freezer does not die of SIGKILL (nor can its memory be
// reaped) until it is thawed: before the memory killer takes one, thaw it.
void Daemon::thawBeforeKill(int pid) {
  State& s = *s_;
  for (auto& vm : s.vms) {
    if (vm.pid != pid || (vm.freeze != VmState::Freeze::CgroupV1 && vm.freeze != VmState::Freeze::CgroupV2)) continue;
    (void)sys::thaw(vm.freezer);
    vm.freeze = VmState::Freeze::None;
  }
}

}  // namespace ork::daemon
