#include "BenchEnv.h"

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ork::bench {

bool V1Cgroup::create(const std::string& controller, const std::string& name, V1Cgroup& out, std::string* why) {
  std::string dir = "/sys/fs/cgroup/" + controller + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (why) *why = "mkdir " + dir + ": " + std::strerror(errno);
    return false;
  }
  out.remove();
  out.dir_ = dir;
  return true;
}

V1Cgroup::~V1Cgroup() { remove(); }

V1Cgroup& V1Cgroup::operator=(V1Cgroup&& o) noexcept {
  if (this != &o) {
    remove();
    dir_ = std::move(o.dir_);
    o.dir_.clear();
  }
  return *this;
}

bool V1Cgroup::write(const char* file, const std::string& value) const {
  std::string path = dir_ + "/" + file;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  ::close(fd);
  return ok;
}

void V1Cgroup::remove() {
  if (dir_.empty()) return;
  for (int i = 0; i < 200; ++i) {  // up to ~2 s while the last tasks exit
    if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) break;
    ::usleep(10'000);
  }
  dir_.clear();
}

bool Sleepers::start(const std::string& helperPath, int count, std::string* why, int large, int largeMib) {
  std::string name = "ork-bench-" + std::to_string(::getpid()) + "-sleepers";
  if (!V1Cgroup::create("memory", name, memory_, why)) return false;
  if (!V1Cgroup::create("pids", name, pids_cg_, why)) {
    stop();
    return false;
  }
  // Each sleeper costs well under 100 KiB of kernel and user memory; the limit keeps a
  // runaway from touching the host. pids.max bounds the fork loop.
  std::int64_t limit = std::max<std::int64_t>(512LL << 20, static_cast<std::int64_t>(count) * (256LL << 10)) +
                       static_cast<std::int64_t>(large) * ((static_cast<std::int64_t>(largeMib) + 4) << 20);
  if (!memory_.write("memory.limit_in_bytes", std::to_string(limit)) ||
      !pids_cg_.write("pids.max", std::to_string(count + 8))) {
    if (why) *why = "cannot set the cgroup limits";
    stop();
    return false;
  }
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    if (why) *why = "pipe";
    stop();
    return false;
  }
  pid_t parent = ::getpid();
  pid_t p = ::fork();
  if (p == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    std::string n = std::to_string(count);
    std::string spec = std::to_string(large) + ":" + std::to_string(largeMib);
    if (large > 0)
      ::execl(helperPath.c_str(), helperPath.c_str(), "--large", spec.c_str(), n.c_str(), memory_.dir().c_str(),
              pids_cg_.dir().c_str(), static_cast<char*>(nullptr));
    else
      ::execl(helperPath.c_str(), helperPath.c_str(), n.c_str(), memory_.dir().c_str(), pids_cg_.dir().c_str(),
              static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (p < 0) {
    ::close(in[1]);
    ::close(out[0]);
    if (why) *why = "fork";
    stop();
    return false;
  }
  helper_ = p;
  stdinFd_ = in[1];
  char line[128] = {};
  std::size_t got = 0;
  while (got + 1 < sizeof line) {
    ssize_t n = ::read(out[0], line + got, 1);
    if (n <= 0 || line[got] == '\n') break;
    got += static_cast<std::size_t>(n);
  }
  ::close(out[0]);
  long ready = -1;
  if (std::sscanf(line, "ready %ld", &ready) != 1 || ready < count) {
    if (why) *why = "helper spawned only " + std::to_string(ready) + " of " + std::to_string(count) + " sleepers";
    stop();
    return false;
  }
  std::ifstream procs(pids_cg_.dir() + "/cgroup.procs");
  int pid;
  while (procs >> pid)
    if (pid != helper_) pids_.push_back(pid);
  std::sort(pids_.begin(), pids_.end());
  return true;
}

void Sleepers::stop() {
  if (helper_ > 0) {
    // The helper kills its own (unreaped) children by PID and reaps them.
    if (stdinFd_ >= 0) ::close(stdinFd_);
    stdinFd_ = -1;
    ::kill(helper_, SIGTERM);
    int st = 0;
    for (int i = 0; i < 3000; ++i) {  // up to 30 s for 10,000 children
      pid_t r = ::waitpid(helper_, &st, WNOHANG);
      if (r == helper_ || (r < 0 && errno == ECHILD)) {
        helper_ = -1;
        break;
      }
      ::usleep(10'000);
    }
    if (helper_ > 0) {
      // Still ours (not reaped): SIGKILL; its children die with it (PDEATHSIG).
      ::kill(helper_, SIGKILL);
      ::waitpid(helper_, &st, 0);
      helper_ = -1;
    }
  }
  pids_.clear();
  memory_.remove();
  pids_cg_.remove();
}

bool Throwaway::spawn() {
  kill();
  static const std::string helper = selfDir() + "/ork_bench_sleepers";
  std::string parent = std::to_string(::getpid());
  char* argv[] = {const_cast<char*>(helper.c_str()), const_cast<char*>("--pause"), parent.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t p = -1;
  if (::posix_spawn(&p, helper.c_str(), nullptr, nullptr, argv, envp) != 0) return false;
  pid_ = p;
  // glibc's posix_spawn returns after the exec: the comm is the helper's.
  std::memset(comm_, 0, sizeof comm_);
  std::string path = "/proc/" + std::to_string(p) + "/comm";
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fgets(comm_, sizeof comm_, f) != nullptr) comm_[std::strcspn(comm_, "\n")] = '\0';
    std::fclose(f);
  }
  return true;
}

void Throwaway::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);  // ours and not reaped yet: the PID cannot be another process
  reap();
}

void Throwaway::reap() {
  if (pid_ <= 0) return;
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string selfDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  std::string s(buf);
  auto slash = s.rfind('/');
  return slash == std::string::npos ? "." : s.substr(0, slash);
}

void addMachineContext() {
  utsname u{};
  if (::uname(&u) == 0) {
    benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);
  }
  std::ifstream mi("/proc/meminfo");
  std::string first;
  std::getline(mi, first);
  benchmark::AddCustomContext("memory", first);
}

}  // namespace ork::bench
