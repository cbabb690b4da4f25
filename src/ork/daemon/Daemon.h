// The event loop and the wiring. One thread: epoll over the signalfd and whatever fds
// the ladders and services registered (PSI triggers, victims' pidfds, the VM lanes'
// sockets), with a timeout that is the earliest time any of them wants to run. The
// loop owns no resource's state: it dispatches to the parts (ladder/Ladder.h), keeps
// the candidate table as fresh as the most demanding ladder asks (in chunks, so that
// a pass never delays a sample), reloads the configuration on SIGHUP and stops
// cleanly on SIGTERM. Beside it, a watchdog thread (Watchdog.h) kills the victim chosen
// in advance if the loop stalls at the hard threshold; the loop tells systemd it is
// ready, reloading and stopping, and pings its watchdog on its turns (sys/SdNotify.h).
#pragma once

#include <memory>
#include <string>

#include "ork/config/Config.h"
#include "ork/core/Result.h"

namespace ork::daemon {

struct Options {
  bool dryRun = false;
  std::string cgroupDir;  // empty: the host domain
  std::string kmsgPath = "/dev/kmsg";
  std::string procRoot = "/proc";
  std::string passwdPath = "/etc/passwd";
  std::string configPath;                // the file in use, re-read on SIGHUP; empty: the defaults
  // When no --config was given: the default file (config::kDefaultConfigPath), looked at
  // on SIGHUP while configPath is empty (created since), and whose removal means the
  // defaults again. Empty when a --config file was named (it must stay readable).
  std::string configDefault;
  std::string stateDir = "/var/lib/ork";  // what must outlive ORK (frozen VMs)
  bool mirrorStderr = true;
  bool protectSelf = true;  // mlockall, oom_score_adj -1000
  // `ork status`'s socket (metrics/Status.h); "" : none.
  std::string statusSocket = "/run/ork/status.sock";
};

class Daemon {
 public:
  // Opens every source; an error here is fatal and says what is wrong.
  static Result<std::unique_ptr<Daemon>> create(const Options& options, const config::Config& cfg);
  ~Daemon();
  // Runs until SIGTERM or SIGINT; returns the process exit code.
  int run();

 private:
  struct State;
  Daemon();
  std::unique_ptr<State> s_;
};

}  // namespace ork::daemon
