// What the integration and CLI tests share: running real processes (ork, memhog),
// a memory cgroup of the test's own, reading ORK's journal file, and the rule that a
// test needing root fails in CI rather than skipping.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
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

// A memory cgroup of the test's own: v1 (/sys/fs/cgroup/memory) where mounted, else
// v2 with the memory controller. Everything left in it is killed and it is removed at
// the end. Only processes the test started ever enter it.
class MemoryCgroup {
 public:
  static std::string findRoot(bool* v2) {
    struct stat st {};
    if (::stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0) {
      *v2 = false;
      return "/sys/fs/cgroup/memory";
    }
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      std::string controllers = readFile(std::string(root) + "/cgroup.subtree_control");
      if (controllers.find("memory") != std::string::npos) {
        *v2 = true;
        return root;
      }
    }
    return "";
  }

  bool create(long limitMib) {
    std::string root = findRoot(&v2_);
    if (root.empty()) return false;
    static int counter = 0;
    path_ = root + "/ork-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    if (::mkdir(path_.c_str(), 0755) != 0) return false;
    std::string bytes = std::to_string(limitMib * 1024 * 1024);
    writeFile(path_ + (v2_ ? "/memory.max" : "/memory.limit_in_bytes"), bytes);
    if (v2_) writeFile(path_ + "/memory.swap.max", "0");
    return true;
  }
  const std::string& path() const { return path_; }
  bool v2() const { return v2_; }

  // The kernel's OOM kills in this cgroup.
  long oomKills() const {
    std::string text = readFile(path_ + (v2_ ? "/memory.events" : "/memory.oom_control"));
    auto pos = text.find("oom_kill ");
    if (pos == std::string::npos) return -1;
    return std::atol(text.c_str() + pos + 9);
  }

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
    ::rmdir(path_.c_str());
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
  // The first line holding every one of the fragments, waiting up to timeout.
  std::string waitFor(const std::vector<std::string>& fragments, std::chrono::milliseconds timeout) const {
    auto until = std::chrono::steady_clock::now() + timeout;
    do {
      for (const auto& l : lines()) {
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
