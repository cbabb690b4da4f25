#include "ork/sys/MirrorWriter.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace ork::sys {

MirrorWriter::MirrorWriter(int fd) : fd_(fd) {
  struct stat st {};
  socket_ = ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

Result<void> MirrorWriter::write(std::string_view line) {
  iovec iov[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  std::size_t left = line.size() + 1;
  int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  for (;;) {
    ssize_t n;
    if (socket_) {
      msghdr m{};
      m.msg_iov = iov;
      m.msg_iovlen = 2;
      n = ::sendmsg(fd_, &m, flags);
    } else {
      n = ::writev(fd_, iov, 2);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, "stderr");
    }
    auto done = static_cast<std::size_t>(n);
    if (done >= left) return success();
    // A partial write (a stream socket nearly full): the rest is sent blocking, so the
    // line is not torn in the middle of the reader's stream.
    left -= done;
    for (auto& v : iov) {
      const std::size_t take = std::min(done, v.iov_len);
      v.iov_base = static_cast<char*>(v.iov_base) + take;
      v.iov_len -= take;
      done -= take;
    }
    flags = MSG_NOSIGNAL;
  }
}

}  // namespace ork::sys
