#include "ork/recorder/Recorder.h"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "ork/config/Config.h"
#include "ork/ladder/VmFleet.h"
#include "ork/parse/Kmsg.h"
#include "ork/parse/Mounts.h"
#include "ork/parse/Oom.h"
#include "ork/parse/Parsers.h"
#include "ork/policy/DiskRule.h"
#include "ork/recorder/Fields.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/RecorderFile.h"

namespace ork::recorder {

using journal::Line;
using journal::Priority;

namespace {

constexpr Nanos kTick = Seconds{1};
// A sample may be taken this early when the loop is awake anyway (onLoopTurn), and is
// due at the latest this late: the recorder rarely wakes the loop by itself.
constexpr Nanos kSlack = Millis{300};
constexpr Nanos kRetryOpen = Seconds{60};
constexpr int kDiskEveryTicks = 60;
constexpr int kMaxOutstanding = 32;     // jobs not yet done: beyond, samples are dropped
constexpr std::size_t kLargest = 5;     // the largest processes given an identity record
constexpr std::size_t kProcsSeenCap = 64;
constexpr std::size_t kMaxDisks = 32;
constexpr Nanos kVmIdentityEvery = Seconds{3600};  // VMs said again (the ring forgets)
constexpr Nanos kStopWait = Seconds{1};

std::int64_t wallNs() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::uint16_t hundredths(double pct) {
  if (!(pct >= 0)) return kUnknown16;
  return static_cast<std::uint16_t>(std::min(pct * 100 + 0.5, 10000.0));
}

// PSI avg10 of some (and full), from a file kept open (opened at the first need: the
// CPU and I/O ladders' own readings are used while they have one).
void psiAvg10(sys::KeptOpenFile& file, const std::string& path, std::uint16_t& some, std::uint16_t* full) {
  some = kUnknown16;
  if (full != nullptr) *full = kUnknown16;
  if (path.empty()) return;
  if (!file.valid()) {
    auto f = sys::KeptOpenFile::open(path, 256);
    if (!f) return;
    file = std::move(*f);
  }
  auto text = file.read();
  if (!text) return;
  auto psi = parse::parsePsi(*text);
  if (!psi) return;
  some = hundredths(psi->some.avg10);
  if (full != nullptr && psi->hasFull) *full = hundredths(psi->full.avg10);
}

void copyCut(char* dst, std::size_t cap, std::string_view src) {
  const std::size_t n = std::min(src.size(), cap - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace

bool isRecordedEvent(std::string_view e) {
  return e == "kill" || e == "would_kill" || e == "exited" || e == "hibernate" || e == "hibernated" ||
         e == "freeze" || e == "thaw" || e == "disk_clean" || e == "disk_stop" || e == "link_down" ||
         e == "would_link_down" || e == "link_up";
}

// The job thread's side: only the job thread touches it, except the atomics.
struct Recorder::Writer {
  std::optional<sys::RecorderFile> file;
  std::uint64_t seq = 0;
  std::uint64_t next[kRegionCount] = {};
  std::string bootId;
  // The open job's results (read by its finish, on the loop, after it ran).
  bool openOk = false;
  bool fresh = false;
  Error openError;
  std::uint64_t records = 0, corrupt = 0;
  std::uint64_t lastKseq = 0;
  bool haveKseq = false;
  // Writes since the start.
  std::atomic<std::uint64_t> failures{0};
  std::atomic<int> lastErrno{0};

  void open(const std::string& dir, std::uint64_t size) {
    file.reset();
    auto f = sys::RecorderFile::openForWriting(dir, size, fresh);
    if (!f) {
      openOk = false;
      openError = f.error();
      return;
    }
    file = std::move(*f);
    std::uint64_t maxSeq[kRegionCount] = {};
    std::uint64_t maxIdx[kRegionCount] = {};
    records = 0;
    auto bad = file->scan([&](Region r, std::uint64_t i, const SlotView& v) {
      const int k = static_cast<int>(r);
      ++records;
      if (v.seq > maxSeq[k]) {
        maxSeq[k] = v.seq;
        maxIdx[k] = i;
      }
      if (r == Region::Events && v.payload.starts_with("event=oom_kill ")) {
        Fields f = parseFields(v.payload);
        if (f.get("boot") == bootId && f.num("kseq") >= 0) {
          lastKseq = std::max(lastKseq, static_cast<std::uint64_t>(f.num("kseq")));
          haveKseq = true;
        }
      }
    });
    corrupt = bad ? *bad : 0;
    const auto& g = file->geometry();
    for (int k = 0; k < kRegionCount; ++k) {
      seq = std::max(seq, maxSeq[k]);
      next[k] = maxSeq[k] == 0 ? 0 : (maxIdx[k] + 1) % g.slots[k];
    }
    openOk = true;
  }

  void put(Region r, const char* data, std::size_t len) {
    if (!file) {
      failures.fetch_add(1);
      lastErrno.store(ENOENT);
      return;
    }
    const int k = static_cast<int>(r);
    auto res = file->writeSlot(r, next[k], data, len);
    if (!res) {
      failures.fetch_add(1);
      lastErrno.store(res.error().code);
      return;
    }
    next[k] = (next[k] + 1) % file->geometry().slots[k];
  }
};

Recorder::Recorder(const ladder::Services& services, RecorderOptions options, StateFn state, SpacesFn spaces)
    : s_(services), o_(std::move(options)), state_(std::move(state)), spacesFn_(std::move(spaces)),
      w_(std::make_shared<Writer>()) {}

Recorder::~Recorder() {
  if (s_.journal != nullptr) s_.journal->setLineTap(nullptr);
}

void Recorder::describe(Line& l) const { l.str("recorder", o_.dir); }

void Recorder::warnOnce(std::string_view what, std::string_view detail, TimePoint now) {
  Line w("warning");
  w.word("what", what).str("detail", detail).str("consequence", "nothing is recorded; ORK goes on");
  s_.journal->write(w, Priority::Warning, now);
}

void Recorder::open(TimePoint now) {
  enabled_ = true;
  auto efd = jobs_.start();
  if (!efd) {
    enabled_ = false;
    warnOnce("recorder_unavailable", efd.error().what, now);
    return;
  }
  if (poller_ != nullptr) (void)poller_->add(*efd, EPOLLIN, kTagJobs);
  pendingLines_ = std::make_unique_for_overwrite<PendingLine[]>(kPendingLines);
  spaces_.reserve(kMaxDisks * 2);
  s_.journal->setLineTap(this);
  auto boot = sys::readWholeFile(o_.procRoot + "/sys/kernel/random/boot_id", 64);
  if (boot) {
    bootId_ = *boot;
    while (!bootId_.empty() && (bootId_.back() == '\n' || bootId_.back() == ' ')) bootId_.pop_back();
  }
  w_->bootId = bootId_;
  // PSI files that are not there (a kernel without PSI) are not asked again.
  for (auto [name, path] : {std::pair{"memory", &psiMem_}, std::pair{"cpu", &psiCpu_}, std::pair{"io", &psiIo_}}) {
    *path = o_.procRoot + "/pressure/" + name;
    if (::access(path->c_str(), R_OK) != 0) path->clear();
  }
  if (!o_.kmsgPath.empty()) {
    auto k = sys::KmsgReader::open(o_.kmsgPath);
    if (k) {
      kmsg_ = std::move(*k);
    } else {
      Line w("warning");
      w.word("what", "kernel_log_unreadable").str("detail", k.error().what)
          .str("consequence", "the kernel's own OOM kills are not recorded");
      s_.journal->write(w, Priority::Warning, now);
    }
  }
  auto w = w_;
  const std::string dir = o_.dir;
  const std::uint64_t size = o_.sizeBytes;
  jobs_.post([w, dir, size] { w->open(dir, size); }, [this] { opened(s_.clock->now()); });
  nextSample_ = now + kTick;
}

void Recorder::opened(TimePoint now) {
  if (!w_->openOk) {
    ready_ = false;
    retryOpenAt_ = now + kRetryOpen;
    if (!unavailable_) {
      unavailable_ = true;
      warnOnce("recorder_unavailable", w_->openError.what, now);
    }
  } else {
    ready_ = true;
    retryOpenAt_ = TimePoint{Nanos::max()};
    writeFailuresSeen_ = w_->failures.load();
    if (w_->haveKseq) {
      lastKseq_ = std::max(lastKseq_, w_->lastKseq);
      haveKseq_ = true;
    }
    if (unavailable_) {
      unavailable_ = false;
      Line c("warning_cleared");
      c.word("what", "recorder_unavailable");
      s_.journal->write(c, Priority::Info, now);
    }
  }
  missed_ = 0;
  if (kmsg_ && !kmsgWatched_) {
    // What the kernel log still holds: kills made while ORK was not running (those not
    // yet recorded: recorded now, counted in the line below), then each new record as
    // it comes.
    readKmsg(now, true);
    if (poller_ != nullptr && poller_->add(kmsg_->fd(), EPOLLIN, kTagKmsg)) kmsgWatched_ = true;
  }
  if (ready_) {
    Line l("recorder");
    l.str("file", o_.dir + "/" + sys::RecorderFile::kFileName)
        .num("size_kib", static_cast<std::int64_t>(recorder::geometryFor(o_.sizeBytes).size >> 10))
        .flag("fresh", w_->fresh).num("records", static_cast<std::int64_t>(w_->records))
        .num("corrupt", static_cast<std::int64_t>(w_->corrupt)).num("missed_kills", missed_)
        .flag("kernel_log", kmsgWatched_);
    s_.journal->write(l, Priority::Info, now);
  }
}

TimePoint Recorder::nextDue() const {
  if (!enabled_) return TimePoint{Nanos::max()};
  return std::min(nextSample_ + kSlack, retryOpenAt_);
}

void Recorder::onLoopTurn(TimePoint now) {
  postPendingLines();
  if (enabled_ && now + kSlack >= nextSample_) sample(now);
}

void Recorder::postPendingLines() {
  for (std::size_t i = 0; i < pendingCount_; ++i)
    postText(SlotType::Event, pendingLines_[i].wallNs, {pendingLines_[i].text, pendingLines_[i].size});
  pendingCount_ = 0;
}

Sample Recorder::sense(std::int64_t wall) {
  Sample s;
  s.timeNs = wall;
  ladder::Readings r;
  if (state_) state_(r);
  const auto kib = [](std::int64_t v) { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, v)); };
  s.availKib = kib(r.availKib);
  s.totalKib = kib(r.totalKib);
  s.swapFreeKib = kib(r.swapFreeKib);
  s.swapTotalKib = kib(r.swapTotalKib);
  s.busy = hundredths(r.busy * 100);
  psiAvg10(psiMemFile_, psiMem_, s.psiMemSome, &s.psiMemFull);
  if (r.cpuSensed) {
    s.psiCpuSome = hundredths(r.cpuPressure * 100);
  } else {
    psiAvg10(psiCpuFile_, psiCpu_, s.psiCpuSome, nullptr);
  }
  if (r.ioSensed) {
    s.psiIoSome = hundredths(r.ioPressure * 100);
  } else {
    psiAvg10(psiIoFile_, psiIo_, s.psiIoSome, nullptr);
  }
  return s;
}

void Recorder::onTimer(TimePoint now) {
  if (!enabled_) return;
  if (now >= retryOpenAt_) {
    retryOpenAt_ = TimePoint{Nanos::max()};
    auto w = w_;
    const std::string dir = o_.dir;
    const std::uint64_t size = o_.sizeBytes;
    jobs_.post([w, dir, size] { w->open(dir, size); }, [this] { opened(s_.clock->now()); });
  }
  if (now + kSlack >= nextSample_) sample(now);
}

void Recorder::sample(TimePoint now) {
  nextSample_ = now + kTick;  // in phase with what woke the loop (the memory samples)
  const Sample s = sense(wallNs());
  batch_[batched_++] = s;
  Minute done;
  if (fold_.add(s, done)) {
    auto w = w_;
    jobs_.post(
        [w, done] {
          char slot[kSmallSlot];
          encodeMinute(done, ++w->seq, slot);
          w->put(Region::Minutes, slot, sizeof slot);
        },
        {});
  }
  if (batched_ == kBatch) flushSamples();
  if (++minuteTicks_ >= kDiskEveryTicks) {
    minuteTicks_ = 0;
    postDisks();
  }
}

void Recorder::flushSamples() {
  if (batched_ == 0) return;
  if (jobs_.outstanding() > kMaxOutstanding) {
    // The job thread is stuck (a disk that does not answer): drop, never queue for ever.
    if (dropped_++ == 0) warnOnce("recorder_stalled", "the recorder's writes do not complete", s_.clock->now());
    batched_ = 0;
    return;
  }
  auto w = w_;
  auto batch = batch_;
  const std::size_t n = batched_;
  batched_ = 0;
  jobs_.post(
      [w, batch, n] {
        for (std::size_t i = 0; i < n; ++i) {
          char slot[kSmallSlot];
          encodeSample(batch[i], ++w->seq, slot);
          w->put(Region::Samples, slot, sizeof slot);
        }
      },
      {});
}

void Recorder::postText(SlotType type, std::int64_t wall, std::string_view text) {
  if (!enabled_ || jobs_.outstanding() > kMaxOutstanding) return;
  auto w = w_;
  std::string copy(text);
  jobs_.post(
      [w, type, wall, copy] {
        const bool event = type == SlotType::Event;
        char slot[kEventSlot];
        const std::size_t size = event ? kEventSlot : kIdentitySlot;
        encodeText(type, wall, copy, ++w->seq, slot, size);
        w->put(event ? Region::Events : Region::Identities, slot, size);
      },
      {});
}

void Recorder::postDisks() {
  // From the disk ladder's last reading (its statvfs runs on its own worker, hung mounts
  // skipped): no mount table read and parsed here, whose transient allocations would
  // stay resident in the heap for good (ORK locks its memory).
  if (!spacesFn_ || jobs_.outstanding() > kMaxOutstanding) return;
  spaces_.clear();
  spacesFn_(spaces_);
  if (spaces_.empty()) return;
  std::array<Disk, kMaxDisks> disks;
  std::size_t n = 0;
  const std::int64_t wall = wallNs();
  for (const ladder::SpaceReading& sp : spaces_) {
    if (n >= kMaxDisks) break;
    Disk& d = disks[n++];
    d.timeNs = wall;
    d.freeKib = static_cast<std::uint64_t>(std::max<std::int64_t>(0, sp.freeKib));
    d.totalKib = static_cast<std::uint64_t>(std::max<std::int64_t>(0, sp.totalKib));
    copyCut(d.mount, sizeof d.mount, sp.mount);
  }
  auto w = w_;
  jobs_.post(
      [w, disks, n] {
        for (std::size_t i = 0; i < n; ++i) {
          char slot[kSmallSlot];
          encodeDisk(disks[i], ++w->seq, slot);
          w->put(Region::Disks, slot, sizeof slot);
        }
      },
      {});
}

void Recorder::checkWrites(TimePoint now) {
  if (!ready_) return;
  const std::uint64_t f = w_->failures.load();
  if (f != writeFailuresSeen_) {
    writeFailuresSeen_ = f;
    if (!writeWarned_) {
      writeWarned_ = true;
      Line w("warning");
      const int e = w_->lastErrno.load();
      w.word("what", "recorder_write_failed").str("detail", e != 0 ? std::strerror(e) : "unknown")
          .str("consequence", "records are lost until writing works again; ORK goes on");
      s_.journal->write(w, Priority::Warning, now);
    }
  } else if (writeWarned_ && w_->failures.load() == writeFailuresSeen_) {
    // A write went through since (a job finished without a new failure).
    writeWarned_ = false;
    Line c("warning_cleared");
    c.word("what", "recorder_write_failed");
    s_.journal->write(c, Priority::Info, now);
  }
}

void Recorder::onReady(std::uint64_t tag, TimePoint now) {
  if (tag == kTagJobs) {
    jobs_.drain();
    checkWrites(now);
  } else if (tag == kTagKmsg) {
    readKmsg(now, false);
  }
}

void Recorder::readKmsg(TimePoint now, bool catchUp) {
  if (!kmsg_) return;
  // Bounded per call, so a flood of kernel lines cannot hold the loop.
  for (int i = 0; i < (catchUp ? 1 << 20 : 256); ++i) {
    auto rec = kmsg_->next(false);
    if (!rec) {
      if (!catchUp) return;
      Line w("warning");
      w.word("what", "kernel_log_unreadable").str("detail", rec.error().what)
          .str("consequence", "the kernel's own OOM kills are not recorded");
      s_.journal->write(w, Priority::Warning, now);
      if (kmsgWatched_ && poller_ != nullptr) (void)poller_->remove(kmsg_->fd());
      kmsg_.reset();
      kmsgWatched_ = false;
      return;
    }
    if (rec->empty()) return;
    kernelRecord(*rec, now, catchUp);
  }
}

void Recorder::kernelRecord(std::string_view record, TimePoint now, bool catchUp) {
  auto r = parse::parseKmsgRecord(record);
  if (!r || r->facility != 0) return;  // the kernel's own lines only
  if (haveKseq_ && r->seq <= lastKseq_) return;  // recorded already (by an earlier run)
  if (catchUp && !ready_) return;  // nowhere to record what is old: live kills only
  if (r->message.find("ill") == std::string_view::npos) return;  // "kill", "Kill", "Killed"
  char buf[1024];
  const std::string_view msg = parse::unescapeKmsg(r->message, buf, sizeof buf);
  auto oom = parse::parseOomLine(msg);
  if (!oom) return;
  if (oom->kind == parse::OomLineKind::Summary || oom->kind == parse::OomLineKind::Sacrifice) {
    if (oom->kind == parse::OomLineKind::Summary || pending_.pid != oom->pid) pending_ = Pending{};
    pending_.pid = oom->pid;
    if (oom->kind == parse::OomLineKind::Summary) {
      pending_.uid = oom->uid;
      copyCut(pending_.constraint, sizeof pending_.constraint, oom->constraint);
      copyCut(pending_.taskMemcg, sizeof pending_.taskMemcg, oom->taskMemcg);
      copyCut(pending_.oomMemcg, sizeof pending_.oomMemcg, oom->oomMemcg);
    } else {
      pending_.score = oom->score;
    }
    pending_.memcg = pending_.memcg || oom->memcg;
    return;
  }
  // The kill itself.
  const bool withSummary = pending_.pid == oom->pid;
  Line l("oom_kill");
  l.word("by", "kernel").num("pid", oom->pid).str("name", oom->name);
  const std::int64_t uid = oom->uid >= 0 ? oom->uid : withSummary ? pending_.uid : -1;
  if (uid >= 0) {
    l.num("uid", uid);
    if (s_.users != nullptr) l.str("user", s_.users->nameOf(static_cast<std::uint32_t>(uid)));
  }
  l.word("kind", oom->memcg || (withSummary && pending_.memcg) ? "memcg" : "global");
  if (withSummary && pending_.constraint[0] != '\0') l.word("constraint", pending_.constraint);
  if (withSummary && pending_.taskMemcg[0] != '\0') l.str("cgroup", pending_.taskMemcg);
  if (withSummary && pending_.oomMemcg[0] != '\0') l.str("oom_cgroup", pending_.oomMemcg);
  if (withSummary && pending_.score >= 0) l.num("score", pending_.score);
  l.num("freed_kib", static_cast<std::int64_t>(oom->anonRssKib + oom->fileRssKib + oom->shmemRssKib))
      .num("anon_rss_kib", static_cast<std::int64_t>(oom->anonRssKib))
      .num("total_vm_kib", static_cast<std::int64_t>(oom->totalVmKib));
  // Who it was, while ORK still knows (the table keeps a process until its next pass).
  if (!catchUp && s_.vms != nullptr) {
    for (const auto& vm : s_.vms->all()) {
      if (vm.pid != oom->pid) continue;
      l.str("vm", vm.name);
      if (!vm.uuid.empty()) l.word("uuid", vm.uuid);
      if (const auto* d = s_.vms->domainOf(vm); d != nullptr && !d->novaName.empty())
        l.word("instance", d->uuid).str("instance_name", d->novaName).str("project", d->novaProject)
            .str("flavor", d->novaFlavor);
      break;
    }
  }
  if (!catchUp && s_.table != nullptr) {
    const auto entries = s_.table->entries();
    auto it = std::lower_bound(entries.begin(), entries.end(), oom->pid,
                               [](const ProcessInfo& e, int pid) { return e.pid < pid; });
    if (it != entries.end() && it->pid == oom->pid && oom->name == std::string_view(it->comm))
      l.num("start_ticks", static_cast<std::int64_t>(it->startTimeTicks));
  }
  l.str("boot", bootId_).num("kseq", static_cast<std::int64_t>(r->seq)).flag("missed", catchUp);
  pending_ = Pending{};
  lastKseq_ = std::max(lastKseq_, r->seq);
  haveKseq_ = true;
  const std::int64_t at = sys::KmsgReader::bootWallClockNs() + static_cast<std::int64_t>(r->usec) * 1000;
  if (ready_) postText(SlotType::Event, at, l.text());
  // Kills from before ORK's start are counted in its `recorder` line, not one line each.
  if (catchUp) ++missed_;
  else s_.journal->write(l, Priority::Notice, now);
}

void Recorder::onTablePass(TimePoint now) {
  if (!enabled_) return;
  const std::int64_t wall = wallNs();
  const auto entries = s_.table != nullptr ? s_.table->entries() : std::span<const ProcessInfo>{};
  auto entryOf = [&](int pid) -> const ProcessInfo* {
    auto it = std::lower_bound(entries.begin(), entries.end(), pid,
                               [](const ProcessInfo& e, int p) { return e.pid < p; });
    return it != entries.end() && it->pid == pid ? &*it : nullptr;
  };
  // The VMs: once each (again when nova's metadata arrives, and every hour).
  std::vector<Seen> keep;
  if (s_.vms != nullptr) {
    for (const auto& vm : s_.vms->all()) {
      const auto* d = s_.vms->domainOf(vm);
      const bool nova = d != nullptr && !d->novaName.empty();
      auto it = std::find_if(vmsSeen_.begin(), vmsSeen_.end(),
                             [&](const Seen& x) { return x.pid == vm.pid && x.start == vm.startTimeTicks; });
      const bool say = it == vmsSeen_.end() || (nova && !it->nova) || now - it->at >= kVmIdentityEvery;
      keep.push_back({vm.pid, vm.startTimeTicks, nova, say ? now : it->at});
      if (!say) continue;
      Line l("identity");
      l.word("kind", "vm").num("pid", vm.pid).num("start_ticks", static_cast<std::int64_t>(vm.startTimeTicks))
          .str("vm", vm.name);
      if (!vm.uuid.empty()) l.word("uuid", vm.uuid);
      if (nova)
        l.word("instance", d->uuid).str("instance_name", d->novaName).str("project", d->novaProject)
            .str("flavor", d->novaFlavor);
      if (const auto* e = entryOf(vm.pid)) {
        l.str("name", e->comm).num("uid", e->uid);
        if (s_.users != nullptr) l.str("user", s_.users->nameOf(e->uid));
        if (e->identity) l.str("cgroup", e->identity->cgroup);
      }
      l.kib("mem_kib", vm.memory);
      postText(SlotType::Identity, wall, l.text());
    }
  }
  vmsSeen_ = std::move(keep);
  // The largest processes.
  std::array<const ProcessInfo*, kLargest> top{};
  for (const auto& e : entries) {
    if (e.kernelThread) continue;
    for (std::size_t i = 0; i < kLargest; ++i) {
      if (top[i] == nullptr || e.memory() > top[i]->memory()) {
        for (std::size_t j = kLargest - 1; j > i; --j) top[j] = top[j - 1];
        top[i] = &e;
        break;
      }
    }
  }
  for (const auto* e : top) {
    if (e == nullptr) continue;
    auto it = std::find_if(procsSeen_.begin(), procsSeen_.end(),
                           [&](const Seen& x) { return x.pid == e->pid && x.start == e->startTimeTicks; });
    if (it != procsSeen_.end()) continue;
    if (procsSeen_.size() >= kProcsSeenCap) procsSeen_.erase(procsSeen_.begin());
    procsSeen_.push_back({e->pid, e->startTimeTicks, false, now});
    Line l("identity");
    l.word("kind", "process").num("pid", e->pid).num("start_ticks", static_cast<std::int64_t>(e->startTimeTicks))
        .str("name", e->comm).num("uid", e->uid);
    if (s_.users != nullptr) l.str("user", s_.users->nameOf(e->uid));
    l.kib("mem_kib", e->memory());
    if (e->identity) {
      l.str("cgroup", e->identity->cgroup);
      l.str("cmd", std::string_view(e->identity->cmdline).substr(0, 200));
    }
    postText(SlotType::Identity, wall, l.text());
  }
}

void Recorder::onLine(const Line& line, TimePoint now) {
  (void)now;
  if (!enabled_ || !isRecordedEvent(line.event())) return;
  const std::string_view text = line.text();
  if (pendingLines_ && pendingCount_ < kPendingLines && text.size() <= kEventSlot) {
    PendingLine& p = pendingLines_[pendingCount_++];
    p.wallNs = wallNs();
    p.size = text.size();
    std::memcpy(p.text, text.data(), text.size());
    return;
  }
  postPendingLines();  // in order
  postText(SlotType::Event, wallNs(), text);
}

void Recorder::stop(TimePoint now) {
  (void)now;
  if (!enabled_) return;
  postPendingLines();
  flushSamples();
  // What was posted is written before ORK exits, within a bound.
  const TimePoint until = s_.clock->now() + kStopWait;
  auto efd = jobs_.start();
  while (jobs_.outstanding() > 0 && s_.clock->now() < until && efd) {
    pollfd p{*efd, POLLIN, 0};
    (void)::poll(&p, 1, 50);
    jobs_.drain();
  }
  s_.journal->setLineTap(nullptr);
}

}  // namespace ork::recorder
