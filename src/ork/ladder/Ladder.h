// A ladder: one resource's whole response, behind the one narrow interface the loop
// sees. It owns its sensor(s), its rule, its steps (step 1 loses no work, step 2
// kills) and its state. The loop (daemon/) only dispatches: it asks each part when it
// next wants to run and which fds it watches, calls it back when one of those comes,
// and keeps the candidate table as fresh as the most demanding ladder asks.
//
// Shared services (the candidate table, the VM fleet, the journal, the clock) are
// handed to every ladder in Services; none of them belongs to one ladder.
//
// Adding a resource: one class deriving from Ladder in this folder, its sensor in
// sense/, its rule in policy/, its actions in act/, and one line in daemon/Daemon.cpp
// (docs/architecture.md has the checklist).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/Units.h"
#include "ork/sys/Epoll.h"

namespace ork {
class Clock;
}
namespace ork::config {
class Config;
}
namespace ork::metrics {
class Writer;
struct Nic;
}
namespace ork::journal {
class Journal;
class Line;
}
namespace ork::sense {
class ProcessTable;
class UserNames;
}

namespace ork::ladder {

class VmFleet;

// How ORK was started: what every part honours.
struct RunOptions {
  bool dryRun = false;
  std::string cgroupDir;  // empty: the host domain
  std::string procRoot = "/proc";
};

struct Services {
  const RunOptions* options = nullptr;
  const config::Config* cfg = nullptr;  // replaced in place on reload (SIGHUP)
  const Clock* clock = nullptr;         // for durations measured around an action
  journal::Journal* journal = nullptr;
  sense::ProcessTable* table = nullptr;
  sense::UserNames* users = nullptr;
  VmFleet* vms = nullptr;
  // A part that refreshed the whole table itself (at start, before the first pass
  // completed) calls this, so that every part sees the pass (onTablePass).
  std::function<void(TimePoint)> tablePassed;
};

// What the ladders sensed last, for the flight recorder once a second: each ladder
// fills what it senses and leaves the rest as it is (unknown: negative).
struct Readings {
  std::int64_t availKib = -1, totalKib = -1, swapFreeKib = -1, swapTotalKib = -1;
  double busy = -1;         // CPU busy over the last sample, 0..1
  double cpuPressure = -1;  // PSI cpu "some" over the last sample, 0..1
  double ioPressure = -1;   // PSI io "some" over the last sample, 0..1
  bool cpuSensed = false;   // the CPU ladder is on (cpuPressure is its, even when unknown)
  bool ioSensed = false;    // the I/O ladder is on
};

// A watched filesystem's free space as a ladder last read it (the recorder's minute
// record); mount points into the ladder's own state, valid during the call.
struct SpaceReading {
  std::string_view mount;
  std::int64_t freeKib = 0, totalKib = 0;
};

// What one part shows in `ork top` (and later `ork status`): a title and lines.
struct Report {
  std::string title;
  std::vector<std::string> lines;
};

// Anything the loop dispatches to: the ladders and the services with fds or timers of
// their own (the VM fleet's lanes). Everything is called on the loop's one thread with
// the loop's `now`; nothing may block.
class Part {
 public:
  virtual ~Part() = default;
  virtual const char* name() const = 0;
  // Where the part's fds are registered; tags are its own (the loop maps them).
  virtual void attach(sys::Poller* poller) { poller_ = poller; }
  // When it next wants onTimer(); TimePoint{Nanos::max()} when nothing is pending.
  virtual TimePoint nextDue() const = 0;
  virtual void onTimer(TimePoint now) = 0;
  // One of the fds it added to its poller is ready; tag as it gave it.
  virtual void onReady(std::uint64_t tag, TimePoint now) { (void)tag, (void)now; }
  // The candidate table completed a pass (entries() is new).
  virtual void onTablePass(TimePoint now) { (void)now; }
  // How old the candidate table may be for this part now (Nanos::max(): no need).
  virtual Nanos tableMaxAge(TimePoint now) const { (void)now; return Nanos::max(); }
  // The configuration was replaced (SIGHUP): re-read what was derived from it.
  virtual void reconfigure(TimePoint now) { (void)now; }
  // SIGTERM: undo what must not outlive ORK (frozen VMs), bounded in time.
  virtual void stop(TimePoint now) { (void)now; }
  // Its live state as Prometheus samples (metrics/Writer.h), for /metrics, the textfile
  // and `ork status`: its readings, thresholds, step (ork_ladder_step{resource}), the
  // actions it has in flight (ork_actions_in_flight{resource}). Called only when
  // someone asks (metrics on, a status request): it may allocate.
  virtual void metrics(metrics::Writer& w) const { (void)w; }
  // The network interfaces it knows, for ork_nic_info (a VM's NICs: mac, the host's
  // tap interface, vm, uuid). The host's own interfaces are read from /sys/class/net
  // by metrics/Nics.h; an interface named here replaces the host's entry of that name.
  virtual void nics(std::vector<metrics::Nic>& out) const { (void)out; }

 protected:
  sys::Poller* poller_ = nullptr;
};

class Ladder : public Part {
 public:
  // Opens its sources (PSI triggers...); an error is fatal at start and says why.
  // Warnings (a fallback taken) are kept for announce().
  virtual Result<void> open(TimePoint now) = 0;
  // Adds its fields to the start line (what it senses, its thresholds, its wake-ups).
  virtual void describe(journal::Line& start) const = 0;
  // After the start line: the warnings open() kept.
  virtual void announce(TimePoint now) { (void)now; }
  // Adds what it sees now to the periodic state line (journal.report_interval_s).
  virtual void state(journal::Line& l) const { (void)l; }
  // What it sensed last as figures (the recorder's sample): no formatting, no allocation.
  virtual void readings(Readings& r) const { (void)r; }
  // Each filesystem's free space as last read (the disk ladder), once a minute.
  virtual void spaces(std::vector<SpaceReading>& out) const { (void)out; }
  virtual Report report() const = 0;
};

}  // namespace ork::ladder
