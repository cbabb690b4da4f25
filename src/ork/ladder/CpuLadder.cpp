#include "ork/ladder/CpuLadder.h"

#include <algorithm>
#include <cstdio>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/Common.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Sysconf.h"

namespace ork::ladder {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// When the host is calm for this long, the CPU attribution window starts afresh.
constexpr Nanos kBaselineReset = Seconds{3};
constexpr Nanos kSampleEvery = Seconds{1};
// A pass this recent tells who used the CPU over the window well enough.
constexpr Nanos kFreshEnough = Seconds{1};

}  // namespace

CpuLadder::CpuLadder(const Services& services, sense::CpuSensor sensor) : s_(services), sensor_(std::move(sensor)) {
  rule_ = std::make_unique<policy::CpuRule>(*s_.cfg);
  killer_ = std::make_unique<act::Killer>(&sense::ProcessTable::recheckThunk, s_.table);
  ticksPerSecond_ = static_cast<double>(sys::clockTicksPerSecond());
}

CpuLadder::~CpuLadder() = default;

bool CpuLadder::enabled() const { return s_.cfg->flag(Key::CpuEnabled); }

Result<void> CpuLadder::open(TimePoint now) {
  // The sensor's first sample only sets the counters: the first judgement is a second
  // later, over that second.
  if (enabled()) (void)sensor_.sample(now);
  nextAt_ = now + kSampleEvery;
  return success();
}

void CpuLadder::describe(journal::Line& start) const {
  start.flag("cpu", enabled());
  if (enabled()) start.flag("cpu_psi", sensor_.hasPressure());
}

void CpuLadder::state(journal::Line& l) const {
  if (!enabled() || !haveLast_) return;
  l.num("busy_pct", static_cast<std::int64_t>(last_.busy * 100 + 0.5)).num("runnable", last_.runnable);
  if (last_.pressure >= 0) l.num("pressure_pct", static_cast<std::int64_t>(last_.pressure * 100 + 0.5));
}

void CpuLadder::readings(Readings& r) const {
  if (!enabled()) return;
  r.cpuSensed = true;
  if (!haveLast_) return;
  r.busy = last_.busy;
  r.cpuPressure = last_.pressure;
}

Report CpuLadder::report() const {
  Report r;
  r.title = "cpu";
  char b[200];
  if (!haveLast_) {
    r.lines.emplace_back("no sample yet");
    return r;
  }
  std::snprintf(b, sizeof b, "busy %.0f %% of %d CPUs, %d runnable%s; overload is >= %.0f %% busy with work waiting, for %lld s",
                last_.busy * 100, last_.cpus, last_.runnable, last_.pressure >= 0 ? "" : " (no PSI)",
                s_.cfg->get(Key::CpuBusyPercent), static_cast<long long>(s_.cfg->get(Key::CpuSustainS)));
  r.lines.emplace_back(b);
  bool now = policy::cpuOverloaded(last_, *s_.cfg);
  r.lines.emplace_back(now ? (rule_->actedInEpisode() ? "overloaded; ORK has acted in this episode" : "overloaded this second (ORK acts only when it lasts)")
                           : "not overloaded");
  return r;
}

void CpuLadder::reconfigure(TimePoint now) {
  rule_ = std::make_unique<policy::CpuRule>(*s_.cfg);
  baseValid_ = false;
  wantBaseline_ = false;
  actPending_ = false;
  nextAt_ = now;
}

Nanos CpuLadder::tableMaxAge(TimePoint now) const {
  (void)now;
  // A pass when the window opens (the baseline) and one when the action is due (who
  // used the CPU since): two passes per action, in the loop's chunks, none in between.
  if (enabled() && (wantBaseline_ || actPending_)) return Nanos{0};
  return Nanos::max();
}

void CpuLadder::onTablePass(TimePoint now) {
  std::size_t n = s_.table->entries().size();
  scratch_.reserve(n + 16);
  base_.reserve(n + 16);
  leaveAlone_.reserve((s_.vms != nullptr ? s_.vms->all().size() : 0) + 8);
  if (actPending_) {
    // The action waited for this pass: who used the CPU over the window is in it.
    actPending_ = false;
    act(pendingSample_, now);
  }
  if (wantBaseline_) {
    policy::takeCpuBaseline(s_.table->entries(), base_);
    baseAt_ = now;
    baseValid_ = true;
    wantBaseline_ = false;
  }
}

void CpuLadder::onReady(std::uint64_t tag, TimePoint now) {
  if (tag >= kTagVictim) {
    int slot = static_cast<int>(tag - kTagVictim);
    killer_->forEachWaiting([&](int fd, int s) {
      if (s == slot && poller_ != nullptr) (void)poller_->remove(fd);
    });
    if (killer_->onExited(slot)) killLatency_.observe(now - killedAt_);
  }
}

void CpuLadder::onTimer(TimePoint now) {
  nextAt_ = now + kSampleEvery;
  if (!enabled()) return;
  auto smp = sensor_.sample(now);
  if (!sampledOrWarned(smp, errorLogged_, "cpu_sample_failed", *s_.journal, now)) return;
  last_ = *smp;
  haveLast_ = true;
  policy::CpuVerdict v = rule_->evaluate(*smp, now);
  if (v.overloaded && !baseValid_) wantBaseline_ = true;
  if (!v.overloaded && v.calmFor >= kBaselineReset) baseValid_ = wantBaseline_ = actPending_ = false;
  if (v.episodeEnded && s_.vms != nullptr) s_.vms->endDryRunFreezes();
  if (v.episodeEnded && episodeActs_ > 0) {
    Line l("cpu_recovered");
    l.word("reason", toString(Reason::CpuRecovered))
        .num("busy_pct", static_cast<std::int64_t>(smp->busy * 100))
        .num("actions", episodeActs_)
        .num("duration_ms", msBetween(episodeStart_, now));
    s_.journal->write(l, Priority::Info, now);
    episodeActs_ = 0;
  }
  if (v.actDue) {
    // The table's latest pass must be recent enough to tell who used the CPU over the
    // window; else the action waits for the next pass (a fraction of a second).
    TimePoint last = s_.table->lastPassCompleted();
    if (s_.table->hasCompletedPass() && now - last < kFreshEnough && baseValid_ && last > baseAt_) {
      act(*smp, now);
    } else {
      actPending_ = true;
      pendingSample_ = *smp;
    }
  }

  // Thaw what has cooled down.
  if (s_.vms != nullptr) {
    for (auto& vm : s_.vms->all()) {
      if (!vm.isFrozen() || vm.thawReq != 0 || vm.thawing) continue;
      // Suspended for a full filesystem: the disk ladder resumes it once there is room.
      if (vm.freezeWhy == Reason::DiskBelowHard) continue;
      if (vm.freezeWhy == Reason::IoOverload) continue;  // the I/O ladder resumes its own
      if (!vm.coolDown.thawDue(v.calmFor) || now < vm.thawRetryAt) continue;
      s_.vms->thaw(vm, Reason::CooledDown, now);
    }
  }
}

void CpuLadder::act(const CpuSample& smp, TimePoint now) {
  sense::ProcessTable& table = *s_.table;
  // Usage over the window: from the baseline pass to the latest pass (the table is
  // kept fresh while the episode lasts). Without both, every process counts at its
  // lifetime average over a window of sustain_s.
  TimePoint upTo = table.lastPassCompleted();
  bool windowed = baseValid_ && upTo > baseAt_;
  std::span<const policy::CpuBaseline> base = windowed ? std::span<const policy::CpuBaseline>(base_) : std::span<const policy::CpuBaseline>();
  Nanos length = windowed ? upTo - baseAt_ : s_.cfg->seconds(Key::CpuSustainS);
  policy::CpuWindow window{base, length, ticksPerSecond_};
  if (episodeActs_ == 0) episodeStart_ = now;
  ++episodeActs_;

  double excess = std::max(0.5, static_cast<double>(smp.runnable - smp.cpus));
  Line head("cpu_overload");
  head.word("reason", toString(Reason::CpuOverload))
      .num("busy_pct", static_cast<std::int64_t>(smp.busy * 100))
      .num("cpus", smp.cpus)
      .num("runnable", smp.runnable);
  if (smp.pressure >= 0) head.num("pressure_pct", static_cast<std::int64_t>(smp.pressure * 100));
  head.num("window_s", std::chrono::duration_cast<Seconds>(length).count());

  // Step 1: freeze the VMs using the most CPU, as many as needed.
  plan_.ids.clear();
  if (s_.vms != nullptr) {
    auto& vms = s_.vms->all();
    freezeViews_.clear();
    for (std::size_t i = 0; i < vms.size(); ++i) {
      VmState& vm = vms[i];
      vm.cpus = policy::cpusUsedByPid(table.entries(), vm.pid, window);
      freezeViews_.push_back({static_cast<int>(i), vm.cpus, vm.freeze != VmState::Freeze::None || vm.wouldBeFrozen,
                              vm.saving, vm.saved});
    }
    policy::vmsToFreeze(freezeViews_, excess, s_.cfg->get(Key::CpuVmMinPercent) / 100.0, plan_);
  }
  if (!plan_.ids.empty()) {
    // The decision, then one line per freeze (written when it took effect).
    head.word("action", "freeze").num("vms", static_cast<std::int64_t>(plan_.ids.size()))
        .num("vm_cpu_pct", static_cast<std::int64_t>(plan_.cpus * 100));
    s_.journal->write(head, Priority::Warning, now);
    int started = 0;
    for (int id : plan_.ids) started += s_.vms->freeze(s_.vms->all()[static_cast<std::size_t>(id)], Reason::CpuOverload, now) ? 1 : 0;
    if (started == 0) {
      // Not one could be frozen: step 2 now rather than after another window.
      Line again("cpu_overload");
      again.word("reason", toString(Reason::CpuOverload)).word("action", "kill").str("detail", "no VM could be frozen");
      s_.journal->write(again, Priority::Warning, now);
      kill(now);
    }
  } else {
    head.word("action", "kill");
    s_.journal->write(head, Priority::Warning, now);
    kill(now);
  }
  rule_->onActed(now);
  // The next window starts with the next pass.
  baseValid_ = false;
  wantBaseline_ = true;
}

void CpuLadder::kill(TimePoint now) {
  sense::ProcessTable& table = *s_.table;
  auto entries = table.mutableEntries();
  if (s_.vms != nullptr) s_.vms->markLeaveAlone(entries, /*frozenToo=*/true, leaveAlone_);
  TimePoint upTo = table.lastPassCompleted();
  bool windowed = baseValid_ && upTo > baseAt_;
  policy::CpuChoiceContext ctx;
  ctx.window = policy::CpuWindow{windowed ? std::span<const policy::CpuBaseline>(base_) : std::span<const policy::CpuBaseline>(),
                                 windowed ? upTo - baseAt_ : s_.cfg->seconds(Key::CpuSustainS), ticksPerSecond_};
  ctx.leaveAlone = leaveAlone_;
  auto choice = policy::chooseCpuVictim(entries, ctx, scratch_);
  if (choice.index < 0) {
    Line l("no_candidate");
    l.word("reason", toString(Reason::CpuOverload)).num("processes", static_cast<std::int64_t>(entries.size()));
    s_.journal->write(l, Priority::Warning, now);
    return;
  }
  int count = policy::cpuVictimMembers(scratch_, choice, memberIdx_.data(), static_cast<int>(memberIdx_.size()));
  for (int i = 0; i < count; ++i)
    members_[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])];
  auto outcome = killer_->kill({members_.data(), static_cast<std::size_t>(count)}, s_.options->dryRun, *s_.clock);
  TimePoint after = s_.clock->now();
  const ProcessInfo& root = entries[static_cast<std::size_t>(choice.index)];
  if (outcome.outcome == Outcome::Ok) {
    killedAt_ = after;
    killer_->forEachWaiting([&](int fd, int slot) {
      if (poller_ != nullptr) (void)poller_->add(fd, EPOLLIN, kTagVictim + static_cast<std::uint64_t>(slot));
    });
    for (int i = 0; i < count; ++i) entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])].state = 'X';
  }
  std::string_view user = root.uidKnown ? s_.users->nameOf(root.uid) : std::string_view();
  char uid[16];
  const bool dry = s_.options->dryRun;
  Line l(dry ? "would_kill" : "kill");  // a dry run's decision is not a kill
  l.num("pid", root.pid)
      .str("name", root.comm)
      .str("user", user)
      .word("uid", uidWord(root, uid))
      .num("members", choice.members)
      .num("cpu_pct", static_cast<std::int64_t>(choice.cpus * 100))
      .num("signalled", outcome.signalled)
      .num("spared", outcome.spared)
      .word("reason", toString(Reason::CpuOverload))
      .flag("dry_run", s_.options->dryRun)
      .word("result", toString(outcome.outcome));
  if (outcome.err != 0) l.num("errno", outcome.err);
  commandFields(l, root);
  s_.journal->write(l, dry ? Priority::Notice : Priority::Warning, after);
}

}  // namespace ork::ladder
