#include "ork/policy/CpuRule.h"

#include <algorithm>

namespace ork::policy {

using config::Key;

namespace {

// The share of the window's time that must be overloaded ("80 % of the seconds").
constexpr double kSustainShare = 0.8;

bool overloaded(const CpuSample& s, double busyMin, double pressureMin) {
  if (s.busy < busyMin) return false;
  // Busy, and work waiting for a CPU: measured by PSI, or, without it, more runnable
  // tasks than CPUs (a snapshot, so noisier; the 80 % share absorbs the noise).
  if (s.pressure >= 0) return s.pressure >= pressureMin;
  return s.runnable > s.cpus;
}

}  // namespace

bool cpuOverloaded(const CpuSample& s, const config::Config& cfg) {
  return overloaded(s, cfg.get(Key::CpuBusyPercent) / 100.0,
                    cfg.get(Key::CpuPressurePercent) / 100.0);
}

CpuRule::CpuRule(const config::Config& cfg)
    : busyMin_(cfg.get(Key::CpuBusyPercent) / 100.0),
      pressureMin_(cfg.get(Key::CpuPressurePercent) / 100.0),
      sustain_(cfg.seconds(Key::CpuSustainS)),
      killAfter_(cfg.seconds(Key::CpuKillAfterS)),
      mergeBelow_(std::max(sustain_, killAfter_) / 128) {}

CpuRule::CpuRule(Nanos sustain, Nanos killAfter)
    : sustain_(sustain), killAfter_(killAfter), mergeBelow_(std::max(sustain_, killAfter_) / 128) {}

void CpuRule::record(TimePoint at, Nanos interval, bool overloaded) {
  const Nanos hot = overloaded ? interval : Nanos{0};
  if (count_ > 0 && !sealed_) {
    Slot& newest = ring_[static_cast<std::size_t>(newest_)];
    if (newest.span < mergeBelow_) {
      newest.end = at;
      newest.span += interval;
      newest.overloaded += hot;
      return;
    }
  }
  newest_ = (newest_ + 1) % kSlots;
  ring_[static_cast<std::size_t>(newest_)] = Slot{at, interval, hot};
  count_ = std::min(count_ + 1, kSlots);
  sealed_ = false;
}

CpuVerdict CpuRule::evaluate(const CpuSample& s, TimePoint now) {
  return judge(s.at, s.interval, s.interval > Nanos{0} && overloaded(s, busyMin_, pressureMin_), now);
}

CpuVerdict CpuRule::judge(TimePoint at, Nanos interval, bool over, TimePoint now) {
  CpuVerdict v;
  v.window = acted_ ? killAfter_ : sustain_;
  if (interval <= Nanos{0}) {
    // No rates yet: nothing to judge. The host counts as calm from here on if it has
    // not been seen before.
    if (!started_) {
      started_ = true;
      calmSince_ = at;
    }
    v.overloaded = latestOverloaded_;
    v.calmFor = latestOverloaded_ ? Nanos{0} : std::max(Nanos{0}, now - calmSince_);
    return v;
  }

  if (!started_) {
    started_ = true;
    calmSince_ = at + -interval;
  }
  record(at, interval, over);
  latestOverloaded_ = over;
  latestInterval_ = interval;
  v.overloaded = over;

  if (over) {
    calmSince_ = at;
    v.episodeStarted = !inEpisode_;
    inEpisode_ = true;
  }
  v.calmFor = over ? Nanos{0} : std::max(Nanos{0}, now - calmSince_);
  if (inEpisode_ && !over && v.calmFor >= sustain_) {
    v.episodeEnded = true;
    inEpisode_ = false;
    acted_ = false;  // the next episode's first action needs sustain_s again
    v.window = sustain_;
  }
  if (!over) return v;

  // The window's samples, newest first; the slot that straddles its start counts for
  // its part after the start (a merged slot is taken as uniform).
  const TimePoint start = acted_ ? std::max(now + -v.window, actedAt_) : now + -v.window;
  double covered = 0, hot = 0;
  for (int k = 0, i = newest_; k < count_; ++k, i = (i + kSlots - 1) % kSlots) {
    const Slot& slot = ring_[static_cast<std::size_t>(i)];
    if (slot.end <= start || slot.span <= Nanos{0}) break;
    const double span = static_cast<double>(slot.span.count());
    const double inside = std::min(span, static_cast<double>((slot.end - start).count()));
    covered += inside;
    hot += static_cast<double>(slot.overloaded.count()) * inside / span;
  }
  v.overloadedShare = covered > 0 ? hot / covered : 0;
  const double needed = static_cast<double>((v.window - latestInterval_ / 2).count());
  v.actDue = covered >= needed && v.overloadedShare >= kSustainShare;
  return v;
}

void CpuRule::onActed(TimePoint now) {
  acted_ = true;
  actedAt_ = now;
  // The next sample starts a slot of its own, so the window after the action does not
  // count a merged slot's time from before it.
  sealed_ = true;
}

CoolDown::CoolDown(const config::Config& cfg)
    : base_(cfg.seconds(Key::CpuCoolDownS)),
      max_(std::max(base_, cfg.seconds(Key::CpuCoolDownMaxS))),
      autoThaw_(cfg.flag(Key::CpuAutoThaw)),
      current_(base_) {}

void CoolDown::onFrozen(TimePoint now) {
  if (thawed_ && now - lastThaw_ <= max_) {
    current_ = std::min(current_ * 2, max_);
  } else {
    current_ = base_;
  }
}

void CoolDown::onThawed(TimePoint now) {
  thawed_ = true;
  lastThaw_ = now;
}

}  // namespace ork::policy
