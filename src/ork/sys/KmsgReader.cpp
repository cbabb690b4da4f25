#include "ork/sys/KmsgReader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace ork::sys {

namespace {
// A /dev/kmsg read needs room for the whole record, or fails with EINVAL.
constexpr std::size_t kRecordCap = 8192;
constexpr int kFollowPollMs = 200;
}  // namespace

Result<KmsgReader> KmsgReader::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  KmsgReader r;
  r.fd_.reset(fd);
  r.buf_ = std::make_unique_for_overwrite<char[]>(kRecordCap);
  return r;
}

Result<std::string_view> KmsgReader::next(bool wait) {
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf_.get(), kRecordCap);
    if (n > 0) return std::string_view(buf_.get(), static_cast<std::size_t>(n));
    if (n == 0) return std::string_view{};
    if (errno == EINTR || errno == EPIPE)
      continue;  // EPIPE: overwritten, read on from the oldest kept
    if (errno != EAGAIN) return Error::sys(errno, "read /dev/kmsg");
    if (!wait) return std::string_view{};
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) return Error::sys(errno, "poll /dev/kmsg");
  }
}

std::int64_t KmsgReader::bootWallClockNs() {
  timespec real{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  auto ns = [](const timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  return ns(real) - ns(mono);
}

Result<FileFollower> FileFollower::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  FileFollower f;
  f.fd_.reset(fd);
  f.path_ = path;
  return f;
}

Result<bool> FileFollower::next(bool wait, std::string& line) {
  for (;;) {
    const std::size_t nl = pending_.find('\n', used_);
    if (nl != std::string::npos) {
      line.assign(pending_, used_, nl - used_);
      used_ = nl + 1;
      return true;
    }
    pending_.erase(0, used_);
    used_ = 0;
    char buf[65536];
    ssize_t n = ::pread(fd_.get(), buf, sizeof buf, static_cast<off_t>(offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, path_);
    }
    if (n > 0) {
      pending_.append(buf, static_cast<std::size_t>(n));
      offset_ += static_cast<std::uint64_t>(n);
      continue;
    }
    // At the end of the file.
    if (!wait) {
      if (pending_.empty()) return false;
      line = std::move(pending_);
      pending_.clear();
      return true;
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) < offset_) {
      offset_ = 0;  // cut shorter: read it again from its start
      pending_.clear();
      continue;
    }
    ::poll(nullptr, 0, kFollowPollMs);
  }
}

}  // namespace ork::sys
