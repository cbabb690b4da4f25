#include "ork/ladder/MemoryLadder.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/Common.h"
#include "ork/parse/Mounts.h"
#include "ork/policy/DiskRule.h"
#include "ork/sys/Files.h"
#include "ork/sys/Pidfd.h"
#include "ork/policy/VmChoice.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Files.h"

namespace ork::ladder {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// After a PSI or threshold wake-up, sample at the fastest cadence for this long
// (as lmkd polls after a trigger).
constexpr Nanos kFastWindow = Seconds{1};
// When nothing can be killed, look again no sooner than this.
constexpr Nanos kNoCandidateRetry = Seconds{1};
// Victims found protected at the last moment before the kill gives up until the next sample.
constexpr int kProtectedRetries = 4;
// A VM whose save failed or was skipped is not tried again before this.
constexpr Nanos kSaveRetry = Seconds{60};
// After a save, the next one waits this long for the memory to come back.
constexpr Nanos kSaveSettle = Seconds{2};
// The save directory's free space is trusted this long, and a statvfs that has not
// answered after kProbeDeadline is said (the step waits for it, the kill never does).
constexpr Nanos kSpaceFresh = Seconds{2};
constexpr Nanos kProbeDeadline = Seconds{5};
// Intervals above this are aimed a fifth early (see tick()).
constexpr Nanos kAimEarlyAbove = Millis{50};

}  // namespace

MemoryLadder::MemoryLadder(const Services& services, sense::MemorySensor sensor)
    : s_(services), sensor_(std::move(sensor)) {
  rule_ = std::make_unique<policy::MemoryRule>(*s_.cfg, s_.options->dryRun);
  killer_ = std::make_unique<act::Killer>(&sense::ProcessTable::recheckThunk, s_.table);
  if (s_.vms != nullptr) s_.vms->setSaveListener(this);
}

MemoryLadder::~MemoryLadder() {
  if (s_.vms != nullptr) s_.vms->setSaveListener(nullptr);
}

Result<void> MemoryLadder::open(TimePoint now) {
  auto first = sensor_.sample(now);
  if (!first) return first.error();
  last_ = *first;
  armWakeups(*first);
  nextSampleAt_ = plannedAt_ = now;
  return success();
}

// Wake-ups from the kernel: a PSI trigger where there is one, else cgroup v1 usage
// thresholds. Re-armed on reload (the stall and the thresholds come from the config).
void MemoryLadder::armWakeups(const MemorySample& first) {
  const config::Config& cfg = *s_.cfg;
  for (auto& fd : pressureFds_)
    if (poller_ != nullptr) (void)poller_->remove(fd.get());
  pressureFds_.clear();
  pressureMode_ = "none";
  wakeupError_ = Error{};
  psiWindowMs_ = 1000;
  std::string psiPath = sensor_.pressurePath();
  if (cfg.flag(Key::MemoryPsi) && !psiPath.empty()) {
    std::uint64_t stall = static_cast<std::uint64_t>(cfg.get(Key::MemoryPsiStallMs)) * 1000;
    auto fd = sys::openPsiTrigger(psiPath, stall, 1'000'000);
    if (!fd && fd.error().code == EINVAL) {
      // Without CAP_SYS_RESOURCE the kernel only accepts windows in multiples of 2 s.
      fd = sys::openPsiTrigger(psiPath, stall * 2, 2'000'000);
      if (fd) psiWindowMs_ = 2000;
    }
    if (fd) {
      // A trigger the loop does not watch wakes nothing: only then is it "psi".
      auto added = poller_ != nullptr ? poller_->add(fd->get(), EPOLLPRI, kTagPressure)
                                      : Result<void>(Error::make(EINVAL, "no poller"));
      if (added) {
        pressureMode_ = "psi";
        pressureFds_.push_back(std::move(*fd));
      } else {
        wakeupError_ = added.error();
      }
    } else {
      wakeupError_ = fd.error();
    }
  }
  if (sensor_.domain() == sense::MemorySensor::Domain::CgroupV1) {
    auto thresholds = policy::memoryThresholds(first.total, cfg);
    for (Bytes level : {thresholds.soft, thresholds.hard}) {
      Bytes usage = first.total - level;
      auto fd = sys::openCgroupV1Threshold(sensor_.cgroupDir(), static_cast<std::uint64_t>(usage.value));
      if (!fd) {
        wakeupError_ = fd.error();
        continue;
      }
      auto added = poller_ != nullptr ? poller_->add(fd->get(), EPOLLIN, kTagPressure)
                                      : Result<void>(Error::make(EINVAL, "no poller"));
      if (!added) {
        wakeupError_ = added.error();
        continue;
      }
      pressureMode_ = "cgroup_v1_threshold";
      pressureFds_.push_back(std::move(*fd));
    }
  }
  wakeupWarned_ = false;
}

void MemoryLadder::describe(journal::Line& start) const {
  auto t = policy::memoryThresholds(last_.total, *s_.cfg);
  start.word("domain", sensor_.domain() == sense::MemorySensor::Domain::Host       ? "host"
                       : sensor_.domain() == sense::MemorySensor::Domain::CgroupV2 ? "cgroup2"
                                                                                    : "cgroup1")
      .str("scope", s_.options->cgroupDir.empty() ? "/" : s_.options->cgroupDir)
      .kib("total_kib", last_.total)
      .kib("avail_kib", last_.available)
      .kib("soft_kib", t.soft)
      .kib("hard_kib", t.hard)
      .word("wakeup", pressureMode_);
  if (std::strcmp(pressureMode_, "psi") == 0) start.num("psi_window_ms", psiWindowMs_);
  if (last_.zfsArcShrinkable > Bytes{0}) start.kib("zfs_arc_kib", last_.zfsArcShrinkable);
}

void MemoryLadder::announce(TimePoint now) {
  if (wakeupWarned_) return;
  wakeupWarned_ = true;
  bool psi = std::strcmp(pressureMode_, "psi") == 0;
  if (psi && psiWindowMs_ != 1000) {
    Line w("warning");
    w.word("what", "psi_window_refused")
        .str("detail", "the kernel refused a 1 s PSI window (no CAP_SYS_RESOURCE); using 2 s")
        .word("fallback", "psi_2s_window");
    s_.journal->write(w, Priority::Warning, now);
  }
  if (std::strcmp(pressureMode_, "none") == 0 && s_.cfg->flag(Key::MemoryPsi)) {
    Line w("warning");
    w.word("what", "no_pressure_wakeup")
        .str("detail", wakeupError_.what[0] ? wakeupError_.what : "no PSI file for this domain")
        .word("fallback", "adaptive_polling");
    s_.journal->write(w, Priority::Warning, now);
  } else if (wakeupError_.what[0] != 0) {
    Line w("warning");
    w.word("what", "pressure_wakeup_partial").str("detail", wakeupError_.what).word("wakeup", pressureMode_);
    s_.journal->write(w, Priority::Warning, now);
  }
}

void MemoryLadder::state(journal::Line& l) const {
  auto t = policy::memoryThresholds(last_.total, *s_.cfg);
  auto level = policy::classify(last_, t, *s_.cfg);
  l.word("memory", level == policy::MemoryLevel::Hard ? "hard" : level == policy::MemoryLevel::Soft ? "soft" : "ok")
      .kib("avail_kib", last_.available)
      .kib("total_kib", last_.total);
  if (last_.swapTotal > Bytes{0}) l.kib("swap_free_kib", last_.swapFree);
  l.num("longest_sample_gap_us", std::chrono::duration_cast<Micros>(longestGap_).count());
}

void MemoryLadder::readings(Readings& r) const {
  if (last_.total <= Bytes{0}) return;
  r.availKib = last_.available.toKib();
  r.totalKib = last_.total.toKib();
  r.swapTotalKib = last_.swapTotal.toKib();
  r.swapFreeKib = last_.swapFree.toKib();
}

Report MemoryLadder::report() const {
  Report r;
  r.title = "memory";
  auto t = policy::memoryThresholds(last_.total, *s_.cfg);
  char b[256];
  std::snprintf(b, sizeof b, "available %lld MiB of %lld MiB; soft %lld MiB (hibernate VMs), hard %lld MiB (kill)",
                static_cast<long long>(last_.available.value >> 20), static_cast<long long>(last_.total.value >> 20),
                static_cast<long long>(t.soft.value >> 20), static_cast<long long>(t.hard.value >> 20));
  r.lines.emplace_back(b);
  auto level = policy::classify(last_, t, *s_.cfg);
  r.lines.emplace_back(std::string("level: ") + (level == policy::MemoryLevel::Hard ? "hard (a kill is due)"
                                                  : level == policy::MemoryLevel::Soft ? "soft (VMs would be hibernated)"
                                                                                       : "ok"));
  return r;
}

Nanos MemoryLadder::tableMaxAge(TimePoint now) const {
  (void)now;
  if (!s_.table->hasCompletedPass()) return Nanos{0};
  bool near = policy::approaching(last_, policy::memoryThresholds(last_.total, *s_.cfg), fillRate_);
  return near ? s_.cfg->millis(Key::ScanNearIntervalMs) : s_.cfg->seconds(Key::ScanIdleIntervalS);
}

namespace {
// The kill path keeps the best candidates only (policy::kKillPathKept), at least as many
// as it re-reads.
// At most this many young processes (younger than the growth window) are read again at
// kill time: ~15 us each.
constexpr int kYoungRereads = 64;

std::size_t keptCandidates(const config::Config& cfg) {
  return std::max<std::size_t>(policy::kKillPathKept, static_cast<std::size_t>(cfg.count(Key::ScanRecheckTop)));
}
}  // namespace

void MemoryLadder::reconfigure(TimePoint now) {
  rule_ = std::make_unique<policy::MemoryRule>(*s_.cfg, s_.options->dryRun);
  armWakeups(last_);  // warnings are said by announce(), after the reload line
  nextSampleAt_ = now;
}

void MemoryLadder::onTablePass(TimePoint now) {
  (void)now;
  // Capacity for the kill path, so that deciding never allocates.
  std::size_t n = s_.table->entries().size();
  candidates_.reserve(keptCandidates(*s_.cfg));
  scratch_.reserve(n + 16);
  leaveAlone_.reserve((s_.vms != nullptr ? s_.vms->all().size() : 0) + 8);
  Bytes swapUsed = last_.swapTotal - last_.swapFree;
  s_.table->setReadSwap(swapUsed > last_.total.scaled(0.01));
  chooseInAdvance(now);
}

// The watchdog's victim: the one the kill path would choose now (ranked as the
// rehearsal ranks), its members' pidfds opened and checked against the table's
// identity, so that the watchdog thread can kill it without reading /proc or choosing.
// The same victim as last time keeps its pidfds.
void MemoryLadder::chooseInAdvance(TimePoint now) {
  if (feed_ == nullptr) return;
  sense::ProcessTable& table = *s_.table;
  if (!table.hasCompletedPass()) return;
  act::VictimSlot& slot = feed_->slot;
  const config::Config& cfg = *s_.cfg;
  std::span<ProcessInfo> entries = table.mutableEntries();
  if (s_.vms != nullptr) s_.vms->markLeaveAlone(entries, /*frozenToo=*/false, leaveAlone_);
  Bytes total = last_.total > Bytes{} ? last_.total : Bytes::gib(1);
  policy::ScoreContext ctx{total, total.scaled(0.05), &cfg, now};
  policy::rankCandidates(entries, ctx, candidates_, scratch_, SIZE_MAX, keptCandidates(cfg));
  int choice = policy::chooseVictim(candidates_, cfg);
  int count = choice < 0 ? 0
                         : policy::treeMembers(entries, scratch_, candidates_[static_cast<std::size_t>(choice)],
                                               memberIdx_.data(), static_cast<int>(memberIdx_.size()));
  if (count <= 0) {
    (void)slot.takeBack();  // nothing to kill: nothing for the watchdog either
    return;
  }
  count = std::min(count, act::VictimSlot::kMaxMembers);
  const ProcessInfo& root = entries[static_cast<std::size_t>(memberIdx_[0])];
  if (slot.holds(root.pid, root.startTimeTicks, count)) return;
  if (!slot.takeBack()) return;  // the watchdog holds it (the loop stalled until now)
  act::VictimSlot::Victim v;
  // A --proc fixture (dry-run only) names processes that are not this host's: no pidfd
  // on them (the watchdog then only says, as a dry run does).
  const bool hostProcesses = s_.options->procRoot == "/proc";
  for (int i = 0; i < count; ++i) {
    const ProcessInfo& m = entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])];
    if (!hostProcesses) {
      v.pids[v.count++] = m.pid;
      continue;
    }
    auto fd = sys::pidfdOpen(m.pid);
    // The pidfd pins a process: it must be the one the table saw, and still killable.
    auto c = fd ? table.recheck(m) : Result<ProcessCheck>(fd.error());
    if (!fd || !c || c->startTimeTicks != m.startTimeTicks || c->isProtected) {
      if (i == 0) return;  // the root is gone or changed: the next pass chooses again
      continue;
    }
    v.pids[v.count] = m.pid;
    v.pidfds[v.count] = fd->release();
    ++v.count;
  }
  const policy::Candidate& cand = candidates_[static_cast<std::size_t>(choice)];
  std::memcpy(v.name, root.comm, sizeof v.name);
  std::snprintf(v.group, sizeof v.group, "%s", policy::toString(cand.group));
  v.freedKib = cand.freed.toKib();
  v.chosenAtNs = now.sinceOrigin.count();
  v.rootStartTicks = root.startTimeTicks;
  slot.publish(v);
}

void MemoryLadder::onReady(std::uint64_t tag, TimePoint now) {
  if (tag == kTagPressure) {
    for (auto& fd : pressureFds_) sys::drainEventFd(fd.get());
    if (!woke_) wokeAt_ = now;
    woke_ = true;
    fastUntil_ = now + kFastWindow;
    nextSampleAt_ = now;
    return;
  }
  if (tag == kTagFsProbe) {
    for (auto& a : probe_.take()) {
      if (a.path != s_.cfg->saveDir) continue;
      space_ = std::move(a.space);
      spaceAt_ = now;
      haveSpace_ = true;
      probeHungLogged_ = false;
      nextSampleAt_ = now;  // the hibernation step was waiting for it
    }
    return;
  }
  if (tag >= kTagVictim && killer_->onExited(static_cast<int>(tag - kTagVictim))) {
    rule_->onVictimGone();
    killLatency_.observe(now - victimKilledAt_);
    auto after = sensor_.sample(now);
    Line gone("exited");
    gone.num("pid", victimPid_)
        .str("name", victimName_)
        .word("reason", toString(Reason::VictimExited))
        .num("after_ms", msBetween(victimKilledAt_, now));
    if (after) gone.kib("avail_kib", after->available);
    s_.journal->write(gone, Priority::Info, now);
    nextSampleAt_ = now;
  }
}

void MemoryLadder::onTimer(TimePoint now) {
  // How late the loop came: the promise ORK makes is a sample every interval.
  if (lastSampleAt_ != TimePoint{}) longestGap_ = std::max(longestGap_, now - lastSampleAt_);
  if (now > nextSampleAt_ && !woke_) worstLate_ = std::max(worstLate_, now - nextSampleAt_);
  lastSampleAt_ = now;
  tick(now);
}

void MemoryLadder::tick(TimePoint now) {
  const config::Config& cfg = *s_.cfg;
  auto sample = sensor_.sample(now);
  if (!sample) {
    if (!sampleErrorLogged_) {
      Line w("warning");
      w.word("what", "sample_failed").str("detail", sample.error().what);
      s_.journal->write(w, Priority::Warning, now);
      sampleErrorLogged_ = true;
    }
    // A domain that cannot be read (its cgroup removed) leaves its PSI trigger
    // reporting an error for ever: watched, it would wake the loop on every turn.
    if (!pressureFds_.empty()) {
      for (auto& fd : pressureFds_)
        if (poller_ != nullptr) (void)poller_->remove(fd.get());
      pressureFds_.clear();
      pressureMode_ = "none";
      Line w("warning");
      w.word("what", "pressure_wakeup_lost").str("detail", sample.error().what).word("fallback", "adaptive_polling");
      s_.journal->write(w, Priority::Warning, now);
    }
    nextSampleAt_ = now + cfg.millis(Key::SamplingMaxIntervalMs);
    return;
  }
  if (sampleErrorLogged_) {
    Line w("warning_cleared");
    w.word("what", "sample_failed");
    s_.journal->write(w, Priority::Info, now);
  }
  sampleErrorLogged_ = false;
  last_ = *sample;
  fillRate_.update(*sample);
  TimePoint seenAt = woke_ ? std::min(wokeAt_, now) : now;
  woke_ = false;

  policy::MemoryVerdict v = rule_->evaluate(*sample, now);
  if (feed_ != nullptr) feed_->hardBytes.store(v.thresholds.hard.value, std::memory_order_release);
  if (v.episodeEnded) {
    Line l("recovered");
    l.word("reason", toString(Reason::Recovered))
        .kib("avail_kib", sample->available)
        .kib("soft_kib", v.thresholds.soft)
        .num("kills", episodeKills_)
        .num("duration_ms", msBetween(episodeStart_, now));
    s_.journal->write(l, Priority::Info, now);
    episodeKills_ = 0;
    hibernateUnavailableLogged_ = false;
  }
  if (v.episodeStarted) {
    episodeStart_ = now;
    episodeKills_ = 0;
  }
  if (v.episodeStarted || v.hardEntered) {
    bool hard = v.level == policy::MemoryLevel::Hard;
    Line l("pressure");
    l.word("level", hard ? "hard" : "soft")
        .word("reason", toString(hard ? Reason::MemoryBelowHard : Reason::MemoryBelowSoft))
        .kib("avail_kib", sample->available)
        .kib("total_kib", sample->total)
        .kib("soft_kib", v.thresholds.soft)
        .kib("hard_kib", v.thresholds.hard);
    if (sample->swapTotal > Bytes{0}) l.kib("swap_free_kib", sample->swapFree);
    l.word("action", hard ? "kill" : "none");
    s_.journal->write(l, hard ? Priority::Warning : Priority::Notice, now);
    abortLogged_ = noCandidateLogged_ = false;
  }
  if (killer_->waitingCount() > 0 && now >= killDeadline_) {
    Line l("deadline");
    l.num("pid", victimPid_)
        .str("name", victimName_)
        .word("reason", toString(Reason::DeadlinePassed))
        .num("waited_ms", msBetween(victimKilledAt_, now));
    s_.journal->write(l, Priority::Warning, now);
    killer_->forEachWaiting([&](int fd, int) {
      if (poller_ != nullptr) (void)poller_->remove(fd);
    });
    killer_->forget();
  }
  // The kill first: hibernating may start a helper process and takes its time.
  if (v.killDue) killVictim(*sample, v, seenAt);
  hibernateStep(*sample, v, now);

  // The interval is a promise: memory is looked at again before the headroom could be
  // gone at the assumed fill rate. A wake-up can come late (the scheduler, a table step
  // that could not be cut), so the next sample is aimed a fifth earlier: late by up to
  // that, it still keeps the promise. Below 50 ms the cadence is what it says.
  Nanos interval = policy::nextSampleInterval(last_, v.thresholds, fillRate_, cfg);
  if (interval > kAimEarlyAbove) interval -= interval / 5;
  if (now < fastUntil_ || v.level == policy::MemoryLevel::Hard)
    interval = std::min(interval, cfg.millis(Key::SamplingMinIntervalMs) * 5);
  nextSampleAt_ = s_.clock->now() + interval;
}

// The kill line's fields up to `result` (shared by the kill and its rehearsal).
void MemoryLadder::killFields(Line& l, const ProcessInfo& root, int choice, int count,
                              const act::Killer::KillOutcome& outcome) const {
  const policy::Candidate& c = candidates_[static_cast<std::size_t>(choice)];
  char uid[16];
  l.num("pid", root.pid)
      .str("name", root.comm)
      .str("user", root.uidKnown ? s_.users->nameOf(root.uid) : std::string_view())
      .word("uid", uidWord(root, uid))
      .word("group", policy::toString(c.group))
      .num("members", count)
      .num("spared", outcome.spared)
      .kib("freed_kib", c.freed)
      .kib("growth_kib", c.growth)
      .num("score", static_cast<std::int64_t>(c.score / (1024.0 * 1024.0)))
      .num("adj", root.oomScoreAdj)
      .word("reason", toString(Reason::MemoryBelowHard))
      .word("why", policy::whyChosen(candidates_, choice))
      .flag("dry_run", s_.options->dryRun)
      .word("result", toString(outcome.outcome));
}

void MemoryLadder::killVictim(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint seenAt) {
  const config::Config& cfg = *s_.cfg;
  sense::ProcessTable& table = *s_.table;
  TimePoint now = s_.clock->now();
  if (!table.hasCompletedPass()) {
    // Only before the first pass completed (at start): read everything now.
    if (auto r = table.refreshAll(now); !r) return;
    if (s_.tablePassed) s_.tablePassed(now);
    else onTablePass(now);
  }
  // Processes started since the last pass (a fast hog is one) are read now.
  if (auto added = table.addNewcomers(now); !added) {
    if (!newcomerErrorLogged_) {
      Line w("warning");
      w.word("what", "newcomers_unread").str("detail", added.error().what)
          .str("consequence", "processes started since the last pass are not candidates");
      s_.journal->write(w, Priority::Warning, now);
      newcomerErrorLogged_ = true;
    }
  } else {
    newcomerErrorLogged_ = false;
  }
  auto entries = table.mutableEntries();
  if (s_.vms != nullptr) s_.vms->markLeaveAlone(entries, /*frozenToo=*/false, leaveAlone_);
  // The young processes' figures are from their first look, maybe just after their fork:
  // read again, or a burst still allocating looks empty and the largest steady process
  // is chosen instead (seen: a shell's burst, the first kill taking the 8 members that
  // existed, the next choosing the steady 100 MiB process over the 12 born since).
  (void)table.rereadYoung(entries, now, kYoungRereads);
  policy::ScoreContext ctx{sample.total, v.need, &cfg, now};
  const std::size_t kept = keptCandidates(cfg);
  policy::rankCandidates(entries, ctx, candidates_, scratch_, SIZE_MAX, kept);

  // Re-read the best few: memory, identity, oom_score_adj may have changed since the
  // last pass. A process that is gone is marked so that it is no longer a candidate.
  std::size_t top = std::min<std::size_t>(candidates_.size(), static_cast<std::size_t>(cfg.count(Key::ScanRecheckTop)));
  bool changed = false;
  for (std::size_t i = 0; i < top; ++i) {
    ProcessInfo& e = entries[static_cast<std::size_t>(candidates_[i].index)];
    if (!table.reread(e, now)) e.state = 'X';
    changed = true;
  }
  if (changed) policy::rankCandidates(entries, ctx, candidates_, scratch_, SIZE_MAX, kept);
  // The victim and every member are re-checked by the Killer just before the signal: a
  // root found protected (oom_score_adj -1000 set since the table's look, an exec into
  // a vital service) is not signalled, and the next best is chosen at once (the table
  // now knows it is protected). A few tries at most: each costs a ranking.
  act::Killer::KillOutcome outcome;
  int count = 0;
  int choice = -1;
  TimePoint after;
  for (int attempt = 0; attempt < kProtectedRetries; ++attempt) {
    if (attempt > 0) policy::rankCandidates(entries, ctx, candidates_, scratch_, SIZE_MAX, kept);
    choice = policy::chooseVictim(candidates_, cfg);
    if (choice < 0) break;
    const policy::Candidate& c = candidates_[static_cast<std::size_t>(choice)];
    if (attempt == 0) {
      // Re-check memory just before killing: abort if it recovered meanwhile.
      auto again = sensor_.sample(s_.clock->now());
      if (again && policy::classify(*again, v.thresholds, cfg) != policy::MemoryLevel::Hard) {
        if (!abortLogged_) {
          Line l("abort");
          l.word("reason", toString(Reason::RecoveredBeforeKill)).kib("avail_kib", again->available).kib("hard_kib", v.thresholds.hard);
          s_.journal->write(l, Priority::Info, now);
          abortLogged_ = true;
        }
        return;
      }
    }
    count = policy::treeMembers(entries, scratch_, c, memberIdx_.data(), static_cast<int>(memberIdx_.size()));
    if (count == 0) break;
    for (int i = 0; i < count; ++i) {
      members_[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])];
      if (s_.vms != nullptr && !s_.options->dryRun) s_.vms->thawBeforeKill(members_[static_cast<std::size_t>(i)]->pid, now);
    }
    outcome = killer_->kill({members_.data(), static_cast<std::size_t>(count)}, s_.options->dryRun, *s_.clock);
    after = s_.clock->now();
    if (outcome.outcome != Outcome::Protected) break;
    // The first member (the head when it goes with the group) was found protected.
    const ProcessInfo& spared = entries[static_cast<std::size_t>(memberIdx_[0])];
    Line p("spared");
    p.num("pid", spared.pid).str("name", spared.comm).num("adj", spared.oomScoreAdj)
        .word("reason", toString(Reason::MemoryBelowHard)).word("result", toString(outcome.outcome));
    s_.journal->write(p, Priority::Notice, after);
    entries[static_cast<std::size_t>(memberIdx_[0])].state = 'X';  // not again before the next pass
  }
  if (choice < 0 || count == 0 || outcome.outcome == Outcome::Protected) {
    if (!noCandidateLogged_) {
      Line l("no_candidate");
      l.word("reason", toString(Reason::NoCandidate))
          .kib("avail_kib", sample.available)
          .num("processes", static_cast<std::int64_t>(entries.size()));
      s_.journal->write(l, Priority::Warning, now);
      noCandidateLogged_ = true;
    }
    rule_->holdOff(now + kNoCandidateRetry);
    return;
  }
  const policy::Candidate& c = candidates_[static_cast<std::size_t>(choice)];
  // The first member: the head, or for a tree without its head the member of lowest
  // PID; the line then names the head (children_of) too.
  const ProcessInfo& root = entries[static_cast<std::size_t>(memberIdx_[0])];
  const ProcessInfo& head = entries[static_cast<std::size_t>(c.index)];

  int unwatched = 0;
  if (outcome.outcome == Outcome::Ok || outcome.outcome == Outcome::DryRun) {
    rule_->onKill(after);
    ++episodeKills_;
    killDeadline_ = after + cfg.millis(Key::KillDeadlineMs);
    killer_->forEachWaiting([&](int fd, int slot) {
      if (poller_ == nullptr || !poller_->add(fd, EPOLLIN, kTagVictim + static_cast<std::uint64_t>(slot))) ++unwatched;
    });
    victimPid_ = root.pid;
    std::memcpy(victimName_, root.comm, sizeof victimName_);
    victimKilledAt_ = after;
    // The killed are no longer candidates, until the next pass forgets them.
    if (outcome.outcome == Outcome::Ok)
      for (int i = 0; i < count; ++i) entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])].state = 'X';
  } else {
    // Nothing to wait for. Vanished or reused: choose again at the next sample. Refused
    // by the kernel (EPERM...): not this one again before the next pass, and pause, so
    // that a victim ORK cannot kill neither floods the journal nor blocks the others.
    entries[static_cast<std::size_t>(memberIdx_[0])].state = 'X';
    rule_->onVictimGone();
    if (outcome.outcome == Outcome::Failed) rule_->holdOff(after + kNoCandidateRetry);
  }

  // A dry run's decision is not a kill: a line that says so, so that no grep for kills
  // counts it.
  Line l(s_.options->dryRun ? "would_kill" : "kill");
  killFields(l, root, choice, count, outcome);
  if (!c.headIncluded) l.num("children_of", head.pid).str("parent_name", head.comm);
  if (c.members > count) l.num("beyond_cap", c.members - count);  // the largest were taken
  if (outcome.err != 0) l.num("errno", outcome.err);
  if (outcome.outcome == Outcome::Ok || outcome.outcome == Outcome::DryRun)
    l.num("latency_us", std::chrono::duration_cast<Micros>(outcome.doneAt - seenAt).count());
  if (outcome.outcome == Outcome::Ok) {
    l.flag("mreleased", outcome.released);
    if (!outcome.released) l.num("mrelease_errno", outcome.releaseErr);
  }
  // A death ORK cannot watch is waited for until the deadline only.
  if (unwatched > 0) l.num("unwatched", unwatched);
  l.kib("avail_kib", sample.available).kib("need_kib", v.need);
  commandFields(l, root);
  s_.journal->write(l, s_.options->dryRun ? Priority::Notice : Priority::Warning, after);
}

void MemoryLadder::rehearse(TimePoint now) {
  sense::ProcessTable& table = *s_.table;
  if (!table.hasCompletedPass()) return;
  const config::Config& cfg = *s_.cfg;
  // What a kill reads first: the processes started since the pass (they join the table,
  // as the next pass would have them), a sample.
  (void)table.addNewcomers(now);
  auto sample = sensor_.sample(now);
  std::span<ProcessInfo> entries = table.mutableEntries();
  (void)table.rereadYoung(entries, now, kYoungRereads);
  Bytes total = sample ? sample->total : last_.total > Bytes{} ? last_.total : Bytes::gib(1);
  policy::ScoreContext ctx{total, total.scaled(0.05), &cfg, now};
  const std::size_t kept = keptCandidates(cfg);
  policy::rankCandidates(entries, ctx, candidates_, scratch_, SIZE_MAX, kept);
  // The best one re-read, as the kill re-reads the best few (fresh figures, nothing else).
  if (!candidates_.empty()) (void)table.reread(entries[static_cast<std::size_t>(candidates_[0].index)], now);
  policy::rankCandidates(entries, ctx, candidates_, scratch_, SIZE_MAX, kept);
  int choice = policy::chooseVictim(candidates_, cfg);
  if (choice < 0) return;
  const policy::Candidate& c = candidates_[static_cast<std::size_t>(choice)];
  int count = policy::treeMembers(entries, scratch_, c, memberIdx_.data(), static_cast<int>(memberIdx_.size()));
  if (count <= 0) return;
  for (int i = 0; i < count; ++i)
    members_[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(memberIdx_[static_cast<std::size_t>(i)])];
  // The dry run re-checks (stat, oom_score_adj) and sends nothing.
  auto outcome = killer_->kill({members_.data(), static_cast<std::size_t>(count)}, /*dryRun=*/true, *s_.clock);
  killer_->forget();
  const ProcessInfo& root = *members_[0];
  Line l("kill");  // built, never written: its code is what the rehearsal touches
  killFields(l, root, choice, count, outcome);
  commandFields(l, root);
}

// ---- step 1: hibernate ------------------------------------------------------------------

void MemoryLadder::hibernateStep(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint now) {
  const config::Config& cfg = *s_.cfg;
  if (s_.vms == nullptr || !cfg.flag(Key::VmEnabled) || !cfg.flag(Key::VmHibernate) || v.level == policy::MemoryLevel::Ok)
    return;
  VmFleet& fleet = *s_.vms;
  auto& vms = fleet.all();
  if (vms.empty()) return;
  for (const auto& vm : vms)
    if (vm.saving) return;  // one save at a time: the next one only if still needed
  if (now < hibernateHoldOff_) return;
  if (fleet.libvirt() != LibvirtState::Up) {
    if (!hibernateUnavailableLogged_) {
      Line l("hibernate_skipped");
      l.word("reason", toString(Reason::LibvirtUnavailable))
          .num("vms", static_cast<std::int64_t>(vms.size()))
          .kib("avail_kib", sample.available)
          .kib("soft_kib", v.thresholds.soft);
      s_.journal->write(l, Priority::Warning, now);
      hibernateUnavailableLogged_ = true;
    }
    return;
  }
  std::vector<policy::SaveCandidate>& views = saveViews_;
  views.clear();
  for (std::size_t i = 0; i < vms.size(); ++i) {
    const VmState& vm = vms[i];
    const auto* d = fleet.domainOf(vm);
    policy::SaveCandidate c;
    c.id = static_cast<int>(i);
    c.memory = vm.memory;
    c.guest = d != nullptr ? std::max({d->maxMemory, d->memory, vm.configured, vm.memory}) : std::max(vm.configured, vm.memory);
    c.reachable = d != nullptr;
    c.runningOrPaused = d != nullptr && (d->state == "running" || d->state == "paused");
    c.saving = vm.saving;
    c.saved = vm.saved;
    // A VM frozen through its cgroup cannot answer libvirt: saving it would only hang
    // until the deadline. One paused by libvirt saves fine (and comes back paused).
    c.cgroupFrozen = vm.cgroupFrozen() || vm.freeze == VmState::Freeze::Freezing;
    c.retryHeld = now < vm.saveRetryAt;
    views.push_back(c);
  }
  policy::hibernationOrder(views, hibernateOrder_);
  for (int id : hibernateOrder_) {
    VmState& vm = vms[static_cast<std::size_t>(id)];
    Bytes guest = views[static_cast<std::size_t>(id)].guest;
    Bytes room = policy::saveRoomNeeded(guest, cfg);
    const Result<sys::FsSpace>* probed = saveSpace(sample, now);
    if (probed == nullptr) return;  // asked for; the step goes on when it answers
    const Result<sys::FsSpace>& space = *probed;
    // Across resources: the save must also leave the save directory's filesystem above
    // its disk soft threshold (the disk ladder would otherwise start cleaning it).
    Bytes keep;
    if (space) {
      auto mi = sys::readWholeFile(s_.options->procRoot + "/self/mountinfo");
      if (mi) keep = policy::softBytesFor(cfg.saveDir, parse::parseMountinfo(*mi), space->total, space->totalInodes, cfg);
    }
    bool wouldFillDisk = space && policy::saveFits(guest, space->available, cfg) && space->available - room < keep;
    if (!space || !policy::saveFits(guest, space->available, cfg) || wouldFillDisk) {
      Line l("hibernate_skipped");
      fleet.fields(l, vm);
      l.word("reason", toString(wouldFillDisk ? Reason::SaveWouldFillDisk : Reason::NoRoomForSave)).str("save_dir", cfg.saveDir);
      if (wouldFillDisk) l.kib("disk_soft_kib", keep);
      if (space) l.kib("free_kib", space->available);
      else l.str("error", space.error().what);
      l.kib("needs_kib", room).kib("mem_kib", vm.memory);
      s_.journal->write(l, Priority::Warning, now);
      vm.saveRetryAt = now + kSaveRetry;
      continue;
    }
    Line l("hibernate");
    fleet.fields(l, vm);
    l.kib("mem_kib", vm.memory)
        .kib("guest_kib", guest)
        .word("reason", toString(Reason::MemoryBelowSoft))
        .kib("avail_kib", sample.available)
        .kib("soft_kib", v.thresholds.soft)
        .kib("need_kib", v.need)
        .kib("save_free_kib", space->available)
        .flag("dry_run", s_.options->dryRun);
    if (s_.options->dryRun) {
      l.word("result", "dry_run");
      s_.journal->write(l, Priority::Warning, now);
      hibernateHoldOff_ = now + cfg.seconds(Key::KillDryRunRepeatS);
      return;
    }
    auto id2 = fleet.startSave(vm, sample.available, now);
    if (!id2) {
      l.word("result", "failed").str("error", id2.error().what);
      s_.journal->write(l, Priority::Warning, now);
      vm.saveRetryAt = now + kSaveRetry;
      return;
    }
    l.word("result", "started");
    s_.journal->write(l, Priority::Warning, now);
    haveSpace_ = false;  // the save is filling it
    return;
  }
}

const Result<sys::FsSpace>* MemoryLadder::saveSpace(const MemorySample& sample, TimePoint now) {
  const std::string& dir = s_.cfg->saveDir;
  if (haveSpace_ && now - spaceAt_ < kSpaceFresh) return &space_;
  if (!probeStarted_) {
    auto fd = probe_.start();
    if (!fd) {
      space_ = fd.error();
      spaceAt_ = now;
      haveSpace_ = true;
      return &space_;
    }
    if (poller_ != nullptr) (void)poller_->add(*fd, EPOLLIN, kTagFsProbe);
    probeStarted_ = true;
  }
  TimePoint since;
  if (probe_.pending(dir, &since)) {
    if (now - since >= kProbeDeadline && !probeHungLogged_) {
      Line l("hibernate_skipped");
      l.word("reason", toString(Reason::SaveDirUnresponsive))
          .str("save_dir", dir)
          .num("waited_ms", msBetween(since, now))
          .kib("avail_kib", sample.available);
      s_.journal->write(l, Priority::Warning, now);
      probeHungLogged_ = true;
    }
    return nullptr;
  }
  (void)probe_.request(dir, now);
  return nullptr;
}

void MemoryLadder::onSaveDone(VmState& vm, const act::VmReply& r, TimePoint now) {
  auto after = sensor_.sample(now);
  // No answer (deadline, helper died) is not a failure known: libvirt may finish it.
  bool unknown = !r.ok && (r.code == act::kVmDeadline || r.code == act::kVmHelperDied);
  Line l("hibernated");
  s_.vms->fields(l, vm);
  l.word("result", r.ok ? "ok" : unknown ? "unknown" : "failed").num("took_ms", msBetween(vm.saveStartedAt, now));
  if (r.ok) {
    // The qemu process exits: what it held (resident and swapped) is what came back.
    l.kib("freed_kib", vm.memAtSave);
  } else {
    l.num("code", r.code).str("error", r.message);
    vm.saveRetryAt = now + kSaveRetry;
  }
  l.kib("avail_before_kib", vm.availAtSave);
  if (after) l.kib("avail_kib", after->available);
  if (r.ok) l.str("restore", "virsh start " + (vm.name.empty() ? vm.uuid : vm.name));
  s_.journal->write(l, r.ok ? Priority::Warning : Priority::Error, now);
  nextSampleAt_ = now;
  // libvirt answers as qemu exits; its memory returns as the kernel tears it down. Let
  // that show in the samples before judging whether another VM must go.
  hibernateHoldOff_ = now + kSaveSettle;
}

}  // namespace ork::ladder
