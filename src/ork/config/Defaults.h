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
  {Key::MemorySoftPercent,          "memory",   "soft_percent",          Kind::Percent,  10,      0.1,    90,    "soft threshold: available memory below this % of the domain starts an episode (VMs are hibernated here, later); kills free memory up to it"},
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
};
// clang-format on

inline constexpr std::size_t kSettingCount = static_cast<std::size_t>(Key::kCount);
static_assert(sizeof(kSettings) / sizeof(kSettings[0]) == kSettingCount,
              "every Key has exactly one row in kSettings");

constexpr const Setting& setting(Key k) { return kSettings[static_cast<std::size_t>(k)]; }

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
