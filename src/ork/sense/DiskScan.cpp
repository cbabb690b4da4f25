#include "ork/sense/DiskScan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "ork/parse/Mounts.h"
#include "ork/sys/Files.h"

namespace ork::sense {

namespace {

bool readSmall(int dirfd, const char* rel, char* buf, std::size_t cap, std::size_t& len) {
  int fd = ::openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (n <= 0) return false;
  len = static_cast<std::size_t>(n);
  buf[len] = 0;
  return true;
}

// start time (field 22) and utime+stime (14, 15) from /proc/PID/stat.
bool statFields(std::string_view s, std::uint64_t& start, std::uint64_t& ticks) {
  auto close = s.rfind(')');
  if (close == std::string_view::npos) return false;
  s.remove_prefix(close + 2);
  // fields from 3 on
  std::uint64_t vals[23] = {};
  int field = 3;
  std::size_t i = 0;
  while (field <= 22 && i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (field == 14 || field == 15 || field == 22) {
      std::uint64_t v = 0;
      for (std::size_t k = i; k < j; ++k) {
        if (s[k] < '0' || s[k] > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(s[k] - '0');
      }
      vals[field] = v;
    }
    i = j + 1;
    ++field;
  }
  if (field <= 22) return false;
  start = vals[22];
  ticks = vals[14] + vals[15];
  return true;
}

// The device and type of what a /proc/PID/{cwd,fd/N} link points to, from the
// attributes the kernel already has (AT_STATX_DONT_SYNC): a plain stat asks a FUSE or
// NFS server whose cached attributes expired, and one that stopped answering would hold
// the scan (and the ladder's worker with it) for ever.
bool statCached(int dirfd, const char* name, dev_t& dev, mode_t& mode) {
  struct statx sx {};
  if (::statx(dirfd, name, AT_STATX_DONT_SYNC, STATX_TYPE, &sx) != 0) return false;
  dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  mode = sx.stx_mode;
  return true;
}

}  // namespace

Result<std::vector<policy::WatchedFs>> listFilesystems(const std::string& procRoot, const std::string& sysRoot,
                                                       const config::DiskSettings& cfg) {
  auto text = sys::readWholeFile(procRoot + "/self/mountinfo");
  if (!text) return text.error();
  auto mounts = parse::parseMountinfo(*text);
  auto rotational = [&](unsigned major, unsigned minor) -> std::optional<bool> {
    std::string dev = sysRoot + "/dev/block/" + std::to_string(major) + ":" + std::to_string(minor);
    for (const char* rel : {"/queue/rotational", "/../queue/rotational"}) {
      auto r = sys::readWholeFile(dev + rel);
      if (r && !r->empty()) return (*r)[0] == '1';
    }
    return std::nullopt;
  };
  return policy::selectFilesystems(mounts, cfg, rotational);
}

std::vector<WriterSample> scanWriters(const std::string& procRoot, dev_t dev) {
  std::vector<WriterSample> out;
  DIR* proc = ::opendir(procRoot.c_str());
  if (proc == nullptr) return out;
  char buf[4096];
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    int pdir = ::openat(::dirfd(proc), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pdir < 0) continue;
    WriterSample w;
    w.pid = std::atoi(e->d_name);
    std::size_t len = 0;
    bool ok = readSmall(pdir, "stat", buf, sizeof buf, len) && statFields({buf, len}, w.startTime, w.cpuTicks);
    if (ok && readSmall(pdir, "io", buf, sizeof buf, len)) {
      if (auto io = parse::parseProcIo({buf, len})) {
        w.writeBytes = io->writeBytes;
        w.wchar = io->wchar;
        w.syscw = io->syscw;
      }
    }
    if (ok) {
      dev_t d = 0;
      mode_t mode = 0;
      if (statCached(pdir, "cwd", d, mode) && d == dev) w.worksThere = true;
      int fdd = ::openat(pdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      DIR* fds = fdd >= 0 ? ::fdopendir(fdd) : nullptr;
      if (fds == nullptr && fdd >= 0) ::close(fdd);
      if (fds != nullptr) {
        while (dirent* f = ::readdir(fds)) {
          if (f->d_name[0] < '0' || f->d_name[0] > '9') continue;
          if (!statCached(::dirfd(fds), f->d_name, d, mode) || d != dev) continue;
          if (S_ISDIR(mode)) {
            w.worksThere = true;
            continue;
          }
          if (!S_ISREG(mode)) continue;
          char rel[300];
          std::snprintf(rel, sizeof rel, "fdinfo/%s", f->d_name);
          if (!readSmall(pdir, rel, buf, sizeof buf, len)) continue;
          auto flags = parse::parseFdinfoFlags({buf, len});
          if (flags && (*flags & (O_WRONLY | O_RDWR)) != 0) {
            w.writesThere = true;
            break;
          }
        }
        ::closedir(fds);
      }
      out.push_back(w);
    }
    ::close(pdir);
  }
  ::closedir(proc);
  return out;
}

}  // namespace ork::sense
