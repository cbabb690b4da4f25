#include "ork/daemon/Daemon.h"
#include "ork/daemon/State.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ork/act/Killer.h"
#include "ork/journal/Journal.h"
#include "ork/policy/MemoryRule.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/SelfProtect.h"

#ifndef ORK_VERSION
#define ORK_VERSION "0.0.0"
#endif

namespace ork::daemon {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// After a PSI or threshold wake-up, sample at the fastest cadence for this long
// (as lmkd polls after a trigger).
constexpr Nanos kFastWindow = Seconds{1};
// When nothing can be killed, look again no sooner than this.
constexpr Nanos kNoCandidateRetry = Seconds{1};

Result<std::uint64_t> startTimeThunk(void* ctx, int pid) {
  return static_cast<sense::ProcessTable*>(ctx)->startTimeOf(pid);
}
}  // namespace

Daemon::Daemon() : s_(std::make_unique<State>()) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::create(const Options& options, const config::Config& cfg) {
  std::unique_ptr<Daemon> d(new Daemon());
  State& s = *d->s_;
  s.options = options;
  s.cfg = cfg;

  auto journal = journal::Journal::open(options.kmsgPath, options.mirrorStderr);
  if (journal) {
    s.journal = std::move(*journal);
  } else if (options.kmsgPath == "/dev/kmsg") {
    // No kernel log to write to (a container without /dev/kmsg): go on, on stderr.
    s.journal = journal::Journal::stderrOnly();
    Line w("warning");
    w.word("what", "kmsg_unavailable").str("detail", journal.error().what).word("fallback", "stderr");
    s.journal.write(w, Priority::Warning, TimePoint{});
  } else {
    return journal.error();
  }

  auto memory = options.cgroupDir.empty()
                    ? sense::MemorySensor::openHost(options.procRoot, cfg.flag(Key::MemoryCountZfsArc))
                    : sense::MemorySensor::openCgroup(options.cgroupDir, options.procRoot);
  if (!memory) return memory.error();
  s.memory = std::move(*memory);

  s.users.load(options.passwdPath);
  sense::ProcessTable::Options topts;
  topts.procRoot = options.procRoot;
  topts.cgroupDir = options.cgroupDir;
  topts.selfPid = ::getpid();
  topts.chunk = static_cast<std::size_t>(cfg.count(Key::ScanChunk));
  topts.growthWindow = cfg.seconds(Key::ScanGrowthWindowS);
  topts.prefer = &s.cfg.prefer;
  topts.avoid = &s.cfg.avoid;
  topts.protect = &s.cfg.protect;
  topts.users = &s.users;
  auto table = sense::ProcessTable::open(topts);
  if (!table) return table.error();
  s.table = std::make_unique<sense::ProcessTable>(std::move(*table));

  auto epoll = sys::Epoll::create();
  if (!epoll) return epoll.error();
  s.epoll = std::move(*epoll);
  auto sig = sys::openSignalFd();
  if (!sig) return sig.error();
  s.signalFd = std::move(*sig);
  if (auto r = s.epoll.add(s.signalFd.get(), EPOLLIN, kTagSignal); !r) return r.error();

  s.rule = std::make_unique<policy::MemoryRule>(s.cfg, options.dryRun);
  s.killer = std::make_unique<act::Killer>(&startTimeThunk, s.table.get());

  s.vmTable = sense::VmTable(options.procRoot);
  s.cpuOn = cfg.flag(Key::CpuEnabled);
  if (s.cpuOn) {
    // The CPU is sensed host-wide (it is the host that stalls); --cgroup limits who may
    // be frozen or killed.
    auto cpu = sense::CpuSensor::open(options.procRoot);
    if (!cpu) return cpu.error();
    s.cpu = std::move(*cpu);
    s.cpuRule = std::make_unique<policy::CpuRule>(s.cfg);
    s.cpuKiller = std::make_unique<act::Killer>(&startTimeThunk, s.table.get());
    long tck = ::sysconf(_SC_CLK_TCK);
    s.ticksPerSecond = tck > 0 ? static_cast<double>(tck) : 100.0;
  }
  return d;
}

int Daemon::run() {
  State& s = *s_;
  TimePoint now = s.clock.now();

  if (s.options.protectSelf) s.protection = sys::protectSelf(s.options.procRoot.c_str());

  // Wake-ups from the kernel: a PSI trigger where there is one, else cgroup v1
  // usage thresholds.
  std::string psiPath = s.memory.pressurePath();
  Error psiError;
  int psiWindowMs = 1000;
  if (s.cfg.flag(Key::MemoryPsi) && !psiPath.empty()) {
    std::uint64_t stall = static_cast<std::uint64_t>(s.cfg.get(Key::MemoryPsiStallMs)) * 1000;
    auto fd = sys::openPsiTrigger(psiPath, stall, 1'000'000);
    if (!fd && fd.error().code == EINVAL) {
      // Without CAP_SYS_RESOURCE the kernel only accepts windows in multiples of 2 s.
      fd = sys::openPsiTrigger(psiPath, stall * 2, 2'000'000);
      if (fd) psiWindowMs = 2000;
    }
    if (fd) {
      s.pressureMode = "psi";
      (void)s.epoll.add(fd->get(), EPOLLPRI, kTagPressure);
      s.pressureFds.push_back(std::move(*fd));
    } else {
      psiError = fd.error();
    }
  }
  auto first = s.memory.sample(now);
  if (!first) {
    std::fprintf(stderr, "ork: %s\n", first.error().what);
    return 1;
  }
  s.last = *first;
  auto thresholds = policy::memoryThresholds(first->total, s.cfg);
  if (s.memory.domain() == sense::MemorySensor::Domain::CgroupV1) {
    for (Bytes level : {thresholds.soft, thresholds.hard}) {
      Bytes usage = first->total - level;
      auto fd = sys::openCgroupV1Threshold(s.memory.cgroupDir(), static_cast<std::uint64_t>(usage.value));
      if (!fd) {
        psiError = fd.error();
        continue;
      }
      s.pressureMode = "cgroup_v1_threshold";
      (void)s.epoll.add(fd->get(), EPOLLIN, kTagPressure);
      s.pressureFds.push_back(std::move(*fd));
    }
  }

  Line start("start");
  start.word("version", ORK_VERSION)
      .word("domain", s.memory.domain() == sense::MemorySensor::Domain::Host ? "host"
                      : s.memory.domain() == sense::MemorySensor::Domain::CgroupV2 ? "cgroup2"
                                                                                  : "cgroup1")
      .str("scope", s.options.cgroupDir.empty() ? "/" : s.options.cgroupDir)
      .flag("dry_run", s.options.dryRun)
      .kib("total_kib", first->total)
      .kib("avail_kib", first->available)
      .kib("soft_kib", thresholds.soft)
      .kib("hard_kib", thresholds.hard)
      .word("wakeup", s.pressureMode);
  if (s.pressureMode == "psi") start.num("psi_window_ms", psiWindowMs);
  start
      .flag("mlocked", s.protection.locked)
      .flag("oom_exempt", s.protection.oomExempt);
  if (first->zfsArcShrinkable > Bytes{0}) start.kib("zfs_arc_kib", first->zfsArcShrinkable);
  start.flag("cpu", s.cpuOn);
  if (s.cpuOn) start.flag("cpu_psi", s.cpu.hasPressure());
  start.flag("vms", s.cfg.flag(Key::VmEnabled)).flag("libvirt", s.cfg.flag(Key::VmEnabled) && s.cfg.flag(Key::VmLibvirt));
  s.journal.write(start, Priority::Notice, now);
  if (s.pressureMode == "psi" && psiWindowMs != 1000) {
    Line w("warning");
    w.word("what", "psi_window_refused")
        .str("detail", "the kernel refused a 1 s PSI window (no CAP_SYS_RESOURCE); using 2 s")
        .word("fallback", "psi_2s_window");
    s.journal.write(w, Priority::Warning, now);
  }
  if (s.pressureMode == "none" && s.cfg.flag(Key::MemoryPsi)) {
    Line w("warning");
    w.word("what", "no_pressure_wakeup")
        .str("detail", psiError.what[0] ? psiError.what : "no PSI file for this domain")
        .word("fallback", "adaptive_polling");
    s.journal.write(w, Priority::Warning, now);
  }
  if (s.options.protectSelf && !s.protection.oomExempt) {
    Line w("warning");
    w.word("what", "oom_score_adj_failed").str("detail", s.protection.oomError.what);
    s.journal.write(w, Priority::Warning, now);
  }
  if (s.options.protectSelf && !s.protection.locked) {
    Line w("warning");
    w.word("what", "mlockall_failed").str("detail", s.protection.lockError.what);
    s.journal.write(w, Priority::Warning, now);
  }

  std::array<epoll_event, 16> events{};
  s.nextSampleAt = now;
  s.nextCpuAt = now;
  for (;;) {
    now = s.clock.now();
    bool refreshDue = false;
    {
      bool near = policy::approaching(s.last, policy::memoryThresholds(s.last.total, s.cfg), s.fillRate);
      Nanos every = near ? s.cfg.millis(Key::ScanNearIntervalMs) : s.cfg.seconds(Key::ScanIdleIntervalS);
      refreshDue = s.table->passInProgress() || !s.table->hasCompletedPass() ||
                   now - s.table->lastPassCompleted() >= every;
    }
    TimePoint wakeAt = s.nextSampleAt;
    if (s.cpuOn) wakeAt = std::min(wakeAt, s.nextCpuAt);
    for (act::VmLane* lane : {s.controlLane.get(), s.saveLane.get()})
      if (lane != nullptr && lane->outstanding() > 0) wakeAt = std::min(wakeAt, lane->nextDeadline());
    if (!s.vms.empty() || s.controlLane) wakeAt = std::min(wakeAt, now + Seconds{1});  // libvirt upkeep
    Nanos timeout = refreshDue ? Nanos{0} : std::max(Nanos{0}, wakeAt - now);
    auto n = s.epoll.wait(events.data(), static_cast<int>(events.size()), timeout);
    if (!n) {
      std::fprintf(stderr, "ork: %s\n", n.error().what);
      return 1;
    }
    now = s.clock.now();
    for (int i = 0; i < *n; ++i) {
      std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
      if (tag == kTagSignal) {
        int sig = sys::readSignal(s.signalFd.get());
        if (sig == SIGTERM || sig == SIGINT) {
          thawAllOnStop(now);
          Line stop("stop");
          stop.num("signal", sig);
          s.journal.write(stop, Priority::Notice, now);
          return 0;
        }
      } else if (tag == kTagPressure) {
        for (auto& fd : s.pressureFds) sys::drainEventFd(fd.get());
        if (!s.woke) s.wokeAt = now;
        s.woke = true;
        s.fastUntil = now + kFastWindow;
        s.nextSampleAt = now;
      } else if (tag == kTagControlLane || tag == kTagSaveLane) {
        onLaneReadable(tag == kTagSaveLane, now);
      } else if (tag >= kTagCpuVictim) {
        (void)s.cpuKiller->onExited(static_cast<int>(tag - kTagCpuVictim));
      } else if (tag >= kTagVictim) {
        if (s.killer->onExited(static_cast<int>(tag - kTagVictim))) {
          s.rule->onVictimGone();
          auto after = s.memory.sample(now);
          Line gone("exited");
          gone.num("pid", s.victimPid)
              .str("name", s.victimName)
              .word("reason", toString(Reason::VictimExited))
              .num("after_ms", std::chrono::duration_cast<Millis>(now - s.victimKilledAt).count());
          if (after) gone.kib("avail_kib", after->available);
          s.journal.write(gone, Priority::Info, now);
          s.nextSampleAt = now;
        }
      }
    }

    if (now >= s.nextSampleAt) tick(now);
    if (s.cpuOn && now >= s.nextCpuAt) {
      cpuTick(now);
      s.nextCpuAt = now + Seconds{1};
    }
    checkLaneDeadlines(s.clock.now());
    libvirtTick(s.clock.now());
    if (refreshDue) {
      auto done = s.table->step(s.clock.now());
      if (!done) {
        Line w("warning");
        w.word("what", "scan_failed").str("detail", done.error().what);
        s.journal.write(w, Priority::Warning, now);
      } else if (*done) {
        afterPass();
      }
    }
  }
}

void Daemon::afterPass() {
  State& s = *s_;
  // Capacity for the kill path, so that deciding never allocates.
  std::size_t n = s.table->entries().size();
  s.candidates.reserve(2 * n + 16);
  s.scratch.reserve(n + 16);
  Bytes swapUsed = s.last.swapTotal - s.last.swapFree;
  s.table->setReadSwap(swapUsed > s.last.total.scaled(0.01));
  if (s.cpuOn) {
    s.cpuScratch.reserve(n + 16);
    s.cpuBase.reserve(n + 16);
  }
  updateVms(s.clock.now());
  s.leaveAlone.reserve(s.vms.size() + 8);
}

void Daemon::tick(TimePoint now) {
  State& s = *s_;
  auto sample = s.memory.sample(now);
  if (!sample) {
    if (!s.sampleErrorLogged) {
      Line w("warning");
      w.word("what", "sample_failed").str("detail", sample.error().what);
      s.journal.write(w, Priority::Warning, now);
      s.sampleErrorLogged = true;
    }
    s.nextSampleAt = now + s.cfg.millis(Key::SamplingMaxIntervalMs);
    return;
  }
  s.sampleErrorLogged = false;
  s.last = *sample;
  s.fillRate.update(*sample);
  TimePoint seenAt = s.woke ? std::min(s.wokeAt, now) : now;
  s.woke = false;

  policy::MemoryVerdict v = s.rule->evaluate(*sample, now);
  if (v.episodeEnded) {
    Line l("recovered");
    l.word("reason", toString(Reason::Recovered))
        .kib("avail_kib", sample->available)
        .kib("soft_kib", v.thresholds.soft)
        .num("kills", s.episodeKills)
        .num("duration_ms", std::chrono::duration_cast<Millis>(now - s.episodeStart).count());
    s.journal.write(l, Priority::Info, now);
    s.episodeKills = 0;
  }
  if (v.episodeStarted) {
    s.episodeStart = now;
    s.episodeKills = 0;
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
    s.journal.write(l, hard ? Priority::Warning : Priority::Notice, now);
    s.abortLogged = s.noCandidateLogged = false;
  }
  if (s.killer->waitingCount() > 0 && now >= s.killDeadline) {
    Line l("deadline");
    l.num("pid", s.victimPid)
        .str("name", s.victimName)
        .word("reason", toString(Reason::DeadlinePassed))
        .num("waited_ms", std::chrono::duration_cast<Millis>(now - s.victimKilledAt).count());
    s.journal.write(l, Priority::Warning, now);
    s.killer->forget();
  }
  if (v.episodeEnded) s.hibernateUnavailableLogged = false;
  // The kill first: hibernating may start a helper process and takes its time.
  if (v.killDue) killVictim(*sample, v, seenAt);
  hibernateStep(*sample, v, now);

  auto thresholds = v.thresholds;
  Nanos interval = policy::nextSampleInterval(s.last, thresholds, s.fillRate, s.cfg);
  if (now < s.fastUntil || v.level == policy::MemoryLevel::Hard)
    interval = std::min(interval, s.cfg.millis(Key::SamplingMinIntervalMs) * 5);
  s.nextSampleAt = s.clock.now() + interval;
}

void Daemon::killVictim(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint seenAt) {
  State& s = *s_;
  TimePoint now = s.clock.now();
  if (!s.table->hasCompletedPass()) {
    // Only before the first pass completed (at start): read everything now.
    if (auto r = s.table->refreshAll(now); !r) return;
    afterPass();
  }
  // Processes started since the last pass (a fast hog is one) are read now.
  (void)s.table->addNewcomers(now);
  auto entries = s.table->mutableEntries();
  markLeaveAlone(entries, /*frozenToo=*/false);
  policy::ScoreContext ctx{sample.total, v.need, &s.cfg, now};
  const std::size_t prefix = std::max<std::size_t>(policy::kKillPathSortedPrefix, static_cast<std::size_t>(s.cfg.count(Key::ScanRecheckTop)));
  policy::rankCandidates(entries, ctx, s.candidates, s.scratch, prefix);

  // Re-read the best few: memory, identity, oom_score_adj may have changed since the
  // last pass. A process that is gone is marked so that it is no longer a candidate.
  std::size_t top = std::min<std::size_t>(s.candidates.size(), static_cast<std::size_t>(s.cfg.count(Key::ScanRecheckTop)));
  bool changed = false;
  for (std::size_t i = 0; i < top; ++i) {
    ProcessInfo& e = entries[static_cast<std::size_t>(s.candidates[i].index)];
    if (!s.table->reread(e, now)) e.state = 'X';
    changed = true;
  }
  if (changed) policy::rankCandidates(entries, ctx, s.candidates, s.scratch, prefix);
  int choice = policy::chooseVictim(s.candidates, s.cfg);
  if (choice < 0) {
    if (!s.noCandidateLogged) {
      Line l("no_candidate");
      l.word("reason", toString(Reason::NoCandidate)).kib("avail_kib", sample.available).num("processes", static_cast<std::int64_t>(entries.size()));
      s.journal.write(l, Priority::Warning, now);
      s.noCandidateLogged = true;
    }
    s.rule->holdOff(now + kNoCandidateRetry);
    return;
  }
  const policy::Candidate& c = s.candidates[static_cast<std::size_t>(choice)];

  // Re-check memory just before killing: abort if it recovered meanwhile.
  auto again = s.memory.sample(s.clock.now());
  if (again && policy::classify(*again, v.thresholds, s.cfg) != policy::MemoryLevel::Hard) {
    if (!s.abortLogged) {
      Line l("abort");
      l.word("reason", toString(Reason::RecoveredBeforeKill))
          .kib("avail_kib", again->available)
          .kib("hard_kib", v.thresholds.hard);
      s.journal.write(l, Priority::Info, now);
      s.abortLogged = true;
    }
    return;
  }

  int count = policy::treeMembers(entries, c, s.memberIdx.data(), static_cast<int>(s.memberIdx.size()));
  for (int i = 0; i < count; ++i) {
    s.members[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(s.memberIdx[static_cast<std::size_t>(i)])];
    if (!s.vms.empty() && !s.options.dryRun) thawBeforeKill(s.members[static_cast<std::size_t>(i)]->pid);
  }
  auto outcome = s.killer->kill({s.members.data(), static_cast<std::size_t>(count)}, s.options.dryRun, s.clock);
  TimePoint after = s.clock.now();
  const ProcessInfo& root = entries[static_cast<std::size_t>(c.index)];

  if (outcome.outcome == Outcome::Ok || outcome.outcome == Outcome::DryRun) {
    s.rule->onKill(after);
    ++s.episodeKills;
    s.killDeadline = after + s.cfg.millis(Key::KillDeadlineMs);
    s.killer->forEachWaiting([&](int fd, int slot) {
      (void)s.epoll.add(fd, EPOLLIN, kTagVictim + static_cast<std::uint64_t>(slot));
    });
    s.victimPid = root.pid;
    std::memcpy(s.victimName, root.comm, sizeof s.victimName);
    s.victimKilledAt = after;
    // The killed are no longer candidates, until the next pass forgets them.
    if (outcome.outcome == Outcome::Ok) {
      for (int i = 0; i < count; ++i) entries[static_cast<std::size_t>(s.memberIdx[static_cast<std::size_t>(i)])].state = 'X';
    }
  } else {
    // Nothing to wait for. Vanished or reused: choose again at the next sample. Refused
    // by the kernel (EPERM...): not this one again before the next pass, and pause, so
    // that a victim ORK cannot kill neither floods the journal nor blocks the others.
    entries[static_cast<std::size_t>(c.index)].state = 'X';
    s.rule->onVictimGone();
    if (outcome.outcome == Outcome::Failed) s.rule->holdOff(after + kNoCandidateRetry);
  }

  std::string_view user = s.users.nameOf(root.uid);
  Line l("kill");
  l.num("pid", root.pid)
      .str("name", root.comm)
      .str("user", user)
      .num("uid", root.uid)
      .num("members", c.members)
      .kib("freed_kib", c.freed)
      .kib("growth_kib", c.growth)
      .num("score", static_cast<std::int64_t>(c.score / (1024.0 * 1024.0)))
      .num("adj", root.oomScoreAdj)
      .word("reason", toString(Reason::MemoryBelowHard))
      .flag("dry_run", s.options.dryRun)
      .word("result", toString(outcome.outcome));
  if (outcome.err != 0) l.num("errno", outcome.err);
  if (outcome.outcome == Outcome::Ok || outcome.outcome == Outcome::DryRun)
    l.num("latency_us", std::chrono::duration_cast<Micros>(outcome.doneAt - seenAt).count());
  if (outcome.outcome == Outcome::Ok) {
    l.flag("mreleased", outcome.released);
    if (!outcome.released) l.num("mrelease_errno", outcome.releaseErr);
  }
  l.kib("avail_kib", sample.available).kib("need_kib", v.need);
  if (root.identity) l.str("cmd", std::string_view(root.identity->cmdline).substr(0, 200));
  if (root.identity && !root.identity->cgroup.empty()) l.str("cgroup", root.identity->cgroup);
  s.journal.write(l, Priority::Warning, after);
}

}  // namespace ork::daemon
