#include "ork/sys/KmsgWriter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace ork::sys {

std::size_t KmsgWriter::stamp(long long sec, long nsec, char* out) {
  const std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  if (::localtime_r(&t, &tm) == nullptr) return 0;
  const long off = tm.tm_gmtoff / 60;  // minutes east of UTC
  const long absOff = off < 0 ? -off : off;
  // No strftime: the fields are formatted here, so that nothing allocates.
  int n = std::snprintf(out, kStampLen + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld:%02ld ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, nsec / 1000, off < 0 ? '-' : '+', absOff / 60, absOff % 60);
  return n == static_cast<int>(kStampLen) ? kStampLen : 0;
}

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
  // The time zone is read once, here: localtime_r then never reads nor allocates.
  if (!w.isKmsg_) ::tzset();
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
  // A plain file's line starts with the local time; /dev/kmsg has its own.
  char stampBuf[kStampLen + 1];
  std::size_t stampLen = 0;
  if (!isKmsg_) {
    timespec ts{};
    if (::clock_gettime(CLOCK_REALTIME, &ts) == 0)
      stampLen = stamp(ts.tv_sec, ts.tv_nsec, stampBuf);
  }
  // One writev: /dev/kmsg makes one record of one write, newline included; a file gets
  // the line whole (O_APPEND).
  iovec iov[3] = {{stampBuf, stampLen},
                  {const_cast<char*>(line.data()), line.size()},
                  {const_cast<char*>("\n"), 1}};
  for (;;) {
    ssize_t n = ::writev(slot->fd.get(), iov, 3);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return Error::sys(errno, path_);
  }
  ++slot->used;
  return success();
}

}  // namespace ork::sys
