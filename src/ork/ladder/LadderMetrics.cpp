// Each ladder's metrics() (Ladder.h): its readings, thresholds and step as Prometheus
// samples (metrics/Writer.h). Kept apart from the ladders' loops: nothing here is on a
// ladder's decision path, and a new ladder adds its own function here or beside it.
// The names are documented in docs/configuration.md ("Metrics").
#include <string>

#include "ork/config/Config.h"
#include "ork/ladder/CpuLadder.h"
#include "ork/ladder/DiskLadder.h"
#include "ork/ladder/MemoryLadder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/metrics/Writer.h"
#include "ork/parse/VirtProtocol.h"

namespace ork::ladder {

using config::Key;
using metrics::Label;

namespace {
constexpr const char* kStepHelp =
    "The ladder's step: 0 all is well, 1 below the soft threshold (step 1: hibernate, clean, freeze), 2 below "
    "the hard one or step 2 due (kill, stop)";
constexpr const char* kKillLatencyHelp = "From ORK's SIGKILL to the victim's (every member's) death seen on its pidfd";
constexpr const char* kInFlightHelp = "Actions ORK started and is waiting for (a victim's death, a libvirt save, a freeze)";

double bytes(Bytes b) { return static_cast<double>(b.value); }
}  // namespace

void MemoryLadder::metrics(metrics::Writer& w) const {
  const auto t = policy::memoryThresholds(last_.total, *s_.cfg);
  const auto level = policy::classify(last_, t, *s_.cfg);
  w.gauge("ork_memory_available_bytes", "Memory available in ORK's domain (MemAvailable, or the cgroup's limit less its usage plus reclaimable cache)",
          bytes(last_.available));
  w.gauge("ork_memory_total_bytes", "Size of ORK's memory domain (MemTotal, or the cgroup's limit)", bytes(last_.total));
  if (last_.swapTotal > Bytes{0}) {
    w.gauge("ork_memory_swap_free_bytes", "Free swap", bytes(last_.swapFree));
    w.gauge("ork_memory_swap_total_bytes", "Swap configured", bytes(last_.swapTotal));
  }
  w.gauge("ork_memory_threshold_bytes", "Memory thresholds in force: soft (hibernate VMs), hard (kill)", bytes(t.soft),
          {{"level", "soft"}});
  w.gauge("ork_memory_threshold_bytes", "", bytes(t.hard), {{"level", "hard"}});
  w.gauge("ork_ladder_step", kStepHelp,
          level == policy::MemoryLevel::Hard ? 2 : level == policy::MemoryLevel::Soft ? 1 : 0, {{"resource", "memory"}});
  w.gauge("ork_actions_in_flight", kInFlightHelp, killer_ ? killer_->waitingCount() : 0,
          {{"resource", "memory"}, {"action", "kill"}});
  w.histogram("ork_kill_latency_seconds", kKillLatencyHelp, killLatency_, {{"resource", "memory"}});
  w.gauge("ork_memory_longest_sample_gap_seconds", "The longest time between two memory samples since ORK started",
          static_cast<double>(longestGap_.count()) / 1e9);
}

void CpuLadder::metrics(metrics::Writer& w) const {
  if (!enabled()) return;
  w.gauge("ork_cpu_threshold_ratio", "CPU overload thresholds: busy fraction, and PSI cpu 'some' fraction",
          s_.cfg->get(Key::CpuBusyPercent) / 100, {{"kind", "busy"}});
  w.gauge("ork_cpu_threshold_ratio", "", s_.cfg->get(Key::CpuPressurePercent) / 100, {{"kind", "pressure"}});
  int step = 0;
  if (haveLast_) {
    w.gauge("ork_cpu_busy_ratio", "Fraction of all CPUs' time busy over the last sample", last_.busy);
    w.gauge("ork_cpus", "CPUs online", last_.cpus);
    w.gauge("ork_cpu_runnable", "Runnable tasks (procs_running, less ORK)", last_.runnable);
    if (last_.pressure >= 0)
      w.gauge("ork_cpu_pressure_ratio", "PSI cpu 'some' over the last sample (time runnable work waited)", last_.pressure);
    if (policy::cpuOverloaded(last_, *s_.cfg)) step = 1;
  }
  if (rule_ && rule_->actedInEpisode()) step = 2;
  w.gauge("ork_ladder_step", kStepHelp, step, {{"resource", "cpu"}});
  w.gauge("ork_actions_in_flight", kInFlightHelp, killer_ ? killer_->waitingCount() : 0,
          {{"resource", "cpu"}, {"action", "kill"}});
  w.histogram("ork_kill_latency_seconds", kKillLatencyHelp, killLatency_, {{"resource", "cpu"}});
}

void DiskLadder::metrics(metrics::Writer& w) const {
  if (!enabled()) return;
  w.histogram("ork_kill_latency_seconds", kKillLatencyHelp, killLatency_, {{"resource", "disk"}});
  w.gauge("ork_actions_in_flight", kInFlightHelp, killer_ ? killer_->waitingCount() : 0,
          {{"resource", "disk"}, {"action", "kill"}});
  for (const auto& f : fs_) {
    const std::string& mount = f.w.mountPoint;
    const char* cls = policy::toString(f.w.diskClass);
    w.gauge("ork_disk_unresponsive", "1 when the filesystem's statvfs did not answer within disk.probe_deadline_ms",
            f.unresponsive ? 1 : 0, {{"mount", mount}});
    if (!f.sampled) continue;
    w.gauge("ork_disk_free_bytes", "Free bytes of a watched filesystem (f_bavail)", bytes(f.last.available),
            {{"mount", mount}, {"class", cls}});
    w.gauge("ork_disk_size_bytes", "Size of a watched filesystem", bytes(f.last.total), {{"mount", mount}, {"class", cls}});
    w.gauge("ork_disk_threshold_bytes", "Free-space thresholds in force: soft (clean), hard (stop the writer)",
            bytes(f.t.softBytes), {{"mount", mount}, {"level", "soft"}});
    w.gauge("ork_disk_threshold_bytes", "", bytes(f.t.hardBytes), {{"mount", mount}, {"level", "hard"}});
    if (f.last.totalInodes > 0) {
      w.gauge("ork_disk_free_inodes", "Free inodes of a watched filesystem", static_cast<double>(f.last.freeInodes),
              {{"mount", mount}});
      w.gauge("ork_disk_threshold_inodes", "Free-inode thresholds in force", static_cast<double>(f.t.softInodes),
              {{"mount", mount}, {"level", "soft"}});
      w.gauge("ork_disk_threshold_inodes", "", static_cast<double>(f.t.hardInodes), {{"mount", mount}, {"level", "hard"}});
    }
    w.gauge("ork_ladder_step", kStepHelp,
            f.level == policy::DiskLevel::BelowHard ? 2 : f.level == policy::DiskLevel::BelowSoft ? 1 : 0,
            {{"resource", "disk"}, {"mount", mount}});
    w.gauge("ork_actions_in_flight", kInFlightHelp, f.cleaning ? 1 : 0,
            {{"resource", "disk"}, {"action", "disk_clean"}, {"mount", mount}});
  }
}

void VmFleet::nics(std::vector<metrics::Nic>& out) const {
  for (const auto& vm : all()) {
    const parse::VirtDomain* d = domainOf(vm);
    if (d == nullptr || d->nics.empty()) continue;
    for (auto& n : parse::parseNics(d->nics)) out.push_back({std::move(n.mac), std::move(n.target), vm.name, vm.uuid});
  }
}

void VmFleet::metrics(metrics::Writer& w) const {
  if (!s_.cfg->flag(Key::VmEnabled)) return;
  int frozen = 0, freezing = 0, thawing = 0, saving = 0, saved = 0;
  for (const auto& vm : vms_) {
    const char* state = nullptr;
    if (vm.saved) state = "hibernated", ++saved;
    else if (vm.saving) state = "hibernating", ++saving;
    else if (vm.thawing || vm.thawReq != 0) state = "thawing", ++thawing;
    else if (vm.isFrozen() || vm.wouldBeFrozen) state = "frozen", ++frozen;
    else if (vm.freeze != VmState::Freeze::None) state = "freezing", ++freezing;
    if (state != nullptr)
      w.gauge("ork_vm_held", "A VM ORK holds: frozen, freezing, thawing, hibernating, hibernated (1 per VM)", 1,
              {{"vm", vm.name}, {"uuid", vm.uuid}, {"state", state}});
  }
  w.gauge("ork_vms", "QEMU/KVM guests ORK sees", static_cast<double>(vms_.size()));
  w.gauge("ork_actions_in_flight", kInFlightHelp, saving, {{"resource", "memory"}, {"action", "hibernate"}});
  w.gauge("ork_actions_in_flight", kInFlightHelp, freezing, {{"resource", "vm"}, {"action", "freeze"}});
  w.gauge("ork_actions_in_flight", kInFlightHelp, thawing, {{"resource", "vm"}, {"action", "thaw"}});
  w.gauge("ork_libvirt_up", "1 when libvirt answered ORK's last list", libvirt_ == LibvirtState::Up ? 1 : 0);
}

}  // namespace ork::ladder
