// The ladders without root: a fixture /proc (and cgroup tree), a fake clock, fake
// executor lanes standing for ork-virt, a poller that records, and the journal in a
// file. The rig turns the loop as daemon/Daemon.cpp does (refresh the table when a
// part asks, then the parts whose time came), so the state machines run as they do in
// the daemon, minus the kernel.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/CpuLadder.h"
#include "ork/ladder/DiskLadder.h"
#include "ork/ladder/MemoryLadder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/sense/ProcessTable.h"
#include "unit/sense/TempTree.h"

namespace ork::ladder::testing {

using sense::testing::TempTree;

inline std::string argv(const std::vector<std::string>& args) {
  std::string raw;
  for (const auto& a : args) raw += a + '\0';
  return raw;
}

// A lane that answers when the test says so.
class FakeLane final : public act::Lane {
 public:
  struct Sent {
    std::uint64_t id;
    act::VmOp op;
    std::string uuid;
    TimePoint deadline;
    bool answered = false;
  };
  Result<std::uint64_t> submit(act::VmOp op, std::string_view uuid, TimePoint now, Nanos deadline) override {
    if (refuse) return Error::make(EPIPE, "fake lane refuses");
    sent.push_back({next_, op, std::string(uuid), now + deadline});
    return next_++;
  }
  // The helper answers request id (the loop then reports the socket readable).
  void answer(std::uint64_t id, bool ok, int code = 0, std::string message = {}, std::vector<act::DomainInfo> domains = {}) {
    for (auto& s : sent) {
      if (s.id != id) continue;
      s.answered = true;
      act::VmReply r;
      r.id = id;
      r.op = s.op;
      r.uuid = s.uuid;
      r.ok = ok;
      r.code = code;
      r.message = std::move(message);
      r.took = Millis{20};
      r.domains = std::move(domains);
      ready_.push_back(std::move(r));
    }
  }
  void onReadable(const Callback& cb) override {
    while (!ready_.empty()) {
      auto r = std::move(ready_.front());
      ready_.pop_front();
      cb(std::move(r));
    }
  }
  int checkDeadlines(TimePoint now, const Callback& cb) override {
    int n = 0;
    for (auto& s : sent) {
      if (s.answered || now < s.deadline) continue;
      s.answered = true;
      act::VmReply r;
      r.id = s.id;
      r.op = s.op;
      r.uuid = s.uuid;
      r.code = act::kVmDeadline;
      r.message = "deadline";
      cb(std::move(r));
      ++n;
    }
    return n;
  }
  std::size_t outstanding() const override {
    std::size_t n = 0;
    for (const auto& s : sent) n += s.answered ? 0 : 1;
    return n;
  }
  TimePoint nextDeadline() const override {
    TimePoint t{Nanos::max()};
    for (const auto& s : sent)
      if (!s.answered) t = std::min(t, s.deadline);
    return t;
  }
  // The last request of this kind, or nullptr.
  const Sent* last(act::VmOp op) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (it->op == op) return &*it;
    return nullptr;
  }
  int count(act::VmOp op) const {
    int n = 0;
    for (const auto& s : sent) n += s.op == op ? 1 : 0;
    return n;
  }

  std::vector<Sent> sent;
  bool refuse = false;

 private:
  std::uint64_t next_ = 1;
  std::deque<act::VmReply> ready_;
};

// The disk ladder's statvfs, answered from a table the test fills (keyed by mount
// point); a path in `hung` is never answered (the first one asked is "in flight").
class FakeSpace final : public SpaceSource {
 public:
  FakeSpace(const std::map<std::string, sys::FsSpace>* values, const std::set<std::string>* hung)
      : values_(values), hung_(hung) {}
  ~FakeSpace() override {
    if (efd_ >= 0) ::close(efd_);
  }
  Result<int> start() override {
    if (efd_ < 0) efd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return efd_;
  }
  int eventFd() const override { return efd_; }
  bool request(const std::string& path, TimePoint now) override {
    if (pending(path)) return false;
    ++asked;
    if (hung_->count(path) != 0) {
      held_.push_back(path);
      return true;
    }
    sys::FsProbe::Answer a;
    a.path = path;
    a.askedAt = now;
    auto it = values_->find(path);
    if (it != values_->end()) a.space = it->second;
    else a.space = Error::make(ENOENT, "no such fake filesystem");
    done_.push_back(std::move(a));
    std::uint64_t one = 1;
    (void)!::write(efd_, &one, sizeof one);
    return true;
  }
  std::vector<sys::FsProbe::Answer> take() override {
    std::uint64_t n;
    (void)!::read(efd_, &n, sizeof n);
    std::vector<sys::FsProbe::Answer> out;
    out.swap(done_);
    return out;
  }
  bool pending(const std::string& path) const override {
    return std::find(held_.begin(), held_.end(), path) != held_.end();
  }
  bool inFlight(const std::string& path) const override { return !held_.empty() && held_.front() == path; }
  int asked = 0;

 private:
  const std::map<std::string, sys::FsSpace>* values_;
  const std::set<std::string>* hung_;
  int efd_ = -1;
  std::vector<std::string> held_;
  std::vector<sys::FsProbe::Answer> done_;
};

// One part's view of the loop's epoll: what it registered, polled by Rig::turn().
class RecordingPoller final : public sys::Poller {
 public:
  struct Watched {
    int fd;
    std::uint32_t events;
    std::uint64_t tag;
  };
  Result<void> add(int fd, std::uint32_t events, std::uint64_t tag) override {
    if (fail != nullptr && *fail) return Error::make(ENOMEM, "epoll_ctl: no room (test)");
    added.push_back({fd, events, tag});
    return success();
  }
  Result<void> remove(int fd) override {
    std::erase_if(added, [&](const Watched& w) { return w.fd == fd; });
    return success();
  }
  // The tags of the fds ready now (waiting up to timeoutMs for one).
  std::vector<std::uint64_t> ready(int timeoutMs) const {
    std::vector<pollfd> fds;
    for (const auto& w : added) fds.push_back({w.fd, static_cast<short>(w.events & (EPOLLIN | EPOLLPRI)), 0});
    std::vector<std::uint64_t> tags;
    if (fds.empty() || ::poll(fds.data(), fds.size(), timeoutMs) <= 0) return tags;
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0) tags.push_back(added[i].tag);
    return tags;
  }
  const bool* fail = nullptr;
  std::vector<Watched> added;
};

// The view tests use to make every add fail.
struct PollerSwitch {
  bool fail = false;
};

struct ProcSpec {
  int pid;
  std::string comm;
  std::string exe;
  std::string cmdline;
  std::int64_t rssPages = 1000;
  std::uint64_t utime = 0;
  std::string cgroup = "0::/user.slice/x\n";
  int ppid = 1;
  int session = 0;  // 0: its own (a session leader)
};

class Rig {
 public:
  explicit Rig(bool dryRun = false) {
    run.dryRun = dryRun;
    run.procRoot = tree.path("proc");
    tree.write("proc/uptime", "10000.00 20000.00\n");
    tree.mkdir("proc/self");
    tree.mkdir("proc/sys");
    tree.write("proc/self/mountinfo", "41 31 0:38 / " + tree.path("cg2") + " rw,relatime shared:11 - cgroup2 cgroup2 rw\n");
    setMemory(Bytes::mib(16384), Bytes::mib(12000));
    setCpu(0, 1000, 2, 1);
    journalPath = tree.path("journal");
    auto j = journal::Journal::open(journalPath, false);
    EXPECT_TRUE(j.ok());
    if (j) journal = std::move(*j);
    stateDir = tree.path("state");
  }

  // /proc/meminfo with this much available.
  void setMemory(Bytes total, Bytes avail) {
    tree.write("proc/meminfo", "MemTotal: " + std::to_string(total.toKib()) + " kB\nMemFree: " +
                                   std::to_string(avail.toKib()) + " kB\nMemAvailable: " +
                                   std::to_string(avail.toKib()) + " kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
  }
  // /proc/stat: busy and idle ticks so far, CPUs, runnable tasks.
  void setCpu(std::uint64_t busy, std::uint64_t idle, int cpus, int running) {
    std::string s = "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) + " 0 0 0 0 0 0\n";
    for (int i = 0; i < cpus; ++i) s += "cpu" + std::to_string(i) + " 1 0 1 1 0 0 0 0 0 0\n";
    s += "procs_running " + std::to_string(running) + "\nprocs_blocked 0\n";
    tree.write("proc/stat", s);
  }

  void process(const ProcSpec& p) {
    const std::string d = "proc/" + std::to_string(p.pid);
    char stat[512];
    std::snprintf(stat, sizeof stat,
                  "%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 %llu 0 0 0 20 0 1 0 %llu 123456789 "
                  "%lld 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n",
                  p.pid, p.comm.c_str(), p.ppid, p.session != 0 ? p.session : p.pid, p.session != 0 ? p.session : p.pid, static_cast<unsigned long long>(p.utime),
                  static_cast<unsigned long long>(5000 * ::sysconf(_SC_CLK_TCK)), static_cast<long long>(p.rssPages));
    tree.write(d + "/stat", stat);
    tree.write(d + "/status", "Name:\t" + p.comm + "\nTgid:\t" + std::to_string(p.pid) +
                                  "\nUid:\t1000\t1000\t1000\t1000\nVmSize:\t 900000 kB\nVmRSS:\t 4000 kB\nVmSwap:\t 0 kB\n");
    tree.write(d + "/oom_score_adj", "0\n");
    tree.write(d + "/cmdline", p.cmdline);
    tree.write(d + "/cgroup", p.cgroup);
    if (!p.exe.empty()) tree.symlink(p.exe, d + "/exe");
  }

  // A QEMU guest: its process, and its own v2 cgroup (dedicated to it).
  void vm(int pid, const std::string& name, const std::string& uuid, std::int64_t rssPages, std::uint64_t utime = 0) {
    process({.pid = pid,
             .comm = "qemu-system-x86",
             .exe = "/usr/bin/qemu-system-x86_64",
             .cmdline = argv({"/usr/bin/qemu-system-x86_64", "-name", "guest=" + name + ",debug-threads=on", "-uuid",
                              uuid, "-m", "1024", "-smp", "1"}),
             .rssPages = rssPages,
             .utime = utime,
             .cgroup = "0::/machine/" + name + "\n"});
    tree.write("cg2/machine/" + name + "/cgroup.procs", std::to_string(pid) + "\n");
    tree.write("cg2/machine/" + name + "/cgroup.freeze", "0\n");
    tree.write("cg2/machine/" + name + "/cgroup.events", "populated 1\nfrozen 0\n");
  }
  // What cgroup.freeze holds (the kernel's file is rewritten in place: the first byte).
  std::string freezeRequest(const std::string& name) {
    return read(tree.path("cg2/machine/" + name + "/cgroup.freeze")).substr(0, 1);
  }
  void kernelFreezes(const std::string& name, bool frozen) {
    tree.write("cg2/machine/" + name + "/cgroup.events", std::string("populated 1\nfrozen ") + (frozen ? "1" : "0") + "\n");
  }

  // A filesystem for the disk ladder: a directory of the fixture tree (the writers'
  // fds point into it, so it has the tree's device) listed in mountinfo at mountPoint,
  // with this much space (setDisk changes it).
  void filesystem(const std::string& mountPoint, const std::string& dir, std::string fsType = "ext4") {
    tree.mkdir(dir);
    struct stat st {};
    ::stat(tree.path(dir).c_str(), &st);
    diskDev = st.st_dev;
    mountinfo += "50 31 " + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) + " / " + mountPoint +
                 " rw,relatime shared:12 - " + fsType + " /dev/fake rw\n";
    tree.write("proc/self/mountinfo", mountinfo);
  }
  void setDisk(const std::string& mountPoint, Bytes total, Bytes avail, std::uint64_t inodes = 100000,
               std::uint64_t freeInodes = 90000) {
    disks[mountPoint] = sys::FsSpace{avail, total, freeInodes, inodes};
  }
  // A process writing to file (a path of the tree) through fd 3, with these counters.
  void writer(const ProcSpec& p, const std::string& file, std::uint64_t written) {
    process(p);
    writesTo(p.pid, file, written);
  }
  // An existing fixture process (a VM...) holds file open for writing as fd 3.
  void writesTo(int pid, const std::string& file, std::uint64_t written) {
    const std::string d = "proc/" + std::to_string(pid);
    if (!std::ifstream(tree.path(file)).good()) tree.write(file, "x");
    tree.mkdir(d + "/fd");
    tree.symlink(tree.path(file), d + "/fd/3");
    tree.write(d + "/fdinfo/3", "pos:\t0\nflags:\t0100001\nmnt_id:\t50\n");
    wrote(pid, written);
  }
  // The writer's /proc/PID/io now says it wrote this much in all.
  // Written aside and renamed: the ladder's worker thread may be reading it.
  void wrote(int pid, std::uint64_t bytes) {
    const std::string io = "proc/" + std::to_string(pid) + "/io";
    tree.write(io + ".new", "rchar: 0\nwchar: " + std::to_string(bytes) + "\nsyscr: 0\nsyscw: " +
                                                          std::to_string(bytes / 65536) + "\nread_bytes: 0\nwrite_bytes: " +
                                                          std::to_string(bytes) + "\ncancelled_write_bytes: 0\n");
    std::rename(tree.path(io + ".new").c_str(), tree.path(io).c_str());
  }

  // Builds the services and parts (after the fixture is in place).
  void start(bool memory = true, bool cpu = true, bool disk = false) {
    sense::ProcessTable::Options o;
    o.procRoot = tree.path("proc");
    o.selfPid = 999999;
    o.prefer = &cfg.prefer;
    o.avoid = &cfg.avoid;
    o.protect = &cfg.protect;
    o.users = &users;
    auto t = sense::ProcessTable::open(o);
    ASSERT_TRUE(t.ok()) << t.error().what;
    table.emplace(std::move(*t));
    services.options = &run;
    services.cfg = &cfg;
    services.clock = &clock;
    services.journal = &journal;
    services.table = &*table;
    services.users = &users;
    services.tablePassed = [this](TimePoint now) {
      for (auto* p : parts) p->onTablePass(now);
    };
    fleet = std::make_unique<VmFleet>(
        services,
        [this](VmFleet::LaneKind k, sys::Poller*, std::uint64_t) -> std::unique_ptr<act::Lane> {
          if (helperMissing) return nullptr;
          auto l = std::make_unique<FakeLane>();
          (k == VmFleet::LaneKind::Control ? control : save) = l.get();
          ++lanesMade;
          return l;
        },
        stateDir);
    services.vms = fleet.get();
    parts.push_back(fleet.get());
    if (memory) {
      auto m = sense::MemorySensor::openHost(tree.path("proc"), false);
      ASSERT_TRUE(m.ok()) << m.error().what;
      memoryLadder = std::make_unique<MemoryLadder>(services, std::move(*m));
      parts.push_back(memoryLadder.get());
    }
    if (cpu) {
      auto c = sense::CpuSensor::open(tree.path("proc"));
      ASSERT_TRUE(c.ok()) << c.error().what;
      cpuLadder = std::make_unique<CpuLadder>(services, std::move(*c));
      parts.push_back(cpuLadder.get());
    }
    if (disk) {
      DiskLadder::Hooks hooks;
      hooks.space = [this]() -> std::unique_ptr<SpaceSource> {
        auto f = std::make_unique<FakeSpace>(&disks, &hung);
        space = f.get();
        ++spacesMade;
        return f;
      };
      hooks.kill = [this](std::span<const ProcessInfo* const> members, bool dryRun) {
        act::Killer::KillOutcome o;
        o.outcome = dryRun ? Outcome::DryRun : killResult;
        if (dryRun) return o;
        std::vector<int> pids;
        for (const auto* m : members) pids.push_back(m->pid);
        killed.push_back(pids);
        o.signalled = static_cast<int>(pids.size());
        return o;
      };
      diskLadder = std::make_unique<DiskLadder>(services, tree.path("sys"), std::move(hooks));
      parts.push_back(diskLadder.get());
    }
    for (auto* p : parts) {
      pollers.push_back(std::make_unique<RecordingPoller>());
      pollers.back()->fail = &poller.fail;
      p->attach(pollers.back().get());
    }
    fleet->restore(clock.now());
    if (memoryLadder) {
      ASSERT_TRUE(memoryLadder->open(clock.now()).ok());
    }
    if (cpuLadder) {
      ASSERT_TRUE(cpuLadder->open(clock.now()).ok());
    }
    if (diskLadder) {
      ASSERT_TRUE(diskLadder->open(clock.now()).ok());
    }
  }

  // One turn of the loop at the clock's time: the table if a part wants it fresher,
  // replies on the lanes, then every part whose time came.
  void turn() {
    TimePoint now = clock.now();
    Nanos maxAge = Nanos::max();
    for (auto* p : parts) maxAge = std::min(maxAge, p->tableMaxAge(now));
    if (!table->hasCompletedPass() || (maxAge != Nanos::max() && now - table->lastPassCompleted() >= maxAge)) {
      ASSERT_TRUE(table->refreshAll(now).ok());
      ++passes;
      for (auto* p : parts) p->onTablePass(now);
    }
    if (control) fleet->onReady(1, now);
    if (save) fleet->onReady(2, now);
    // The parts' own fds (the statvfs worker's eventfd...): a probe in flight is waited
    // for a moment in real time, as the loop would sleep in epoll.
    bool probing = (memoryLadder && memoryLadder->probing()) || (diskLadder && diskLadder->busy());
    for (std::size_t i = 0; i < parts.size(); ++i)
      for (auto tag : pollers[i]->ready(probing ? 200 : 0)) parts[i]->onReady(tag, now);
    for (auto* p : parts)
      if (now >= p->nextDue()) p->onTimer(now);
  }
  // Turns the loop every `step` for `total`.
  void runFor(Nanos total, Nanos step = Millis{100}) {
    for (Nanos t{0}; t < total; t += step) {
      clock.advance(step);
      turn();
    }
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string log() const { return read(journalPath); }
  std::vector<std::string> lines(std::string_view event) const {
    std::vector<std::string> out;
    std::istringstream in(log());
    std::string l;
    std::string key = "event=" + std::string(event) + " ";
    while (std::getline(in, l))
      if (l.find(key) != std::string::npos) out.push_back(l);
    return out;
  }

  // libvirt answers the pending list with these domains (running unless said).
  void libvirtLists(const std::vector<std::pair<std::string, std::string>>& uuidState) {
    ASSERT_NE(control, nullptr);
    const auto* l = control->last(act::VmOp::List);
    ASSERT_NE(l, nullptr);
    std::vector<act::DomainInfo> ds;
    for (const auto& [uuid, state] : uuidState) {
      act::DomainInfo d;
      d.uuid = uuid;
      d.state = state;
      d.memory = d.maxMemory = Bytes::mib(1024);
      ds.push_back(d);
    }
    control->answer(l->id, true, 0, {}, ds);
    turn();
  }

  TempTree tree;
  RunOptions run;
  config::Config cfg;
  FakeClock clock;
  journal::Journal journal;
  std::string journalPath;
  std::string stateDir;
  sense::UserNames users;
  std::optional<sense::ProcessTable> table;
  Services services;
  PollerSwitch poller;
  std::vector<std::unique_ptr<RecordingPoller>> pollers;
  std::unique_ptr<VmFleet> fleet;
  std::unique_ptr<MemoryLadder> memoryLadder;
  std::unique_ptr<CpuLadder> cpuLadder;
  std::unique_ptr<DiskLadder> diskLadder;
  std::string mountinfo = "41 31 0:38 / " + tree.path("cg2") + " rw,relatime shared:11 - cgroup2 cgroup2 rw\n";
  dev_t diskDev = 0;
  std::map<std::string, sys::FsSpace> disks;
  std::set<std::string> hung;
  FakeSpace* space = nullptr;
  int spacesMade = 0;
  std::vector<std::vector<int>> killed;  // the groups the fake killer was given
  Outcome killResult = Outcome::Ok;
  std::vector<Part*> parts;
  FakeLane* control = nullptr;
  FakeLane* save = nullptr;
  bool helperMissing = false;
  int lanesMade = 0;
  int passes = 0;
};

}  // namespace ork::ladder::testing
