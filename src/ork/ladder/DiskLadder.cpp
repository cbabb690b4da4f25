#include "ork/ladder/DiskLadder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/Common.h"
#include "ork/sense/ProcessTable.h"

namespace ork::ladder {

using config::Key;
using journal::Line;
using journal::Priority;
using policy::DiskLevel;

namespace {
constexpr Nanos kMountsEvery = Seconds{60};
constexpr Nanos kMountsCoalesce = Seconds{1};
// At most this many statvfs workers left stuck in a hung mount: past it, the mounts
// still unanswered stay skipped rather than costing another thread each.
constexpr int kMaxStuckProbes = 4;

std::string humanBytes(Bytes b) {
  char buf[32];
  double v = static_cast<double>(b.value);
  const char* unit = "B";
  for (const char* u : {"KiB", "MiB", "GiB", "TiB"}) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  std::snprintf(buf, sizeof buf, "%.1f %s", v, unit);
  return buf;
}
}  // namespace

namespace {
// The daemon's space source: statvfs on sys::FsProbe's worker thread.
class ProbeSpace final : public SpaceSource {
 public:
  Result<int> start() override { return p_.start(); }
  int eventFd() const override { return p_.eventFd(); }
  bool request(const std::string& path, TimePoint now) override { return p_.request(path, now); }
  std::vector<sys::FsProbe::Answer> take() override { return p_.take(); }
  bool pending(const std::string& path) const override { return p_.pending(path); }
  bool inFlight(const std::string& path) const override { return p_.inFlight(path); }

 private:
  sys::FsProbe p_;
};
}  // namespace

DiskLadder::DiskLadder(const Services& services, std::string sysRoot, Hooks hooks)
    : s_(services), sysRoot_(std::move(sysRoot)), hooks_(std::move(hooks)) {
  killer_ = std::make_unique<act::Killer>(&sense::ProcessTable::recheckThunk, s_.table);
}

DiskLadder::~DiskLadder() = default;

bool DiskLadder::enabled() const { return s_.cfg->flag(Key::DiskEnabled); }

void DiskLadder::startProbe() {
  if (probe_ && poller_ != nullptr && probe_->eventFd() >= 0) (void)poller_->remove(probe_->eventFd());
  probe_ = hooks_.space ? hooks_.space() : std::make_unique<ProbeSpace>();
  auto fd = probe_->start();
  if (fd && poller_ != nullptr) (void)poller_->add(*fd, EPOLLIN, kTagProbe);
  if (!fd) openWarning_ = fd.error().what;
  for (auto& f : fs_) f.asked = false;  // the new probe is asked afresh
}

Result<void> DiskLadder::open(TimePoint now) {
  if (!enabled()) return success();
  startProbe();
  auto j = jobs_.start();
  if (j) {
    jobsStarted_ = true;
    if (poller_ != nullptr) (void)poller_->add(*j, EPOLLIN, kTagJobs);
  } else {
    openWarning_ = j.error().what;
  }
  if (!act::openat2Supported()) openWarning_ = "openat2 unsupported (Linux < 5.6): step 1 cleans nothing";
  if (!mountsWatched_ && poller_ != nullptr) {
    const std::string path = s_.options->procRoot + "/self/mountinfo";
    mountsFd_ = sys::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    mountsWatched_ = mountsFd_.valid() && poller_->add(mountsFd_.get(), EPOLLPRI, kTagMounts);
    if (!mountsWatched_) mountsFd_ = sys::UniqueFd();
  }
  readMounts(now);
  return success();
}

void DiskLadder::readMounts(TimePoint now) {
  mountsReadAt_ = now;
  mountsChangedDue_ = TimePoint{Nanos::max()};
  auto list = sense::listFilesystems(s_.options->procRoot, sysRoot_, s_.cfg->disk);
  if (!list) {
    if (!mountsError_) {
      Line w("warning");
      w.word("what", "disk_mounts_unreadable").str("detail", list.error().what);
      s_.journal->write(w, Priority::Warning, now);
      mountsError_ = true;
    }
    return;
  }
  mountsError_ = false;
  std::vector<Fs> next;
  for (auto& w : *list) {
    Fs f;
    dev_t dev = makedev(w.major, w.minor);
    auto old = std::find_if(fs_.begin(), fs_.end(), [&](const Fs& o) { return o.dev == dev && o.w.mountPoint == w.mountPoint; });
    if (old != fs_.end()) {
      f = std::move(*old);
      f.w = std::move(w);
    } else {
      f.w = std::move(w);
      f.dev = dev;
      f.nextAt = now;
    }
    next.push_back(std::move(f));
  }
  fs_ = std::move(next);
}

void DiskLadder::describe(journal::Line& start) const {
  start.flag("disk", enabled());
  if (enabled()) start.num("disk_filesystems", static_cast<std::int64_t>(fs_.size()));
}

void DiskLadder::announce(TimePoint now) {
  if (!openWarning_.empty()) {
    Line w("warning");
    w.word("what", "disk_degraded").str("detail", openWarning_);
    s_.journal->write(w, Priority::Warning, now);
  }
}

void DiskLadder::spaces(std::vector<SpaceReading>& out) const {
  if (!enabled()) return;
  for (const Fs& f : fs_)
    if (f.sampled && !f.unresponsive) out.push_back({f.w.mountPoint, f.last.available.toKib(), f.last.total.toKib()});
}

TimePoint DiskLadder::nextDue() const {
  TimePoint t{Nanos::max()};
  if (!enabled()) return t;
  t = mountsWatched_ ? mountsChangedDue_ : mountsReadAt_ + kMountsEvery;
  Nanos deadline = s_.cfg->millis(Key::DiskProbeDeadlineMs);
  for (const auto& f : fs_) {
    if (f.unresponsive) continue;
    t = std::min(t, f.asked ? f.askedAt + deadline : f.nextAt);
  }
  return t;
}

void DiskLadder::onTimer(TimePoint now) {
  if (!enabled()) return;
  if (mountsWatched_ ? now >= mountsChangedDue_ : now >= mountsReadAt_ + kMountsEvery) readMounts(now);
  if (!probe_) return;
  Nanos deadline = s_.cfg->millis(Key::DiskProbeDeadlineMs);
  bool replace = false;
  for (auto& f : fs_) {
    if (f.unresponsive) continue;
    if (f.asked) {
      if (now - f.askedAt < deadline) continue;
      if (!probe_->pending(f.w.mountPoint)) {
        f.asked = false;  // answered; the answer is on its way through the eventfd
        continue;
      }
      if (!probe_->inFlight(f.w.mountPoint) && stuckProbes_ < kMaxStuckProbes) {
        // Only queued behind another mount's statvfs: not this one's fault. Its wait
        // starts again; the one in flight is judged at its own deadline, and a new
        // worker then asks this one afresh.
        f.askedAt = now;
        continue;
      }
      // Said once: it stays skipped until it is unmounted and mounted again (or ORK restarts).
      f.unresponsive = true;
      Line l("disk_unresponsive");
      l.word("reason", toString(Reason::DiskUnresponsive))
          .str("mount", f.w.mountPoint)
          .str("fstype", f.w.fsType)
          .num("waited_ms", msBetween(f.askedAt, now));
      s_.journal->write(l, Priority::Warning, now);
      replace = true;
      continue;
    }
    if (now >= f.nextAt) {
      f.asked = probe_->request(f.w.mountPoint, now) || probe_->pending(f.w.mountPoint);
      f.askedAt = now;
    }
  }
  if (replace && stuckProbes_ < kMaxStuckProbes) {
    // The worker is stuck in that statvfs: the other mounts get a new one.
    ++stuckProbes_;
    startProbe();
    for (auto& f : fs_)
      if (!f.unresponsive) f.nextAt = std::min(f.nextAt, now);
  }
}

void DiskLadder::onReady(std::uint64_t tag, TimePoint now) {
  if (tag == kTagMounts) {  // the mount table changed (polling the file cleared the flag)
    if (enabled()) mountsChangedDue_ = std::min(mountsChangedDue_, std::max(now, mountsReadAt_ + kMountsCoalesce));
    return;
  }
  if (tag == kTagProbe && probe_) {
    for (auto& a : probe_->take()) {
      for (auto& f : fs_) {
        if (f.w.mountPoint != a.path || f.unresponsive) continue;
        f.asked = false;
        if (!a.space) {
          f.nextAt = now + s_.cfg->seconds(Key::DiskIntervalS);
          continue;
        }
        onSample(f, *a.space, now);
      }
    }
    return;
  }
  if (tag == kTagJobs) {
    (void)jobs_.drain();
    return;
  }
  if (tag >= kTagVictim) {
    int slot = static_cast<int>(tag - kTagVictim);
    killer_->forEachWaiting([&](int fd, int s) {
      if (s == slot && poller_ != nullptr) (void)poller_->remove(fd);
    });
    if (killer_->onExited(slot)) killLatency_.observe(now - killedAt_);
  }
}

void DiskLadder::onSample(Fs& f, const sys::FsSpace& space, TimePoint now) {
  const config::Config& cfg = *s_.cfg;
  policy::FsSample smp{space.available, space.total, space.freeInodes, space.totalInodes, now};
  f.fill.update(smp);
  f.last = smp;
  f.sampled = true;
  f.t = policy::diskThresholds(f.w.diskClass, f.w.mountPoint, space.total, space.totalInodes, cfg);
  policy::DiskVerdict v = policy::judgeDisk(smp, f.t, cfg);
  f.nextAt = now + policy::nextDiskInterval(smp, f.t, f.fill, cfg);

  if (v.level != DiskLevel::Ok && f.level == DiskLevel::Ok) {
    f.episodeStart = now;
    f.cleanedThisEpisode = false;
    f.stopped = 0;
  }
  if (v.level > f.level) {
    Line l("disk_pressure");
    l.word("reason", toString(v.level == DiskLevel::BelowHard ? Reason::DiskBelowHard : Reason::DiskBelowSoft))
        .str("mount", f.w.mountPoint)
        .word("class", policy::toString(f.w.diskClass))
        .kib("free_kib", smp.available)
        .kib("soft_kib", f.t.softBytes)
        .kib("hard_kib", f.t.hardBytes);
    if (smp.totalInodes > 0) l.num("free_inodes", static_cast<std::int64_t>(smp.freeInodes)).num("soft_inodes", static_cast<std::int64_t>(f.t.softInodes));
    if (auto ttf = f.fill.secondsToFull(smp)) l.num("full_in_s", static_cast<std::int64_t>(*ttf));
    s_.journal->write(l, Priority::Warning, now);
  }
  if (v.level == DiskLevel::Ok && f.level != DiskLevel::Ok) {
    Line l("disk_recovered");
    l.word("reason", toString(Reason::DiskRecovered))
        .str("mount", f.w.mountPoint)
        .kib("free_kib", smp.available)
        .num("stopped", f.stopped)
        .num("duration_ms", msBetween(f.episodeStart, now));
    s_.journal->write(l, Priority::Info, now);
    resumeVms(f, now);
    scans_.erase(f.dev);
  }
  f.level = v.level;
  if (v.level == DiskLevel::Ok) return;

  // Step 1: the known places, once per interval while below soft.
  if (!f.cleaning && now >= f.cleanAgainAt) clean(f, v, now);
  // Step 2 prepares while below soft (a first writer scan is the baseline of the
  // rates) and acts below hard while the filesystem is still filling.
  bool forInodes = v.hardInodes && !v.hardBytes;
  if (v.level == DiskLevel::BelowHard && !f.fill.filling(forInodes)) return;
  if (!scanning_ && now >= f.stopAgainAt) scanWriters(f, now);
}

void DiskLadder::clean(Fs& f, const policy::DiskVerdict& v, TimePoint now) {
  (void)now;
  if (!jobsStarted_) return;
  auto job = std::make_shared<act::CleanJob>();
  job->places = s_.cfg->disk.clean;
  job->device = f.dev;
  job->needBytes = v.needBytes;
  job->needInodes = v.needInodes;
  job->dryRun = s_.options->dryRun;
  job->procRoot = s_.options->procRoot;
  auto report = std::make_shared<act::CleanReport>();
  f.cleaning = true;
  dev_t dev = f.dev;
  std::string mount = f.w.mountPoint;
  jobs_.post([job, report] { *report = act::cleanPlaces(*job); },
             [this, report, dev, mount, job] {
               TimePoint at = s_.clock->now();
               for (const auto& r : report->files) {
                 Line l("disk_clean");
                 l.str("mount", mount).str("path", r.path).kib("kib", r.bytes).word("action", r.action);
                 if (!r.detail.empty()) l.str("detail", r.detail);
                 if (r.err != 0) l.num("errno", r.err);
                 l.flag("dry_run", job->dryRun);
                 s_.journal->write(l, r.action == "refused" || r.action == "failed" ? Priority::Warning : Priority::Info, at);
               }
               for (auto& f2 : fs_) {
                 if (f2.dev != dev) continue;
                 f2.cleaning = false;
                 f2.cleanedThisEpisode = true;
                 f2.cleanAgainAt = at + s_.cfg->seconds(Key::DiskIntervalS);
                 if (report->freed.value > 0) f2.nextAt = at;  // look again at once
               }
             });
}

void DiskLadder::scanWriters(Fs& f, TimePoint now) {
  if (!jobsStarted_) return;
  (void)now;
  scanning_ = true;
  auto out = std::make_shared<std::vector<sense::WriterSample>>();
  std::string procRoot = s_.options->procRoot;
  dev_t dev = f.dev;
  jobs_.post([out, procRoot, dev] { *out = sense::scanWriters(procRoot, dev); },
             [this, out, dev] {
                            scanning_ = false;
               TimePoint at = s_.clock->now();
               for (std::size_t i = 0; i < fs_.size(); ++i)
                 if (fs_[i].dev == dev) stopWriter(i, *out, at);
               Scan& s = scans_[dev];
               s.procs = std::move(*out);
               s.at = at;
             });
}

void DiskLadder::stopWriter(std::size_t idx, const std::vector<sense::WriterSample>& scan, TimePoint now) {
  Fs& f = fs_[idx];
  auto prev = scans_.find(f.dev);
  if (prev == scans_.end() || f.level != DiskLevel::BelowHard) return;  // a baseline, or not needed any more
  policy::DiskVerdict v = policy::judgeDisk(f.last, f.t, *s_.cfg);
  bool forInodes = v.hardInodes && !v.hardBytes;
  if (!f.fill.filling(forInodes)) return;
  double dt = std::chrono::duration<double>(now - prev->second.at).count();
  if (dt <= 0) return;
  bool noStorageCounters = major(f.dev) == 0;  // tmpfs and the like: write_bytes stays 0
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  sense::ProcessTable& table = *s_.table;
  (void)table.addNewcomers(now);
  auto entries = table.mutableEntries();
  auto entryOf = [&](int pid) -> ProcessInfo* {
    auto it = std::lower_bound(entries.begin(), entries.end(), pid, [](const ProcessInfo& p, int x) { return p.pid < x; });
    return it != entries.end() && it->pid == pid ? &*it : nullptr;
  };
  std::vector<policy::WriterCandidate> cands;
  std::vector<const sense::WriterSample*> who;
  const auto& before = prev->second.procs;
  for (const auto& w : scan) {
    if (!(w.writesThere || (forInodes && w.worksThere))) continue;
    const sense::WriterSample* old = nullptr;
    for (const auto& o : before)
      if (o.pid == w.pid && o.startTime == w.startTime) old = &o;
    policy::WriterCandidate c;
    c.pid = w.pid;
    std::uint64_t wb0 = old ? old->writeBytes : 0, wc0 = old ? old->wchar : 0, sc0 = old ? old->syscw : 0, tk0 = old ? old->cpuTicks : 0;
    // A counter read lower than before (an unreadable io file read as zeros) counts 0.
    auto grew = [](std::uint64_t now, std::uint64_t then) { return static_cast<double>(now > then ? now - then : 0); };
    double bytes = noStorageCounters ? grew(w.wchar, wc0) : grew(w.writeBytes, wb0);
    if (!noStorageCounters && w.writeBytes == wb0) bytes = grew(w.wchar, wc0);
    c.bytesPerSecond = bytes / dt;
    c.opsPerSecond = (grew(w.syscw, sc0) + grew(w.cpuTicks, tk0) / ticks * 1000) / dt;
    ProcessInfo* e = entryOf(w.pid);
    c.isVm = false;
    if (s_.vms != nullptr)
      for (const auto& vm : s_.vms->all())
        if (vm.pid == w.pid) c.isVm = true;
    c.eligible = e != nullptr && (c.isVm ? !e->leaveAlone && e->state != 'X' : policy::writerEligible(*e));
      cands.push_back(c);
    who.push_back(&w);
  }
  int pick = policy::chooseWriter(cands, forInodes);
  if (pick < 0) {
    Line l("no_candidate");
    l.word("reason", toString(Reason::DiskBelowHard)).str("mount", f.w.mountPoint).num("writers", static_cast<std::int64_t>(cands.size()));
    s_.journal->write(l, Priority::Warning, now);
    f.stopAgainAt = now + s_.cfg->seconds(Key::DiskIntervalS);
    return;
  }
  const policy::WriterCandidate& c = cands[static_cast<std::size_t>(pick)];
  f.stopAgainAt = now + s_.cfg->seconds(Key::DiskIntervalS);
  ++f.stopped;
  if (c.isVm) {
    for (auto& vm : s_.vms->all()) {
      if (vm.pid != c.pid) continue;
      Line l("disk_stop");
      s_.vms->fields(l, vm);
      l.word("reason", toString(Reason::DiskBelowHard)).str("mount", f.w.mountPoint).word("action", "suspend")
          .num("write_kib_per_s", static_cast<std::int64_t>(c.bytesPerSecond / 1024)).kib("free_kib", f.last.available);
      s_.journal->write(l, Priority::Warning, now);
      if (s_.vms->freeze(vm, Reason::DiskBelowHard, now)) suspended_.emplace_back(vm.pid, f.dev);
      return;
    }
  }
  ProcessInfo* e = entryOf(c.pid);
  if (e == nullptr) return;
  // The writer's group (a pool of one program, or a burst of writing siblings).
  std::vector<int> writing;
  for (const auto& o : cands) {
    double r = forInodes ? o.opsPerSecond : o.bytesPerSecond;
    ProcessInfo* oe = entryOf(o.pid);
    if (r > 0 && !o.isVm && oe != nullptr) writing.push_back(static_cast<int>(oe - entries.data()));
  }
  std::array<int, act::Killer::kMaxMembers> memberIdx{};
  policy::Group group = policy::Group::Process;
  int n = policy::writerGroup(entries, static_cast<int>(e - entries.data()), writing, static_cast<long>(ticks), memberIdx.data(),
                              act::Killer::kMaxMembers, &group);
  std::array<const ProcessInfo*, act::Killer::kMaxMembers> members{};
  for (int i = 0; i < n; ++i) members[static_cast<std::size_t>(i)] = &entries[static_cast<std::size_t>(memberIdx[static_cast<std::size_t>(i)])];
  if (n == 0) {
    members[0] = e;
    n = 1;
  }
  std::span<const ProcessInfo* const> victims(members.data(), static_cast<std::size_t>(n));
  auto outcome = hooks_.kill ? hooks_.kill(victims, s_.options->dryRun) : killer_->kill(victims, s_.options->dryRun, *s_.clock);
  if (outcome.outcome == Outcome::Ok) {
    killedAt_ = s_.clock->now();
    killer_->forEachWaiting([&](int fd, int slot) {
      if (poller_ != nullptr) (void)poller_->add(fd, EPOLLIN, kTagVictim + static_cast<std::uint64_t>(slot));
    });
    for (int i = 0; i < n; ++i) entries[static_cast<std::size_t>(memberIdx[static_cast<std::size_t>(i)])].state = 'X';
    e->state = 'X';
  }
  const ProcessInfo* head = members[0];
  Line l(s_.options->dryRun ? "would_kill" : "kill");  // a dry run's decision is not a kill
  l.num("pid", head->pid)
      .str("name", head->comm)
      .str("user", s_.users != nullptr && head->uidKnown ? s_.users->nameOf(head->uid) : std::string_view());
  if (head->uidKnown) l.num("uid", head->uid);
  else l.word("uid", "unknown");
  l.word("group", policy::toString(group))
      .num("members", n);
  if (head != e) l.num("writer", e->pid);
  l.str("mount", f.w.mountPoint)
      .num("write_kib_per_s", static_cast<std::int64_t>(c.bytesPerSecond / 1024))
      .num("ops_per_s", static_cast<std::int64_t>(c.opsPerSecond))
      .kib("free_kib", f.last.available);
  if (f.last.totalInodes > 0) l.num("free_inodes", static_cast<std::int64_t>(f.last.freeInodes));
  l.word("reason", toString(Reason::DiskBelowHard)).flag("dry_run", s_.options->dryRun).word("result", toString(outcome.outcome));
  if (outcome.err != 0) l.num("errno", outcome.err);
  if (n > 1) l.num("signalled", outcome.signalled);
  commandFields(l, *head);
  s_.journal->write(l, Priority::Warning, now);
  f.nextAt = now;  // see what it did
}

void DiskLadder::resumeVms(Fs& f, TimePoint now) {
  if (s_.vms == nullptr) return;
  for (auto it = suspended_.begin(); it != suspended_.end();) {
    if (it->second != f.dev) {
      ++it;
      continue;
    }
    for (auto& vm : s_.vms->all())
      if (vm.pid == it->first && vm.isFrozen() && vm.freezeWhy == Reason::DiskBelowHard) s_.vms->thaw(vm, Reason::DiskRecovered, now);
    it = suspended_.erase(it);
  }
}

void DiskLadder::reconfigure(TimePoint now) {
  if (enabled() && !probe_) {
    (void)open(now);
    return;
  }
  if (enabled()) readMounts(now);
}

void DiskLadder::stop(TimePoint now) {
  for (auto& f : fs_) resumeVms(f, now);
}

void DiskLadder::settle(Nanos limit) {
  if (!probe_) return;
  auto until = std::chrono::steady_clock::now() + limit;
  onTimer(s_.clock->now());
  while (std::chrono::steady_clock::now() < until) {
    bool waiting = false;
    for (const auto& f : fs_) waiting = waiting || (!f.sampled && !f.unresponsive);
    if (!waiting) break;
    pollfd p{probe_->eventFd(), POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      for (auto& a : probe_->take())
        for (auto& f : fs_)
          if (f.w.mountPoint == a.path && a.space) {
            // Top only shows: no step is taken from here.
            policy::FsSample smp{a.space->available, a.space->total, a.space->freeInodes, a.space->totalInodes, s_.clock->now()};
            f.last = smp;
            f.sampled = true;
            f.asked = false;
            f.t = policy::diskThresholds(f.w.diskClass, f.w.mountPoint, smp.total, smp.totalInodes, *s_.cfg);
            f.level = policy::judgeDisk(smp, f.t, *s_.cfg).level;
          }
    }
  }
}

bool DiskLadder::busy() const {
  if (jobs_.outstanding() > 0) return true;
  if (!probe_) return false;
  for (const auto& f : fs_)
    if (!f.unresponsive && probe_->pending(f.w.mountPoint)) return true;
  return false;
}

Report DiskLadder::report() const {
  Report r;
  r.title = "disk";
  if (!enabled()) {
    r.lines.emplace_back("disabled ([disk] enabled = false)");
    return r;
  }
  if (fs_.empty()) r.lines.emplace_back("no filesystem watched");
  for (const auto& f : fs_) {
    char b[512];
    if (f.unresponsive) {
      std::snprintf(b, sizeof b, "%s (%s): statvfs did not answer, skipped", f.w.mountPoint.c_str(), f.w.fsType.c_str());
      r.lines.emplace_back(b);
      continue;
    }
    if (!f.sampled) {
      std::snprintf(b, sizeof b, "%s (%s, %s): no sample yet", f.w.mountPoint.c_str(), f.w.fsType.c_str(), policy::toString(f.w.diskClass));
      r.lines.emplace_back(b);
      continue;
    }
    auto ttf = f.fill.secondsToFull(f.last);
    char full[48] = "not filling";
    if (ttf) std::snprintf(full, sizeof full, "full in %.0f s", *ttf);
    double pct = f.last.total.value > 0 ? 100.0 * static_cast<double>(f.last.available.value) / static_cast<double>(f.last.total.value) : 0;
    std::snprintf(b, sizeof b, "%s (%s, class %s): free %s of %s (%.1f %%), soft %s, hard %s; %s; %s",
                  f.w.mountPoint.c_str(), f.w.fsType.c_str(), policy::toString(f.w.diskClass), humanBytes(f.last.available).c_str(),
                  humanBytes(f.last.total).c_str(), pct, humanBytes(f.t.softBytes).c_str(), humanBytes(f.t.hardBytes).c_str(), full,
                  policy::toString(f.level));
    r.lines.emplace_back(b);
    if (f.last.totalInodes > 0) {
      std::snprintf(b, sizeof b, "  inodes free %llu of %llu, soft %llu, hard %llu", static_cast<unsigned long long>(f.last.freeInodes),
                    static_cast<unsigned long long>(f.last.totalInodes), static_cast<unsigned long long>(f.t.softInodes),
                    static_cast<unsigned long long>(f.t.hardInodes));
      r.lines.emplace_back(b);
    }
  }
  return r;
}

}  // namespace ork::ladder
