#include "ork/policy/VmChoice.h"

#include <algorithm>

namespace ork::policy {

void hibernationOrder(std::span<const SaveCandidate> vms, std::vector<int>& out) {
  out.clear();
  std::vector<const SaveCandidate*> order;
  order.reserve(vms.size());
  for (const auto& v : vms) {
    if (!v.reachable || !v.runningOrPaused || v.saving || v.saved || v.cgroupFrozen || v.retryHeld) continue;
    order.push_back(&v);
  }
  std::sort(order.begin(), order.end(), [](const SaveCandidate* a, const SaveCandidate* b) {
    if (a->memory != b->memory) return a->memory > b->memory;
    if (a->guest != b->guest) return a->guest > b->guest;
    return a->id < b->id;
  });
  for (const auto* v : order) out.push_back(v->id);
}

Bytes saveRoomNeeded(Bytes guest, const config::Config& cfg) {
  return guest + guest.scaled(cfg.get(config::Key::VmSaveMarginPercent) / 100.0) +
         cfg.mib(config::Key::VmSaveMarginMib);
}

void vmsToFreeze(std::span<const FreezeCandidate> vms, double excess, double minCpus, FreezePlan& out) {
  out.ids.clear();
  out.cpus = 0;
  std::vector<const FreezeCandidate*> order;
  order.reserve(vms.size());
  for (const auto& v : vms)
    if (!v.frozen && !v.saving && !v.saved && v.cpus >= minCpus) order.push_back(&v);
  std::sort(order.begin(), order.end(), [](const FreezeCandidate* a, const FreezeCandidate* b) {
    if (a->cpus != b->cpus) return a->cpus > b->cpus;
    return a->id < b->id;
  });
  excess = std::max(0.5, excess);
  for (const auto* v : order) {
    if (out.cpus >= excess) break;
    out.ids.push_back(v->id);
    out.cpus += v->cpus;
  }
}

}  // namespace ork::policy
