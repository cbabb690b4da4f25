// The QEMU/KVM guests among the processes of the candidate table: which processes are
// VMs, and what their command lines say (name, UUID, memory, vCPUs).
//
// A qemu command line is many KiB (libvirt's JSON -object/-blockdev/-device values),
// so it is read and parsed once per program a process runs, keyed by (pid, start
// time, execs: the execs ProcessTable noticed), and never on the kill path. What
// changes (memory, CPU time) comes from the table's entries.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/ProcessInfo.h"
#include "ork/core/Units.h"
#include "ork/core/Vm.h"
#include "ork/sys/Fd.h"

namespace ork::sense {

struct Vm {
  int pid = 0;
  std::uint64_t startTimeTicks = 0;
  std::uint32_t execs = 0;                 // ProcessInfo::execs when cmd was read
  std::shared_ptr<const QemuCommand> cmd;  // read once per program (pid, start time, execs)
  Bytes memory;                            // rss + swap of the qemu process, from the table entry
  std::uint64_t cpuTicks = 0;  // utime+stime of the qemu process (all threads), from the entry
  int index = -1;              // index into the entries passed to the last update()
};

class VmTable {
 public:
  // The most of /proc/PID/cmdline read: real qemu command lines are 2-20 KiB; past the
  // cap the last, cut argument is ignored by the parser.
  static constexpr std::size_t kCmdlineCap = 256 * 1024;

  explicit VmTable(std::string procRoot = "/proc");

  // Finds the qemu processes among entries (ProcessTable's entries, sorted by pid):
  // kernel threads never, otherwise parse::isQemuProgram on comm and identity->exe;
  // libvirt's capability probes (-machine none) are no VMs.
  // For a process seen for the first time, or since its last exec, reads its whole
  // /proc/PID/cmdline and parses it; caches by (pid, start time, execs); forgets the
  // gone. Allocates (never on a kill path). A process whose cmdline cannot be read or
  // parsed is skipped silently (vanished is normal).
  //
  // The table re-reads identity when it notices an exec, but entries may come from a
  // look older than the exec (comm updated by reread(), identity not yet): a process
  // whose comm says qemu while its recorded exe does not has its exe read afresh here.
  void update(std::span<const ProcessInfo> entries);

  std::span<const Vm> vms() const { return vms_; }
  // The VM with this UUID (any case), or nullptr. Also nullptr when two processes
  // claim it: any user can start a qemu with another guest's -uuid, and acting on the
  // wrong one of the two would be worse than not acting.
  const Vm* byUuid(std::string_view uuid) const;
  const Vm* byPid(int pid) const;

  // Reads of /proc/PID/cmdline done so far (tests check the caching with it).
  std::uint64_t cmdlineReads() const { return cmdlineReads_; }

 private:
  struct Key {
    int pid;
    std::uint64_t start;
    std::uint32_t execs;
    auto operator<=>(const Key&) const = default;
  };
  bool isQemu(const ProcessInfo& e);

  std::string procRoot_;
  sys::UniqueFd procFd_;
  std::vector<Vm> vms_;            // sorted by pid
  std::vector<Vm> next_;           // scratch, swapped with vms_
  std::vector<Key> rejected_;      // qemu processes whose cmdline did not parse
  std::vector<Key> nextRejected_;  // scratch
  std::unique_ptr<char[]> buf_;    // kCmdlineCap bytes, allocated at first need
  std::uint64_t cmdlineReads_ = 0;
};

}  // namespace ork::sense
