#include "ork/daemon/Daemon.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "ork/daemon/Observe.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/CpuLadder.h"
#include "ork/ladder/DiskLadder.h"
#include "ork/ladder/IoLadder.h"
#include "ork/ladder/MemoryLadder.h"
#include "ork/ladder/NetworkLadder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/recorder/Recorder.h"
#include "ork/sense/ProcessTable.h"
#include "ork/daemon/Watchdog.h"
#include "ork/sys/Epoll.h"
#include "ork/metrics/Exporter.h"
#include "ork/metrics/Status.h"
#include "ork/sys/SdNotify.h"
#include "ork/sys/SelfProtect.h"
#include "ork/sys/Sysconf.h"

#ifndef ORK_VERSION
#define ORK_VERSION "0.0.0"
#endif

namespace ork::daemon {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// A table refresh that fails is retried after this, doubling up to kScanRetryMax.
constexpr Nanos kScanRetry = Millis{100};
constexpr Nanos kScanRetryMax = Seconds{10};
// A table pass's listing cannot be cut (one read of cgroup.procs, ~15 ms for 10,000
// processes): a memory sample due within this is taken before a step.
constexpr Nanos kStepBudget = Millis{25};
// The longest the rest of a step may run before the loop looks at its fds again.
constexpr Nanos kStepSlice = Millis{5};
// How long a stop waits for the VMs ORK froze to be resumed, beyond libvirt's deadline.
constexpr Nanos kStopGrace = Seconds{3};
// Epoll tags: the part's index + 1 in the top 16 bits, the part's own tag below.
constexpr std::uint64_t kTagSignal = 0;
constexpr int kPartShift = 48;
constexpr std::uint64_t kPartMask = (std::uint64_t{1} << kPartShift) - 1;

// An errno as its name ("EACCES"), for the journal's closed-set words.
const char* errnoName(int code) {
  const char* name = code != 0 ? ::strerrorname_np(code) : nullptr;
  return name != nullptr ? name : "unknown";
}

// A part's view of the loop's epoll: its tags, tagged with its index.
class PartPoller final : public sys::Poller {
 public:
  PartPoller(sys::Epoll* epoll, std::size_t index) : epoll_(epoll), prefix_((index + 1) << kPartShift) {}
  Result<void> add(int fd, std::uint32_t events, std::uint64_t tag) override {
    return epoll_->add(fd, events, prefix_ | (tag & kPartMask));
  }
  Result<void> remove(int fd) override { return epoll_->remove(fd); }

 private:
  sys::Epoll* epoll_;
  std::uint64_t prefix_;
};
}  // namespace

struct Daemon::State {
  Options options;
  config::Config cfg;
  ladder::RunOptions run;
  sys::MonotonicClock clock;
  sys::Epoll epoll;
  // Declared before the parts, so destroyed after them: a lane unregisters its fds on
  // destruction.
  std::vector<std::unique_ptr<PartPoller>> pollers;
  sys::UniqueFd signalFd;
  sense::UserNames users;
  std::unique_ptr<sense::ProcessTable> table;
  journal::Journal journal;
  sys::SelfProtection protection;
  ladder::Services services;

  std::unique_ptr<ladder::VmFleet> fleet;
  std::vector<std::unique_ptr<ladder::Ladder>> ladders;
  ladder::MemoryLadder* memory = nullptr;
  std::vector<ladder::Part*> parts;  // the fleet, the ladders, the recorder, metrics, status

  // What ORK shows of itself (daemon/Observe.h): [metrics] and `ork status`.
  std::unique_ptr<metrics::Activity> activity;
  std::unique_ptr<Observer> observer;
  std::unique_ptr<metrics::Exporter> exporter;
  std::unique_ptr<metrics::StatusServer> status;
  // systemd's notification socket and watchdog (disabled outside systemd), and ORK's
  // own watchdog thread (daemon/Watchdog.h).
  sys::SdNotify notify;
  bool notifyWarned = false;
  std::unique_ptr<Watchdog> watchdog;
  void tellSystemd(std::string_view message, TimePoint now);
  void notifyFailed(const Error& e, TimePoint now);
  std::unique_ptr<recorder::Recorder> recorder;  // the flight recorder; null when off

  // The table's refresh, and its failures (said once, retried with back-off).
  TimePoint scanRetryAt;
  Nanos scanBackoff{0};
  std::string scanError;
  // The next periodic state line (journal.report_interval_s; never when 0).
  TimePoint reportAt{Nanos::max()};

  void tablePassed(TimePoint now) {
    for (auto* p : parts) p->onTablePass(now);
  }
  bool refreshDue(TimePoint now) const;
  void stepTable(TimePoint now);
  void scheduleReport(TimePoint now) {
    const Nanos every = cfg.seconds(Key::JournalReportIntervalS);
    reportAt = every > Nanos{0} ? now + every : TimePoint{Nanos::max()};
  }
  void report(TimePoint now);
  void reload(TimePoint now);
  void stop(TimePoint now, int sig);
};

Daemon::Daemon() : s_(std::make_unique<State>()) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::create(const Options& options, const config::Config& cfg) {
  std::unique_ptr<Daemon> d(new Daemon());
  State& s = *d->s_;
  s.options = options;
  s.cfg = cfg;
  s.run.dryRun = options.dryRun;
  s.run.cgroupDir = options.cgroupDir;
  s.run.procRoot = options.procRoot;

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
  // The watchdog thread's own sensor on the same domain (its own fds and buffers).
  auto wdMemory = options.cgroupDir.empty()
                      ? sense::MemorySensor::openHost(options.procRoot, cfg.flag(Key::MemoryCountZfsArc))
                      : sense::MemorySensor::openCgroup(options.cgroupDir, options.procRoot);
  if (!wdMemory) return wdMemory.error();
  Watchdog::Options wopts;
  wopts.dryRun = options.dryRun;
  wopts.kmsgPath = options.kmsgPath;
  wopts.mirrorStderr = options.mirrorStderr;
  wopts.procRoot = options.procRoot;
  auto watchdog = Watchdog::create(wopts, std::move(*wdMemory));
  if (!watchdog) return watchdog.error();
  s.watchdog = std::move(*watchdog);
  // systemd's socket: read from the environment, which is then cleared (ork-virt must
  // not inherit it). Unusable is said, and ORK runs on without it.
  auto notify = sys::SdNotify::fromEnvironment();
  if (notify) {
    s.notify = std::move(*notify);
  } else {
    Line w("warning");
    w.word("what", "sd_notify_unavailable").str("detail", notify.error().what);
    s.journal.write(w, Priority::Warning, TimePoint{});
  }

  s.users.load(options.passwdPath);
  sense::ProcessTable::Options topts;
  topts.procRoot = options.procRoot;
  topts.cgroupDir = options.cgroupDir;
  topts.selfPid = sys::selfPidIn(options.procRoot.c_str());
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

  s.services.options = &s.run;
  s.services.cfg = &s.cfg;
  s.services.clock = &s.clock;
  s.services.journal = &s.journal;
  s.services.table = s.table.get();
  s.services.users = &s.users;
  State* sp = &s;
  s.services.tablePassed = [sp](TimePoint now) { sp->tablePassed(now); };

  // The wiring: the VM service, then one ladder per resource.
  s.fleet = std::make_unique<ladder::VmFleet>(s.services, ladder::VmFleet::virtLanes(s.cfg, options.dryRun),
                                              options.dryRun ? std::string() : options.stateDir);
  s.services.vms = s.fleet.get();
  auto mem = std::make_unique<ladder::MemoryLadder>(s.services, std::move(*memory));
  s.memory = mem.get();
  mem->setWatchdogFeed(&s.watchdog->feed());
  s.ladders.push_back(std::move(mem));
  // The CPU is sensed host-wide (it is the host that stalls); --cgroup limits who may be
  // frozen or killed.
  auto cpu = sense::CpuSensor::open(options.procRoot);
  if (!cpu) return cpu.error();
  s.ladders.push_back(std::make_unique<ladder::CpuLadder>(s.services, std::move(*cpu)));
  // Disks: every real filesystem (statvfs off the loop); --cgroup limits who may be stopped.
  s.ladders.push_back(std::make_unique<ladder::DiskLadder>(s.services));
  // I/O: the host's disks and PSI io (it is the host that stalls); --cgroup limits who may be stopped.
  if (auto io = sense::IoSensor::open(options.procRoot, "/sys")) s.ladders.push_back(std::make_unique<ladder::IoLadder>(s.services, std::move(*io)));
  // Network: ARP/ND on the namespace's interfaces (network.enabled; off by default).
  s.ladders.push_back(std::make_unique<ladder::NetworkLadder>(s.services));

  s.parts.push_back(s.fleet.get());
  for (auto& l : s.ladders) s.parts.push_back(l.get());
  // The flight recorder: what the ladders sensed (their state fields) each second.
  if (cfg.flag(Key::RecorderEnabled)) {
    recorder::RecorderOptions ro;
    ro.dir = cfg.recorderDir;
    ro.sizeBytes = static_cast<std::uint64_t>(cfg.count(Key::RecorderSizeMib)) << 20;
    ro.procRoot = options.procRoot;
    s.recorder = std::make_unique<recorder::Recorder>(s.services, std::move(ro), [sp](ladder::Readings& r) {
      for (auto& lad : sp->ladders) lad->readings(r);
    }, [sp](std::vector<ladder::SpaceReading>& out) {
      for (auto& lad : sp->ladders) lad->spaces(out);
    });
    s.parts.push_back(s.recorder.get());
  }
  // Metrics and status: they only read the parts, and listen once the start line is out.
  // Not zero-filled (17 KiB of tables, locked once touched): an entry is written before
  // it is counted, so only the pages lines reached become resident.
  s.activity = std::make_unique_for_overwrite<metrics::Activity>();
  s.journal.setTap(&metrics::Activity::tap, s.activity.get());
  Observer::Info info;
  info.dryRun = options.dryRun;
  info.scope = options.cgroupDir;
  info.configPath = &s.options.configPath;
  info.startedAt = std::time(nullptr);
  s.observer = std::make_unique<Observer>(&s.parts, &s.ladders, s.fleet.get(), s.activity.get(), info);
  Observer* obs = s.observer.get();
  s.exporter = std::make_unique<metrics::Exporter>(&s.cfg, &s.journal, [obs] { return obs->metricsText(); });
  s.parts.push_back(s.exporter.get());
  if (!options.statusSocket.empty()) {
    s.status = std::make_unique<metrics::StatusServer>(options.statusSocket, &s.journal,
                                                       [obs](bool json) { return obs->status(json); });
    s.parts.push_back(s.status.get());
  }
  for (std::size_t i = 0; i < s.parts.size(); ++i) {
    s.pollers.push_back(std::make_unique<PartPoller>(&s.epoll, i));
    s.parts[i]->attach(s.pollers.back().get());
  }
  return d;
}

bool Daemon::State::refreshDue(TimePoint now) const {
  if (now < scanRetryAt) return false;
  if (table->passInProgress() || !table->hasCompletedPass()) return true;
  Nanos maxAge = Nanos::max();
  for (auto* p : parts) maxAge = std::min(maxAge, p->tableMaxAge(now));
  return maxAge != Nanos::max() && now - table->lastPassCompleted() >= maxAge;
}

void Daemon::State::stepTable(TimePoint now) {
  // A step ends by the next memory sample, and within kStepSlice in any case, so that
  // the loop comes back to its fds and timers.
  TimePoint until = std::min(memory->nextDue(), now + kStepSlice);
  auto done = table->step(now, &clock, until);
  if (!done) {
    // Said once (and again when it changes), then retried with back-off: a scope that
    // vanished must not turn the loop into a busy one, nor flood the kernel log.
    scanBackoff = scanBackoff == Nanos{0} ? kScanRetry : std::min(kScanRetryMax, scanBackoff * 2);
    scanRetryAt = now + scanBackoff;
    if (scanError != done.error().what) {
      scanError = done.error().what;
      Line w("warning");
      w.word("what", "scan_failed").str("detail", scanError)
          .num("retry_ms", std::chrono::duration_cast<Millis>(scanBackoff).count());
      journal.write(w, Priority::Warning, now);
    }
    return;
  }
  if (!scanError.empty()) {
    Line w("warning_cleared");
    w.word("what", "scan_failed");
    journal.write(w, Priority::Info, now);
    scanError.clear();
  }
  scanBackoff = Nanos{0};
  scanRetryAt = TimePoint{};
  if (*done) tablePassed(clock.now());
}

// The periodic state line: what ORK sees now, so that a quiet ORK is seen alive.
void Daemon::State::report(TimePoint now) {
  Line l("state");
  for (auto& lad : ladders) lad->state(l);
  fleet->describe(l);
  journal.write(l, Priority::Info, now);
  scheduleReport(now);
}

// One sd_notify message; a failure is said once (systemd then restarts ORK when its
// watchdog runs out, which is the right outcome for a loop nobody can hear).
void Daemon::State::tellSystemd(std::string_view message, TimePoint now) {
  if (auto r = notify.send(message); !r) notifyFailed(r.error(), now);
}

void Daemon::State::notifyFailed(const Error& e, TimePoint now) {
  if (notifyWarned) return;
  notifyWarned = true;
  Line w("warning");
  w.word("what", "sd_notify_failed").str("detail", e.what);
  journal.write(w, Priority::Warning, now);
}

void Daemon::State::reload(TimePoint now) {
  Line l("reload");
  const std::string path = options.configPath.empty() ? options.configDefault : options.configPath;
  if (path.empty()) {
    l.word("result", "unchanged").str("detail", "no configuration file: the compiled-in defaults stay");
    journal.write(l, Priority::Notice, now);
    return;
  }
  std::vector<config::ConfigError> errors;
  config::Config fresh = config::Config::load(path, errors);
  // The default file absent (never created, or removed): the compiled-in defaults.
  const bool absentDefault = path == options.configDefault && errors.size() == 1 && errors[0].line == 0 &&
                             errors[0].code == ENOENT;
  if (absentDefault && options.configPath.empty()) {
    l.word("result", "unchanged").str("detail", "no configuration file (" + path + "): the compiled-in defaults stay");
    journal.write(l, Priority::Notice, now);
    return;
  }
  if (absentDefault) {
    errors.clear();
    fresh = config::Config();
  }
  l.str("file", absentDefault ? "none" : path);
  if (!errors.empty()) {
    char where[32] = "";
    if (errors.front().line > 0) std::snprintf(where, sizeof where, "line %d: ", errors.front().line);
    l.word("result", "failed").str("error", std::string(where) + errors.front().message)
        .num("errors", static_cast<std::int64_t>(errors.size())).word("kept", "previous");
    journal.write(l, Priority::Warning, now);
    return;
  }
  cfg = std::move(fresh);  // in place: every part holds a pointer to it
  options.configPath = absentDefault ? std::string() : path;
  for (auto* p : parts) p->reconfigure(now);
  scheduleReport(now);
  // What is in force now, as the start line says it.
  l.word("result", "ok");
  for (auto& lad : ladders) lad->describe(l);
  fleet->describe(l);
  journal.write(l, Priority::Notice, now);
  for (auto& lad : ladders) lad->announce(now);
}

void Daemon::State::stop(TimePoint now, int sig) {
  tellSystemd("STOPPING=1", now);
  // The loop is about to wait on the VMs' thaw only: no more watchdog kills.
  watchdog->stop();
  for (auto* p : parts) p->stop(now);
  // Wait, bounded, for the VMs ORK froze to be resumed (libvirt answers every request
  // by its deadline plus the lane's grace; a cgroup thaw within a second).
  TimePoint until = now + cfg.millis(Key::VmCallDeadlineMs) + kStopGrace;
  std::array<epoll_event, 8> events{};
  while (!fleet->settled() && clock.now() < until) {
    TimePoint t = clock.now();
    Nanos wait = std::clamp(fleet->nextDue() - t, Nanos{0}, Nanos{Millis{100}});
    auto n = epoll.wait(events.data(), static_cast<int>(events.size()), wait);
    if (!n) break;
    t = clock.now();
    for (int i = 0; i < *n; ++i) {
      std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
      if ((tag >> kPartShift) == 1) fleet->onReady(tag & kPartMask, t);
    }
    if (t >= fleet->nextDue()) fleet->onTimer(t);
  }
  Line l("stop");
  l.num("signal", sig);
  // How well the loop kept its promise: the longest time between two memory samples,
  // and the most a sample came later than planned.
  l.num("longest_sample_gap_us", std::chrono::duration_cast<Micros>(memory->longestGap()).count())
      .num("latest_sample_late_us", std::chrono::duration_cast<Micros>(memory->worstLateness()).count());
  if (!fleet->settled()) l.str("detail", "some VMs ORK froze could not be resumed in time: see the thaw lines");
  journal.write(l, Priority::Notice, clock.now());
}

int Daemon::run() {
  State& s = *s_;
  TimePoint now = s.clock.now();
  // ORK's own oom_score_adj is in this host's /proc, never in a --proc fixture.
  if (s.options.protectSelf) s.protection = sys::protectSelf("/proc");

  // The candidate table's first pass, whole, before the first memory sample (the loop
  // would start with it anyway): the start line can say how many VMs there are, and the
  // loop's first sample is not kept waiting behind it. A pass that fails is retried, and
  // said, by the loop.
  const bool firstPass = s.table->refreshAll(now).ok();
  if (firstPass) s.fleet->survey();
  now = s.clock.now();
  for (auto& l : s.ladders) {
    if (auto r = l->open(now); !r) {
      std::fprintf(stderr, "ork: %s: %s\n", l->name(), r.error().what);
      return 1;
    }
  }
  Line start("start");
  start.word("version", ORK_VERSION).flag("dry_run", s.options.dryRun);
  start.str("config", s.options.configPath.empty() ? "none" : s.options.configPath);  // the file in use
  for (auto& l : s.ladders) l->describe(start);
  // What ORK could do to protect itself, and why not (the errno's name).
  start.flag("self_protect", s.options.protectSelf).flag("mlocked", s.protection.locked);
  if (s.options.protectSelf && !s.protection.locked) start.word("mlock_errno", errnoName(s.protection.lockError.code));
  start.flag("oom_exempt", s.protection.oomExempt);
  if (s.options.protectSelf && !s.protection.oomExempt)
    start.word("oom_adj_errno", errnoName(s.protection.oomError.code));
  // The VMs of the first pass, and libvirt as it is (not as configured): asked only
  // once there are VMs, it answers after the start line (libvirt_connected, or a
  // warning what=libvirt_unavailable).
  s.fleet->describe(start);
  if (s.recorder) s.recorder->describe(start);
  else start.word("recorder", "off");
  s.journal.write(start, Priority::Notice, now);
  for (auto& l : s.ladders) l->announce(now);
  if (s.recorder) s.recorder->open(now);
  s.watchdog->beat(s.clock.now());
  if (auto r = s.watchdog->start(); !r) {
    Line w("warning");
    w.word("what", "watchdog_unavailable").str("detail", r.error().what);
    s.journal.write(w, Priority::Warning, now);
  }
  s.tellSystemd("READY=1", now);
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
  s.fleet->restore(now);
  s.exporter->start(now);
  if (s.status) s.status->start(now);
  // The parts hear of the first pass after the start line (the fleet's vm_found lines).
  if (firstPass) s.tablePassed(now);
  s.scheduleReport(now);
  // Start-up is over: its code pages go, later faults bring in one page each (not 64
  // KiB around it), and the kill path runs once so that its pages are in and locked.
  if (s.protection.lockedOnFault) {
    sys::CodeTrim trim = sys::trimCodePages();
    s.memory->rehearse(s.clock.now());
    if (trim.error.what[0] != '\0') {
      Line w("warning");
      w.word("what", "code_trim_failed").str("detail", trim.error.what)
          .str("consequence", "more of ORK's binary stays resident");
      s.journal.write(w, Priority::Warning, s.clock.now());
    }
  }

  std::array<epoll_event, 16> events{};
  for (;;) {
    now = s.clock.now();
    bool refreshDue = s.refreshDue(now);
    TimePoint wakeAt{Nanos::max()};
    for (auto* p : s.parts) wakeAt = std::min(wakeAt, p->nextDue());
    if (s.scanRetryAt > now) wakeAt = std::min(wakeAt, s.scanRetryAt);
    wakeAt = std::min(wakeAt, s.reportAt);
    // The loop turns at least every Watchdog::kBeatEvery (the watchdog thread's
    // heartbeat) and in time for systemd's watchdog.
    Nanos timeout = refreshDue ? Nanos{0} : std::clamp(wakeAt - now, Nanos{0}, Nanos{Watchdog::kBeatEvery});
    timeout = std::min(timeout, s.notify.pingSlack(now));
    auto n = s.epoll.wait(events.data(), static_cast<int>(events.size()), timeout);
    if (!n) {
      std::fprintf(stderr, "ork: %s\n", n.error().what);
      return 1;
    }
    now = s.clock.now();
    // The loop is turning: both watchdogs hear it (systemd's at most every half interval).
    s.watchdog->beat(now);
    if (auto p = s.notify.ping(now); !p) s.notifyFailed(p.error(), now);
    for (int i = 0; i < *n; ++i) {
      std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
      if (tag == kTagSignal) {
        int sig = sys::readSignal(s.signalFd.get());
        if (sig == SIGTERM || sig == SIGINT) {
          s.stop(now, sig);
          return 0;
        }
        if (sig == SIGHUP) {
          // systemd (Type=notify, ExecReload) is told that a reload runs, and when it is
          // over; MONOTONIC_USEC is what Type=notify-reload (systemd 253+) wants too.
          char msg[64];
          std::snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%lld",
                        static_cast<long long>(std::chrono::duration_cast<Micros>(now.sinceOrigin).count()));
          s.tellSystemd(msg, now);
          s.reload(now);
          s.tellSystemd("READY=1", s.clock.now());
        }
        continue;
      }
      std::size_t part = static_cast<std::size_t>(tag >> kPartShift);
      if (part >= 1 && part <= s.parts.size()) s.parts[part - 1]->onReady(tag & kPartMask, now);
    }
    // The memory ladder first: its sample is the one that must never wait.
    if (s.clock.now() >= s.memory->nextDue()) s.memory->onTimer(s.clock.now());
    for (auto* p : s.parts)
      if (p != s.memory && s.clock.now() >= p->nextDue()) p->onTimer(s.clock.now());
    if (refreshDue) {
      // A step may take a while (a pass's listing of a 10,000-process cgroup reads
      // cgroup.procs for ~15 ms): a memory sample due before it would end is taken
      // first, early rather than late.
      TimePoint t = s.clock.now();
      if (s.memory->nextDue() - t < kStepBudget) s.memory->onTimer(t);
      s.stepTable(s.clock.now());
    }
    if (s.clock.now() >= s.reportAt) s.report(s.clock.now());
    if (s.recorder) s.recorder->onLoopTurn(s.clock.now());
    // Counts of lines the journal's bound dropped, once it lets them be said.
    s.journal.flush(s.clock.now());
  }
}

}  // namespace ork::daemon
