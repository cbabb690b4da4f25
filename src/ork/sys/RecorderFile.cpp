#include "ork/sys/RecorderFile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ork::sys {

using recorder::Geometry;
using recorder::Region;

namespace {

Result<void> preadAll(int fd, char* buf, std::size_t len, std::uint64_t off, std::size_t& got) {
  got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buf + got, len - got, static_cast<off_t>(off + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, "read recorder file");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return success();
}

Result<void> pwriteAll(int fd, const char* buf, std::size_t len, std::uint64_t off) {
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pwrite(fd, buf + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, "write recorder file");
    }
    done += static_cast<std::size_t>(n);
  }
  return success();
}

}  // namespace

Result<RecorderFile> RecorderFile::openForWriting(const std::string& dir, std::uint64_t size, bool& fresh) {
  fresh = false;
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return Error::sys(errno, "mkdir " + dir);
  const std::string path = dir + "/" + kFileName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return Error::sys(errno, path);
  RecorderFile f;
  f.fd_.reset(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    return Error::sys(e, e == EWOULDBLOCK ? path + " (in use by another ork)" : path);
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) return Error::sys(errno, path);
  if (!S_ISREG(st.st_mode)) return Error::make(EINVAL, "%s: not a regular file", path.c_str());
  const Geometry want = recorder::geometryFor(size);
  char header[recorder::kHeaderSize];
  std::size_t got = 0;
  if (auto r = preadAll(fd, header, sizeof header, 0, got); !r) return r.error();
  Geometry have;
  if (got < sizeof header || !recorder::decodeHeader(header, got, have) || !(have == want)) {
    fresh = true;
    if (::ftruncate(fd, 0) != 0) return Error::sys(errno, path);
  }
  // Allocated whole, also when it exists (a truncated file gets its slots back as holes
  // filled with zeros: empty slots).
  if (int e = ::posix_fallocate(fd, 0, static_cast<off_t>(want.size)); e != 0) {
    if (fresh) (void)!::ftruncate(fd, 0);
    return Error::sys(e, "allocate " + path);
  }
  if (fresh) {
    char h[recorder::kHeaderSize];
    recorder::encodeHeader(want, h);
    if (auto r = pwriteAll(fd, h, sizeof h, 0); !r) return r.error();
  }
  f.g_ = want;
  return f;
}

Result<RecorderFile> RecorderFile::openForReading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  RecorderFile f;
  f.fd_.reset(fd);
  char header[recorder::kHeaderSize];
  std::size_t got = 0;
  if (auto r = preadAll(fd, header, sizeof header, 0, got); !r) return r.error();
  if (!recorder::decodeHeader(header, got, f.g_))
    return Error::make(EINVAL, "%s: not a flight recorder file (or its header is damaged)", path.c_str());
  return f;
}

Result<void> RecorderFile::writeSlot(Region r, std::uint64_t index, const char* data, std::size_t len) {
  const int k = static_cast<int>(r);
  if (index >= g_.slots[k] || len != g_.slotSize[k]) return Error::make(EINVAL, "recorder slot out of range");
  return pwriteAll(fd_.get(), data, len, g_.slotOffset(r, index));
}

Result<std::uint64_t> RecorderFile::scan(const SlotFn& fn) const {
  // A few slots per read, into a buffer on the stack (the job thread's stack is small).
  char buf[4096];
  std::uint64_t bad = 0;
  for (int k = 0; k < recorder::kRegionCount; ++k) {
    const auto r = static_cast<Region>(k);
    const std::size_t slot = g_.slotSize[k];
    const std::size_t perRead = sizeof buf / slot;
    for (std::uint64_t i = 0; i < g_.slots[k]; i += perRead) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(perRead, g_.slots[k] - i)) * slot;
      std::size_t got = 0;
      if (auto res = preadAll(fd_.get(), buf, want, g_.slotOffset(r, i), got); !res) return res.error();
      for (std::size_t j = 0; j * slot + slot <= got; ++j) {
        const char* s = buf + j * slot;
        recorder::SlotView v;
        if (recorder::decodeSlot(s, slot, v)) {
          fn(r, i + j, v);
        } else {
          // Written (not all zeros) yet invalid: torn or corrupt.
          bool zero = true;
          for (std::size_t b = 0; b < slot && zero; ++b) zero = s[b] == 0;
          if (!zero) ++bad;
        }
      }
      if (got < want) return bad;  // truncated: the rest is not there
    }
  }
  return bad;
}

}  // namespace ork::sys
