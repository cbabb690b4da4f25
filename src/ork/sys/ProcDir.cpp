#include "ork/sys/ProcDir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ork::sys {

namespace {
struct LinuxDirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};
}  // namespace

Result<ProcDir> ProcDir::open(const char* procRoot, std::span<char> buf) {
  if (buf.size() < 512) return Error::make(EINVAL, "%s: listing buffer too small", procRoot);
  int fd = ::open(procRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, procRoot);
  ProcDir d;
  d.fd_.reset(fd);
  d.buf_ = buf;
  return d;
}

void ProcDir::rewind() {
  ::lseek(fd_.get(), 0, SEEK_SET);
  len_ = pos_ = 0;
  eof_ = false;
}

Result<std::size_t> ProcDir::next(int* out, std::size_t cap) {
  std::size_t n = 0;
  while (n < cap) {
    if (pos_ >= len_) {
      if (eof_) break;
      long got = ::syscall(SYS_getdents64, fd_.get(), buf_.data(), buf_.size());
      if (got < 0) return Error::sys(errno, "getdents64 /proc");
      if (got == 0) {
        eof_ = true;
        break;
      }
      len_ = static_cast<std::size_t>(got);
      pos_ = 0;
    }
    auto* d = reinterpret_cast<LinuxDirent64*>(buf_.data() + pos_);
    pos_ += d->d_reclen;
    const char* name = d->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    int pid = 0;
    bool numeric = true;
    for (const char* p = name; *p; ++p) {
      if (*p < '0' || *p > '9' || pid > 100'000'000) {
        numeric = false;
        break;
      }
      pid = pid * 10 + (*p - '0');
    }
    if (numeric) out[n++] = pid;
  }
  return n;
}

}  // namespace ork::sys
