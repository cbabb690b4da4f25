// Memory: the first ladder. Senses available memory (host /proc/meminfo or a cgroup)
// at an adaptive cadence, woken at once by a PSI trigger (or cgroup v1 usage
// thresholds); below the soft threshold hibernates the VMs using the most memory
// (step 1, loses no work); below the hard threshold kills the one victim the
// scoring names (step 2). docs/scoring.md tells the rules.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "ork/act/Killer.h"
#include "ork/act/VictimSlot.h"
#include "ork/core/MemorySample.h"
#include "ork/ladder/Ladder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/metrics/Writer.h"
#include "ork/policy/MemoryRule.h"
#include "ork/policy/VictimScorer.h"
#include "ork/policy/VmChoice.h"
#include "ork/sense/MemorySensor.h"
#include "ork/sys/FsProbe.h"

namespace ork::ladder {

class MemoryLadder final : public Ladder, public SaveListener {
 public:
  // sensor: opened by the caller (host or cgroup domain).
  MemoryLadder(const Services& services, sense::MemorySensor sensor);
  ~MemoryLadder() override;

  const char* name() const override { return "memory"; }
  Result<void> open(TimePoint now) override;
  void describe(journal::Line& start) const override;
  void announce(TimePoint now) override;
  void state(journal::Line& l) const override;
  void readings(Readings& r) const override;
  Report report() const override;
  void metrics(metrics::Writer& w) const override;  // ladder/LadderMetrics.cpp

  TimePoint nextDue() const override { return nextSampleAt_; }
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void onTablePass(TimePoint now) override;
  Nanos tableMaxAge(TimePoint now) const override;
  void reconfigure(TimePoint now) override;

  void onSaveDone(VmState& vm, const act::VmReply& reply, TimePoint now) override;

  // The longest time between two samples, and by how much a sample was late against
  // the interval planned for it (the loop's responsiveness, for the stop line and the
  // benchmark).
  Nanos longestGap() const { return longestGap_; }
  Nanos worstLateness() const { return worstLate_; }
  // Runs the kill path's code once, without its effects: rank, choose, members, the
  // Killer's re-check (its dry run: nothing opened, nothing sent), the kill line built
  // and not written. After sys::trimCodePages, so that the pages of that code are
  // resident and locked before the first real kill needs them. No-op before the
  // table's first pass.
  void rehearse(TimePoint now);
  // The watchdog thread's feed (daemon/Watchdog.h): the hard threshold in force is
  // published at every sample, and the victim the policy would kill now is chosen in
  // advance at every table pass (its pidfds opened), for the watchdog to kill if the
  // loop stalls. Null: no watchdog.
  void setWatchdogFeed(act::WatchdogFeed* feed) { feed_ = feed; }
  // A statvfs of the save directory is on its way (off the loop).
  bool probing() const { return probe_.pending(s_.cfg->saveDir); }

 private:
  static constexpr std::uint64_t kTagPressure = 1;
  static constexpr std::uint64_t kTagFsProbe = 2;
  static constexpr std::uint64_t kTagVictim = 1000;  // + slot

  void armWakeups(const MemorySample& first);
  void chooseInAdvance(TimePoint now);
  void tick(TimePoint now);
  void killVictim(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint seenAt);
  void killFields(journal::Line& l, const ProcessInfo& root, int choice, int count,
                  const act::Killer::KillOutcome& outcome) const;
  void hibernateStep(const MemorySample& sample, const policy::MemoryVerdict& v, TimePoint now);
  // The save directory's free space, when known and fresh; else asks for it.
  const Result<sys::FsSpace>* saveSpace(const MemorySample& sample, TimePoint now);

  Services s_;
  sense::MemorySensor sensor_;
  std::unique_ptr<policy::MemoryRule> rule_;
  policy::FillRate fillRate_;
  std::unique_ptr<act::Killer> killer_;
  std::vector<sys::UniqueFd> pressureFds_;
  const char* pressureMode_ = "none";
  int psiWindowMs_ = 1000;
  Error wakeupError_;
  bool wakeupWarned_ = false;

  // Preallocated for the kill path.
  std::vector<policy::Candidate> candidates_;
  policy::RankScratch scratch_;
  std::vector<int> leaveAlone_;
  std::array<int, act::Killer::kMaxMembers> memberIdx_{};
  std::array<const ProcessInfo*, act::Killer::kMaxMembers> members_{};
  std::vector<int> hibernateOrder_;
  std::vector<policy::SaveCandidate> saveViews_;

  TimePoint nextSampleAt_;
  TimePoint plannedAt_;
  TimePoint lastSampleAt_;
  Nanos longestGap_{0};
  Nanos worstLate_{0};
  TimePoint fastUntil_;
  TimePoint wokeAt_;
  bool woke_ = false;
  TimePoint killDeadline_;
  TimePoint episodeStart_;
  int episodeKills_ = 0;
  bool abortLogged_ = false;
  bool noCandidateLogged_ = false;
  bool sampleErrorLogged_ = false;
  bool newcomerErrorLogged_ = false;
  int victimPid_ = 0;
  char victimName_[17] = {};
  TimePoint victimKilledAt_;
  // From the signal to the death seen on the pidfd (ork_kill_latency_seconds).
  metrics::Histogram killLatency_;
  MemorySample last_;
  TimePoint hibernateHoldOff_;
  bool hibernateUnavailableLogged_ = false;
  sys::FsProbe probe_;
  bool probeStarted_ = false;
  bool probeHungLogged_ = false;
  Result<sys::FsSpace> space_ = Error::make(EAGAIN, "not probed yet");
  TimePoint spaceAt_;
  bool haveSpace_ = false;
  act::WatchdogFeed* feed_ = nullptr;
};

}  // namespace ork::ladder
