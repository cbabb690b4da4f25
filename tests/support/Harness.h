// What the integration and CLI tests share: running real processes (ork, memhog),
// a memory cgroup of the test's own, reading ORK's journal file, and the rule that a
// test needing root fails in CI rather than skipping.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace ork::test {

inline bool inCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// In CI a missing prerequisite is a failure; elsewhere the test skips and says why.
#define ORK_REQUIRE(cond, why)                                              \
  do {                                                                      \
    if (!(cond)) {                                                          \
      if (::ork::test::inCi()) FAIL() << "required in CI: " << (why);       \
      GTEST_SKIP() << (why);                                                \
    }                                                                       \
  } while (0)

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

inline std::string tempDir() {
  char tmpl[] = "/tmp/ork-test-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "/tmp";
}

// The [recorder] table for the configuration file of a daemon a test starts: the flight
// recorder's file under `dir` (the test's own temporary directory), never in the host's
// /var/lib/ork, the default. Every test that starts `ork daemon` with a file of its own
// ends it with this (after its other tables).
inline std::string recorderIn(const std::string& dir) { return "\n[recorder]\ndir = \"" + dir + "/recorder\"\n"; }

// argv with a /var/lib of its own: an empty tmpfs in a mount namespace of its own, gone
// with the process (unshare and sh exec it: its PID is the child's). For the tests of a
// daemon started without any configuration file (config=none), whose flight recorder
// then writes /var/lib/ork/recorder.ring. Not root: argv as it is (it can neither
// unshare nor write in /var/lib); nor without util-linux's unshare (the lab's guest:
// its /var/lib is a throwaway initramfs).
inline std::vector<std::string> withPrivateVarLib(const std::vector<std::string>& argv) {
  if (::geteuid() != 0 || ::access("/usr/bin/unshare", X_OK) != 0) return argv;
  std::vector<std::string> wrapped = {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                      "if [ -d /var/lib ]; then mount -t tmpfs -o size=16m,mode=0755 ork-test /var/lib || exit 126; fi; "
                                      "exec \"$@\"",
                                      "sh"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

// A child process with its stdout on a pipe.
struct Child {
  pid_t pid = -1;
  int out = -1;
  int status = 0;
  bool reaped = false;

  // Reads stdout until `word` appears or the timeout passes.
  bool waitFor(const std::string& word, std::chrono::milliseconds timeout) {
    std::string seen;
    auto until = std::chrono::steady_clock::now() + timeout;
    ::fcntl(out, F_SETFL, O_NONBLOCK);
    while (std::chrono::steady_clock::now() < until) {
      char buf[256];
      ssize_t n = ::read(out, buf, sizeof buf);
      if (n > 0) {
        seen.append(buf, static_cast<std::size_t>(n));
        if (seen.find(word) != std::string::npos) return true;
      } else if (n == 0) {
        return false;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (!alive()) return false;
    }
    return false;
  }
  bool alive() {
    if (reaped) return false;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) reaped = true;
    return !reaped;
  }
  bool killedBySigkill() { return !alive() && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }
  // Waits for the child to exit; true if it did within the timeout.
  bool waitExit(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (!alive()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return !alive();
  }
  void stop(int sig = SIGKILL) {
    if (pid > 0 && alive()) {
      ::kill(pid, sig);
      waitExit(std::chrono::seconds(5));
      if (alive()) {
        ::kill(pid, SIGKILL);
        waitExit(std::chrono::seconds(5));
      }
    }
    if (out >= 0) ::close(out);
    out = -1;
  }
};

inline Child spawn(const std::vector<std::string>& argv, bool mergeStderr = false) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    if (mergeStderr) ::dup2(fds[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  Child c;
  c.pid = pid;
  c.out = fds[0];
  return c;
}

// Runs a command to completion; returns its exit code and what it printed (stdout and
// stderr merged).
inline int runCommand(const std::vector<std::string>& argv, std::string* output = nullptr) {
  Child c = spawn(argv, true);
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(c.out, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  ::close(c.out);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  if (output) *output = all;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The cgroup hierarchies of this machine, from /proc/self/mountinfo: the cgroup2 mount
// (pure v2 hosts: /sys/fs/cgroup; hybrid ones: /sys/fs/cgroup/unified) and the v1
// mounts by controller (/sys/fs/cgroup/memory, /sys/fs/cgroup/freezer...). Tests that
// need a controller take v2 where the controller is available there, else v1.
// Calls fn(type, mountPoint, superOptions) for every cgroup ("cgroup" or "cgroup2")
// mount in /proc/self/mountinfo.
template <class F>
void forEachCgroupMount(F&& fn) {
  std::istringstream in(readFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
    std::string f[5], type, source, opts;
    for (auto& x : f) left >> x;
    right >> type >> source >> opts;
    if (type == "cgroup" || type == "cgroup2") fn(type, f[4], opts);
  }
}

struct CgroupMounts {
  std::string v2;                                        // "" when cgroup2 is not mounted
  std::vector<std::pair<std::string, std::string>> v1;  // {controller, mount point}

  static CgroupMounts detect() {
    CgroupMounts m;
    forEachCgroupMount([&](const std::string& type, const std::string& mountPoint, const std::string& opts) {
      if (type == "cgroup2") {
        if (m.v2.empty() || mountPoint == "/sys/fs/cgroup") m.v2 = mountPoint;
      } else {
        std::istringstream o(opts);
        std::string opt;
        while (std::getline(o, opt, ','))
          if (opt == "memory" || opt == "freezer" || opt == "cpu" || opt == "cpuacct" || opt == "blkio" ||
              opt == "pids" || opt == "cpuset" || opt == "devices")
            m.v1.push_back({opt, mountPoint});
      }
    });
    return m;
  }
  // The v1 hierarchy holding controller ("" if none).
  std::string v1Mount(const std::string& controller) const {
    for (const auto& [c, mp] : v1)
      if (c == controller) return mp;
    return "";
  }
  // Whether the cgroup2 root offers controller (its cgroup.controllers; on hybrid hosts
  // the controllers bound to v1 are missing there).
  bool v2Offers(const std::string& controller) const {
    if (v2.empty()) return false;
    std::istringstream in(readFile(v2 + "/cgroup.controllers"));
    std::string c;
    while (in >> c)
      if (c == controller) return true;
    return false;
  }
  // True when only cgroup2 is mounted (Debian 12's default).
  bool pureV2() const { return !v2.empty() && v1.empty(); }
};

// Enables a v2 controller for dir's children ("+memory" in dir/cgroup.subtree_control);
// true if it is enabled afterwards.
inline bool enableV2Controller(const std::string& dir, const std::string& controller) {
  std::string path = dir + "/cgroup.subtree_control";
  if (readFile(path).find(controller) != std::string::npos) return true;
  writeFile(path, "+" + controller);
  return readFile(path).find(controller) != std::string::npos;
}

// Memory accounting of any memory cgroup directory, v1 or v2 (told apart by its files):
// what the VM tests read of libvirt's cgroups and MemoryCgroup uses for its own.
namespace cgmem {
inline bool isV2(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/memory.current").c_str(), &st) == 0;
}
// memory.current (v2) or memory.usage_in_bytes (v1); -1 if unreadable.
inline std::int64_t usageBytes(const std::string& dir) {
  std::string text = readFile(dir + (isV2(dir) ? "/memory.current" : "/memory.usage_in_bytes"));
  return text.empty() ? -1 : std::atoll(text.c_str());
}
// memory.max (v2) or memory.limit_in_bytes (v1); bytes < 0 removes the limit.
inline bool setLimit(const std::string& dir, std::int64_t bytes) {
  bool v2 = isV2(dir);
  std::string path = dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes");
  std::string value = bytes < 0 ? (v2 ? "max" : "-1") : std::to_string(bytes);
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}
// The limit in bytes (-1: none or unreadable).
inline std::int64_t limitBytes(const std::string& dir) {
  std::string text = readFile(dir + (isV2(dir) ? "/memory.max" : "/memory.limit_in_bytes"));
  if (text.empty() || text.rfind("max", 0) == 0) return -1;
  long long v = std::atoll(text.c_str());
  return v >= (1ll << 62) ? -1 : v;  // v1's "no limit" is PAGE_COUNTER_MAX pages
}
// The kernel's OOM kills in the cgroup: oom_kill of memory.events (v2) or of
// memory.oom_control (v1). The proof that the kernel's OOM killer did not act. -1 if
// unreadable.
inline long oomKills(const std::string& dir) {
  std::string text = readFile(dir + (isV2(dir) ? "/memory.events" : "/memory.oom_control"));
  std::istringstream in(text);
  std::string key;
  long value = 0;
  while (in >> key >> value)
    if (key == "oom_kill") return value;
  return -1;
}
}  // namespace cgmem

// Where a test makes its memory cgroups: the cgroup2 root when it offers the memory
// controller (enabled in its cgroup.subtree_control here if it is not yet), else the v1
// memory hierarchy. "" when neither can be had; *v2 says which.
inline std::string memoryCgroupRoot(bool* v2) {
  CgroupMounts m = CgroupMounts::detect();
  if (m.v2Offers("memory") && enableV2Controller(m.v2, "memory")) {
    *v2 = true;
    return m.v2;
  }
  *v2 = false;
  return m.v1Mount("memory");
}

// A memory cgroup of the test's own, v2 or v1 (memoryCgroupRoot). Everything left in
// it is killed and it is removed at the end. Only processes the test started ever
// enter it.
class MemoryCgroup {
 public:
  bool create(long limitMib) {
    std::string root = memoryCgroupRoot(&v2_);
    if (root.empty()) return false;
    static int counter = 0;
    path_ = root + "/ork-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    if (::mkdir(path_.c_str(), 0755) != 0) {
      path_.clear();
      return false;
    }
    if (!cgmem::setLimit(path_, limitMib * 1024 * 1024)) return false;
    if (v2_) writeFile(path_ + "/memory.swap.max", "0");  // absent without swap accounting
    return true;
  }
  const std::string& path() const { return path_; }
  bool v2() const { return v2_; }

  // The kernel's OOM kills in this cgroup (cgmem::oomKills).
  long oomKills() const { return cgmem::oomKills(path_); }
  std::int64_t usageBytes() const { return cgmem::usageBytes(path_); }

  ~MemoryCgroup() {
    if (path_.empty()) return;
    for (int attempt = 0; attempt < 50; ++attempt) {
      std::string procs = readFile(path_ + "/cgroup.procs");
      if (procs.empty()) break;
      std::istringstream in(procs);
      pid_t pid;
      while (in >> pid) ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int attempt = 0; attempt < 50 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++attempt)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

 private:
  std::string path_;
  bool v2_ = false;
};

// ORK's journal lines, from the file given with --kmsg.
struct JournalFile {
  std::string path;

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(readFile(path));
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
  }
  // The first line holding every one of the fragments, waiting up to timeout; lines
  // before `from` (a count of lines seen earlier) are not looked at.
  std::string waitFor(const std::vector<std::string>& fragments, std::chrono::milliseconds timeout,
                      std::size_t from = 0) const {
    auto until = std::chrono::steady_clock::now() + timeout;
    do {
      auto all_lines = lines();
      for (std::size_t i = from; i < all_lines.size(); ++i) {
        const std::string& l = all_lines[i];
        bool all = true;
        for (const auto& f : fragments) all = all && l.find(f) != std::string::npos;
        if (all) return l;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < until);
    return "";
  }
  int count(const std::string& fragment) const {
    int n = 0;
    for (const auto& l : lines()) n += l.find(fragment) != std::string::npos ? 1 : 0;
    return n;
  }
};

// The value of key=... in a journal line ("" when absent).
inline std::string field(const std::string& line, const std::string& key) {
  std::string k = " " + key + "=";
  auto pos = line.find(k);
  if (pos == std::string::npos) return "";
  pos += k.size();
  auto end = line.find(' ', pos);
  return line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace ork::test
