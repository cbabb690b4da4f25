#include "ork/cli/Top.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <thread>

#include "ork/act/Killer.h"
#include "ork/act/VmLane.h"
#include "ork/core/Printable.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/CpuLadder.h"
#include "ork/ladder/DiskLadder.h"
#include "ork/ladder/IoLadder.h"
#include "ork/ladder/MemoryLadder.h"
#include "ork/ladder/NetworkLadder.h"
#include "ork/policy/VmChoice.h"
#include "ork/policy/MemoryRule.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sense/VmTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/Files.h"
#include "ork/sys/Freezer.h"
#include "ork/sys/Sysconf.h"

namespace ork::cli {

namespace {
double mib(Bytes b) { return static_cast<double>(b.value) / (1024.0 * 1024.0); }

// Every string that ORK did not write itself (a process's name or command line, a VM's
// name, what libvirt says, an error naming a cgroup) goes through this before it reaches
// the terminal: a process controls those bytes, and ESC or a newline must not be written
// raw (the journal escapes the same strings).
std::string escaped(std::string_view text) { return printable(text); }

// The domains libvirt knows, through the ork-virt helper, read-only, within a
// deadline. Empty with a reason when libvirt cannot be asked.
std::vector<act::DomainInfo> listDomains(const config::Config& cfg, std::string& why) {
  std::string helper = act::findVirtHelper();
  if (helper.empty()) {
    why = "the ork-virt helper is not installed";
    return {};
  }
  auto ep = sys::Epoll::create();
  if (!ep) {
    why = ep.error().what;
    return {};
  }
  sys::MonotonicClock clock;
  act::VmLane::Options o;
  o.helperPath = helper;
  o.uri = cfg.libvirtUri;
  o.readOnly = true;
  o.name = "top";
  o.epoll = &*ep;
  o.epollTag = 1;
  o.grace = Millis{200};
  act::VmLane lane(std::move(o));
  std::vector<act::DomainInfo> out;
  bool done = false;
  auto onReply = [&](act::VmReply&& r) {
    done = true;
    if (r.ok) out = std::move(r.domains);
    else why = r.message.empty() ? "libvirt did not answer" : r.message;
  };
  auto id = lane.submit(act::VmOp::List, "", clock.now(), cfg.millis(config::Key::VmCallDeadlineMs));
  if (!id) {
    why = id.error().what;
    return {};
  }
  while (!done) {
    std::array<epoll_event, 4> events{};
    auto n = ep->wait(events.data(), static_cast<int>(events.size()), Millis{100});
    if (!n) break;
    if (*n > 0) lane.onReadable(onReply);
    if (!done) lane.checkDeadlines(clock.now(), onReply);
  }
  return out;
}

// VMs first: they are first on both ladders (hibernate on memory pressure, freeze on
// CPU overload), before any process is killed.
void printVms(const TopOptions& opts, const config::Config& cfg, sense::ProcessTable& table, TimePoint now) {
  sense::VmTable vmt(opts.procRoot);
  vmt.update(table.entries());
  if (vmt.vms().empty()) {
    std::printf("VMs: none found\n\n");
    return;
  }
  // CPU use over half a second, from the qemu processes' own CPU time.
  struct Row {
    sense::Vm vm;
    double cpus = 0;
  };
  std::vector<Row> rows;
  for (const auto& vm : vmt.vms()) rows.push_back({vm, 0});
  constexpr Millis kCpuWindow{500};
  std::this_thread::sleep_for(kCpuWindow);
  long tck = ::sysconf(_SC_CLK_TCK);
  auto entries = table.mutableEntries();
  for (auto& r : rows) {
    ProcessInfo& e = entries[static_cast<std::size_t>(r.vm.index)];
    if (!table.reread(e, now)) continue;
    r.cpus = static_cast<double>(e.cpuTicks - std::min(e.cpuTicks, r.vm.cpuTicks)) / static_cast<double>(tck > 0 ? tck : 100) /
             std::chrono::duration<double>(kCpuWindow).count();
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.vm.memory > b.vm.memory; });

  std::string why;
  std::vector<act::DomainInfo> domains;
  if (cfg.flag(config::Key::VmLibvirt)) domains = listDomains(cfg, why);
  else why = "[vm] libvirt = false";
  auto space = sys::fsSpace(cfg.saveDir);

  std::printf("VMs (%zu), largest first; libvirt %s%s%s\n", rows.size(), why.empty() ? "at " : "unavailable: ",
              escaped(why.empty() ? cfg.libvirtUri : why).c_str(), "");
  std::printf("   %7s %-20s %-36s %9s %9s %5s %-8s %s\n", "pid", "name", "uuid", "mem_MiB", "guest_MiB", "cpu%",
              "state", "what ORK would do: on memory pressure / on CPU overload");
  bool firstSave = true;
  for (const auto& r : rows) {
    const QemuCommand* cmd = r.vm.cmd.get();
    const act::DomainInfo* d = nullptr;
    for (const auto& dom : domains)
      if (cmd && dom.uuid == cmd->uuid) d = &dom;
    Bytes guest = cmd ? cmd->memory : Bytes{};
    if (d) guest = std::max({guest, d->memory, d->maxMemory});
    guest = std::max(guest, r.vm.memory);
    Bytes room = policy::saveRoomNeeded(guest, cfg);
    std::string onMemory, onCpu;
    if (!cfg.flag(config::Key::VmHibernate)) onMemory = "no hibernation ([vm] hibernate = false)";
    else if (d == nullptr) onMemory = "skip hibernation: not a libvirt domain ORK can reach";
    else if (!space) onMemory = std::string("skip hibernation: ") + space.error().what;
    else if (space->available < room) {
      char b[160];
      std::snprintf(b, sizeof b, "skip hibernation: %s has %.0f MiB free, needs %.0f", cfg.saveDir.c_str(),
                    mib(space->available), mib(room));
      onMemory = b;
    } else {
      onMemory = firstSave ? "hibernate first (managed save)" : "hibernate (managed save), if still needed";
      firstSave = false;
    }
    if (r.cpus * 100 < cfg.get(config::Key::CpuVmMinPercent)) onCpu = "left alone (little CPU)";
    else if (d != nullptr) onCpu = "freeze (libvirt suspend)";
    else if (auto t = sys::freezerFor(r.vm.pid, opts.procRoot); t)
      onCpu = t->kind == sys::FreezerTarget::Kind::V2 ? "freeze (cgroup v2 freeze)" : "freeze (cgroup v1 freezer)";
    else onCpu = std::string("cannot freeze: ") + t.error().what;
    std::printf("   %7d %-20.20s %-36s %9.1f %9.1f %5.0f %-8s %s / %s\n", r.vm.pid,
                cmd && !cmd->name.empty() ? escaped(cmd->name).c_str() : "?",
                cmd && !cmd->uuid.empty() ? escaped(cmd->uuid).c_str() : "-", mib(r.vm.memory), mib(guest), r.cpus * 100,
                d ? escaped(d->state).c_str() : "-", escaped(onMemory).c_str(), escaped(onCpu).c_str());
    if (d && !d->novaName.empty())
      std::printf("   %7s OpenStack instance \"%s\"%s%s%s%s\n", "", escaped(d->novaName).c_str(), d->novaProject.empty() ? "" : ", project ",
                  escaped(d->novaProject).c_str(), d->novaFlavor.empty() ? "" : ", flavor ", escaped(d->novaFlavor).c_str());
  }
  std::printf("\n");
}

// What each ladder reports: its own view of its resource, the same objects the daemon
// runs (in dry-run, with no libvirt: nothing is acted on).
void printLadders(const TopOptions& opts, const config::Config& cfg, sense::ProcessTable& table,
                  sense::UserNames& users, sense::MemorySensor memory) {
  sys::MonotonicClock clock;
  ladder::RunOptions run;
  run.dryRun = true;
  run.cgroupDir = opts.cgroupDir;
  run.procRoot = opts.procRoot;
  auto journal = journal::Journal::open("/dev/null", false);
  if (!journal) return;
  ladder::Services services;
  services.options = &run;
  services.cfg = &cfg;
  services.clock = &clock;
  services.journal = &*journal;
  services.table = &table;
  services.users = &users;
  std::vector<std::unique_ptr<ladder::Ladder>> ladders;
  ladders.push_back(std::make_unique<ladder::MemoryLadder>(services, std::move(memory)));
  if (auto cpu = sense::CpuSensor::open(opts.procRoot)) ladders.push_back(std::make_unique<ladder::CpuLadder>(services, std::move(*cpu)));
  auto disk = std::make_unique<ladder::DiskLadder>(services);
  ladder::DiskLadder* diskp = disk.get();
  ladders.push_back(std::move(disk));
  ladder::IoLadder* iop = nullptr;
  if (auto io = sense::IoSensor::open(opts.procRoot, "/sys")) {
    ladders.push_back(std::make_unique<ladder::IoLadder>(services, std::move(*io)));
    iop = static_cast<ladder::IoLadder*>(ladders.back().get());
  }
  // Our MACs and the interfaces never put down (off unless network.enabled).
  ladders.push_back(std::make_unique<ladder::NetworkLadder>(services));
  for (auto& l : ladders) (void)l->open(clock.now());
  if (iop != nullptr) iop->watchConsumers(clock.now());
  // statvfs answers (a mount that does not answer within a second is shown so).
  diskp->settle(std::chrono::seconds(1));
  // The CPU is judged over an interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (auto& l : ladders) l->onTimer(clock.now());
  if (iop != nullptr) iop->watchConsumers(clock.now());
  for (auto& l : ladders) {
    auto r = l->report();
    for (const auto& line : r.lines) std::printf("%-7s %s\n", (r.title + ":").c_str(), escaped(line).c_str());
  }
  std::printf("\n");
}
}  // namespace

int runTopCommand(const TopOptions& opts, const config::Config& cfg) {
  sys::MonotonicClock clock;
  auto memory = opts.cgroupDir.empty()
                    ? sense::MemorySensor::openHost(opts.procRoot, cfg.flag(config::Key::MemoryCountZfsArc))
                    : sense::MemorySensor::openCgroup(opts.cgroupDir, opts.procRoot);
  if (!memory) {
    std::fprintf(stderr, "ork: %s\n", memory.error().what);
    return 1;
  }
  auto sample = memory->sample(clock.now());
  if (!sample) {
    std::fprintf(stderr, "ork: %s\n", sample.error().what);
    return 1;
  }
  sense::UserNames users;
  users.load(opts.passwdPath);
  sense::ProcessTable::Options topts;
  topts.procRoot = opts.procRoot;
  topts.cgroupDir = opts.cgroupDir;
  topts.selfPid = sys::selfPidIn(opts.procRoot.c_str());
  topts.growthWindow = cfg.seconds(config::Key::ScanGrowthWindowS);
  topts.prefer = &cfg.prefer;
  topts.avoid = &cfg.avoid;
  topts.protect = &cfg.protect;
  topts.users = &users;
  topts.readSwap = true;
  auto table = sense::ProcessTable::open(topts);
  if (!table) {
    std::fprintf(stderr, "ork: %s\n", table.error().what);
    return 1;
  }
  if (auto r = table->refreshAll(clock.now()); !r) {
    std::fprintf(stderr, "ork: %s\n", r.error().what);
    return 1;
  }
  // A second look: what grew in between, and what was born, counts as growth, as in
  // the daemon (which looks over scan.growth_window_s).
  if (opts.interval > Nanos{0}) {
    std::this_thread::sleep_for(opts.interval);
    if (auto r = table->refreshAll(clock.now()); !r) {
      std::fprintf(stderr, "ork: %s\n", r.error().what);
      return 1;
    }
  }
  auto t = policy::memoryThresholds(sample->total, cfg);
  auto level = policy::classify(*sample, t, cfg);
  // What a kill would have to free: to get back above soft, as at the hard threshold
  // if memory is not that low now.
  Bytes need = std::max(t.soft - std::min(sample->available, t.hard), Bytes{0});

  std::printf("domain %s: total %.0f MiB, available %.0f MiB (%.1f%%), soft %.0f MiB, hard %.0f MiB, now %s\n",
              escaped(memory->describe()).c_str(), mib(sample->total), mib(sample->available),
              100.0 * static_cast<double>(sample->available.value) / static_cast<double>(std::max<std::int64_t>(1, sample->total.value)),
              mib(t.soft), mib(t.hard),
              level == policy::MemoryLevel::Ok ? "ok" : level == policy::MemoryLevel::Soft ? "below soft" : "below hard");
  if (sample->zfsArcShrinkable > Bytes{0})
    std::printf("  (available includes %.0f MiB of shrinkable ZFS ARC)\n", mib(sample->zfsArcShrinkable));
  if (sample->swapTotal > Bytes{0})
    std::printf("swap: %.0f MiB free of %.0f MiB\n", mib(sample->swapFree), mib(sample->swapTotal));
  std::printf("a kill at the hard threshold must free %.0f MiB to get back above soft\n\n", mib(need));
  if (cfg.flag(config::Key::VmEnabled)) printVms(opts, cfg, *table, clock.now());
  if (auto ladderMemory = opts.cgroupDir.empty()
                              ? sense::MemorySensor::openHost(opts.procRoot, cfg.flag(config::Key::MemoryCountZfsArc))
                              : sense::MemorySensor::openCgroup(opts.cgroupDir, opts.procRoot))
    printLadders(opts, cfg, *table, users, std::move(*ladderMemory));

  auto entries = table->entries();
  std::vector<policy::Candidate> ranked;
  policy::RankScratch scratch;
  policy::rankCandidates(entries, {sample->total, need, &cfg, clock.now()}, ranked, scratch);
  int choice = policy::chooseVictim(ranked, cfg);

  if (opts.interval > Nanos{0})
    std::printf("growth: what ORK saw grow over %.1f s (the daemon looks over %lld s, so its growth and scores can be"
                " larger)\n",
                std::chrono::duration<double>(opts.interval).count(),
                static_cast<long long>(std::chrono::duration_cast<Seconds>(cfg.seconds(config::Key::ScanGrowthWindowS)).count()));
  else
    std::printf("growth: not seen (--interval 0: one look); the daemon looks over %lld s\n",
                static_cast<long long>(std::chrono::duration_cast<Seconds>(cfg.seconds(config::Key::ScanGrowthWindowS)).count()));
  std::printf("%-2s %4s %7s %-10s %-7s %4s %9s %9s %-4s %6s %5s %5s %5s %9s %-6s %s\n", "", "rank", "pid", "user",
              "kills", "memb", "mem_MiB", "grow_MiB", "grew", "adj", "owner", "patt", "youth", "score", "enough",
              "command");
  int shown = 0;
  std::vector<int> members(act::Killer::kMaxMembers);
  for (std::size_t i = 0; i < ranked.size() && shown < opts.limit; ++i, ++shown) {
    const auto& c = ranked[i];
    const ProcessInfo& p = entries[static_cast<std::size_t>(c.index)];
    std::string user = p.uidKnown ? escaped(users.nameOf(p.uid)) : "?";
    char userText[16];
    if (user.empty()) std::snprintf(userText, sizeof userText, "%u", p.uid);
    else std::snprintf(userText, sizeof userText, "%.*s", static_cast<int>(std::min<std::size_t>(user.size(), 10)), user.data());
    std::string cmd = escaped(p.identity && !p.identity->cmdline.empty() ? std::string_view(p.identity->cmdline) : p.comm);
    // What the row kills: the process, a pool (the process and its same-program
    // descendants), a tree (the process and its descendants), or a burst of its
    // children (without it).
    const char* kind = policy::toString(c.group);
    std::printf("%-2s %4zu %7d %-10s %-7s %4d %9.1f %9.1f %-4s %6d %5.2f %5.2f %5.2f %9.1f %-6s %s%.60s\n",
                static_cast<int>(i) == choice ? "->" : "", i + 1, p.pid, userText, kind, c.members, mib(c.freed),
                mib(c.growth), c.grew ? "yes" : "no", p.oomScoreAdj, c.ownerFactor, c.patternFactor, c.youthFactor,
                c.score / (1024.0 * 1024.0), c.sufficient ? "yes" : "no", c.headIncluded ? "" : "children of ", cmd.c_str());
    if (c.group != policy::Group::Process) {
      int n = policy::treeMembers(entries, scratch, c, members.data(), static_cast<int>(members.size()));
      std::printf("%20s members:", "");
      int listed = 0;
      for (int k = 0; k < n && listed < 8; ++k, ++listed) {
        const ProcessInfo& m = entries[static_cast<std::size_t>(members[static_cast<std::size_t>(k)])];
        std::printf(" %d %s%s", m.pid, escaped(m.comm).c_str(), k + 1 < n && listed + 1 < 8 ? "," : "");
      }
      if (c.members > listed) std::printf(" (+%d more)", c.members - listed);
      std::printf("\n");
    }
  }
  if (ranked.empty()) std::printf("no candidate: nothing in this domain may be killed\n");
  std::printf(
      "\nkills: process (one), pool (a process and its same-program descendants), tree (a process and all its\n"
      "descendants), burst (children of a process born together, with theirs, without that process).\n"
      "memb: how many die. grew: a culprit, which grew (or was born) enough to matter; culprits come before\n"
      "whatever did not grow, whatever its size. score, in MiB: for a culprit growth_weight*growth +\n"
      "adj/1000*total, for the rest mem + growth_weight*growth + adj/1000*total; times owner * pattern *\n"
      "youth (each member's own, for a tree or a burst). docs/scoring.md\n");
  if (choice >= 0) {
    const auto& c = ranked[static_cast<std::size_t>(choice)];
    const char* why = policy::whyChosen(ranked, choice);
    const char* text = std::string_view(why) == "grew_most"    ? "it grew the most"
                       : std::string_view(why) == "largest"    ? "nothing grew: the largest"
                       : std::string_view(why) == "fewer_kills" ? "as guilty as the best, with fewer kills"
                       : std::string_view(why) == "frees_enough" ? "as guilty as the best, which does not free enough, it does"
                                                                 : "as guilty as the best, it frees enough with less memory lost";
    std::printf("'->' is what ORK would kill at the hard threshold (rank %d, %s %d): %s (why=%s)\n", choice + 1,
                policy::toString(c.group), entries[static_cast<std::size_t>(c.index)].pid, text, why);
  }
  if (opts.all) {
    std::printf("\nnever candidates:\n");
    for (const auto& p : entries) {
      auto why = policy::exclusionOf(p);
      if (why == policy::Exclusion::None || why == policy::Exclusion::KernelThread) continue;
      std::printf("  %7d %-16s %9.1f MiB  %s\n", p.pid, escaped(p.comm).c_str(), mib(p.memory()), policy::toString(why));
    }
    std::printf("  (and kernel threads)\n");
  }
  return 0;
}

}  // namespace ork::cli
