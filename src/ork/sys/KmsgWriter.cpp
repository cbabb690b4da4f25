#include "ork/sys/KmsgWriter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

namespace ork::sys {

Result<KmsgWriter> KmsgWriter::open(const std::string& path) {
  KmsgWriter w;
  w.path_ = path;
  struct stat st {};
  // /dev/kmsg is the character device 1:11.
  if (::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
      minor(st.st_rdev) == 11)
    w.isKmsg_ = true;
  auto r = w.reopen(w.slots_[0], TimePoint{});
  if (!r) return r.error();
  return w;
}

Result<void> KmsgWriter::reopen(Slot& slot, TimePoint now) {
  int flags = O_WRONLY | O_CLOEXEC | O_NONBLOCK;
  if (!isKmsg_) flags |= O_CREAT | O_APPEND;
  int fd = ::open(path_.c_str(), flags, 0640);
  if (fd < 0) return Error::sys(errno, path_);
  slot.fd.reset(fd);
  slot.windowStart = now;
  slot.used = 0;
  return success();
}

int KmsgWriter::fdsOpen() const {
  int n = 0;
  for (const auto& s : slots_) n += s.fd.valid() ? 1 : 0;
  return n;
}

Result<void> KmsgWriter::write(std::string_view line, TimePoint now) {
  Slot* slot = &slots_[0];
  if (isKmsg_) {
    slot = nullptr;
    for (auto& s : slots_) {
      if (s.fd.valid() && now - s.windowStart >= kWindow) {
        s.windowStart = now;
        s.used = 0;
      }
      if (s.fd.valid() && s.used < kBurst) {
        slot = &s;
        break;
      }
    }
    if (slot == nullptr) {
      // Every open fd spent its burst: open a fresh one in an empty slot, or replace
      // the one whose window started first.
      Slot* victim = &slots_[0];
      for (auto& s : slots_) {
        if (!s.fd.valid()) {
          victim = &s;
          break;
        }
        if (s.windowStart < victim->windowStart) victim = &s;
      }
      auto r = reopen(*victim, now);
      if (!r) return r;
      slot = victim;
    }
  }
  // One writev: /dev/kmsg makes one record of one write, newline included.
  iovec iov[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  for (;;) {
    ssize_t n = ::writev(slot->fd.get(), iov, 2);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return Error::sys(errno, path_);
  }
  ++slot->used;
  return success();
}

}  // namespace ork::sys
