#include "ork/policy/IoRule.h"

namespace ork::policy {

using config::Key;

int saturatedDevice(const IoSample& s, const config::Config& cfg) {
  const double util = cfg.get(Key::IoUtilPercent) / 100.0;
  const double latency = cfg.get(Key::IoLatencyMs);
  int best = -1;
  for (int i = 0; i < s.count; ++i) {
    const IoDevice& d = s.devices[static_cast<std::size_t>(i)];
    if (d.util < util || d.awaitMs < latency) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const IoDevice& b = s.devices[static_cast<std::size_t>(best)];
    if (d.util > b.util || (d.util == b.util && d.awaitMs > b.awaitMs)) best = i;
  }
  return best;
}

bool ioOverloaded(const IoSample& s, const config::Config& cfg) {
  if (saturatedDevice(s, cfg) < 0) return false;
  return s.pressure < 0 || s.pressure >= cfg.get(Key::IoPressurePercent) / 100.0;
}

IoRule::IoRule(const config::Config& cfg)
    : cfg_(&cfg), window_(cfg.seconds(Key::IoSustainS), cfg.seconds(Key::IoKillAfterS)) {}

IoVerdict IoRule::evaluate(const IoSample& s, TimePoint now) {
  const bool over = s.interval > Nanos{0} && ioOverloaded(s, *cfg_);
  IoVerdict v;
  static_cast<CpuVerdict&>(v) = window_.judge(s.at, s.interval, over, now);
  v.device = s.interval > Nanos{0} ? saturatedDevice(s, *cfg_) : -1;
  return v;
}

}  // namespace ork::policy
