// ork_bench_sleepers: spawns N tiny sleeping processes for the benchmarks.
//
//   ork_bench_sleepers [--large M:MIB] N [CGROUP_DIR...]
//   ork_bench_sleepers --pause PPID
//
// Moves itself into each CGROUP_DIR (v1 pids/memory directories that the caller
// created) before forking, so every child is accounted and limited there. Then forks N
// children that only pause(); with --large, the first M of them each write MIB MiB of
// their own anonymous memory first (so that the table sees them at or above 64 MiB and
// re-reads their status and oom_score_adj every pass, as it does for real large
// processes). When all are up (and the large ones have touched their memory) it prints
// "ready N" on stdout and waits.
//
// --pause PPID: a single victim for the signal benchmarks, started with posix_spawn (no
// fork of the benchmark process): sets PR_SET_PDEATHSIG=SIGKILL, exits at once unless its
// parent is still PPID, and pause()s until killed.
// On SIGTERM, SIGINT or (when stdin is a pipe) EOF on stdin it SIGKILLs its own children by PID (they are its
// unreaped children, so their PIDs cannot have been recycled), reaps them all and exits.
// Every child has PR_SET_PDEATHSIG=SIGKILL, and so has this process: if the benchmark
// dies, the helper dies, and if the helper dies, the children die.
//
// Statically linked and tiny: a forked child costs a few pages, not a copy of a C++
// runtime.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void onStop(int) { g_stop = 1; }

bool joinCgroup(const char* dir) {
  char path[4096];
  std::snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char pid[32];
  int n = std::snprintf(pid, sizeof pid, "%d\n", static_cast<int>(::getpid()));
  bool ok = ::write(fd, pid, static_cast<size_t>(n)) == n;
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--pause") == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != static_cast<pid_t>(std::strtol(argv[2], nullptr, 10))) return 0;
    for (;;) ::pause();
  }
  long large = 0, largeMib = 0;
  int first = 1;
  if (argc >= 3 && std::strcmp(argv[1], "--large") == 0) {
    if (std::sscanf(argv[2], "%ld:%ld", &large, &largeMib) != 2 || large < 0 || largeMib < 0) {
      std::fprintf(stderr, "ork_bench_sleepers: --large M:MIB\n");
      return 2;
    }
    first = 3;
  }
  if (argc <= first) {
    std::fprintf(stderr, "usage: %s [--large M:MIB] N [CGROUP_DIR...] | --pause PPID\n", argv[0]);
    return 2;
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  long want = std::strtol(argv[first], nullptr, 10);
  int touched[2];
  if (large > 0 && ::pipe2(touched, O_CLOEXEC) != 0) return 1;
  for (int i = first + 1; i < argc; ++i) {
    if (!joinCgroup(argv[i])) {
      std::fprintf(stderr, "ork_bench_sleepers: cannot join %s: %s\n", argv[i], std::strerror(errno));
      return 1;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = onStop;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  std::vector<pid_t> kids;
  kids.reserve(static_cast<size_t>(want));
  pid_t self = ::getpid();
  for (long i = 0; i < want && !g_stop; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != self) ::_exit(0);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGTERM, &dfl, nullptr);
      ::sigaction(SIGINT, &dfl, nullptr);
      if (i < large) {
        std::size_t bytes = static_cast<std::size_t>(largeMib) << 20;
        auto* mem = static_cast<volatile char*>(std::malloc(bytes));
        if (mem != nullptr)
          for (std::size_t off = 0; off < bytes; off += 4096) mem[off] = 1;
        char one = 1;
        (void)::write(touched[1], &one, 1);
      }
      for (;;) ::pause();
    }
    if (p < 0) {
      std::fprintf(stderr, "ork_bench_sleepers: fork %ld: %s\n", i, std::strerror(errno));
      break;
    }
    kids.push_back(p);
  }
  if (large > 0) {
    ::close(touched[1]);
    long waitFor = std::min<long>(large, static_cast<long>(kids.size()));
    char b[256];
    for (long got = 0; got < waitFor;) {
      ssize_t n = ::read(touched[0], b, sizeof b);
      if (n <= 0) break;
      got += n;
    }
  }
  std::printf("ready %zu\n", kids.size());
  std::fflush(stdout);

  struct stat in {};
  bool watchStdin = ::fstat(0, &in) == 0 && S_ISFIFO(in.st_mode);
  while (!g_stop) {
    if (!watchStdin) {
      ::pause();
      continue;
    }
    pollfd pfd{0, POLLIN, 0};
    int r = ::poll(&pfd, 1, 1000);
    if (r > 0) {
      char b[64];
      if (::read(0, b, sizeof b) <= 0) break;  // EOF: the benchmark closed its end
    }
  }
  for (pid_t p : kids) ::kill(p, SIGKILL);
  for (pid_t p : kids) ::waitpid(p, nullptr, 0);
  return 0;
}
