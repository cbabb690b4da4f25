// cpuburn: the CPU-hungry processes of ORK's integration tests.
//
//   cpuburn [--cgroup DIR] [--seconds N] [--children K]
//       with --children K: fork K children that burn CPU, then wait for them (a process
//       tree whose parent uses no CPU, as a fork storm or a make -j); without: burn in
//       this process. --seconds N: stop after N seconds (exit 0), else burn forever.
//       Prints "ready" once everything burns.
//
// --cgroup moves the process into DIR (writes its PID to DIR/cgroup.procs) first, so
// that ORK, scoped to that cgroup, sees it and its children as candidates.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

double nowSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void burn(double seconds) {
  double until = seconds > 0 ? nowSeconds() + seconds : 0;
  volatile unsigned long x = 0;
  for (;;) {
    for (int i = 0; i < 1000000; ++i) x = x + static_cast<unsigned long>(i);
    if (until > 0 && nowSeconds() >= until) std::_Exit(0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0;
  int children = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cgroup" && i + 1 < argc) {
      std::string path = std::string(argv[++i]) + "/cgroup.procs";
      int fd = ::open(path.c_str(), O_WRONLY);
      std::string pid = std::to_string(::getpid());
      if (fd < 0 || ::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
        std::perror(path.c_str());
        return 3;
      }
      ::close(fd);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--children" && i + 1 < argc) {
      children = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: cpuburn [--cgroup DIR] [--seconds N] [--children K]\n");
      return 2;
    }
  }
  if (children <= 0) {
    std::printf("ready\n");
    std::fflush(stdout);
    burn(seconds);
  }
  for (int i = 0; i < children; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork");
      return 4;
    }
    if (pid == 0) {
      // A test that stops the tree by killing its root must not leave burners behind.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() == 1) std::_Exit(0);
      burn(seconds);
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int failed = 0;
  for (int i = 0; i < children; ++i) {
    int status = 0;
    if (::wait(&status) < 0) break;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  return failed == 0 ? 0 : 1;
}
