#include "ork/policy/MemoryRule.h"

#include <algorithm>
#include <cmath>

namespace ork::policy {

using config::Key;

MemoryThresholds memoryThresholds(Bytes total, const config::Config& cfg) {
  MemoryThresholds t;
  t.soft = std::min(total.scaled(cfg.get(Key::MemorySoftPercent) / 100.0), cfg.mib(Key::MemorySoftMaxMib));
  t.hard = std::min(total.scaled(cfg.get(Key::MemoryHardPercent) / 100.0), cfg.mib(Key::MemoryHardMaxMib));
  t.hard = std::min(t.hard, t.soft);
  return t;
}

MemoryLevel classify(const MemorySample& s, const MemoryThresholds& t, const config::Config& cfg) {
  if (s.available >= t.soft) return MemoryLevel::Ok;
  if (s.available >= t.hard) return MemoryLevel::Soft;
  if (s.swapTotal > Bytes{0}) {
    Bytes swapFloor = s.swapTotal.scaled(cfg.get(Key::MemorySwapFreePercent) / 100.0);
    if (s.swapFree > swapFloor) return MemoryLevel::Soft;
  }
  return MemoryLevel::Hard;
}

MemoryVerdict MemoryRule::evaluate(const MemorySample& s, TimePoint now) {
  MemoryVerdict v;
  v.thresholds = memoryThresholds(s.total, cfg_);
  v.level = classify(s, v.thresholds, cfg_);
  v.need = std::max(Bytes{0}, v.thresholds.soft - s.available);
  if (v.level == MemoryLevel::Ok) {
    v.episodeEnded = inEpisode_;
    inEpisode_ = belowHard_ = inFlight_ = false;
    nextKillAt_ = TimePoint{};
    return v;
  }
  v.episodeStarted = !inEpisode_;
  inEpisode_ = true;
  if (v.level == MemoryLevel::Hard) {
    v.hardEntered = !belowHard_;
    if (!belowHard_) hardSince_ = s.at;
    belowHard_ = true;
    v.killDue = now >= nextKillAt_;
  } else {
    belowHard_ = false;
  }
  return v;
}

void MemoryRule::onKill(TimePoint now) {
  inFlight_ = !dryRun_;
  nextKillAt_ = now + (dryRun_ ? cfg_.seconds(Key::KillDryRunRepeatS) : cfg_.millis(Key::KillDeadlineMs));
}

void MemoryRule::onVictimGone() {
  inFlight_ = false;
  nextKillAt_ = TimePoint{};
}

void FillRate::update(const MemorySample& s) {
  if (have_) {
    double dt = std::chrono::duration<double>(s.at - lastAt_).count();
    if (dt > 0) {
      // Decay: halve every 10 s.
      peak_ *= std::exp2(-dt / 10.0);
      double rate = static_cast<double>((lastAvailable_ - s.available).value) / dt;
      if (rate > peak_) peak_ = rate;
    }
  }
  have_ = true;
  lastAt_ = s.at;
  lastAvailable_ = s.available;
}

Nanos nextSampleInterval(const MemorySample& s, const MemoryThresholds& t, const FillRate& rate,
                         const config::Config& cfg) {
  double assumed = static_cast<double>(cfg.mib(Key::SamplingAssumedFillMibPerS).value);
  double speed = std::max(assumed, 2.0 * rate.bytesPerSecond());
  double headroom = static_cast<double>(std::max(Bytes{0}, s.available - t.hard).value);
  auto interval = Nanos{static_cast<long long>(headroom / speed * 1e9)};
  return std::clamp(interval, cfg.millis(Key::SamplingMinIntervalMs), cfg.millis(Key::SamplingMaxIntervalMs));
}

bool approaching(const MemorySample& s, const MemoryThresholds& t, const FillRate& rate) {
  if (s.available < t.soft + t.soft) return true;
  double rateBps = rate.bytesPerSecond();
  if (rateBps <= 0) return false;
  double secondsLeft = static_cast<double>((s.available - t.hard).value) / rateBps;
  return secondsLeft < 30.0;
}

}  // namespace ork::policy
