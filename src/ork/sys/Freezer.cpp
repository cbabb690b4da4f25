#include "ork/sys/Freezer.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "ork/parse/Mountinfo.h"
#include "ork/parse/ParseUtil.h"
#include "ork/sys/Fd.h"
#include "ork/sys/Files.h"

namespace ork::sys {

namespace {

// Bounds of the dedication walk: a VM's cgroup has a handful of children (emulator,
// vcpuN, iothreadN); a subtree far larger than this is no VM's and is refused.
constexpr std::size_t kMaxCgroups = 4096;
constexpr int kMaxDepth = 32;

using Clock = std::chrono::steady_clock;

std::string parentOf(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view baseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The subdirectories of dir (child cgroups). ENOENT when dir vanished.
Result<void> listChildren(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error::sys(errno, dir);
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    bool isDir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      isDir =
          ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (isDir) out.push_back(dir + "/" + std::string(name));
  }
  ::closedir(d);
  return success();
}

// One cgroup's members. cgroup.procs lists processes (tgids); a threaded v2 cgroup
// refuses that read (EOPNOTSUPP) and lists threads in cgroup.threads instead, which
// must then be threads of pid. Sets *sawPid when pid (or one of its threads) is there.
Result<void> checkOne(const std::string& dir, int pid, const std::string& procRoot, bool* sawPid) {
  auto procs = readWholeFile(dir + "/cgroup.procs");
  bool threads = false;
  if (!procs.ok() && procs.error().code == EOPNOTSUPP) {
    procs = readWholeFile(dir + "/cgroup.threads");
    threads = true;
  }
  if (!procs.ok()) {
    if (procs.error().code == EFBIG) {
      return Error::make(EPERM, "%s holds too many processes to be one VM's", dir.c_str());
    }
    return procs.error();
  }
  parse::detail::LineReader lines(*procs);
  std::string_view line;
  while (lines.next(line)) {
    line = parse::detail::trimBlanks(line);
    if (line.empty()) continue;
    int id = 0;
    if (!parse::detail::parseInt(line, id) || id <= 0) {
      return Error::make(EPERM, "%s/%s: unreadable entry", dir.c_str(),
                         threads ? "cgroup.threads" : "cgroup.procs");
    }
    if (!threads) {
      if (id != pid) return Error::make(EPERM, "%s also holds pid %d", dir.c_str(), id);
    } else if (id != pid &&
               !exists(procRoot + "/" + std::to_string(pid) + "/task/" + std::to_string(id))) {
      return Error::make(EPERM, "%s also holds thread %d of another process", dir.c_str(), id);
    }
    *sawPid = true;
  }
  return success();
}

std::string controlFile(const FreezerTarget& t) {
  return t.dir + (t.kind == FreezerTarget::Kind::V2 ? "/cgroup.freeze" : "/freezer.state");
}

// The state as the kernel reports it: v2 "frozen 0|1" of cgroup.events, v1
// freezer.state ("THAWED", "FREEZING", "FROZEN"). Written into out.
Result<void> readState(const FreezerTarget& t, int fd, char* buf, std::size_t cap,
                       std::string_view* out) {
  std::size_t total = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf + total, cap - total, static_cast<off_t>(total));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, t.dir);
    }
    total += static_cast<std::size_t>(n);
    if (n == 0 || total == cap) break;
  }
  std::string_view text(buf, total);
  if (t.kind == FreezerTarget::Kind::V1) {
    *out = parse::detail::trimBlanks(parse::detail::dropNewline(text));
    return success();
  }
  parse::detail::LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    if (parse::detail::nextToken(rest) == "frozen") {
      *out = parse::detail::nextToken(rest);
      return success();
    }
  }
  return Error::make(EPROTO, "%s/cgroup.events: no \"frozen\" line", t.dir.c_str());
}

Result<UniqueFd> openState(const FreezerTarget& t) {
  const std::string path =
      t.dir + (t.kind == FreezerTarget::Kind::V2 ? "/cgroup.events" : "/freezer.state");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys(errno, path);
  return UniqueFd(fd);
}

// Requests the state and waits, bounded, until the kernel reports it.
Result<void> setAndWait(const FreezerTarget& t, bool frozen) {
  const bool v2 = t.kind == FreezerTarget::Kind::V2;
  const std::string control = controlFile(t);
  const std::string_view request = v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
  const std::string_view want = v2 ? (frozen ? "1" : "0") : request;
  const char* verb = frozen ? "freeze" : "thaw";

  auto fd = openState(t);
  if (!fd.ok()) return fd.error();
  if (auto w = writeFile(control, request); !w.ok()) return w.error();

  const auto start = Clock::now();
  const auto deadline = start + kFreezeBound;
  auto lastWrite = start;
  char buf[512];
  std::string_view state;
  for (;;) {
    if (auto r = readState(t, fd->get(), buf, sizeof buf, &state); !r.ok()) return r.error();
    if (state == want) return success();
    const auto now = Clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<Millis>(deadline - now).count() + 1;
    if (v2) {
      // cgroup.events notifies a change as POLLPRI; the cap on each wait only guards
      // against a missed notification.
      pollfd p{fd->get(), POLLPRI, 0};
      ::poll(&p, 1, static_cast<int>(left < 10 ? left : 10));
    } else {
      // v1 has no notification. A task in uninterruptible sleep can hold the cgroup in
      // FREEZING; writing FROZEN again makes the kernel retry the stragglers.
      if (frozen && state == "FREEZING" && now - lastWrite >= Millis{100}) {
        (void)writeFile(control, request);
        lastWrite = now;
      }
      const timespec ts{0, 1000 * 1000};
      ::nanosleep(&ts, nullptr);
    }
  }
  const auto waited = std::chrono::duration_cast<Millis>(Clock::now() - start).count();
  if (v2) {
    return Error::make(
        ETIMEDOUT, "%s %s: not confirmed in %lld ms; left with cgroup.freeze=%.*s, frozen %.*s",
        verb, t.dir.c_str(), static_cast<long long>(waited), static_cast<int>(request.size()),
        request.data(), static_cast<int>(state.size()), state.data());
  }
  return Error::make(ETIMEDOUT, "%s %s: not confirmed in %lld ms; left %.*s", verb, t.dir.c_str(),
                     static_cast<long long>(waited),
                     static_cast<int>(state.size() > 16 ? 16 : state.size()), state.data());
}

// One candidate hierarchy: the cgroup of pid there, refused or accepted.
Result<FreezerTarget> candidate(FreezerTarget::Kind kind, int pid, std::string_view procCgroup,
                                std::string_view mountinfo, const std::string& procRoot) {
  const bool v2 = kind == FreezerTarget::Kind::V2;
  const std::string_view controller = v2 ? std::string_view() : "freezer";
  const auto line = parse::cgroupPathIn(procCgroup, controller);
  if (!line) return Error::make(ENOTSUP, "no %s line in cgroup", v2 ? "0::" : "freezer");
  std::string path(*line);
  // libvirt's thread sub-cgroup: the VM is its parent (see Freezer.h).
  if (baseName(path) == "emulator") path = parentOf(path);
  if (path == "/") return Error::make(EPERM, "root cgroup");
  auto dir = parse::cgroupDirFromMountinfo(mountinfo, path, controller);
  if (!dir.ok()) return Error::make(ENOTSUP, "%s", dir.error().what);
  FreezerTarget t;
  t.kind = kind;
  t.dir = std::move(*dir);
  t.pid = pid;
  t.procRoot = procRoot;
  if (!exists(controlFile(t))) {
    return Error::make(ENOTSUP, "no %s", v2 ? "cgroup.freeze (kernel < 5.2?)" : "freezer.state");
  }
  if (auto d = checkDedicated(t.dir, pid, procRoot); !d.ok()) return d.error();
  return t;
}

}  // namespace

Result<void> checkDedicated(const std::string& dir, int pid, const std::string& procRoot) {
  std::vector<std::pair<std::string, int>> stack;  // (dir, depth)
  std::vector<std::string> children;
  stack.emplace_back(dir, 0);
  std::size_t visited = 0;
  bool sawPid = false;
  while (!stack.empty()) {
    auto [current, depth] = std::move(stack.back());
    stack.pop_back();
    if (++visited > kMaxCgroups || depth > kMaxDepth) {
      return Error::make(EPERM, "%s: subtree too large to be one VM's", dir.c_str());
    }
    auto one = checkOne(current, pid, procRoot, &sawPid);
    // A child cgroup removed during the walk held nothing (rmdir needs it empty); its
    // children, if the directory is somehow still there, are looked at all the same.
    if (!one.ok() && !(one.error().code == ENOENT && depth > 0)) return one.error();
    children.clear();
    auto listed = listChildren(current, children);
    if (!listed.ok() && listed.error().code == ENOENT && depth > 0) continue;
    if (!listed.ok()) return listed.error();
    for (auto& c : children) stack.emplace_back(std::move(c), depth + 1);
  }
  if (!sawPid) return Error::make(EPERM, "%s does not hold pid %d", dir.c_str(), pid);
  return success();
}

Result<FreezerTarget> freezerFor(int pid, const std::string& procRoot,
                                 const std::string& mountinfoPath) {
  if (pid <= 0) return Error::make(EINVAL, "freezerFor: bad pid %d", pid);
  auto cgroup = readWholeFile(procRoot + "/" + std::to_string(pid) + "/cgroup", 1 << 16);
  if (!cgroup.ok()) {
    const int code = cgroup.error().code == ENOENT ? ESRCH : cgroup.error().code;
    return Error::make(code, "pid %d: %s", pid, cgroup.error().what);
  }
  auto mountinfo =
      readWholeFile(mountinfoPath.empty() ? procRoot + "/self/mountinfo" : mountinfoPath);
  if (!mountinfo.ok()) return mountinfo.error();

  auto v2 = candidate(FreezerTarget::Kind::V2, pid, *cgroup, *mountinfo, procRoot);
  if (v2.ok()) return v2;
  auto v1 = candidate(FreezerTarget::Kind::V1, pid, *cgroup, *mountinfo, procRoot);
  if (v1.ok()) return v1;
  // A refusal for safety outranks "no freezer here" in the code the caller sees.
  const bool refused = v2.error().code == EPERM || v1.error().code == EPERM;
  return Error::make(refused ? EPERM : ENOTSUP, "not freezing pid %d: v2: %s; v1: %s", pid,
                     v2.error().what, v1.error().what);
}

Result<void> freeze(const FreezerTarget& t) {
  if (t.pid != 0) {
    if (auto d = checkDedicated(t.dir, t.pid, t.procRoot); !d.ok()) {
      return Error::make(EPERM, "not freezing: %s", d.error().what);
    }
  }
  if (auto r = setAndWait(t, true); !r.ok()) return r;
  // Someone may have joined between the check and the freeze (a helper libvirt put in
  // the VM's cgroup): an innocent must not stay frozen.
  if (t.pid != 0) {
    if (auto d = checkDedicated(t.dir, t.pid, t.procRoot); !d.ok()) {
      auto undo = setAndWait(t, false);
      return Error::make(EPERM, "froze, then found %s; %s", d.error().what,
                         undo.ok() ? "thawed" : "thaw FAILED");
    }
  }
  return success();
}

Result<void> thaw(const FreezerTarget& t) { return setAndWait(t, false); }

namespace {
Result<void> request(const FreezerTarget& t, bool frozen) {
  const bool v2 = t.kind == FreezerTarget::Kind::V2;
  const std::string_view value = v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
  return writeFile(controlFile(t), value);
}
}  // namespace

Result<void> requestFreeze(const FreezerTarget& t) {
  if (t.pid != 0) {
    if (auto d = checkDedicated(t.dir, t.pid, t.procRoot); !d.ok()) {
      return Error::make(EPERM, "not freezing: %s", d.error().what);
    }
  }
  return request(t, true);
}

Result<void> requestThaw(const FreezerTarget& t) { return request(t, false); }

Result<FreezeState> freezeState(const FreezerTarget& t) {
  auto fd = openState(t);
  if (!fd.ok()) return fd.error();
  char buf[512];
  std::string_view state;
  if (auto r = readState(t, fd->get(), buf, sizeof buf, &state); !r.ok()) return r.error();
  if (t.kind == FreezerTarget::Kind::V2) {
    if (state == "1") return FreezeState::Frozen;
    // v2 reports only the outcome: a freeze requested but not complete reads "frozen 0"
    // with cgroup.freeze 1.
    auto want = readWholeFile(controlFile(t), 64);
    if (want.ok() && parse::detail::trimBlanks(parse::detail::dropNewline(*want)) == "1")
      return FreezeState::Freezing;
    return FreezeState::Thawed;
  }
  if (state == "FROZEN") return FreezeState::Frozen;
  if (state == "FREEZING") return FreezeState::Freezing;
  return FreezeState::Thawed;
}

Result<bool> isFrozen(const FreezerTarget& t) {
  auto fd = openState(t);
  if (!fd.ok()) return fd.error();
  char buf[512];
  std::string_view state;
  if (auto r = readState(t, fd->get(), buf, sizeof buf, &state); !r.ok()) return r.error();
  return t.kind == FreezerTarget::Kind::V2 ? state == "1" : state == "FROZEN";
}

}  // namespace ork::sys
