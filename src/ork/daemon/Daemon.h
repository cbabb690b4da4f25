// The event loop and the wiring: the one place that owns state. One thread:
// epoll over the signalfd, the PSI trigger (or cgroup v1 threshold eventfds) and the
// victims' pidfds, with a timeout that is the adaptive sampling interval.
#pragma once

#include <memory>
#include <string>

#include "ork/config/Config.h"
#include "ork/core/MemorySample.h"
#include "ork/core/Result.h"
#include "ork/policy/MemoryRule.h"

namespace ork::daemon {

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
  std::unique_ptr<State> s_;
};

}  // namespace ork::daemon
