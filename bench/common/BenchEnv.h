// What the benchmarks need from the machine: v1 cgroups they create and remove, a set
// of sleeping processes of their own (spawned into those cgroups, killed by PID), and
// throwaway children to signal. Everything created here is removed by the destructors;
// the children also die with the benchmark (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ork::bench {

// A v1 cgroup directory created under /sys/fs/cgroup/<controller>/ and removed
// (rmdir, retried while its last tasks exit) on destruction.
class V1Cgroup {
 public:
  V1Cgroup() = default;
  // name: e.g. "ork-bench-<pid>"; error text in *why on failure.
  static bool create(const std::string& controller, const std::string& name, V1Cgroup& out, std::string* why);
  ~V1Cgroup();
  V1Cgroup(V1Cgroup&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
  V1Cgroup& operator=(V1Cgroup&& o) noexcept;
  V1Cgroup(const V1Cgroup&) = delete;
  V1Cgroup& operator=(const V1Cgroup&) = delete;

  const std::string& dir() const { return dir_; }
  bool write(const char* file, const std::string& value) const;
  void remove();

 private:
  std::string dir_;
};

// N sleeping processes (children of one static helper, ork_bench_sleepers) inside a
// memory cgroup (limited) and a pids cgroup (pids.max) created for them.
class Sleepers {
 public:
  ~Sleepers() { stop(); }
  // helperPath: the ork_bench_sleepers binary. Returns false with *why on failure
  // (everything created so far is removed).
  // The first `large` sleepers each write `largeMib` MiB of their own memory before
  // the helper reports ready.
  bool start(const std::string& helperPath, int count, std::string* why, int large = 0, int largeMib = 0);
  void stop();
  // The sleeping children's PIDs (the helper excluded), ascending.
  const std::vector<int>& pids() const { return pids_; }
  int helperPid() const { return helper_; }
  const std::string& memoryCgroup() const { return memory_.dir(); }

 private:
  V1Cgroup memory_;
  V1Cgroup pids_cg_;
  pid_t helper_ = -1;
  int stdinFd_ = -1;
  std::vector<int> pids_;
};

// A child of the benchmark process that only pause()s (and dies with it): the static
// helper `ork_bench_sleepers --pause PPID`, started with posix_spawn (glibc's vfork-like
// clone: no copy-on-write of the benchmark's memory before or after, as the daemon never
// forks before a kill). Killed and reaped by kill(); the PID stays ours until reaped,
// so killing it by PID is safe.
class Throwaway {
 public:
  Throwaway() = default;
  ~Throwaway() { kill(); }
  Throwaway(const Throwaway&) = delete;
  Throwaway& operator=(const Throwaway&) = delete;
  bool spawn();
  pid_t pid() const { return pid_; }
  // Its /proc/PID/comm (read after the spawn, untimed), NUL-terminated, 16 bytes.
  const char* comm() const { return comm_; }
  // SIGKILL (unless already sent elsewhere) and reap.
  void kill();
  // Reap only (after something else sent the signal).
  void reap();

 private:
  pid_t pid_ = -1;
  char comm_[16] = {};
};

// The directory holding the benchmark binaries (for the helper's path).
std::string selfDir();

// "uname -a"-like machine line for the benchmark context.
void addMachineContext();

}  // namespace ork::bench
