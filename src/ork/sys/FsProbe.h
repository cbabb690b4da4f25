// statvfs off the loop. A statvfs on a hung network or FUSE mount blocks for ever, and
// even a local one may wait behind a filesystem's journal under I/O pressure: the loop
// must not. FsProbe runs the calls on one worker thread (64 KiB stack, nothing
// allocated on it but the answers) and signals an eventfd the loop watches; the loop
// takes the answers when it is readable, and judges by itself how long an unanswered
// probe may take (a hung one stays hung: its path is not asked again while pending).
//
// Used for the managed-save room check (memory ladder); the disk ladder will probe its
// mounts the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/sys/Files.h"

namespace ork::sys {

class FsProbe {
 public:
  struct Answer {
    std::string path;
    Result<FsSpace> space = Error::make(EAGAIN, "not answered");
    TimePoint askedAt;
  };

  FsProbe();
  ~FsProbe();  // the worker is told to stop; one stuck in statvfs is left to finish alone
  FsProbe(const FsProbe&) = delete;
  FsProbe& operator=(const FsProbe&) = delete;

  // Starts the worker (once): the eventfd to watch for answers.
  Result<int> start();
  int eventFd() const;
  // Asks for path's free space. False (nothing queued) when the same path is already
  // queued or being probed.
  bool request(const std::string& path, TimePoint now);
  // The answers that arrived (drains the eventfd).
  std::vector<Answer> take();
  // Whether path is queued or being probed, and since when.
  bool pending(const std::string& path, TimePoint* since = nullptr) const;
  // Whether the worker is inside path's statvfs now (not merely queued behind another
  // path's: with one worker, every path queued behind a hung mount waits too).
  bool inFlight(const std::string& path) const;

  // The state the worker shares (opaque; public so that the worker can name it).
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace ork::sys
