// When to act on I/O (docs/scoring.md, "I/O"): a second is overloaded when a whole
// disk was saturated (I/O in flight nearly all the second, and its I/Os slow) AND the
// host's tasks waited for I/O (PSI io "some"; not required without PSI). Action needs
// that sustained over io.sustain_s (the CPU rule's window: 80 % of the time, and the
// latest sample), and then, at action time, someone other than the culprit waiting
// (policy::othersWaiting, IoScorer.h): a busy disk that only its own user waits for is
// a machine doing its job. Pure: samples and now in, a verdict out.
#pragma once

#include "ork/config/Config.h"
#include "ork/core/IoSample.h"
#include "ork/policy/CpuRule.h"

namespace ork::policy {

// The saturated device of the sample: util >= io.util_percent and await >=
// io.latency_ms; among several, the busiest (util, then await). -1: none.
int saturatedDevice(const IoSample& s, const config::Config& cfg);
// A saturated device, and PSI io "some" >= io.pressure_percent (when known).
bool ioOverloaded(const IoSample& s, const config::Config& cfg);

struct IoVerdict : CpuVerdict {
  int device = -1;  // this sample's saturated device (index into the sample), -1: none
};

class IoRule {
 public:
  explicit IoRule(const config::Config& cfg);
  IoVerdict evaluate(const IoSample& s, TimePoint now);
  // Acted at now (froze, killed, or found nobody else waiting: the next attempt then
  // waits for io.kill_after_s of fresh overload).
  void onActed(TimePoint now) { window_.onActed(now); }
  bool inEpisode() const { return window_.inEpisode(); }
  bool actedInEpisode() const { return window_.actedInEpisode(); }

 private:
  const config::Config* cfg_;
  CpuRule window_;
};

}  // namespace ork::policy
