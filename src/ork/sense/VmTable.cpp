#include "ork/sense/VmTable.h"

#include <algorithm>
#include <cstdio>

#include "ork/parse/Parsers.h"
#include "ork/parse/Qemu.h"
#include "ork/sys/Files.h"

namespace ork::sense {

VmTable::VmTable(std::string procRoot) : procRoot_(std::move(procRoot)) {}

bool VmTable::isQemu(const ProcessInfo& e) {
  if (e.kernelThread) return false;
  const std::string_view comm(e.comm);
  const std::string_view exe = e.identity ? std::string_view(e.identity->exe) : std::string_view();
  if (parse::isQemuProgram(comm, exe)) return true;
  if (exe.empty() || !parse::isQemuComm(comm)) return false;
  // comm says qemu, the exe recorded at first sight does not: the table may have met
  // the process before its exec (see VmTable.h). Ask the kernel now.
  char path[64];
  std::snprintf(path, sizeof path, "%d/exe", e.pid);
  char target[4096];
  auto link = sys::readLinkAt(procFd_.get(), path, target, sizeof target);
  return link && !link->empty() && parse::isQemuProgramPath(*link);
}

namespace {

// The command of pid, or nullptr: *notAVm tells a command line that is no VM's
// (worth remembering) from one that could not be read (the process is gone,
// or its PID was reused since the table read it: nothing to remember).
std::shared_ptr<const QemuCommand> readCommandOf(int procFd, int pid, std::uint64_t start,
                                                 char* buf, std::size_t cap, bool* notAVm) {
  *notAVm = false;
  char rel[64];
  std::snprintf(rel, sizeof rel, "%d/cmdline", pid);
  auto raw = sys::readFileAt(procFd, rel, buf, cap);
  if (!raw.ok() || raw->empty()) return nullptr;  // gone, or a zombie (empty cmdline)
  auto cmd = parse::parseQemuCmdline(*raw);
  // The same PID and start time after the read: the command line is this process's.
  char statBuf[1024];
  std::snprintf(rel, sizeof rel, "%d/stat", pid);
  auto stat = sys::readFileAt(procFd, rel, statBuf, sizeof statBuf, true);
  if (!stat.ok()) return nullptr;
  auto parsed = parse::parseProcStat(*stat);
  if (!parsed.ok() || parsed->startTimeTicks != start) return nullptr;
  // libvirt's capability probes (-machine none) run no guest: not VMs, and never
  // going to become one, so remembered like a command line that did not parse.
  if (!cmd.ok() || cmd->machine == "none") {
    *notAVm = true;
    return nullptr;
  }
  return std::make_shared<const QemuCommand>(std::move(cmd).value());
}

}  // namespace

void VmTable::update(std::span<const ProcessInfo> entries) {
  if (!procFd_.valid()) {
    auto fd = sys::openDir(procRoot_);
    if (!fd.ok()) {
      vms_.clear();
      return;
    }
    procFd_ = std::move(*fd);
  }
  next_.clear();
  nextRejected_.clear();
  auto byPidLess = [](const Vm& v, int pid) { return v.pid < pid; };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ProcessInfo& e = entries[i];
    if (!isQemu(e)) continue;
    const Key key{e.pid, e.startTimeTicks, e.execs};
    std::shared_ptr<const QemuCommand> cmd;
    const auto prev = std::lower_bound(vms_.begin(), vms_.end(), e.pid, byPidLess);
    if (prev != vms_.end() && prev->pid == e.pid && prev->startTimeTicks == e.startTimeTicks &&
        prev->execs == e.execs) {
      cmd = prev->cmd;
    } else if (std::binary_search(rejected_.begin(), rejected_.end(), key)) {
      nextRejected_.push_back(key);
      continue;
    } else {
      if (!buf_) buf_ = std::make_unique_for_overwrite<char[]>(kCmdlineCap);  // not zeroed: resident as read
      ++cmdlineReads_;
      bool notAVm = false;
      cmd = readCommandOf(procFd_.get(), e.pid, e.startTimeTicks, buf_.get(), kCmdlineCap, &notAVm);
      if (!cmd) {
        if (notAVm) nextRejected_.push_back(key);
        continue;
      }
    }
    Vm vm;
    vm.pid = e.pid;
    vm.startTimeTicks = e.startTimeTicks;
    vm.execs = e.execs;
    vm.cmd = std::move(cmd);
    vm.memory = e.memory();
    vm.cpuTicks = e.cpuTicks;
    vm.index = static_cast<int>(i);
    next_.push_back(std::move(vm));
  }
  // Entries come sorted by PID; the lookups rely on it, so make sure.
  if (!std::is_sorted(next_.begin(), next_.end(),
                      [](const Vm& a, const Vm& b) { return a.pid < b.pid; })) {
    std::sort(next_.begin(), next_.end(), [](const Vm& a, const Vm& b) { return a.pid < b.pid; });
  }
  std::sort(nextRejected_.begin(), nextRejected_.end());
  vms_.swap(next_);
  rejected_.swap(nextRejected_);
  next_.clear();  // drop the previous pass's references to commands now forgotten
}

const Vm* VmTable::byUuid(std::string_view uuid) const {
  char norm[37];
  const std::string_view want = parse::normalizeUuid(uuid, norm);
  if (want.empty()) return nullptr;
  const Vm* found = nullptr;
  for (const Vm& vm : vms_) {
    if (vm.cmd->uuid != want) continue;
    if (found != nullptr) return nullptr;  // claimed twice: ambiguous
    found = &vm;
  }
  return found;
}

const Vm* VmTable::byPid(int pid) const {
  const auto it =
      std::lower_bound(vms_.begin(), vms_.end(), pid, [](const Vm& v, int p) { return v.pid < p; });
  return it != vms_.end() && it->pid == pid ? &*it : nullptr;
}

}  // namespace ork::sense
