// CPU: the second ladder. Senses /proc/stat and PSI cpu every second; on overload
// sustained over cpu.sustain_s freezes the VMs using the most CPU (step 1, loses no
// work) and resumes them after their cool-down; when that is not enough, or there is
// no VM to freeze, kills the process tree creating the load (step 2).
//
// Who uses the CPU is measured over the overload window from the candidate table's
// own passes, which the loop does in chunks: the ladder asks for a pass when an
// overload begins (the baseline) and another when the action is due (the action waits
// for it, a fraction of a second), so no full /proc pass ever runs at once on the loop
// and none runs in between, however long the host stays busy.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "ork/act/Killer.h"
#include "ork/ladder/Ladder.h"
#include "ork/metrics/Writer.h"
#include "ork/ladder/VmFleet.h"
#include "ork/policy/CpuRule.h"
#include "ork/policy/CpuScorer.h"
#include "ork/policy/VmChoice.h"
#include "ork/sense/CpuSensor.h"

namespace ork::ladder {

class CpuLadder final : public Ladder {
 public:
  CpuLadder(const Services& services, sense::CpuSensor sensor);
  ~CpuLadder() override;

  const char* name() const override { return "cpu"; }
  Result<void> open(TimePoint now) override;
  void describe(journal::Line& start) const override;
  void state(journal::Line& l) const override;
  void readings(Readings& r) const override;
  Report report() const override;
  void metrics(metrics::Writer& w) const override;  // ladder/LadderMetrics.cpp

  TimePoint nextDue() const override { return nextAt_; }
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void onTablePass(TimePoint now) override;
  Nanos tableMaxAge(TimePoint now) const override;
  void reconfigure(TimePoint now) override;

 private:
  static constexpr std::uint64_t kTagVictim = 1000;  // + slot
  // From the signal to the last member's death seen on its pidfd (ork_kill_latency_seconds).
  TimePoint killedAt_;
  metrics::Histogram killLatency_;

  void act(const CpuSample& smp, TimePoint now);
  void kill(TimePoint now);
  bool enabled() const;

  Services s_;
  sense::CpuSensor sensor_;
  std::unique_ptr<policy::CpuRule> rule_;
  std::unique_ptr<act::Killer> killer_;
  TimePoint nextAt_;
  bool errorLogged_ = false;
  CpuSample last_;
  bool haveLast_ = false;

  // The attribution window: every process's CPU time at its start.
  std::vector<policy::CpuBaseline> base_;
  TimePoint baseAt_;
  bool baseValid_ = false;
  bool wantBaseline_ = false;  // a table pass is asked for; it becomes the baseline
  bool actPending_ = false;    // the action is due and waits for a fresh pass
  CpuSample pendingSample_;
  policy::CpuScratch scratch_;
  double ticksPerSecond_ = 100;
  int episodeActs_ = 0;
  TimePoint episodeStart_;

  std::vector<int> leaveAlone_;
  std::vector<policy::FreezeCandidate> freezeViews_;
  policy::FreezePlan plan_;
  std::array<int, act::Killer::kMaxMembers> memberIdx_{};
  std::array<const ProcessInfo*, act::Killer::kMaxMembers> members_{};
};

}  // namespace ork::ladder
