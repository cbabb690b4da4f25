// A FUSE filesystem that does not answer statfs: the "mount that does not answer" of
// the disk tests. Speaks the raw /dev/fuse protocol (<linux/fuse.h>, no libfuse).
//
//   fusehang MOUNTPOINT
//
// Mounts an empty directory on MOUNTPOINT, answers FUSE_INIT, GETATTR (the root),
// LOOKUP (ENOENT) and the open/read of the root directory, and holds every FUSE_STATFS
// unanswered, so that statvfs(MOUNTPOINT) blocks. SIGUSR1: answer the held statfs
// requests and every later one (a mount that comes back). Prints "ready" on stdout once
// INIT is answered. SIGUSR2: from then on hold every request (GETATTR, LOOKUP...) too,
// as a server that stopped answering altogether. The mount is lazily unmounted on SIGTERM/SIGINT;
// the caller should also umount2(MOUNTPOINT, MNT_DETACH) and kill this process (killing it aborts
// the connection: every request still held fails with ENOTCONN).
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t gRelease = 0;
volatile sig_atomic_t gStop = 0;
volatile sig_atomic_t gHangAll = 0;

void onUsr1(int) { gRelease = 1; }
void onTerm(int) { gStop = 1; }
void onUsr2(int) { gHangAll = 1; }

int gFd = -1;

void reply(std::uint64_t unique, int error, const void* body, std::size_t len) {
  fuse_out_header h{};
  h.len = static_cast<std::uint32_t>(sizeof h + len);
  h.error = -error;
  h.unique = unique;
  char buf[sizeof h + 512];
  std::memcpy(buf, &h, sizeof h);
  if (len > 0) std::memcpy(buf + sizeof h, body, len);
  (void)!::write(gFd, buf, sizeof h + len);
}

void rootAttr(fuse_attr& a) {
  a = {};
  a.ino = FUSE_ROOT_ID;
  a.mode = S_IFDIR | 0755;
  a.nlink = 2;
  a.blksize = 4096;
}

void answerStatfs(std::uint64_t unique) {
  fuse_statfs_out o{};
  o.st.blocks = 1 << 20;
  o.st.bfree = 1 << 19;
  o.st.bavail = 1 << 19;
  o.st.files = 1000;
  o.st.ffree = 900;
  o.st.bsize = 4096;
  o.st.frsize = 4096;
  o.st.namelen = 255;
  reply(unique, 0, &o, sizeof o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fusehang MOUNTPOINT\n");
    return 2;
  }
  const char* mnt = argv[1];
  struct sigaction sa {};
  sa.sa_handler = onUsr1;  // no SA_RESTART: the blocking read returns EINTR
  ::sigaction(SIGUSR1, &sa, nullptr);
  sa.sa_handler = onUsr2;
  ::sigaction(SIGUSR2, &sa, nullptr);
  sa.sa_handler = onTerm;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  // Never outlives the test that started it, nor two minutes (SIGALRM kills it).
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::alarm(120);

  gFd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (gFd < 0) {
    std::fprintf(stderr, "fusehang: /dev/fuse: %s\n", std::strerror(errno));
    return 1;
  }
  std::string opts =
      "fd=" + std::to_string(gFd) + ",rootmode=40000,user_id=0,group_id=0,allow_other";
  if (::mount("ork-fusehang", mnt, "fuse.ork-fusehang", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    std::fprintf(stderr, "fusehang: mount %s: %s\n", mnt, std::strerror(errno));
    return 1;
  }
  std::vector<char> buf(FUSE_MIN_READ_BUFFER + (1 << 20));
  std::vector<std::uint64_t> held;
  for (;;) {
    if (gStop) break;
    if (gRelease) {
      for (auto u : held) answerStatfs(u);
      held.clear();
    }
    ssize_t n = ::read(gFd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == ENOENT || errno == EAGAIN)
        continue;  // ENOENT: an interrupted request
      break;       // ENODEV: unmounted
    }
    if (static_cast<std::size_t>(n) < sizeof(fuse_in_header)) continue;
    fuse_in_header in;
    std::memcpy(&in, buf.data(), sizeof in);
    const char* arg = buf.data() + sizeof in;
    if (gHangAll && in.opcode != FUSE_FORGET && in.opcode != FUSE_BATCH_FORGET &&
        in.opcode != FUSE_INTERRUPT) {
      held.push_back(
          in.unique);  // never answered (SIGUSR1 answers them as statfs: an error, harmless)
      continue;
    }
    switch (in.opcode) {
      case FUSE_INIT: {
        fuse_init_in ii;
        std::memcpy(&ii, arg,
                    std::min<std::size_t>(sizeof ii, static_cast<std::size_t>(n) - sizeof in));
        fuse_init_out o{};
        o.major = FUSE_KERNEL_VERSION;
        o.minor = std::min<std::uint32_t>(ii.minor, FUSE_KERNEL_MINOR_VERSION);
        o.max_readahead = ii.max_readahead;
        o.max_write = 4096;
        o.max_background = 4;
        o.congestion_threshold = 3;
        // Before 7.23 the reply is shorter (FUSE_COMPAT_22_INIT_OUT_SIZE = 24 bytes).
        reply(in.unique, 0, &o, o.minor < 23 ? 24 : sizeof o);
        std::printf("ready\n");
        std::fflush(stdout);
        break;
      }
      case FUSE_GETATTR: {
        fuse_attr_out o{};
        rootAttr(o.attr);
        o.attr_valid = 1;
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_STATFS:
        if (gRelease)
          answerStatfs(in.unique);
        else
          held.push_back(in.unique);  // never answered (until SIGUSR1)
        break;
      case FUSE_OPENDIR: {
        fuse_open_out o{};
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_READDIR:
        reply(in.unique, 0, nullptr, 0);  // empty
        break;
      case FUSE_RELEASEDIR:
        reply(in.unique, 0, nullptr, 0);
        break;
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
      case FUSE_INTERRUPT:
        break;  // no reply
      case FUSE_DESTROY:
        reply(in.unique, 0, nullptr, 0);
        break;
      case FUSE_LOOKUP:
        reply(in.unique, ENOENT, nullptr, 0);
        break;
      default:
        reply(in.unique, ENOSYS, nullptr, 0);
        break;
    }
  }
  ::umount2(mnt, MNT_DETACH);
  return 0;
}
