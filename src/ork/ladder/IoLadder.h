// I/O: the fourth ladder, on the CPU ladder's shape (docs/scoring.md, "I/O"). Senses
// /proc/diskstats and PSI io every second; when a whole disk stays saturated while the
// host waits for I/O (io.sustain_s), looks at who did the I/O on that device over the
// window and whether anyone else waited for it; if others waited, freezes the VM doing
// the most I/O there (step 1, loses no work; resumed after its cool-down, with back-off)
// or, when that was not enough or the culprit is not a VM, kills the process tree doing
// it (step 2). A disk busy with one job that nobody else waits for is left alone.
//
// Who did the I/O is measured between two looks (sense::scanIo) at the candidate
// table's passes: one when an overload begins, one when the action is due (the loop
// refreshes the table for both, in chunks), none in between. A look reads two files
// per process (a quarter of a second at 11,000 processes): it runs on the ladder's
// worker thread (sys::JobThread), and the action when its answer comes back.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ork/act/Killer.h"
#include "ork/ladder/Ladder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/policy/CpuScorer.h"
#include "ork/policy/IoRule.h"
#include "ork/policy/IoScorer.h"
#include "ork/sense/IoScan.h"
#include "ork/sense/IoSensor.h"
#include "ork/sys/JobThread.h"

namespace ork::ladder {

class IoLadder final : public Ladder {
 public:
  IoLadder(const Services& services, sense::IoSensor sensor);
  ~IoLadder() override;

  const char* name() const override { return "io"; }
  Result<void> open(TimePoint now) override;
  void describe(journal::Line& start) const override;
  void state(journal::Line& l) const override;
  void readings(Readings& r) const override;
  Report report() const override;

  TimePoint nextDue() const override { return nextAt_; }
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void onTablePass(TimePoint now) override;
  Nanos tableMaxAge(TimePoint now) const override;
  void reconfigure(TimePoint now) override;

  // `ork top`: the first call looks at every process's I/O counters, the second at them
  // again; report() then lists the top consumers between the two.
  void watchConsumers(TimePoint now);

 private:
  static constexpr std::uint64_t kTagVictim = 1000;  // + slot
  static constexpr std::uint64_t kTagJobs = 2;

  // Starts a look over the table's processes now; its answer becomes the window's
  // start (base_) or end (end_, then act()). Inline when the worker could not start.
  void look(bool forEnd, TimePoint now);
  void act(TimePoint now);
  void kill(const policy::CpuVictim& choice, const IoDevice& dev, TimePoint now);
  void noteTop(std::span<const ProcessInfo> entries, const std::vector<double>& own);
  bool enabled() const;

  Services s_;
  sense::IoSensor sensor_;
  sense::CgroupRoots roots_;
  std::unique_ptr<policy::IoRule> rule_;
  std::unique_ptr<act::Killer> killer_;
  TimePoint nextAt_;
  bool errorLogged_ = false;
  IoSample last_;
  bool haveLast_ = false;
  policy::IoVerdict lastVerdict_;
  IoDevice device_{};        // the device of the latest overloaded sample
  double pressure_ = -1;   // ... and the host's PSI io then

  policy::IoSnapshot base_;
  policy::IoSnapshot end_;
  bool baseValid_ = false;
  bool wantBaseline_ = false;
  bool actPending_ = false;
  bool busyNoted_ = false;  // io_busy said in this episode
  sys::JobThread jobs_;
  bool jobsStarted_ = false;
  bool looking_ = false;       // a look is on the worker
  std::uint64_t generation_ = 0;  // a reset (calm, reload) makes a look in flight stale
  std::vector<sense::IoScanTarget> targets_;
  int episodeActs_ = 0;
  TimePoint episodeStart_;
  int consumerLooks_ = 0;

  std::vector<double> own_;
  std::vector<int> leaveAlone_;
  std::vector<std::string> culprit_;
  policy::CpuScratch scratch_;
  std::vector<std::string> top_;  // "pid name: N MiB/s" of the last look, for report()
  std::array<int, act::Killer::kMaxMembers> memberIdx_{};
  std::array<const ProcessInfo*, act::Killer::kMaxMembers> members_{};
};

}  // namespace ork::ladder
