#include "ork/act/Killer.h"

#include <fcntl.h>
#include <signal.h>

#include <cstdio>

#include "ork/parse/Parsers.h"
#include "ork/sys/Files.h"
#include "ork/sys/Pidfd.h"

namespace ork::act {

Result<ProcessCheck> Killer::check(const ProcessInfo& m) const {
  if (recheck_ != nullptr) return recheck_(ctx_, m);
  auto start = startTimeOf_(ctx_, m.pid);
  if (!start) return start.error();
  ProcessCheck c;
  c.startTimeTicks = *start;
  c.oomScoreAdj = m.oomScoreAdj;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/oom_score_adj", m.pid);
  char buf[32];
  auto text = sys::readFileAt(AT_FDCWD, path, buf, sizeof buf);
  if (!text) return text.error();
  auto adj = parse::parseOomScoreAdj(*text);
  if (adj) c.oomScoreAdj = *adj;
  // An unreadable value is taken as protection: not knowing is no licence to kill.
  c.isProtected = !adj || *adj <= -1000 || m.oomScoreAdj <= -1000 || m.adjMinSeen || m.pid == 1 ||
                  m.kernelThread || (m.identity != nullptr && m.identity->vital);
  return c;
}

Killer::KillOutcome Killer::kill(std::span<const ProcessInfo* const> members, bool dryRun,
                                 const Clock& clock) {
  KillOutcome out;
  forget();
  if (members.empty()) {
    out.outcome = Outcome::Vanished;
    return out;
  }
  std::size_t n = std::min<std::size_t>(members.size(), kMaxMembers);
  if (dryRun) {
    // Nothing is opened or sent, but the re-check is made as for real, so that a dry
    // run names the victim an armed run would kill, and spares whom it would spare.
    for (std::size_t i = 0; i < n; ++i) {
      auto c = check(*members[i]);
      bool gone = !c || c->startTimeTicks != members[i]->startTimeTicks;
      if (i == 0 && gone) {
        out.outcome = c ? Outcome::Changed : Outcome::Vanished;
        return out;
      }
      if (!gone && c->isProtected) {
        if (i == 0) {
          out.outcome = Outcome::Protected;
          return out;
        }
        ++out.spared;
      }
    }
    out.outcome = Outcome::DryRun;
    out.doneAt = clock.now();
    return out;
  }
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
    // The pidfd now pins one process; make sure it is the one that was chosen, and
    // that it may still be killed: its oom_score_adj may have become -1000, or it may
    // have exec'd a vital service, since the table looked.
    auto c = check(m);
    if (!c || c->startTimeTicks != m.startTimeTicks) {
      if (root) {
        out.outcome = c ? Outcome::Changed : Outcome::Vanished;
        return out;
      }
      continue;
    }
    if (c->isProtected) {
      if (root) {
        out.outcome = Outcome::Protected;
        return out;
      }
      ++out.spared;
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
    fds_[i] = std::move(*fd);
    ++waiting_;
  }
  // Every member is signalled before any memory is released: process_mrelease reaps a
  // victim's memory in this thread, and doing it between two signals let the members
  // not yet signalled keep allocating (the lab saw the deaths of a 20-process burst
  // spread over 0.4-1.3 s). The root's memory first.
  for (std::size_t i = 0; i < n; ++i) {
    if (!fds_[i].valid()) continue;
    auto rel = sys::processMrelease(fds_[i].get());
    if (i == 0) {
      out.released = rel.ok();
      out.releaseErr = rel ? 0 : rel.error().code;
    }
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
