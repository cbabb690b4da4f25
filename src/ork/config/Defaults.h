// Every threshold and limit of ORK, with its compiled-in default, in one table.
//
// The seed wants thresholds in the code, so that a fleet deploys ORK with nothing to
// manage: this table is what `ork daemon` runs on when there is no configuration file.
// A TOML file may override any entry ("[section] name = value"); the same table
// validates it (type, range) and documents it (`ork check-config --defaults`,
// docs/configuration.md).
#pragma once

#include <cstddef>

namespace ork::config {

enum class Kind { Percent, Mib, Millis, Seconds, Count, Bool, Factor };

enum class Key : int {
  MemorySoftPercent,
  MemorySoftMaxMib,
  MemoryHardPercent,
  MemoryHardMaxMib,
  MemorySwapFreePercent,
  MemoryCountZfsArc,
  MemoryPsi,
  MemoryPsiStallMs,
  SamplingMaxIntervalMs,
  SamplingMinIntervalMs,
  SamplingAssumedFillMibPerS,
  ScanIdleIntervalS,
  ScanNearIntervalMs,
  ScanChunk,
  ScanGrowthWindowS,
  ScanRecheckTop,
  KillDeadlineMs,
  KillDryRunRepeatS,
  ScoreGrowthWeight,
  ScoreGrowthHalfLifeS,
  ScoreRootFactor,
  ScoreSystemFactor,
  ScorePreferFactor,
  ScoreAvoidFactor,
  ScoreComparableRatio,
  ScoreYouthBonus,
  CpuEnabled,
  CpuBusyPercent,
  CpuPressurePercent,
  CpuSustainS,
  CpuKillAfterS,
  CpuCoolDownS,
  CpuCoolDownMaxS,
  CpuAutoThaw,
  CpuVmMinPercent,
  VmEnabled,
  VmLibvirt,
  VmHibernate,
  VmSaveMarginPercent,
  VmSaveMarginMib,
  VmSaveDeadlineS,
  VmCallDeadlineMs,
  VmReconnectMaxS,
  DiskEnabled,
  DiskIntervalS,
  DiskProbeDeadlineMs,
  DiskMarginPercent,
  IoEnabled,
  IoUtilPercent,
  IoLatencyMs,
  IoPressurePercent,
  IoOthersPercent,
  IoSustainS,
  IoKillAfterS,
  IoVmMinPercent,
  JournalReportIntervalS,
  MetricsTextfileIntervalS,
  RecorderEnabled,
  RecorderSizeMib,
  NetworkEnabled,
  kCount
};

struct Setting {
  Key key;
  const char* section;
  const char* name;
  Kind kind;
  double def;
  double min;
  double max;
  const char* doc;
};

// clang-format off
inline constexpr Setting kSettings[] = {
  // key                              section     name                     kind            default  min     max        what it means
  {Key::MemorySoftPercent,          "memory",   "soft_percent",          Kind::Percent,  10,      0.1,    90,    "soft threshold: available memory below this % of the domain starts an episode (VMs are hibernated here); kills free memory up to it"},
  {Key::MemorySoftMaxMib,           "memory",   "soft_max_mib",          Kind::Mib,      4096,    1,      1 << 24, "cap of the soft threshold in MiB, so that big hosts do not keep 10 % idle"},
  {Key::MemoryHardPercent,          "memory",   "hard_percent",          Kind::Percent,  5,       0.1,    90,    "hard threshold: available memory below this % of the domain kills one victim"},
  {Key::MemoryHardMaxMib,           "memory",   "hard_max_mib",          Kind::Mib,      2048,    1,      1 << 24, "cap of the hard threshold in MiB"},
  {Key::MemorySwapFreePercent,      "memory",   "swap_free_percent",     Kind::Percent,  10,      0,      100,   "with swap configured, kill only when free swap is also below this % of swap (as earlyoom -s)"},
  {Key::MemoryCountZfsArc,          "memory",   "count_zfs_arc",         Kind::Bool,     1,       0,      1,     "count the shrinkable part of the ZFS ARC (size - c_min) as available"},
  {Key::MemoryPsi,                  "memory",   "psi",                   Kind::Bool,     1,       0,      1,     "arm a PSI trigger on memory pressure to wake the loop at once"},
  {Key::MemoryPsiStallMs,           "memory",   "psi_stall_ms",          Kind::Millis,   100,     1,      1000,  "PSI trigger: this much stall ('some') within a 1 s window (2 s where the kernel refuses 1 s) wakes the loop"},
  {Key::SamplingMaxIntervalMs,      "sampling", "max_interval_ms",       Kind::Millis,   1000,    10,     10000, "longest time between two memory samples when all is well"},
  {Key::SamplingMinIntervalMs,      "sampling", "min_interval_ms",       Kind::Millis,   2,       1,      1000,  "shortest time between two memory samples, near the threshold"},
  {Key::SamplingAssumedFillMibPerS, "sampling", "assumed_fill_mib_per_s", Kind::Mib,     1024,    1,      1 << 20, "fill rate assumed when none faster was seen: the sampling interval is the headroom divided by this"},
  {Key::ScanIdleIntervalS,          "scan",     "idle_interval_s",       Kind::Seconds,  30,      1,      3600,  "refresh of the candidate table when memory is far from the thresholds"},
  {Key::ScanNearIntervalMs,         "scan",     "near_interval_ms",      Kind::Millis,   1000,    50,     60000, "refresh of the candidate table when memory approaches the soft threshold"},
  {Key::ScanChunk,                  "scan",     "chunk",                 Kind::Count,    256,     16,     100000, "processes read per turn of the loop, so a refresh never delays a memory sample"},
  {Key::ScanGrowthWindowS,          "scan",     "growth_window_s",       Kind::Seconds,  60,      5,      3600,  "recent growth is measured over this window"},
  {Key::ScanRecheckTop,             "scan",     "recheck_top",           Kind::Count,    8,       1,      64,    "at kill time, the best N candidates are re-read before one is chosen"},
  {Key::KillDeadlineMs,             "kill",     "deadline_ms",           Kind::Millis,   3000,    100,    60000, "after a kill, no further kill in the episode until the victim is gone or this much time passed"},
  {Key::KillDryRunRepeatS,          "kill",     "dry_run_repeat_s",      Kind::Seconds,  10,      1,      3600,  "in dry-run, how often the same episode repeats its would-be kill"},
  {Key::ScoreGrowthWeight,          "score",    "growth_weight",         Kind::Factor,   2,       0,      100,   "each byte grown within the growth window counts this many times on top of its size"},
  {Key::ScoreGrowthHalfLifeS,       "score",    "growth_half_life_s",    Kind::Seconds,  5,       1,      3600,  "growth counts half as much for every this many seconds the process has not grown: the culprit is the one growing now"},
  {Key::ScoreRootFactor,            "score",    "root_factor",           Kind::Factor,   0.25,    0,      1,     "score multiplier for processes owned by root"},
  {Key::ScoreSystemFactor,          "score",    "system_factor",         Kind::Factor,   0.5,     0,      1,     "score multiplier for system services (uid 1-999 or in system.slice)"},
  {Key::ScorePreferFactor,          "score",    "prefer_factor",         Kind::Factor,   4,       1,      1000,  "score multiplier for processes matching a [kill] prefer pattern"},
  {Key::ScoreAvoidFactor,           "score",    "avoid_factor",          Kind::Factor,   0.125,   0,      1,     "score multiplier for processes matching a [kill] avoid pattern"},
  {Key::ScoreComparableRatio,       "score",    "comparable_ratio",      Kind::Factor,   0.75,    0,      1,     "candidates scoring at least this fraction of the best are comparable: among them, one that frees enough alone is preferred"},
  {Key::ScoreYouthBonus,            "score",    "youth_bonus",           Kind::Factor,   0.1,     0,      1,     "a just-started process scores up to this fraction more than an old one (lose the least work)"},
  {Key::CpuEnabled,                 "cpu",      "enabled",               Kind::Bool,     1,       0,      1,     "watch the CPU (/proc/stat every second, PSI cpu) and act on sustained overload"},
  {Key::CpuBusyPercent,             "cpu",      "busy_percent",          Kind::Percent,  90,      10,     100,   "a second counts as overloaded when the CPUs were busy at least this % of it..."},
  {Key::CpuPressurePercent,         "cpu",      "pressure_percent",      Kind::Percent,  40,      1,      100,   "...and runnable work waited for a CPU (PSI cpu 'some') at least this % of it (without PSI: more runnable tasks than CPUs)"},
  {Key::CpuSustainS,                "cpu",      "sustain_s",             Kind::Seconds,  10,      2,      3600,  "overload must hold this long (80 % of the seconds, and the last one) before ORK acts: a spike is left alone"},
  {Key::CpuKillAfterS,              "cpu",      "kill_after_s",          Kind::Seconds,  10,      2,      3600,  "when freezing VMs was not enough (or there are none), overload held this long again kills the process tree creating it"},
  {Key::CpuCoolDownS,               "cpu",      "cool_down_s",           Kind::Seconds,  60,      1,      86400, "a frozen VM is resumed once the host has stayed below the threshold this long"},
  {Key::CpuCoolDownMaxS,            "cpu",      "cool_down_max_s",       Kind::Seconds,  1800,    1,      604800, "the cool-down doubles each time a resumed VM overloads the host again, up to this"},
  {Key::CpuAutoThaw,                "cpu",      "auto_thaw",             Kind::Bool,     1,       0,      1,     "resume frozen VMs after the cool-down (false: they stay frozen until the operator resumes them)"},
  {Key::CpuVmMinPercent,            "cpu",      "vm_min_percent",        Kind::Percent,  10,      0,      100,   "a VM using less than this % of one CPU is never frozen"},
  {Key::VmEnabled,                  "vm",       "enabled",               Kind::Bool,     1,       0,      1,     "recognise QEMU/KVM guests and put them first on both ladders (hibernate, freeze)"},
  {Key::VmLibvirt,                  "vm",       "libvirt",               Kind::Bool,     1,       0,      1,     "talk to libvirt (through the ork-virt helper, started only when there are VMs)"},
  {Key::VmHibernate,                "vm",       "hibernate",             Kind::Bool,     1,       0,      1,     "at the soft memory threshold, hibernate (libvirt managed save) the VMs using the most memory"},
  {Key::VmSaveMarginPercent,        "vm",       "save_margin_percent",   Kind::Percent,  10,      0,      100,   "a VM is saved only if the save directory's filesystem has its memory plus this % free..."},
  {Key::VmSaveMarginMib,            "vm",       "save_margin_mib",       Kind::Mib,      256,     0,      1 << 20, "...plus this many MiB"},
  {Key::VmSaveDeadlineS,            "vm",       "save_deadline_s",       Kind::Seconds,  300,     5,      86400, "a managed save still running after this long is aborted (the VM keeps running)"},
  {Key::VmCallDeadlineMs,           "vm",       "call_deadline_ms",      Kind::Millis,   5000,    100,    600000, "any other libvirt call (list, suspend, resume) not answered within this is given up; the helper is restarted"},
  {Key::VmReconnectMaxS,            "vm",       "reconnect_max_s",       Kind::Seconds,  60,      1,      3600,  "while libvirt is unreachable, ORK retries with a doubling delay up to this"},
  {Key::DiskEnabled,                "disk",     "enabled",               Kind::Bool,     1,       0,      1,     "watch free space and inodes of every real filesystem (false: no disk ladder at all)"},
  {Key::DiskIntervalS,              "disk",     "interval_s",            Kind::Seconds,  5,       1,      600,   "statvfs of every watched filesystem this often (sooner when the fill rate would cross a threshold before then)"},
  {Key::DiskProbeDeadlineMs,        "disk",     "probe_deadline_ms",     Kind::Millis,   2000,    50,     60000, "a filesystem whose statvfs has not answered within this is skipped (said once): a hung network or FUSE mount"},
  {Key::DiskMarginPercent,          "disk",     "margin_percent",        Kind::Percent,  2,       0,      50,    "cleaning frees up to the soft threshold plus this % of the filesystem (capped at 1 GiB), not everything"},
  {Key::IoEnabled,                  "io",       "enabled",               Kind::Bool,     1,       0,      1,     "watch the block devices (/proc/diskstats every second, PSI io) and act when one saturated device makes others wait, sustained"},
  {Key::IoUtilPercent,              "io",       "util_percent",          Kind::Percent,  90,      10,     100,   "a second counts as overloaded when a whole disk had I/O in flight at least this % of it..."},
  {Key::IoLatencyMs,                "io",       "latency_ms",            Kind::Millis,   20,      1,      60000, "...its I/Os took at least this long on average (queue + service)..."},
  {Key::IoPressurePercent,          "io",       "pressure_percent",      Kind::Percent,  20,      1,      100,   "...and tasks of the host waited for I/O (PSI io 'some') at least this % of it (without PSI: not required)"},
  {Key::IoOthersPercent,            "io",       "others_percent",        Kind::Percent,  10,      1,      100,   "ORK acts only when a cgroup other than the culprit's waited for I/O (its PSI io 'some') at least this % of the window: a busy disk nobody else needs is left alone"},
  {Key::IoSustainS,                 "io",       "sustain_s",             Kind::Seconds,  10,      2,      3600,  "overload must hold this long (80 % of the seconds, and the last one) before ORK acts: a burst is left alone"},
  {Key::IoKillAfterS,               "io",       "kill_after_s",          Kind::Seconds,  10,      2,      3600,  "when freezing VMs was not enough (or the culprit is not a VM), overload held this long again kills the process tree doing the I/O"},
  {Key::IoVmMinPercent,             "io",       "vm_min_percent",        Kind::Percent,  10,      0,      100,   "a VM doing less than this % of the saturated device's I/O (bytes) over the window is never frozen"},
  {Key::JournalReportIntervalS,     "journal",  "report_interval_s",     Kind::Seconds,  0,       0,      604800, "every this many seconds, one state line in the journal (memory, CPU, VMs, libvirt): ORK is alive; 0: never"},
  {Key::MetricsTextfileIntervalS,   "metrics",  "textfile_interval_s",   Kind::Seconds,  15,      1,      3600,  "how often the metrics textfile is rewritten (with metrics.textfile set)"},
  {Key::RecorderEnabled,            "recorder", "enabled",               Kind::Bool,     1,       0,      1,     "keep the flight recorder (`ork events`): samples, identities, actions and the kernel's OOM kills in a fixed-size file in [recorder] dir"},
  {Key::RecorderSizeMib,            "recorder", "size_mib",              Kind::Mib,      4,       1,      1024,  "size of the recorder's file: an hour of samples at one per second, the rest minutes (~13 days at 4 MiB), disks, events and identities"},
  {Key::NetworkEnabled,             "network",  "enabled",               Kind::Bool,     0,       0,      1,     "watch ARP and IPv6 neighbour discovery for our MACs seen from elsewhere, and put the interface carrying a duplicated one down (off by default: docs/configuration.md says why)"},
};
// clang-format on

inline constexpr std::size_t kSettingCount = static_cast<std::size_t>(Key::kCount);
static_assert(sizeof(kSettings) / sizeof(kSettings[0]) == kSettingCount,
              "every Key has exactly one row in kSettings");

constexpr const Setting& setting(Key k) { return kSettings[static_cast<std::size_t>(k)]; }

// The network ladder's compiled-in detection (not configurable: a forged frame must
// not be enough, and an operator should not have to tune this): a MAC of ours is a
// duplicate when this many frames carrying it arrive from elsewhere within the window.
inline constexpr int kNetDuplicateFrames = 3;
inline constexpr int kNetDuplicateWindowMs = 10000;
// A received frame identical to one this host (or one of its VMs) sent within this is
// its echo (a hairpin, a bridge or switch flooding it back), never a duplicate.
inline constexpr int kNetEchoWindowMs = 2000;
// Frames read per wake-up of the packet socket, so that a flood never holds the loop.
inline constexpr int kNetDrainMax = 256;
// After a wake-up that read frames, the socket is read again only this much later
// (batches under a flood; a lone frame is still read at once).
inline constexpr int kNetBatchMs = 5;

// Processes that are never candidates, by executable name (the basename of
// /proc/PID/exe, or the comm of processes whose exe cannot be read). Killing any of
// these would take the host, its management, or its VMs' control plane down.
inline constexpr const char* kVitalProcesses[] = {
    "init",           "systemd",        "systemd-journald", "systemd-logind", "systemd-udevd",
    "udevd",          "dbus-daemon",    "dbus-broker",      "sshd",           "libvirtd",
    "virtqemud",      "virtlogd",       "virtlockd",        "ovs-vswitchd",   "ovsdb-server",
    "rsyslogd",       "syslog-ng",      "chronyd",          "ntpd",           "multipathd",
    "iscsid",         "lvmetad",        "dmeventd",         "containerd",     "dockerd",
    "agetty",         "getty",          "ork",
};

}  // namespace ork::config
