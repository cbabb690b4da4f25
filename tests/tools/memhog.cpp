// memhog: the memory-hungry processes of ORK's integration tests.
//
//   memhog [--cgroup DIR] [--adj N] [--name NAME] hold MIB
//       allocate and touch MIB, print "ready", then sleep until killed
//   memhog [...] fill RATE_MIB_S [MAX_MIB]
//       allocate and touch 1 MiB at a time at RATE MiB/s (0 = as fast as possible),
//       up to MAX_MIB (then hold) or forever; prints "ready" before the first MiB
//   memhog [...] tree CHILDREN MIB_EACH
//       fork CHILDREN children (same program) that each hold MIB_EACH, then wait
//
// --cgroup moves the process into DIR (writes its PID to DIR/cgroup.procs) before it
// allocates anything, so the memory is charged there from the first byte.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

void writeFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::perror(path.c_str());
    std::exit(3);
  }
  ::close(fd);
}

void touchMiB() {
  void* p = ::mmap(nullptr, kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::exit(4);
  }
  for (std::size_t off = 0; off < kMiB; off += 4096) static_cast<char*>(p)[off] = 1;
}

void ready() {
  std::printf("ready\n");
  std::fflush(stdout);
}

[[noreturn]] void holdForever() {
  for (;;) ::pause();
}

double nowSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cgroup" && i + 1 < argc) {
      writeFile(std::string(argv[++i]) + "/cgroup.procs", std::to_string(::getpid()));
    } else if (a == "--adj" && i + 1 < argc) {
      writeFile("/proc/self/oom_score_adj", argv[++i]);
    } else if (a == "--name" && i + 1 < argc) {
      ::prctl(PR_SET_NAME, argv[++i]);
    } else {
      break;
    }
  }
  if (i >= argc) {
    std::fprintf(stderr, "usage: memhog [--cgroup DIR] [--adj N] [--name NAME] hold|fill|tree ...\n");
    return 2;
  }
  std::string mode = argv[i++];
  auto arg = [&](int k, long def) { return i + k < argc ? std::atol(argv[i + k]) : def; };
  if (mode == "hold") {
    long mib = arg(0, 10);
    for (long m = 0; m < mib; ++m) touchMiB();
    ready();
    holdForever();
  }
  if (mode == "fill") {
    long rate = arg(0, 0);
    long max = arg(1, -1);
    ready();
    double start = nowSeconds();
    for (long m = 0; max < 0 || m < max; ++m) {
      touchMiB();
      if (rate > 0) {
        double due = start + static_cast<double>(m + 1) / static_cast<double>(rate);
        double wait = due - nowSeconds();
        if (wait > 0) ::usleep(static_cast<useconds_t>(wait * 1e6));
      }
    }
    holdForever();
  }
  if (mode == "tree") {
    long children = arg(0, 4);
    long each = arg(1, 10);
    for (long c = 0; c < children; ++c) {
      if (::fork() == 0) {
        for (long m = 0; m < each; ++m) touchMiB();
        holdForever();
      }
    }
    for (long m = 0; m < each; ++m) touchMiB();
    ready();
    while (::wait(nullptr) > 0) {
    }
    holdForever();
  }
  std::fprintf(stderr, "memhog: unknown mode %s\n", mode.c_str());
  return 2;
}
