// The closed set of reasons and results that journal lines carry.
#pragma once

#include <cstdint>

namespace ork {

enum class Reason : std::uint8_t {
  MemoryBelowSoft,   // available memory fell below the soft threshold
  MemoryBelowHard,   // ... below the hard threshold: a victim is chosen
  Recovered,         // back above the soft threshold: the episode ends
  RecoveredBeforeKill,  // the re-check just before killing found memory back above hard
  NoCandidate,       // nothing in the domain may be killed
  VictimExited,      // the victim's pidfd reported its death
  DeadlinePassed,    // the victim did not die within kill.deadline_ms
  CpuOverload,       // the CPUs were overloaded for the sustained window
  CpuRecovered,      // the host has been calm again for the sustained window
  CooledDown,        // the host stayed calm for a frozen VM's cool-down: it is resumed
  NoRoomForSave,     // the save directory's filesystem cannot hold the VM's memory
  LibvirtUnavailable,  // no libvirt (no helper, libvirtd down): the step is skipped
  OrkStopping,       // ORK is stopping: it resumes the VMs it froze
  OrkRestarted,      // an earlier run of ORK froze it and did not resume it
  SaveDirUnresponsive,  // statvfs of the save directory has not answered in time
  DiskBelowSoft,     // a filesystem's free space or inodes fell below its soft threshold
  DiskBelowHard,     // ... below its hard threshold while still filling: the writer is stopped
  DiskRecovered,     // back above the soft threshold
  DiskUnresponsive,  // statvfs of a mount has not answered within disk.probe_deadline_ms
  SaveWouldFillDisk, // a managed save would take the save directory's filesystem below its soft threshold
  IoOverload,        // a saturated block device made other tasks wait for I/O, sustained
  IoRecovered,       // no I/O overload for io.sustain_s: the episode ends
  DuplicateMac,      // a MAC of ours seen from elsewhere, often enough: its interface goes down
};

enum class Outcome : std::uint8_t {
  Ok,          // signal delivered
  DryRun,      // nothing done: --dry-run
  Vanished,    // the process exited before the signal
  Changed,     // the PID now belongs to another process: not signalled
  Failed,      // the kernel refused (errno in the line)
  Protected,   // found protected at the re-check just before the signal: not signalled
};

constexpr const char* toString(Reason r) {
  switch (r) {
    case Reason::MemoryBelowSoft: return "memory_below_soft";
    case Reason::MemoryBelowHard: return "memory_below_hard";
    case Reason::Recovered: return "recovered";
    case Reason::RecoveredBeforeKill: return "recovered_before_kill";
    case Reason::NoCandidate: return "no_candidate";
    case Reason::VictimExited: return "victim_exited";
    case Reason::DeadlinePassed: return "deadline_passed";
    case Reason::CpuOverload: return "cpu_overload";
    case Reason::CpuRecovered: return "cpu_recovered";
    case Reason::CooledDown: return "cooled_down";
    case Reason::NoRoomForSave: return "no_room_for_save";
    case Reason::LibvirtUnavailable: return "libvirt_unavailable";
    case Reason::OrkStopping: return "ork_stopping";
    case Reason::OrkRestarted: return "ork_restarted";
    case Reason::SaveDirUnresponsive: return "save_dir_unresponsive";
    case Reason::DiskBelowSoft: return "disk_below_soft";
    case Reason::DiskBelowHard: return "disk_below_hard";
    case Reason::DiskRecovered: return "disk_recovered";
    case Reason::DiskUnresponsive: return "disk_unresponsive";
    case Reason::SaveWouldFillDisk: return "save_would_fill_disk";
    case Reason::IoOverload: return "io_overload";
    case Reason::IoRecovered: return "io_recovered";
    case Reason::DuplicateMac: return "duplicate_mac";
  }
  return "unknown";
}

constexpr const char* toString(Outcome o) {
  switch (o) {
    case Outcome::Ok: return "ok";
    case Outcome::DryRun: return "dry_run";
    case Outcome::Vanished: return "vanished";
    case Outcome::Changed: return "pid_reused";
    case Outcome::Failed: return "failed";
    case Outcome::Protected: return "protected";
  }
  return "unknown";
}

}  // namespace ork
