// Disks: the third ladder. Every watched filesystem's free space and inodes are read
// through sys::FsProbe (statvfs on a worker thread: a hung mount never blocks the
// loop; one that has not answered within disk.probe_deadline_ms is skipped and said
// once) every disk.interval_s, sooner when the fill rate would cross a threshold
// before then. Below soft: the known places on that filesystem are cleaned (step 1,
// act::cleanPlaces on the ladder's worker thread, sys::JobThread). Below hard and still
// filling: the fastest writer to that filesystem is stopped (step 2): a VM is suspended
// through the fleet and resumed once the filesystem is back above soft, a process is
// killed by act::Killer with the table's re-check. docs/scoring.md, "Disks".
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "ork/act/Cleaner.h"
#include "ork/act/Killer.h"
#include "ork/ladder/Ladder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/metrics/Writer.h"
#include "ork/policy/DiskRule.h"
#include "ork/sense/DiskScan.h"
#include "ork/sys/FsProbe.h"
#include "ork/sys/JobThread.h"

namespace ork::ladder {

// Where the ladder's free space and inodes come from: sys::FsProbe (statvfs on a worker
// thread) in the daemon, a test's fake in the rig. Same contract as sys::FsProbe.
class SpaceSource {
 public:
  virtual ~SpaceSource() = default;
  virtual Result<int> start() = 0;  // the eventfd that becomes readable with answers
  virtual int eventFd() const = 0;
  virtual bool request(const std::string& path, TimePoint now) = 0;
  virtual std::vector<sys::FsProbe::Answer> take() = 0;
  virtual bool pending(const std::string& path) const = 0;
  virtual bool inFlight(const std::string& path) const = 0;
};

class DiskLadder final : public Ladder {
 public:
  // What tests replace (like VmFleet's LaneFactory); empty members mean the real thing.
  struct Hooks {
    // A new space source (called at open and each time a hung one is replaced).
    std::function<std::unique_ptr<SpaceSource>()> space;
    // Kills a writer's group (members[0] is the root): act::Killer by default.
    std::function<act::Killer::KillOutcome(std::span<const ProcessInfo* const> members, bool dryRun)> kill;
  };
  // sysRoot: where /sys is (the rotational flag of each device).
  DiskLadder(const Services& services, std::string sysRoot = "/sys", Hooks hooks = {});
  ~DiskLadder() override;

  const char* name() const override { return "disk"; }
  Result<void> open(TimePoint now) override;
  void describe(journal::Line& start) const override;
  void announce(TimePoint now) override;
  Report report() const override;
  void metrics(metrics::Writer& w) const override;  // ladder/LadderMetrics.cpp

  TimePoint nextDue() const override;
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void reconfigure(TimePoint now) override;
  void stop(TimePoint now) override;

  // For `ork top`: waits (really) up to `limit` for the first answers.
  void settle(Nanos limit);
  // Work on the worker thread or a statvfs in flight (tests wait for it).
  bool busy() const;

  struct Fs {
    policy::WatchedFs w;
    dev_t dev = 0;
    policy::DiskThresholds t;
    policy::FsSample last;
    bool sampled = false;
    policy::DiskFill fill;
    TimePoint nextAt;
    bool asked = false;
    TimePoint askedAt;
    bool unresponsive = false;
    policy::DiskLevel level = policy::DiskLevel::Ok;
    bool cleaning = false;
    TimePoint cleanAgainAt;
    bool cleanedThisEpisode = false;
    TimePoint episodeStart;
    int stopped = 0;  // writers stopped in this episode
    TimePoint stopAgainAt;
  };
  const std::vector<Fs>& filesystems() const { return fs_; }
  void spaces(std::vector<SpaceReading>& out) const override;

 private:
  static constexpr std::uint64_t kTagProbe = 1;
  static constexpr std::uint64_t kTagJobs = 2;
  static constexpr std::uint64_t kTagMounts = 3;
  static constexpr std::uint64_t kTagVictim = 1000;
  // From the signal to the last member's death seen on its pidfd (ork_kill_latency_seconds).
  TimePoint killedAt_;
  metrics::Histogram killLatency_;

  bool enabled() const;
  void readMounts(TimePoint now);
  void startProbe();
  void onSample(Fs& fs, const sys::FsSpace& space, TimePoint now);
  void clean(Fs& fs, const policy::DiskVerdict& v, TimePoint now);
  void scanWriters(Fs& fs, TimePoint now);
  void stopWriter(std::size_t fsIndex, const std::vector<sense::WriterSample>& scan, TimePoint now);
  void resumeVms(Fs& fs, TimePoint now);

  Services s_;
  std::string sysRoot_;
  std::vector<Fs> fs_;
  Hooks hooks_;
  std::unique_ptr<SpaceSource> probe_;
  int stuckProbes_ = 0;
  sys::JobThread jobs_;
  bool jobsStarted_ = false;
  std::unique_ptr<act::Killer> killer_;
  TimePoint mountsReadAt_;
  bool mountsError_ = false;
  // <procRoot>/self/mountinfo, watched for changes (the kernel flags it POLLPRI when the
  // mount table changes): the table is read again then, not on a timer. Where it cannot
  // be watched (a fixture's plain file), every minute.
  sys::UniqueFd mountsFd_;
  bool mountsWatched_ = false;
  // A change seen: read at this time, at most once a second (a host mounting and
  // unmounting all the time costs one read a second, not one per change).
  TimePoint mountsChangedDue_{Nanos::max()};
  std::string openWarning_;
  // The previous writer scan, per filesystem device: pid -> sample, and when.
  struct Scan {
    std::vector<sense::WriterSample> procs;
    TimePoint at;
  };
  std::unordered_map<dev_t, Scan> scans_;
  bool scanning_ = false;
  // VMs suspended for a full filesystem: their PID and the filesystem's device.
  std::vector<std::pair<int, dev_t>> suspended_;
};

}  // namespace ork::ladder
