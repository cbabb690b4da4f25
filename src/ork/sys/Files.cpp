#include "ork/sys/Files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace ork::sys {

Result<KeptOpenFile> KeptOpenFile::open(const std::string& path, std::size_t capacity) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  KeptOpenFile f;
  f.fd_.reset(fd);
  f.path_ = path;
  // Not zero-filled: ORK's memory is locked, and only what a read writes need be resident
  // (a buffer sized for the worst case would otherwise cost all of its pages).
  f.buf_ = std::make_unique_for_overwrite<char[]>(capacity);
  f.cap_ = capacity;
  return f;
}

Result<std::string_view> KeptOpenFile::read() {
  if (!fd_.valid()) return Error::make(EBADF, "%s: not open", path_.c_str());
  std::size_t total = 0;
  for (;;) {
    ssize_t n = ::pread(fd_.get(), buf_.get() + total, cap_ - total, static_cast<off_t>(total));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, path_);
    }
    total += static_cast<std::size_t>(n);
    // A kernel-generated file fills the whole request unless it has no more to give:
    // a short read is the end, and a second pread would only regenerate it.
    if (n == 0 || total == cap_ || static_cast<std::size_t>(n) < cap_ - (total - static_cast<std::size_t>(n))) break;
  }
  return std::string_view(buf_.get(), total);
}

Result<std::string_view> readFileAt(int dirfd, const char* relpath, char* buf, std::size_t cap,
                                    bool oneRead) {
  int fd = ::openat(dirfd, relpath, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Error::sys(errno, relpath);
  std::size_t total = 0;
  while (total < cap) {
    ssize_t n = ::read(fd, buf + total, cap - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error::sys(e, relpath);
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    if (oneRead && total < cap) break;
  }
  ::close(fd);
  return std::string_view(buf, total);
}

Result<std::string_view> readLinkAt(int dirfd, const char* relpath, char* buf, std::size_t cap) {
  ssize_t n = ::readlinkat(dirfd, relpath, buf, cap);
  if (n < 0) return Error::sys(errno, relpath);
  if (static_cast<std::size_t>(n) >= cap) return Error::sys(ENAMETOOLONG, relpath);
  return std::string_view(buf, static_cast<std::size_t>(n));
}

Result<void> listSubdirectories(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error::sys(errno, dir);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    bool isDir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      isDir = ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (isDir) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return success();
}

namespace {

// Reads fd to its end (at most limit bytes) and closes it.
Result<std::string> readAllAndClose(int fd, const std::string& path, std::size_t limit) {
  std::string out;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error::sys(e, path);
    }
    if (n == 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return Error::make(EFBIG, "%s: larger than %zu bytes", path.c_str(), limit);
    }
  }
  ::close(fd);
  return out;
}

const char* fileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "a special file";
}

}  // namespace

Result<std::string> readWholeFile(const std::string& path, std::size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  return readAllAndClose(fd, path, limit);
}

Result<std::string> readRegularFile(const std::string& path, std::size_t limit) {
  // Non-blocking: opening a FIFO for reading would otherwise wait for a writer, for ever.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error::sys(e, path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::make(EINVAL, "%s: %s, not a regular file", path.c_str(), fileTypeName(st.st_mode));
  }
  return readAllAndClose(fd, path, limit);
}

Result<void> writeFile(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  ssize_t n = ::write(fd, text.data(), text.size());
  int e = errno;
  ::close(fd);
  if (n < 0) return Error::sys(e, path);
  if (static_cast<std::size_t>(n) != text.size()) return Error::make(EIO, "%s: short write", path.c_str());
  return success();
}

Result<void> replaceFile(const std::string& dir, const std::string& name, std::string_view text) {
  const std::string path = dir + "/" + name;
  if (text.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::sys(errno, path);
    return success();
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::sys(errno, dir);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error::sys(errno, tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error::sys(e, tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error::sys(e, tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error::sys(e, path);
  }
  return success();
}

Result<UniqueFd> openDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  return UniqueFd(fd);
}

Result<FsSpace> fsSpace(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return Error::sys(errno, "statvfs " + path);
  FsSpace out;
  out.available = Bytes{static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize)};
  out.total = Bytes{static_cast<std::int64_t>(st.f_blocks) * static_cast<std::int64_t>(st.f_frsize)};
  out.freeInodes = st.f_favail;
  out.totalInodes = st.f_files;
  return out;
}

}  // namespace ork::sys
