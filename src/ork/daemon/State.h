// The daemon's state: owned by the one thread of the event loop. Private to daemon/.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ork/act/Killer.h"
#include "ork/act/VmLane.h"
#include "ork/config/Config.h"
#include "ork/core/CpuSample.h"
#include "ork/core/MemorySample.h"
#include "ork/daemon/Daemon.h"
#include "ork/journal/Journal.h"
#include "ork/policy/CpuRule.h"
#include "ork/policy/CpuScorer.h"
#include "ork/policy/MemoryRule.h"
#include "ork/policy/VictimScorer.h"
#include "ork/sense/CpuSensor.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sense/ProcessTable.h"
#include "ork/sense/VmTable.h"
#include "ork/sys/Freezer.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/SelfProtect.h"

namespace ork::daemon {

// epoll tags
inline constexpr std::uint64_t kTagSignal = 1;
inline constexpr std::uint64_t kTagPressure = 2;
inline constexpr std::uint64_t kTagControlLane = 3;
inline constexpr std::uint64_t kTagSaveLane = 4;
inline constexpr std::uint64_t kTagVictim = 1000;     // + slot
inline constexpr std::uint64_t kTagCpuVictim = 2000;  // + slot

enum class LibvirtState {
  Off,       // not needed: no VMs, or [vm] libvirt = false
  Starting,  // the control lane's helper asked for the first list
  Up,        // the last list succeeded
  Down,      // unreachable: retried with back-off
  Missing,   // no ork-virt helper installed
};

// A VM as the daemon acts on it: what ORK did to it, and when.
struct VmState {
  int pid = 0;
  std::uint64_t startTimeTicks = 0;
  std::string name;
  std::string uuid;
  Bytes configured;  // -m of its command line
  Bytes memory;      // resident + swapped, of the qemu process
  std::uint64_t cpuTicks = 0;
  double cpus = 0;   // over the current CPU window
  bool seen = false;

  // Memory, step 1.
  bool saving = false;
  bool saved = false;
  std::uint64_t saveReq = 0;
  TimePoint saveStartedAt;
  TimePoint saveRetryAt;
  Bytes memAtSave;
  Bytes availAtSave;

  // CPU, step 1.
  enum class Freeze { None, Pending, Libvirt, CgroupV2, CgroupV1 };
  Freeze freeze = Freeze::None;
  std::uint64_t freezeReq = 0;
  std::uint64_t thawReq = 0;
  bool wouldBeFrozen = false;  // dry-run: "frozen" until the CPU episode ends
  TimePoint frozenAt;
  TimePoint thawRetryAt;
  Nanos thawBackoff{0};
  sys::FreezerTarget freezer;
  policy::CoolDown coolDown;

  explicit VmState(const config::Config& cfg) : coolDown(cfg) {}
};

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

  // VMs.
  sense::VmTable vmTable;
  std::vector<VmState> vms;
  std::vector<VmState*> vmOrder;  // scratch
  std::vector<int> leaveAlone;    // PIDs of VMs being saved or frozen
  std::vector<act::DomainInfo> domains;
  LibvirtState libvirt = LibvirtState::Off;
  std::unique_ptr<act::VmLane> controlLane;
  std::unique_ptr<act::VmLane> saveLane;
  std::uint64_t listReq = 0;
  TimePoint listDueAt;
  TimePoint libvirtRetryAt;
  Nanos libvirtBackoff{0};
  TimePoint lastVmSeenAt;
  TimePoint hibernateHoldOff;
  bool hibernateUnavailableLogged = false;
  bool stopping = false;  // SIGTERM: thawing what ORK froze

  // CPU.
  bool cpuOn = false;
  sense::CpuSensor cpu;
  std::unique_ptr<policy::CpuRule> cpuRule;
  std::unique_ptr<act::Killer> cpuKiller;
  TimePoint nextCpuAt;
  bool cpuErrorLogged = false;
  std::vector<policy::CpuBaseline> cpuBase;
  TimePoint cpuBaseAt;
  bool cpuBaseValid = false;
  policy::CpuScratch cpuScratch;
  double ticksPerSecond = 100;
  int cpuEpisodeActs = 0;
  TimePoint cpuEpisodeStart;
};

}  // namespace ork::daemon
