// Writes journal lines to a stream the daemon does not own: its stderr, which systemd
// connects to the journal (a stream socket) and a shell to a pipe or a terminal.
//
// The reader may go away (EPIPE) or stall. A socket is written with MSG_NOSIGNAL and
// MSG_DONTWAIT: no SIGPIPE, and a full socket buffer returns EAGAIN rather than block
// the loop. A pipe or a terminal is written with writev; ORK ignores SIGPIPE
// (sys::ignoreSigpipe), so a closed pipe returns EPIPE. Never allocates.
#pragma once

#include <unistd.h>

#include <string_view>

#include "ork/core/Result.h"

namespace ork::sys {

class MirrorWriter {
 public:
  // fd is borrowed, not closed.
  explicit MirrorWriter(int fd = STDERR_FILENO);
  // Writes line and a '\n'. On failure returns errno (EPIPE, EAGAIN, EBADF, EIO...).
  Result<void> write(std::string_view line);
  int fd() const { return fd_; }

 private:
  int fd_;
  bool socket_ = false;
};

}  // namespace ork::sys
