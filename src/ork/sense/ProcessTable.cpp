#include "ork/sense/ProcessTable.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ork/parse/Parsers.h"
#include "ork/sys/Files.h"
#include "ork/sys/ProcDir.h"
#include "ork/sys/Sysconf.h"

namespace ork::sense {

namespace {

// Processes this large have their oom_score_adj and swap re-read on every pass: they
// are the ones that can be chosen, and an operator may change their adj at any time.
constexpr Bytes kWatchedSize = Bytes::mib(64);
// How much of a command line the table keeps.
constexpr std::size_t kKeptCmdline = 200;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// "PID/leaf" into path: what std::snprintf(path, 64, "%d/leaf", pid) wrote, without
// the format parsing (one such path per process and pass: it was ~0.7% of a steady
// refresh). The leaves are short literals (a longer one would be cut to fit).
void pidPath(char (&path)[64], int pid, std::string_view leaf) {
  char* p = std::to_chars(path, path + 11, pid).ptr;  // an int has at most 11 characters
  *p++ = '/';
  const std::size_t n = std::min(leaf.size(), sizeof path - 1 - static_cast<std::size_t>(p - path));
  std::memcpy(p, leaf.data(), n);
  p[n] = '\0';
}

std::string_view baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool matches(const config::Pattern& p, const ProcessIdentity& id, const ProcessInfo& info,
             const UserNames* users) {
  char uidText[16];
  const char* value = "";
  std::string userName;
  switch (p.field) {
    case config::Pattern::Field::Name: {
      std::string_view exeName = baseName(id.exe);
      if (exeName.ends_with(" (deleted)")) exeName.remove_suffix(10);  // upgraded binary
      // Prefer the full executable name over the 15-character comm.
      if (!exeName.empty()) {
        userName.assign(exeName);
        value = userName.c_str();
      } else {
        value = info.comm;
      }
      break;
    }
    case config::Pattern::Field::Cmdline: value = id.cmdline.c_str(); break;
    case config::Pattern::Field::Exe: value = id.exe.c_str(); break;
    case config::Pattern::Field::Cgroup: value = id.cgroup.c_str(); break;
    case config::Pattern::Field::User: {
      if (!info.uidKnown) return false;  // an owner ORK could not read matches no user
      std::snprintf(uidText, sizeof uidText, "%u", info.uid);
      if (::fnmatch(p.glob.c_str(), uidText, 0) == 0) return true;
      if (users == nullptr) return false;
      userName.assign(users->nameOf(info.uid));
      value = userName.c_str();
      break;
    }
  }
  return ::fnmatch(p.glob.c_str(), value, 0) == 0;
}

bool anyMatch(const std::vector<config::Pattern>* ps, const ProcessIdentity& id,
              const ProcessInfo& info, const UserNames* users) {
  if (ps == nullptr) return false;
  for (const auto& p : *ps)
    if (matches(p, id, info, users)) return true;
  return false;
}

bool isVitalName(std::string_view name) {
  for (const char* v : config::kVitalProcesses)
    if (name == v) return true;
  return false;
}

// Did the process exec since `before` was read? comm is the name of the binary exec'd
// (or set by prctl, which costs only a needless re-read); the layout catches an exec of
// a binary with the same comm when both looks could see it.
bool execedSince(const ProcessInfo& before, const char* comm, std::uint64_t layoutKey) {
  if (std::strncmp(before.comm, comm, sizeof before.comm) != 0) return true;
  return before.layoutKey != 0 && layoutKey != 0 && before.layoutKey != layoutKey;
}

}  // namespace

Result<ProcessTable> ProcessTable::open(Options options) {
  auto fd = sys::openDir(options.procRoot);
  if (!fd) return fd.error();
  ProcessTable t;
  t.options_ = std::move(options);
  t.procFd_ = std::move(*fd);
  t.ticksPerSecond_ = sys::clockTicksPerSecond();
  char text[32];
  auto pm = sys::readFileAt(t.procFd_.get(), "sys/kernel/pid_max", text, sizeof text - 1);
  if (pm && !pm->empty()) {
    int v = std::atoi(std::string(*pm).c_str());
    if (v > 0) t.pidMax_ = v;
  }
  t.pageSize_ = sys::pageSize();
  return t;
}

Result<void> ProcessTable::listCgroupPids(const std::string& dir, std::vector<int>& out, int depth) {
  auto text = sys::readWholeFile(dir + "/cgroup.procs", 16 << 20);
  if (!text) return text.error();
  const char* p = text->data();
  const char* end = p + text->size();
  while (p < end) {
    int pid = 0;
    bool any = false;
    while (p < end && *p >= '0' && *p <= '9') {
      pid = pid * 10 + (*p - '0');
      any = true;
      ++p;
    }
    if (any && pid > 0) out.push_back(pid);
    while (p < end && (*p < '0' || *p > '9')) ++p;
  }
  if (depth >= 32) return success();
  std::vector<std::string> children;
  if (!sys::listSubdirectories(dir, children)) return success();
  // A child cgroup that vanishes meanwhile is normal.
  for (const auto& child : children) (void)listCgroupPids(dir + "/" + child, out, depth + 1);
  return success();
}

Result<void> ProcessTable::listPids(std::vector<int>& out) {
  out.clear();
  if (!options_.cgroupDir.empty()) {
    auto r = listCgroupPids(options_.cgroupDir, out, 0);
    if (!r) return r;
  } else {
    // getdents64 into the read buffer (8 KiB, ~300 PIDs a call: every page of a larger
    // one would stay resident, locked, after the first listing of a large host).
    auto dir = sys::ProcDir::open(options_.procRoot.c_str(), {buf_.get(), kBufSize});
    if (!dir) return dir.error();
    int chunk[512];
    for (;;) {
      auto n = dir->next(chunk, 512);
      if (!n) return n.error();
      if (*n == 0) break;
      out.insert(out.end(), chunk, chunk + *n);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase(out, options_.selfPid);
  return success();
}

Result<void> ProcessTable::beginPass(TimePoint now) {
  // Read before listing: a process started during the listing is then probed by
  // addNewcomers() even if the listing missed it.
  lastPidAtPassStart_ = options_.cgroupDir.empty() ? readLastPid() : -1;
  if (auto r = listPids(pids_); !r) return r;

  auto up = sys::readFileAt(procFd_.get(), "uptime", buf_.get(), kBufSize);
  // Unknown (unreadable, NaN, inf, garbage): 0, and every process is taken as old.
  auto seconds = up ? parse::parseUptime(*up) : Result<double>(up.error());
  uptimeSeconds_ = seconds ? *seconds : 0;
  uptimeReadAt_ = now;
  passBegan_ = now;
  next_.clear();
  // Headroom for the newcomers that addNewcomers() may insert before the next pass.
  next_.reserve(pids_.size() + pids_.size() / 4 + 64);
  listing_.reserve(pids_.size() + pids_.size() / 4 + 64);
  cursor_ = 0;
  inPass_ = true;
  return success();
}

Nanos ProcessTable::ageOf(std::uint64_t startTicks, double sinceUptimeRead) const {
  // Without an uptime every process would look just started, and all its memory like
  // recent growth: take it as old instead.
  if (uptimeSeconds_ <= 0) return Seconds{365LL * 86400};
  double started = static_cast<double>(startTicks) / static_cast<double>(ticksPerSecond_);
  double age = uptimeSeconds_ + sinceUptimeRead - started;
  // Bounded before the conversion (a century; uptime itself is at most 1e9 s,
  // parse::parseUptime), and NaN is 0: out of range, the cast would be undefined.
  if (!(age >= 0)) age = 0;
  age = std::min(age, 100 * 365 * 86400.0);
  return Nanos{static_cast<long long>(age * 1e9)};
}

void ProcessTable::updateGrowth(ProcessInfo& e, TimePoint now) const {
  // As the bookkeeping holds it (Kib32: saturated at 4 TiB), so that a process beyond
  // that is not seen growing by the difference between its memory and the saturated
  // figure.
  const Bytes mem = Kib32(e.memory()).bytes();
  const Bytes last = e.lastMem;
  if (mem > last + std::max(Bytes::mib(1), Bytes{last.value / 100})) e.lastGrewAt = now;
  e.lastMem = mem;
  Nanos half = options_.growthWindow / 2;
  if (now - e.midAt >= half) {
    e.baseMem = e.midMem;
    e.midAt = now;
    e.midMem = mem;
  }
  // What ORK saw it gain, over the last window/2 to window. A process born within the
  // window gained all it holds within it: all of it is growth (a burst of new processes
  // is what grew, however the table's looks fell). How recently it grew is what the
  // score's half-life weighs (lastGrewAt).
  e.growth = std::max(Bytes{0}, mem - e.baseMem);
  if (e.age < options_.growthWindow) e.growth = mem;
}

namespace {

bool sameIdentity(const ProcessIdentity& a, const ProcessIdentity& b) {
  return a.exeKey == b.exeKey && a.vital == b.vital && a.prefer == b.prefer && a.avoid == b.avoid &&
         a.systemService == b.systemService && a.cmdline == b.cmdline && a.exe == b.exe && a.cgroup == b.cgroup;
}

}  // namespace

std::shared_ptr<const ProcessIdentity> ProcessTable::readIdentity(int pid, const ProcessInfo& info) {
  auto id = std::make_shared<ProcessIdentity>();
  char path[64];
  if (!info.kernelThread) {
    pidPath(path, pid, "cmdline");
    auto raw = sys::readFileAt(procFd_.get(), path, buf_.get(), 4096);
    if (raw) {
      char formatted[1024];
      std::size_t n = parse::formatCmdline(*raw, formatted, sizeof formatted);
      id->cmdline.assign(formatted, n);
    }
    pidPath(path, pid, "exe");
    auto exe = sys::readLinkAt(procFd_.get(), path, buf_.get(), kBufSize);
    if (exe) id->exe.assign(*exe);
    pidPath(path, pid, "cgroup");
    auto cg = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize);
    if (cg) id->cgroup.assign(parse::cgroupPathFromProc(*cg));
  }
  std::string_view exeName = baseName(id->exe);
  if (exeName.ends_with(" (deleted)")) exeName.remove_suffix(10);
  id->exeKey = fnv1a(exeName.empty() ? std::string_view(info.comm) : exeName);
  id->vital = isVitalName(exeName) || (exeName.empty() && isVitalName(info.comm)) ||
              anyMatch(options_.protect, *id, info, options_.users);
  id->prefer = anyMatch(options_.prefer, *id, info, options_.users);
  id->avoid = anyMatch(options_.avoid, *id, info, options_.users);
  id->systemService = (info.uidKnown && info.uid >= 1 && info.uid <= 999) || id->cgroup.starts_with("/system.slice/");
  // Patterns saw the whole command line; keep only what journal lines and `ork top`
  // show, so that the table stays small on hosts with long (Java) command lines.
  if (id->cmdline.size() > kKeptCmdline) {
    id->cmdline.resize(kKeptCmdline);
    id->cmdline.shrink_to_fit();
  }
  // The processes of one pool (workers of one program, in one cgroup, with one command
  // line) are mostly read one after the other: the same identity is shared rather than
  // kept once per process (identities are immutable; nothing compares their addresses).
  if (lastIdentity_ != nullptr && sameIdentity(*lastIdentity_, *id)) return lastIdentity_;
  lastIdentity_ = id;
  return id;
}

bool ProcessTable::readOne(int pid, const ProcessInfo* previous, TimePoint now, ProcessInfo& out) {
  char path[64];
  pidPath(path, pid, "stat");
  auto text = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
  if (!text) return false;  // vanished: normal
  auto st = parse::parseProcStat(*text);
  if (!st) return false;
  out.pid = pid;
  out.ppid = st->ppid;
  out.session = st->session;
  out.hasTty = st->ttyNr != 0;
  out.startTimeTicks = st->startTimeTicks;
  std::memcpy(out.comm, st->comm, sizeof out.comm);
  out.state = st->state;
  // PF_KTHREAD, not "PID 2 or its children": inside a PID namespace those are ordinary.
  out.kernelThread = (st->flags & parse::kPfKthread) != 0;
  out.rss = parse::bytesFromPages(st->rssPages, pageSize_);
  out.cpuTicks = st->utimeTicks + st->stimeTicks;
  out.age = ageOf(st->startTimeTicks);
  out.layoutKey = st->layoutKey;

  bool known = previous != nullptr && previous->startTimeTicks == st->startTimeTicks &&
               previous->identity != nullptr;
  // Another program since the last look: read everything again but the growth.
  bool execed = known && execedSince(*previous, st->comm, st->layoutKey);
  // An owner not read yet (status garbled) is read again on every pass.
  bool readDetails = !known || execed || options_.readSwap || !previous->uidKnown ||
                     previous->memory() >= kWatchedSize || out.rss >= kWatchedSize;
  // Small processes: oom_score_adj alone, in rotation (see ProcessTable.h).
  bool readAdj = readDetails ||
                 (static_cast<std::uint64_t>(pid) + passes_) % kSmallAdjEvery == 0;
  if (known) {
    out.uid = previous->uid;
    out.uidKnown = previous->uidKnown;
    out.oomScoreAdj = previous->oomScoreAdj;
    out.adjMinSeen = previous->adjMinSeen;
    out.execs = previous->execs + (execed ? 1 : 0);
    out.swap = previous->swap;
    if (!execed) out.identity = previous->identity;
    out.baseMem = previous->baseMem;
    out.midAt = previous->midAt;
    out.midMem = previous->midMem;
    out.lastMem = previous->lastMem;
    out.lastGrewAt = previous->lastGrewAt;
  }
  if (readDetails && !out.kernelThread) {
    pidPath(path, pid, "status");
    auto status = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize);
    if (!status) return false;
    auto ps = parse::parseProcStatus(*status);
    if (ps) {
      // /proc/TID of a thread is reachable by its number though not listed: probing a
      // range of PIDs meets threads, which are not processes of their own.
      if (ps->tgid != 0 && ps->tgid != pid) return false;
      if (ps->hasUid) {
        out.uid = ps->uid;
        out.uidKnown = true;
      }
      out.swap = ps->vmSwap;
      if (ps->kernelThread) out.kernelThread = true;
    }
  }
  if (readAdj && !out.kernelThread) {
    pidPath(path, pid, "oom_score_adj");
    auto adj = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
    if (adj) {
      auto v = parse::parseOomScoreAdj(*adj);
      if (v) out.oomScoreAdj = *v;
    }
  }
  if (out.oomScoreAdj <= -1000) out.adjMinSeen = true;
  if (!known || execed) out.identity = readIdentity(pid, out);
  if (!known) {
    out.midAt = now;
    // Born since the last complete pass began (ORK's previous look at the domain): all
    // it holds was gained since, so all of it is growth. Older processes seen for the
    // first time (at ORK's start) start from what they hold (unless born within the
    // growth window: updateGrowth). When it grew within its life is not known: its
    // birth is the least accusing guess, and the half-life fades it from there.
    TimePoint born = uptimeReadAt_ + (-out.age);
    bool newborn = passes_ > 0 && born > completedPassBegan_;
    out.baseMem = out.midMem = newborn ? Bytes{0} : out.memory();
    out.lastMem = out.memory();
    out.lastGrewAt = born;
  }
  updateGrowth(out, now);
  return true;
}

Result<bool> ProcessTable::step(TimePoint now, const Clock* clock, TimePoint until) {
  if (!inPass_) {
    auto r = beginPass(now);
    if (!r) return r.error();
    // The listing may have taken the time: the first chunk waits for the next turn.
    if (clock != nullptr && clock->now() >= until) return false;
  }
  std::size_t end = std::min(pids_.size(), cursor_ + options_.chunk);
  for (std::size_t n = 0; cursor_ < end; ++cursor_, ++n) {
    if (clock != nullptr && n > 0 && n % 16 == 0 && clock->now() >= until) break;
    int pid = pids_[cursor_];
    auto it = std::lower_bound(current_.begin(), current_.end(), pid,
                               [](const ProcessInfo& e, int p) { return e.pid < p; });
    const ProcessInfo* previous = (it != current_.end() && it->pid == pid) ? &*it : nullptr;
    ProcessInfo e;
    if (readOne(pid, previous, now, e)) next_.push_back(std::move(e));
  }
  if (cursor_ < pids_.size()) return false;
  // Protection learnt since this pass copied an entry (reread() and recheck() write to
  // the previous pass's entries) must not be lost: it is sticky. Both are sorted by
  // PID: one linear merge.
  for (std::size_t i = 0, j = 0; i < current_.size() && j < next_.size();) {
    if (current_[i].pid < next_[j].pid) {
      ++i;
    } else if (next_[j].pid < current_[i].pid) {
      ++j;
    } else {
      if (current_[i].adjMinSeen && current_[i].startTimeTicks == next_[j].startTimeTicks)
        next_[j].adjMinSeen = true;
      ++i;
      ++j;
    }
  }
  std::swap(current_, next_);
  // The previous pass's entries are not kept between passes: at idle only one table is
  // resident (~240 KiB at 1,000 processes, ~2.4 MiB at 10,000), the next pass allocates
  // its own (mmap'd: sys::protectSelf fixes malloc's mmap threshold, so the free gives
  // the pages back). The kill path never uses next_: addNewcomers() inserts into
  // current_, within the headroom reserved for it.
  std::vector<ProcessInfo>().swap(next_);
  inPass_ = false;
  lastComplete_ = now;
  completedPassBegan_ = passBegan_;
  ++passes_;
  return true;
}

Result<void> ProcessTable::refreshAll(TimePoint now) {
  for (;;) {
    auto done = step(now);
    if (!done) return done.error();
    if (*done) return success();
  }
}

int ProcessTable::readLastPid() {
  char text[32];
  auto r = sys::readFileAt(procFd_.get(), "sys/kernel/ns_last_pid", text, sizeof text - 1);
  if (!r || r->empty()) return -1;
  int pid = 0;
  for (char c : *r) {
    if (c < '0' || c > '9') break;
    pid = pid * 10 + (c - '0');
    if (pid > 100'000'000) return -1;
  }
  return pid;
}

bool ProcessTable::addIfNew(int pid, TimePoint now) {
  if (pid <= 0 || pid == options_.selfPid) return false;
  auto it = std::lower_bound(current_.begin(), current_.end(), pid,
                             [](const ProcessInfo& e, int p) { return e.pid < p; });
  if (it != current_.end() && it->pid == pid) return false;
  ProcessInfo e;
  if (!readOne(pid, nullptr, now, e)) return false;  // no such process, or a thread
  // It started since the last pass (or that pass missed it): all it holds was gained
  // since ORK's last look, so all of it counts as recent growth.
  e.baseMem = e.midMem = Bytes{0};
  e.growth = e.memory();
  current_.insert(it, std::move(e));
  return true;
}

Result<int> ProcessTable::addNewcomers(TimePoint now) {
  // More PIDs than this since the last pass (a thread-heavy host): list instead.
  constexpr int kMaxProbes = 2048;
  int added = 0;
  int last = options_.cgroupDir.empty() ? readLastPid() : -1;
  int first = lastPidAtPassStart_;
  if (last >= 0 && first >= 0) {
    int span = last >= first ? last - first : (pidMax_ - first) + last;
    if (span <= kMaxProbes) {
      for (int i = 1; i <= span; ++i) {
        int pid = first + i;
        if (pid >= pidMax_) pid -= pidMax_ - 1;  // PIDs wrap around to 1 (really 300)
        added += addIfNew(pid, now) ? 1 : 0;
      }
      return added;
    }
  }
  if (auto r = listPids(listing_); !r) return r.error();
  for (int pid : listing_) added += addIfNew(pid, now) ? 1 : 0;
  return added;
}

Result<std::uint64_t> ProcessTable::startTimeOf(int pid) {
  char path[64];
  pidPath(path, pid, "stat");
  auto text = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
  if (!text) return text.error();
  auto st = parse::parseProcStat(*text);
  if (!st) return st.error();
  return st->startTimeTicks;
}

ProcessInfo* ProcessTable::entryOf(int pid, std::uint64_t startTicks) {
  auto it = std::lower_bound(current_.begin(), current_.end(), pid,
                             [](const ProcessInfo& e, int p) { return e.pid < p; });
  if (it == current_.end() || it->pid != pid || it->startTimeTicks != startTicks) return nullptr;
  return &*it;
}

Result<ProcessCheck> ProcessTable::recheck(const ProcessInfo& member) {
  char path[64];
  pidPath(path, member.pid, "stat");
  auto text = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
  if (!text) return text.error();
  auto st = parse::parseProcStat(*text);
  if (!st) return st.error();
  ProcessCheck c;
  c.startTimeTicks = st->startTimeTicks;
  if (st->startTimeTicks != member.startTimeTicks) return c;  // another process now

  pidPath(path, member.pid, "oom_score_adj");
  auto adjText = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
  if (!adjText) return adjText.error();
  auto adj = parse::parseOomScoreAdj(*adjText);
  c.oomScoreAdj = adj ? *adj : member.oomScoreAdj;

  // The table's own entry (member usually is it) learns what this look saw.
  ProcessInfo* entry = entryOf(member.pid, member.startTimeTicks);
  const ProcessInfo& known = entry != nullptr ? *entry : member;
  std::shared_ptr<const ProcessIdentity> identity = known.identity;
  const bool kernel = (st->flags & parse::kPfKthread) != 0 || known.kernelThread;
  if (execedSince(known, st->comm, st->layoutKey) && !kernel) {
    // Another program since the last look: classify what runs now (allocates, rarely).
    ProcessInfo now = known;
    std::memcpy(now.comm, st->comm, sizeof now.comm);
    identity = readIdentity(member.pid, now);
    if (entry != nullptr) {
      std::memcpy(entry->comm, st->comm, sizeof entry->comm);
      entry->layoutKey = st->layoutKey;
      entry->identity = identity;
      ++entry->execs;
    }
  }
  const bool adjMin = !adj || *adj <= -1000 || known.adjMinSeen || member.adjMinSeen ||
                      known.oomScoreAdj <= -1000 || member.oomScoreAdj <= -1000;
  if (entry != nullptr) {
    entry->oomScoreAdj = c.oomScoreAdj;
    if (adjMin) entry->adjMinSeen = true;
  }
  c.isProtected = adjMin || member.pid == 1 || kernel || (identity != nullptr && identity->vital);
  return c;
}

int ProcessTable::rereadYoung(std::span<ProcessInfo> entries, TimePoint now, int cap) {
  // From the highest PID down: a newer process has a higher PID (but after a wrap of
  // the PID space, when the cap may keep an older one rather than a newer one).
  int done = 0;
  for (std::size_t k = entries.size(); k-- > 0 && done < cap;) {
    ProcessInfo& e = entries[k];
    if (e.kernelThread || e.state == 'X' || e.age >= options_.growthWindow) continue;
    if (!reread(e, now)) e.state = 'X';
    ++done;
  }
  return done;
}

bool ProcessTable::reread(ProcessInfo& entry, TimePoint now) {
  char path[64];
  pidPath(path, entry.pid, "stat");
  auto text = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
  if (!text) return false;
  auto st = parse::parseProcStat(*text);
  if (!st || st->startTimeTicks != entry.startTimeTicks) return false;
  const bool execed = execedSince(entry, st->comm, st->layoutKey);
  if (execed) {
    std::memcpy(entry.comm, st->comm, sizeof entry.comm);
    ++entry.execs;
  }
  entry.layoutKey = st->layoutKey;
  entry.rss = parse::bytesFromPages(st->rssPages, pageSize_);
  entry.cpuTicks = st->utimeTicks + st->stimeTicks;
  entry.state = st->state;
  entry.ppid = st->ppid;
  pidPath(path, entry.pid, "status");
  auto status = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize);
  if (!status) return false;
  auto ps = parse::parseProcStatus(*status);
  if (ps) {
    if (ps->hasUid) {
      entry.uid = ps->uid;
      entry.uidKnown = true;
    }
    entry.swap = ps->vmSwap;
  }
  pidPath(path, entry.pid, "oom_score_adj");
  auto adj = sys::readFileAt(procFd_.get(), path, buf_.get(), kBufSize, /*oneRead=*/true);
  if (!adj) return false;
  auto v = parse::parseOomScoreAdj(*adj);
  if (v) entry.oomScoreAdj = *v;
  if (entry.oomScoreAdj <= -1000) entry.adjMinSeen = true;
  if (execed && !entry.kernelThread) entry.identity = readIdentity(entry.pid, entry);
  entry.age = ageOf(entry.startTimeTicks, std::chrono::duration<double>(now - uptimeReadAt_).count());
  updateGrowth(entry, now);
  return true;
}

void UserNames::load(const std::string& passwdPath) {
  // A regular file only: a FIFO would block the open for ever.
  auto text = sys::readRegularFile(passwdPath, 16 << 20);
  passwd_ = text ? std::move(*text) : std::string();
}

std::string_view UserNames::nameOf(std::uint32_t uid) const {
  return parse::userNameFromPasswd(passwd_, uid);
}

}  // namespace ork::sense
