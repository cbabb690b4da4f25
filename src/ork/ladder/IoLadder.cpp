#include "ork/ladder/IoLadder.h"

#include <algorithm>
#include <cstdio>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/Common.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Files.h"

namespace ork::ladder {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
constexpr Nanos kSampleEvery = Seconds{1};
// When the host is calm for this long, the attribution window starts afresh.
constexpr Nanos kBaselineReset = Seconds{3};
// A tree doing less than this on the device is no culprit: whatever saturates it, ORK
// cannot see it (the kernel's own writeback, processes already gone).
constexpr double kIoVictimFloorBytesPerS = 64 * 1024;

std::int64_t pct(double share) { return static_cast<std::int64_t>(share * 100 + 0.5); }
std::int64_t kibPerS(double bytesPerS) { return static_cast<std::int64_t>(bytesPerS / 1024); }

int indexOf(std::span<const ProcessInfo> entries, int pid) {
  auto it = std::lower_bound(entries.begin(), entries.end(), pid, [](const ProcessInfo& e, int p) { return e.pid < p; });
  return it != entries.end() && it->pid == pid ? static_cast<int>(it - entries.begin()) : -1;
}

std::string cgroupOf(const policy::IoSnapshot& s, int pid) {
  auto it = std::lower_bound(s.procs.begin(), s.procs.end(), pid, [](const policy::IoProc& p, int v) { return p.pid < v; });
  if (it == s.procs.end() || it->pid != pid || it->cgroup < 0) return {};
  return s.cgroups[static_cast<std::size_t>(it->cgroup)].path;
}

}  // namespace

IoLadder::IoLadder(const Services& services, sense::IoSensor sensor) : s_(services), sensor_(std::move(sensor)) {
  rule_ = std::make_unique<policy::IoRule>(*s_.cfg);
  killer_ = std::make_unique<act::Killer>(&sense::ProcessTable::recheckThunk, s_.table);
}

IoLadder::~IoLadder() = default;

bool IoLadder::enabled() const { return s_.cfg->flag(Key::IoEnabled); }

Result<void> IoLadder::open(TimePoint now) {
  if (auto mi = sys::readWholeFile(s_.options->procRoot + "/self/mountinfo")) roots_ = sense::cgroupRootsFrom(*mi);
  if (enabled()) {
    // Without the worker the looks run inline (slower loop turns at an action, nothing worse).
    auto j = jobs_.start();
    if (j) {
      jobsStarted_ = true;
      if (poller_ != nullptr) (void)poller_->add(*j, EPOLLIN, kTagJobs);
    }
  }
  if (enabled()) (void)sensor_.sampleInto(now, last_);  // the base (no rates yet; haveLast_ stays false)
  nextAt_ = now + kSampleEvery;
  return success();
}

void IoLadder::describe(journal::Line& start) const {
  start.flag("io", enabled());
  if (enabled()) start.flag("io_psi", sensor_.hasPressure()).flag("io_cgroup_psi", !roots_.v2.empty());
}

void IoLadder::state(journal::Line& l) const {
  if (!enabled() || !haveLast_) return;
  double util = 0;
  for (const IoDevice& d : last_) util = std::max(util, d.util);
  l.num("io_util_pct", pct(util));
  if (last_.pressure >= 0) l.num("io_pressure_pct", pct(last_.pressure));
}

void IoLadder::readings(Readings& r) const {
  if (!enabled()) return;
  r.ioSensed = true;
  if (!haveLast_) return;
  r.ioPressure = last_.pressure;
}

Report IoLadder::report() const {
  Report r;
  r.title = "io";
  char b[240];
  if (!haveLast_) {
    r.lines.emplace_back(enabled() ? "no sample yet" : "disabled ([io] enabled = false)");
    return r;
  }
  for (const IoDevice& d : last_) {
    std::snprintf(b, sizeof b, "%-10s util %3.0f %%, await %6.1f ms, queue %5.1f, %7.0f IO/s, %8.1f MiB/s", d.name, d.util * 100,
                  d.awaitMs, d.queue, d.iops, d.bytesPerS / (1024.0 * 1024.0));
    r.lines.emplace_back(b);
  }
  if (last_.count == 0) r.lines.emplace_back("no disk has done I/O");
  if (last_.pressure >= 0)
    std::snprintf(b, sizeof b, "pressure: some %.0f %%, full %.0f %% of the time waiting for I/O", last_.pressure * 100,
                  last_.pressureFull * 100);
  else
    std::snprintf(b, sizeof b, "pressure: unknown (no PSI)");
  r.lines.emplace_back(b);
  std::snprintf(b, sizeof b, "overload is a disk >= %.0f %% busy with I/Os >= %.0f ms while others wait, for %lld s",
                s_.cfg->get(Key::IoUtilPercent), s_.cfg->get(Key::IoLatencyMs), static_cast<long long>(s_.cfg->get(Key::IoSustainS)));
  r.lines.emplace_back(b);
  const bool over = policy::ioOverloaded(last_, *s_.cfg);
  r.lines.emplace_back(over ? (rule_->actedInEpisode() ? "overloaded; ORK has acted in this episode"
                                                       : "overloaded this second (ORK acts only when it lasts and others wait)")
                            : "not overloaded");
  for (const std::string& t : top_) r.lines.push_back("top: " + t);
  return r;
}

void IoLadder::reconfigure(TimePoint now) {
  rule_ = std::make_unique<policy::IoRule>(*s_.cfg);
  baseValid_ = wantBaseline_ = actPending_ = false;
  ++generation_;
  nextAt_ = now;
}

Nanos IoLadder::tableMaxAge(TimePoint now) const {
  (void)now;
  if (enabled() && (wantBaseline_ || actPending_)) return Nanos{0};
  return Nanos::max();
}

void IoLadder::onTablePass(TimePoint now) {
  if (looking_) return;  // the next pass will do
  if (actPending_) {
    actPending_ = false;
    look(/*forEnd=*/true, now);
  } else if (wantBaseline_) {
    wantBaseline_ = false;
    look(/*forEnd=*/false, now);
  }
}

void IoLadder::look(bool forEnd, TimePoint now) {
  if (forEnd && !baseValid_) {
    // No start of the window to compare with: this look becomes it, the action waits.
    forEnd = false;
  }
  sense::ioScanTargets(s_.table->entries(), targets_);
  if (!jobsStarted_) {
    sense::scanIo(s_.options->procRoot, roots_, targets_, now, forEnd ? end_ : base_);
    if (forEnd) {
      act(now);
    } else {
      baseValid_ = true;
    }
    return;
  }
  looking_ = true;
  auto out = std::make_shared<policy::IoSnapshot>();
  auto targets = std::make_shared<std::vector<sense::IoScanTarget>>(targets_);
  std::string procRoot = s_.options->procRoot;
  sense::CgroupRoots roots = roots_;
  const Clock* clock = s_.clock;
  const std::uint64_t gen = generation_;
  jobs_.post([out, targets, procRoot, roots, clock] { sense::scanIo(procRoot, roots, *targets, clock->now(), *out); },
             [this, out, forEnd, gen] {
               looking_ = false;
               if (gen != generation_) return;  // reset while it ran
               if (forEnd) {
                 end_ = std::move(*out);
                 act(s_.clock->now());
               } else {
                 base_ = std::move(*out);
                 baseValid_ = true;
               }
             });
}

void IoLadder::onReady(std::uint64_t tag, TimePoint now) {
  (void)now;
  if (tag == kTagJobs) {
    (void)jobs_.drain();
    return;
  }
  if (tag >= kTagVictim) {
    int slot = static_cast<int>(tag - kTagVictim);
    killer_->forEachWaiting([&](int fd, int s) {
      if (s == slot && poller_ != nullptr) (void)poller_->remove(fd);
    });
    (void)killer_->onExited(slot);
  }
}

void IoLadder::watchConsumers(TimePoint now) {
  sense::scanIo(s_.options->procRoot, roots_, s_.table->entries(), now, consumerLooks_ == 0 ? base_ : end_);
  if (consumerLooks_++ == 0) return;
  // Every device's I/O between the two looks (no cgroup's counters split it).
  auto entries = s_.table->entries();
  for (auto& p : end_.cgroups) p.hasDevices = false;
  policy::ioBytesOnDevice(entries, base_, end_, 0, 0, own_);
  noteTop(entries, own_);
}

void IoLadder::noteTop(std::span<const ProcessInfo> entries, const std::vector<double>& own) {
  top_.clear();
  std::vector<int> order;
  for (std::size_t i = 0; i < own.size(); ++i)
    if (own[i] > 0) order.push_back(static_cast<int>(i));
  std::sort(order.begin(), order.end(), [&](int a, int b) { return own[static_cast<std::size_t>(a)] > own[static_cast<std::size_t>(b)]; });
  char b[160];
  for (std::size_t k = 0; k < order.size() && k < 5; ++k) {
    const ProcessInfo& p = entries[static_cast<std::size_t>(order[k])];
    std::snprintf(b, sizeof b, "pid %d %s: %.1f MiB/s", p.pid, p.comm, own[static_cast<std::size_t>(order[k])] / (1024.0 * 1024.0));
    top_.emplace_back(b);
  }
  if (top_.empty()) top_.emplace_back("no process did I/O ORK could see");
}

void IoLadder::onTimer(TimePoint now) {
  nextAt_ = now + kSampleEvery;
  if (!enabled()) return;
  // Into last_ directly (10 KiB: not on the loop's stack); a failed sample leaves it.
  if (!sampledOrWarned(sensor_.sampleInto(now, last_), errorLogged_, "io_sample_failed", *s_.journal, now)) return;
  haveLast_ = true;
  const IoSample& smp = last_;
  policy::IoVerdict v = rule_->evaluate(smp, now);
  lastVerdict_ = v;
  if (v.overloaded && v.device >= 0) {
    device_ = smp.devices[static_cast<std::size_t>(v.device)];
    pressure_ = smp.pressure;
  }
  if (v.overloaded && !baseValid_ && !looking_) wantBaseline_ = true;
  if (!v.overloaded && v.calmFor >= kBaselineReset && (baseValid_ || wantBaseline_ || actPending_ || looking_)) {
    baseValid_ = wantBaseline_ = actPending_ = false;
    ++generation_;
  }
  if (v.episodeEnded) {
    busyNoted_ = false;
    if (s_.vms != nullptr) s_.vms->endDryRunFreezes();
  }
  if (v.episodeEnded && episodeActs_ > 0) {
    Line l("io_recovered");
    l.word("reason", toString(Reason::IoRecovered)).num("actions", episodeActs_).num("duration_ms", msBetween(episodeStart_, now));
    s_.journal->write(l, Priority::Info, now);
    episodeActs_ = 0;
  }
  if (v.actDue && !looking_) {
    // Who did the I/O is read at the pass the action waits for, then on the worker (a
    // fraction of a second); until then (the rule says due every second) nothing more.
    actPending_ = true;
  }
  // Resume what this ladder froze, once the disk has been calm for the VM's cool-down.
  if (s_.vms != nullptr) {
    for (auto& vm : s_.vms->all()) {
      if (!vm.isFrozen() || vm.thawReq != 0 || vm.thawing || vm.freezeWhy != Reason::IoOverload) continue;
      if (!vm.coolDown.thawDue(v.calmFor) || now < vm.thawRetryAt) continue;
      s_.vms->thaw(vm, Reason::CooledDown, now);
    }
  }
}

void IoLadder::act(TimePoint now) {
  // end_ was just taken; the table may have had a pass since (matched by PID and start time).
  actPending_ = false;
  sense::ProcessTable& table = *s_.table;
  auto entries = table.mutableEntries();
  policy::ioBytesOnDevice(entries, base_, end_, device_.major, device_.minor, own_);
  noteTop(entries, own_);
  const Nanos length = end_.at - base_.at;
  double total = 0;
  for (double b : own_) total += b;

  // The culprit: the VM doing the most there (step 1), else the tree (step 2).
  VmState* vm = nullptr;
  double vmBytes = 0;
  if (s_.vms != nullptr) {
    for (auto& st : s_.vms->all()) {
      if (st.freeze != VmState::Freeze::None || st.wouldBeFrozen || st.saving || st.saved) continue;
      int i = indexOf(entries, st.pid);
      if (i < 0) continue;
      double b = own_[static_cast<std::size_t>(i)];
      if (b > vmBytes) {
        vmBytes = b;
        vm = &st;
      }
    }
    if (vm != nullptr && (total <= 0 || vmBytes / total * 100 < s_.cfg->get(Key::IoVmMinPercent))) vm = nullptr;
  }
  if (s_.vms != nullptr) s_.vms->markLeaveAlone(entries, /*frozenToo=*/true, leaveAlone_);
  policy::CpuVictim choice;
  scratch_.own = own_;
  if (vm == nullptr) choice = policy::chooseTreeVictim(entries, leaveAlone_, kIoVictimFloorBytesPerS, scratch_);
  culprit_.clear();
  int count = 0;
  if (vm != nullptr) {
    std::string c = cgroupOf(end_, vm->pid);
    if (!c.empty()) culprit_.push_back(c);
  } else if (choice.index >= 0) {
    count = policy::cpuVictimMembers(scratch_, choice, memberIdx_.data(), static_cast<int>(memberIdx_.size()));
    for (int k = 0; k < count; ++k) {
      std::string c = cgroupOf(end_, entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(k)])].pid);
      if (!c.empty() && std::find(culprit_.begin(), culprit_.end(), c) == culprit_.end()) culprit_.push_back(c);
    }
  }

  // Others waiting: another cgroup's I/O pressure over the window; without per-cgroup
  // PSI, a task outside the culprit blocked on I/O (state D) in this pass.
  std::string who;
  double others = policy::othersStall(base_, end_, culprit_, &who);
  const char* measure = "cgroup_psi";
  if (others < 0) {
    measure = "blocked_tasks";
    others = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const ProcessInfo& p = entries[i];
      if (p.kernelThread || p.state != 'D') continue;
      bool mine = vm != nullptr ? p.pid == vm->pid : false;
      for (int k = 0; k < count && !mine; ++k) mine = static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(k)]) == i;
      if (!mine) {
        others = 1;
        who = p.comm;
        break;
      }
    }
  }
  const double othersMin = s_.cfg->get(Key::IoOthersPercent) / 100.0;
  rule_->onActed(now);
  baseValid_ = false;
  wantBaseline_ = true;  // the next window starts with the next pass

  if (vm == nullptr && choice.index < 0) {
    Line l("no_candidate");
    l.word("reason", toString(Reason::IoOverload)).str("device", device_.name).num("processes", static_cast<std::int64_t>(entries.size()));
    s_.journal->write(l, Priority::Warning, now);
    return;
  }
  if (others < othersMin) {
    // Busy, and nobody else waits: a machine doing its job. Said once per episode.
    if (!busyNoted_) {
      const ProcessInfo* root = vm == nullptr ? &entries[static_cast<std::size_t>(choice.index)] : nullptr;
      Line l("io_busy");
      l.str("device", device_.name)
          .num("util_pct", pct(device_.util))
          .num("await_ms", static_cast<std::int64_t>(device_.awaitMs))
          .num("others_pct", pct(others))
          .word("others_by", measure)
          .num("top_pid", vm != nullptr ? vm->pid : root->pid)
          .str("top_name", vm != nullptr ? std::string_view(vm->name) : std::string_view(root->comm))
          .num("top_kib_s", kibPerS(vm != nullptr ? vmBytes : choice.cpus))
          .word("action", "none");
      s_.journal->write(l, Priority::Info, now);
      busyNoted_ = true;
    }
    return;
  }

  if (episodeActs_ == 0) episodeStart_ = now;
  ++episodeActs_;
  Line head("io_overload");
  head.word("reason", toString(Reason::IoOverload))
      .str("device", device_.name)
      .num("util_pct", pct(device_.util))
      .num("await_ms", static_cast<std::int64_t>(device_.awaitMs))
      .num("queue", static_cast<std::int64_t>(device_.queue + 0.5));
  if (pressure_ >= 0) head.num("pressure_pct", pct(pressure_));
  head.num("others_pct", pct(others)).word("others_by", measure);
  if (!who.empty()) head.str("waiting", who);
  head.num("window_s", std::chrono::duration_cast<Seconds>(length).count());
  if (vm != nullptr) {
    head.word("action", "freeze").str("vm", vm->name).num("vm_kib_s", kibPerS(vmBytes)).num("device_kib_s", kibPerS(total));
    s_.journal->write(head, Priority::Warning, now);
    if (!s_.vms->freeze(*vm, Reason::IoOverload, now)) {
      Line again("io_overload");
      again.word("reason", toString(Reason::IoOverload)).word("action", "kill").str("detail", "the VM could not be frozen");
      s_.journal->write(again, Priority::Warning, now);
      scratch_.own = own_;
      choice = policy::chooseTreeVictim(entries, leaveAlone_, kIoVictimFloorBytesPerS, scratch_);
      if (choice.index >= 0) kill(choice, device_, now);
    }
    return;
  }
  head.word("action", "kill");
  s_.journal->write(head, Priority::Warning, now);
  kill(choice, device_, now);
}

void IoLadder::kill(const policy::CpuVictim& choice, const IoDevice& dev, TimePoint now) {
  (void)now;  // the line carries the time after the kill
  auto entries = s_.table->mutableEntries();
  int count = policy::cpuVictimMembers(scratch_, choice, memberIdx_.data(), static_cast<int>(memberIdx_.size()));
  for (int i = 0; i < count; ++i)
    members_[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])];
  auto outcome = killer_->kill({members_.data(), static_cast<std::size_t>(count)}, s_.options->dryRun, *s_.clock);
  TimePoint after = s_.clock->now();
  const ProcessInfo& root = entries[static_cast<std::size_t>(choice.index)];
  if (outcome.outcome == Outcome::Ok) {
    killer_->forEachWaiting([&](int fd, int slot) {
      if (poller_ != nullptr) (void)poller_->add(fd, EPOLLIN, kTagVictim + static_cast<std::uint64_t>(slot));
    });
    for (int i = 0; i < count; ++i) entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])].state = 'X';
  }
  std::string_view user = root.uidKnown ? s_.users->nameOf(root.uid) : std::string_view();
  char uid[16];
  const bool dry = s_.options->dryRun;
  Line l(dry ? "would_kill" : "kill");
  l.num("pid", root.pid)
      .str("name", root.comm)
      .str("user", user)
      .word("uid", uidWord(root, uid))
      .num("members", choice.members)
      .str("device", dev.name)
      .num("io_kib_s", kibPerS(choice.cpus))
      .num("signalled", outcome.signalled)
      .num("spared", outcome.spared)
      .word("reason", toString(Reason::IoOverload))
      .flag("dry_run", dry)
      .word("result", toString(outcome.outcome));
  if (outcome.err != 0) l.num("errno", outcome.err);
  commandFields(l, root);
  s_.journal->write(l, dry ? Priority::Notice : Priority::Warning, after);
}

}  // namespace ork::ladder
