// The daemon's state: owned by the one thread of the event loop. Private to daemon/.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ork/act/Killer.h"
#include "ork/config/Config.h"
#include "ork/core/MemorySample.h"
#include "ork/daemon/Daemon.h"
#include "ork/journal/Journal.h"
#include "ork/policy/MemoryRule.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/SelfProtect.h"

namespace ork::daemon {

struct Daemon::State {
  Options options;
  config::Config cfg;
  sys::MonotonicClock clock;
  sys::Epoll epoll;
  sys::UniqueFd signalFd;
  std::vector<sys::UniqueFd> pressureFds;
  sense::MemorySensor memory;
  sense::UserNames users;
  std::unique_ptr<sense::ProcessTable> table;
  journal::Journal journal;
  std::unique_ptr<policy::MemoryRule> rule;
  policy::FillRate fillRate;
  std::unique_ptr<act::Killer> killer;
  sys::SelfProtection protection;
  std::string pressureMode = "none";

  // Preallocated for the kill path.
  std::vector<policy::Candidate> candidates;
  std::vector<int> scratch;
  std::array<int, act::Killer::kMaxMembers> memberIdx{};
  std::array<const ProcessInfo*, act::Killer::kMaxMembers> members{};

  TimePoint nextSampleAt;
  TimePoint fastUntil;
  TimePoint wokeAt;
  bool woke = false;
  TimePoint killDeadline;
  TimePoint episodeStart;
  int episodeKills = 0;
  bool abortLogged = false;
  bool noCandidateLogged = false;
  bool sampleErrorLogged = false;
  int victimPid = 0;
  char victimName[17] = {};
  TimePoint victimKilledAt;
  MemorySample last;
};

}  // namespace ork::daemon
