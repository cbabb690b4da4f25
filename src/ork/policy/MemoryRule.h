// When to act on memory: the thresholds, the episode, and how often to sample.
//
// An episode starts when available memory falls below the soft threshold and ends
// when it is back above it. Within an episode, a kill is due whenever memory is below
// the hard threshold and no earlier kill is still taking effect: after a kill, the
// rule waits for the victim's death (onVictimGone) or kill.deadline_ms; in dry-run,
// nothing dies, so the same would-be kill repeats only every kill.dry_run_repeat_s.
#pragma once

#include "ork/config/Config.h"
#include "ork/core/MemorySample.h"
#include "ork/core/Reason.h"
#include "ork/policy/Rule.h"

namespace ork::policy {

struct MemoryThresholds {
  Bytes soft;
  Bytes hard;
};

// soft = min(soft_percent of total, soft_max_mib), likewise hard; hard never above soft.
MemoryThresholds memoryThresholds(Bytes total, const config::Config& cfg);

enum class MemoryLevel { Ok, Soft, Hard };

// Hard needs available < hard and, when the domain has swap, free swap below
// memory.swap_free_percent of it (as earlyoom: with plenty of swap left the kernel can
// still make room). Soft needs available < soft.
MemoryLevel classify(const MemorySample& s, const MemoryThresholds& t, const config::Config& cfg);

struct MemoryVerdict {
  MemoryLevel level = MemoryLevel::Ok;
  MemoryThresholds thresholds;
  bool episodeStarted = false;  // first sample of an episode: journal it once
  bool hardEntered = false;     // first sample below hard in this stretch
  bool episodeEnded = false;    // back above soft: journal "recovered"
  bool killDue = false;         // choose and kill a victim now
  Bytes need;                   // what must be freed to get back above soft
};

class MemoryRule final : public Rule<MemorySample, MemoryVerdict> {
 public:
  explicit MemoryRule(const config::Config& cfg, bool dryRun) : cfg_(cfg), dryRun_(dryRun) {}

  MemoryVerdict evaluate(const MemorySample& s, TimePoint now) override;

  // A kill was carried out (or, in dry-run, decided) at now.
  void onKill(TimePoint now);
  // The last victim died: the next kill may follow without waiting for the deadline.
  void onVictimGone();
  // A kill attempt found nothing to kill or was aborted: try again no sooner than this.
  void holdOff(TimePoint until) { nextKillAt_ = until; }
  bool killInFlight(TimePoint now) const { return inFlight_ && now < nextKillAt_; }
  bool inEpisode() const { return inEpisode_; }
  TimePoint hardSince() const { return hardSince_; }

 private:
  const config::Config& cfg_;
  bool dryRun_;
  bool inEpisode_ = false;
  bool belowHard_ = false;
  bool inFlight_ = false;
  TimePoint hardSince_;
  TimePoint nextKillAt_;
};

// The fill rate of the domain: how fast available memory has been falling recently
// (bytes per second), decaying by half every 10 s so that one burst does not keep the
// loop fast forever.
class FillRate {
 public:
  void update(const MemorySample& s);
  double bytesPerSecond() const { return peak_; }

 private:
  bool have_ = false;
  TimePoint lastAt_;
  Bytes lastAvailable_;
  double peak_ = 0;
};

// The time to the next memory sample: the headroom above the hard threshold divided by
// the faster of the assumed and (twice) the observed fill rate, clamped to
// [min_interval_ms, max_interval_ms].
Nanos nextSampleInterval(const MemorySample& s, const MemoryThresholds& t, const FillRate& rate,
                         const config::Config& cfg);

// Whether the candidate table should be kept fresh at the fast cadence: below twice the
// soft threshold, or less than 30 s from the hard threshold at the observed fill rate.
bool approaching(const MemorySample& s, const MemoryThresholds& t, const FillRate& rate);

}  // namespace ork::policy
