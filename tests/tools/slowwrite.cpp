// Writes to FILE at about KIB_PER_S KiB/s (64 KiB at a time, fdatasync after each),
// until killed or the filesystem is full (exit 3). The disk tests' writers.
//   slowwrite FILE KIB_PER_S
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: slowwrite FILE KIB_PER_S\n");
    return 2;
  }
  int fd = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  long rate = std::max(1L, std::atol(argv[2]));
  std::string block(64 * 1024, 'w');
  useconds_t pause = static_cast<useconds_t>(64 * 1000000L / rate);
  for (;;) {
    if (::write(fd, block.data(), block.size()) < 0) return 3;
    ::fdatasync(fd);
    ::usleep(pause);
  }
}
