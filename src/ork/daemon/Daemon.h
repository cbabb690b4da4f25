// The event loop and the wiring: the one place that owns state. One thread:
// epoll over the signalfd, the PSI trigger (or cgroup v1 threshold eventfds) and the
// victims' pidfds, with a timeout that is the adaptive sampling interval.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ork/config/Config.h"
#include "ork/core/MemorySample.h"
#include "ork/core/Result.h"
#include "ork/policy/MemoryRule.h"

namespace ork::journal {
class Line;
}
namespace ork::act {
struct VmReply;
}
namespace ork::parse {
struct VirtDomain;
}
namespace ork {
struct CpuSample;
struct ProcessInfo;
}

namespace ork::daemon {

struct VmState;

struct Options {
  bool dryRun = false;
  std::string cgroupDir;             // empty: the host domain
  std::string kmsgPath = "/dev/kmsg";
  std::string procRoot = "/proc";
  std::string passwdPath = "/etc/passwd";
  bool mirrorStderr = true;
  bool protectSelf = true;           // mlockall, oom_score_adj -1000
};

class Daemon {
 public:
  // Opens every source; an error here is fatal and says what is wrong.
  static Result<std::unique_ptr<Daemon>> create(const Options& options, const config::Config& cfg);
  ~Daemon();
  // Runs until SIGTERM or SIGINT; returns the process exit code.
  int run();

 private:
  Daemon();
  struct State;
  void tick(TimePoint now);
  void killVictim(const MemorySample& sample, const policy::MemoryVerdict& verdict, TimePoint seenAt);
  void afterPass();

  // VMs and the CPU ladder (Vms.cpp).
  void updateVms(TimePoint now);
  void libvirtTick(TimePoint now);
  void libvirtDown(TimePoint now, std::string_view why);
  void onLaneReadable(bool saveLane, TimePoint now);
  void checkLaneDeadlines(TimePoint now);
  void onVmReply(act::VmReply&& r, TimePoint now);
  void hibernateStep(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint now);
  void onSaveReply(VmState& vm, const act::VmReply& r, TimePoint now);
  void markLeaveAlone(std::span<ProcessInfo> entries, bool frozenToo);
  void thawBeforeKill(int pid);
  void thawFailed(VmState& vm, TimePoint now, journal::Line& l);
  void takeCpuBaseline(TimePoint now);
  void cpuTick(TimePoint now);
  void cpuAct(const CpuSample& smp, TimePoint now);
  bool freezeVm(VmState& vm, TimePoint now);
  bool freezeByCgroup(VmState& vm, TimePoint now, const act::VmReply* libvirtFailure);
  void onFreezeReply(VmState& vm, const act::VmReply& r, TimePoint now);
  void thawVm(VmState& vm, TimePoint now);
  void thawAllOnStop(TimePoint now);
  void cpuKill(TimePoint now);
  const parse::VirtDomain* domainOf(const VmState& vm) const;
  void vmFields(journal::Line& l, const VmState& vm) const;
  std::unique_ptr<State> s_;
};

}  // namespace ork::daemon
