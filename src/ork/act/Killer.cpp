#include "ork/act/Killer.h"

#include <signal.h>

#include "ork/sys/Pidfd.h"

namespace ork::act {

Killer::KillOutcome Killer::kill(std::span<const ProcessInfo* const> members, bool dryRun,
                                 const Clock& clock) {
  KillOutcome out;
  forget();
  if (members.empty()) {
    out.outcome = Outcome::Vanished;
    return out;
  }
  if (dryRun) {
    out.outcome = Outcome::DryRun;
    out.doneAt = clock.now();
    return out;
  }
  std::size_t n = std::min<std::size_t>(members.size(), kMaxMembers);
  for (std::size_t i = 0; i < n; ++i) {
    const ProcessInfo& m = *members[i];
    bool root = i == 0;
    auto fd = sys::pidfdOpen(m.pid);
    if (!fd) {
      if (!root) continue;
      out.err = fd.error().code;
      out.outcome = out.err == ESRCH ? Outcome::Vanished : Outcome::Failed;
      return out;
    }
    // The pidfd now pins one process; make sure it is the one that was chosen.
    auto start = startTimeOf_(ctx_, m.pid);
    if (!start || *start != m.startTimeTicks) {
      if (root) {
        out.outcome = start ? Outcome::Changed : Outcome::Vanished;
        return out;
      }
      continue;
    }
    auto sent = sys::pidfdSendSignal(fd->get(), SIGKILL);
    if (!sent) {
      if (root) {
        out.outcome = sent.error().code == ESRCH ? Outcome::Vanished : Outcome::Failed;
        out.err = sent.error().code;
        return out;
      }
      continue;
    }
    if (root) out.doneAt = clock.now();
    ++out.signalled;
    auto rel = sys::processMrelease(fd->get());
    if (root) {
      out.released = rel.ok();
      out.releaseErr = rel ? 0 : rel.error().code;
    }
    fds_[i] = std::move(*fd);
    ++waiting_;
  }
  out.outcome = Outcome::Ok;
  return out;
}

bool Killer::onExited(int slot) {
  if (slot >= 0 && slot < kMaxMembers && fds_[static_cast<std::size_t>(slot)].valid()) {
    fds_[static_cast<std::size_t>(slot)].reset();
    --waiting_;
  }
  return waiting_ == 0;
}

void Killer::forget() {
  for (auto& fd : fds_) fd.reset();
  waiting_ = 0;
}

}  // namespace ork::act
