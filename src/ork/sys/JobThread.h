// Blocking work off the loop: one worker thread runs the jobs posted to it in order
// and signals an eventfd the loop watches; the loop then runs each finished job's
// `finish` on its own thread. The disk ladder's cleaning and writer search run here
// (directory listings, unlink, truncate, a /proc pass with fds: they may wait on a
// filesystem under pressure). A job stuck for ever holds up the jobs after it, never
// the loop; the destructor leaves a stuck worker to finish alone.
#pragma once

#include <functional>
#include <memory>

#include "ork/core/Result.h"

namespace ork::sys {

class JobThread {
 public:
  JobThread();
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // Starts the worker (once): the eventfd to watch.
  Result<int> start();
  int eventFd() const;
  // work runs on the worker; finish runs on the caller's thread in drain().
  void post(std::function<void()> work, std::function<void()> finish);
  // Runs finish() of the jobs done (drains the eventfd). Returns how many.
  int drain();
  // Jobs posted and not yet finished.
  int outstanding() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  int outstanding_ = 0;
};

}  // namespace ork::sys
