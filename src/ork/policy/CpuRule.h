// When to act on the CPU: a sample is overloaded when the CPUs are nearly all busy AND
// runnable work is waiting for them (PSI cpu "some", or more runnable tasks than CPUs
// without PSI). Busy alone is a machine doing its job: one long compile on an idle
// core, or N tasks on N cores, is never overload. Action needs the overload sustained
// over a window, so a spike is left alone. Pure: samples and now in, a verdict out.
#pragma once

#include <array>

#include "ork/config/Config.h"
#include "ork/core/CpuSample.h"
#include "ork/policy/Rule.h"

namespace ork::policy {

// cpu.busy_percent, and cpu.pressure_percent with PSI or runnable > cpus without.
bool cpuOverloaded(const CpuSample& s, const config::Config& cfg);

struct CpuVerdict {
  bool overloaded = false;      // this sample
  bool episodeStarted = false;  // first overloaded sample since the host was calm
  bool episodeEnded = false;    // no overloaded sample for cpu.sustain_s: journal it once
  bool actDue = false;          // freeze (or kill) now, then call onActed(now)
  Nanos calmFor{0};             // since the last overloaded sample (0 when this one is)
  Nanos window{0};              // the window in force: sustain_s, or kill_after_s after an action
  double overloadedShare = 0;   // of the time covered by the window's samples, 0..1
};

// Sustained overload: the samples since max(now - window, the last action) cover the
// window (less half a sample interval of jitter), at least 80 % of that time was
// overloaded, and the latest sample is. The window is cpu.sustain_s for the first
// action of an episode and cpu.kill_after_s after each action, so every action is
// judged on fresh overload that the previous one did not end. Shares are weighted by
// time, so an irregular loop (a 10 ms sample between two 1 s ones) weighs what it
// covers. A sample with interval 0 (the sensor's first) is not history: it changes
// nothing and is never actDue.
class CpuRule final : public Rule<CpuSample, CpuVerdict> {
 public:
  explicit CpuRule(const config::Config& cfg);
  // The window alone, for another resource's rule (policy::IoRule): judge() with the
  // sample already judged; evaluate() is never called on it.
  CpuRule(Nanos sustain, Nanos killAfter);

  CpuVerdict evaluate(const CpuSample& s, TimePoint now) override;
  // The sustained-window logic on a sample judged by the caller (at, interval as in
  // CpuSample; over: overloaded or not).
  CpuVerdict judge(TimePoint at, Nanos interval, bool over, TimePoint now);

  // The daemon froze VMs or killed at now (or, finding nothing to do, gave up this
  // round: call it too, so the next attempt waits for kill_after_s of fresh overload).
  void onActed(TimePoint now);

  bool inEpisode() const { return inEpisode_; }
  bool actedInEpisode() const { return acted_; }

  // History slots: a fixed ring, nothing allocated after construction. Samples closer
  // than 1/128 of the longest window are merged into one slot, so the ring always
  // spans twice the longest window whatever the sampling rate.
  static constexpr int kSlots = 256;

 private:
  struct Slot {
    TimePoint end;
    Nanos span{0};
    Nanos overloaded{0};
  };
  void record(TimePoint at, Nanos interval, bool overloaded);

  double busyMin_ = 1;
  double pressureMin_ = 1;
  Nanos sustain_;
  Nanos killAfter_;
  Nanos mergeBelow_;

  std::array<Slot, kSlots> ring_{};
  int newest_ = -1;  // index of the newest slot
  int count_ = 0;
  bool sealed_ = false;  // the next sample opens a slot of its own (after an action)

  bool started_ = false;  // a sample has been seen: calmSince_ is meaningful
  bool latestOverloaded_ = false;
  Nanos latestInterval_{0};
  TimePoint calmSince_;  // the last overloaded sample, or the first sample
  bool inEpisode_ = false;
  bool acted_ = false;
  TimePoint actedAt_;
};

// A frozen VM's cool-down, with back-off: a VM that overloads the host again soon
// after it was resumed waits twice as long the next time. Pure, a value per VM.
//  - the first freeze: cpu.cool_down_s;
//  - frozen again within cpu.cool_down_max_s of its last thaw: the cool-down doubles,
//    up to cpu.cool_down_max_s;
//  - frozen again after longer than that: back to cpu.cool_down_s.
class CoolDown {
 public:
  explicit CoolDown(const config::Config& cfg);

  void onFrozen(TimePoint now);
  void onThawed(TimePoint now);
  // cpu.auto_thaw, and the host calm (CpuVerdict::calmFor) for at least current().
  bool thawDue(Nanos calmFor) const { return autoThaw_ && calmFor >= current_; }
  Nanos current() const { return current_; }

 private:
  Nanos base_;
  Nanos max_;
  bool autoThaw_;
  Nanos current_;
  bool thawed_ = false;  // thawed at least once: lastThaw_ is meaningful
  TimePoint lastThaw_;
};

}  // namespace ork::policy
