#include "ork/act/Cleaner.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "ork/policy/DiskRule.h"
#include "ork/sys/Fd.h"

namespace ork::act {

namespace {

constexpr std::uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
constexpr int kMaxDepth = 3;
constexpr std::size_t kMaxFiles = 4096;

int openat2(int dirfd, const char* path, int flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

struct Found {
  policy::CleanFile file;
  sys::UniqueFd pathFd;  // O_PATH on the inode checked
  std::shared_ptr<sys::UniqueFd> dir;  // the directory holding it (deletion); null for a deleted-open one
  std::string name;
  dev_t dev = 0;
  ino_t ino = 0;
};

struct Walk {
  const CleanJob& job;
  CleanReport& report;
  std::vector<Found>& found;
};

void refuse(Walk& w, const std::string& path, const char* why, int err = 0) {
  w.report.files.push_back({path, Bytes{0}, "refused", why, err});
}

// Lists dir (held open), keeping regular files (base empty: every file, recursing into
// subdirectories; else base and its rotated siblings).
void walkDir(Walk& w, const std::shared_ptr<sys::UniqueFd>& dir, const std::string& prefix, const std::string& base, int depth) {
  int dupfd = ::fcntl(dir->get(), F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) return;
  DIR* d = ::fdopendir(dupfd);
  if (d == nullptr) {
    ::close(dupfd);
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (!base.empty() && n != base && !policy::isRotatedName(n, base)) continue;
    names.emplace_back(n);
  }
  ::closedir(d);
  for (const auto& name : names) {
    if (w.found.size() >= kMaxFiles) return;
    std::string path = prefix + "/" + name;
    int fd = openat2(dir->get(), name.c_str(), O_PATH | O_NOFOLLOW, kBeneath);
    if (fd < 0) continue;  // gone since the listing
    sys::UniqueFd pfd(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      refuse(w, path, "symlink");
      continue;
    }
    if (st.st_dev != w.job.device) continue;  // another filesystem (a mount inside the place)
    if (S_ISDIR(st.st_mode)) {
      if (!base.empty() || depth >= kMaxDepth) continue;
      int sub = openat2(dir->get(), name.c_str(), O_RDONLY | O_DIRECTORY, kBeneath);
      if (sub < 0) continue;
      walkDir(w, std::make_shared<sys::UniqueFd>(sub), path, base, depth + 1);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    ++w.report.candidates;
    if (st.st_nlink != 1) {
      refuse(w, path, "hard_link");
      continue;
    }
    Found f;
    f.file.path = path;
    f.file.size = Bytes{static_cast<std::int64_t>(st.st_blocks) * 512};
    f.file.mtimeSec = st.st_mtim.tv_sec;
    bool rotated = base.empty() ? policy::isRotatedName(name, "") : name != base;
    f.file.kind = rotated ? policy::CleanFile::Kind::Rotated : policy::CleanFile::Kind::Active;
    f.pathFd = std::move(pfd);
    f.dir = dir;
    f.name = name;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    w.found.push_back(std::move(f));
  }
}

bool inPlace(std::string_view target, const std::vector<std::string>& places) {
  for (const auto& p : places) {
    if (target.size() > p.size() && target.substr(0, p.size()) == p && target[p.size()] == '/') return true;
    if (target == p) return true;
    // a file place's rotated siblings
    auto slash = p.rfind('/');
    if (slash != std::string::npos && target.size() > slash && target.substr(0, slash + 1) == p.substr(0, slash + 1) &&
        target.substr(slash + 1).find('/') == std::string_view::npos &&
        policy::isRotatedName(target.substr(slash + 1), std::string_view(p).substr(slash + 1)))
      return true;
  }
  return false;
}

// Files deleted but held open whose path was in a place.
void findDeletedOpen(Walk& w) {
  DIR* proc = ::opendir(w.job.procRoot.c_str());
  if (proc == nullptr) return;
  std::vector<std::pair<dev_t, ino_t>> seen;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::string fdDir = w.job.procRoot + "/" + e->d_name + "/fd";
    DIR* fds = ::opendir(fdDir.c_str());
    if (fds == nullptr) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] < '0' || f->d_name[0] > '9') continue;
      char target[4096];
      ssize_t n = ::readlinkat(::dirfd(fds), f->d_name, target, sizeof target - 1);
      if (n <= 0) continue;
      std::string_view t(target, static_cast<std::size_t>(n));
      constexpr std::string_view kDeleted = " (deleted)";
      if (!t.ends_with(kDeleted)) continue;
      t.remove_suffix(kDeleted.size());
      if (!inPlace(t, w.job.places)) continue;
      std::string link = fdDir + "/" + f->d_name;
      int fd = ::open(link.c_str(), O_PATH | O_CLOEXEC);
      if (fd < 0) continue;
      sys::UniqueFd pfd(fd);
      struct stat st {};
      if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 0 || st.st_dev != w.job.device) continue;
      bool dup = false;
      for (auto& s : seen) dup = dup || (s.first == st.st_dev && s.second == st.st_ino);
      if (dup) continue;
      seen.emplace_back(st.st_dev, st.st_ino);
      ++w.report.candidates;
      Found x;
      x.file.path = std::string(t) + " (deleted, pid " + e->d_name + " fd " + f->d_name + ")";
      x.file.size = Bytes{static_cast<std::int64_t>(st.st_blocks) * 512};
      x.file.mtimeSec = st.st_mtim.tv_sec;
      x.file.kind = policy::CleanFile::Kind::DeletedOpen;
      x.pathFd = std::move(pfd);
      x.dev = st.st_dev;
      x.ino = st.st_ino;
      w.found.push_back(std::move(x));
      if (w.found.size() >= kMaxFiles) break;
    }
    ::closedir(fds);
  }
  ::closedir(proc);
}

void act(const CleanJob& job, Found& f, bool truncate, CleanReport& report) {
  CleanResult r;
  r.path = f.file.path;
  r.bytes = f.file.size;
  bool deletedOpen = f.file.kind == policy::CleanFile::Kind::DeletedOpen;
  if (job.dryRun) {
    r.action = truncate ? "would_truncate" : "would_delete";
    report.files.push_back(std::move(r));
    return;
  }
  struct stat st {};
  if (::fstat(f.pathFd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != (deletedOpen ? 0u : 1u)) {
    r.action = "refused";
    r.detail = "changed";
    report.files.push_back(std::move(r));
    return;
  }
  if (truncate) {
    // The very inode checked, reopened for writing through our own O_PATH fd.
    std::string self = "/proc/self/fd/" + std::to_string(f.pathFd.get());
    int wfd = ::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (wfd < 0) {
      r.action = "failed";
      r.err = errno;
      report.files.push_back(std::move(r));
      return;
    }
    sys::UniqueFd w(wfd);
    struct stat again {};
    if (::fstat(wfd, &again) != 0 || again.st_ino != f.ino || again.st_dev != f.dev || !S_ISREG(again.st_mode) ||
        again.st_nlink != (deletedOpen ? 0u : 1u)) {
      r.action = "refused";
      r.detail = "changed";
    } else if (::ftruncate(wfd, 0) != 0) {
      r.action = "failed";
      r.err = errno;
    } else {
      r.action = "truncated";
      report.freed += r.bytes;
    }
    report.files.push_back(std::move(r));
    return;
  }
  struct stat named {};
  if (::fstatat(f.dir->get(), f.name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_ino != f.ino ||
      named.st_dev != f.dev) {
    r.action = "refused";
    r.detail = "changed";
  } else if (::unlinkat(f.dir->get(), f.name.c_str(), 0) != 0) {
    r.action = "failed";
    r.err = errno;
  } else {
    r.action = "deleted";
    report.freed += r.bytes;
  }
  report.files.push_back(std::move(r));
}

}  // namespace

bool openat2Supported() {
  int fd = openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

CleanReport cleanPlaces(const CleanJob& job) {
  CleanReport report;
  std::vector<Found> found;
  Walk w{job, report, found};
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return report;
  sys::UniqueFd rootFd(root);
  for (const auto& place : job.places) {
    if (place.size() < 2 || place.front() != '/') continue;
    std::string rel = place.substr(1);
    int pfd = openat2(root, rel.c_str(), O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (pfd < 0) {
      if (errno == ELOOP) refuse(w, place, "place_is_or_crosses_a_symlink", ELOOP);
      continue;  // ENOENT: nothing there on this host
    }
    sys::UniqueFd placeFd(pfd);
    struct stat st {};
    if (::fstat(pfd, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != job.device) continue;
      int d = openat2(pfd, ".", O_RDONLY | O_DIRECTORY, kBeneath);
      if (d < 0) continue;
      walkDir(w, std::make_shared<sys::UniqueFd>(d), place, "", 0);
    } else if (S_ISREG(st.st_mode)) {
      auto slash = place.rfind('/');
      std::string parent = slash == 0 ? std::string() : place.substr(1, slash - 1);
      int d = parent.empty() ? ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                             : openat2(root, parent.c_str(), O_RDONLY | O_DIRECTORY,
                                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
      if (d < 0) continue;
      auto dir = std::make_shared<sys::UniqueFd>(d);
      struct stat ds {};
      if (::fstat(d, &ds) != 0 || ds.st_dev != job.device) continue;
      walkDir(w, dir, slash == 0 ? std::string() : place.substr(0, slash), place.substr(slash + 1), kMaxDepth);
    }
  }
  findDeletedOpen(w);
  std::vector<policy::CleanFile> files;
  files.reserve(found.size());
  for (const auto& f : found) files.push_back(f.file);
  auto plan = policy::planCleaning(files, job.needBytes, job.needInodes);
  for (const auto& step : plan) act(job, found[static_cast<std::size_t>(step.index)], step.truncate, report);
  return report;
}

}  // namespace ork::act
