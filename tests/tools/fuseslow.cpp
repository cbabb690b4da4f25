// A slow disk for the I/O tests: a FUSE filesystem holding one file, "disk", whose
// every read and write is answered DELAY_MS late, one at a time (a single-threaded
// server: requests queue as on a saturated disk). A loop device over that file is a
// real block device whose latency and utilisation ORK reads from /proc/diskstats.
// Speaks the raw /dev/fuse protocol (<linux/fuse.h>, no libfuse), like fusehang.
//
//   fuseslow MOUNTPOINT SIZE_MIB DELAY_MS
//
// The file's bytes are kept in memory. Prints "ready" once INIT is answered. Lazily
// unmounted on SIGTERM/SIGINT; dies with its parent, and after ten minutes at most.
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t gStop = 0;
void onTerm(int) { gStop = 1; }

int gFd = -1;
constexpr std::uint64_t kFileIno = 2;
constexpr std::uint32_t kMaxWrite = 128 * 1024;

void reply(std::uint64_t unique, int error, const void* body, std::size_t len) {
  fuse_out_header h{};
  h.len = static_cast<std::uint32_t>(sizeof h + len);
  h.error = -error;
  h.unique = unique;
  iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(body), len}};
  (void)!::writev(gFd, iov, len > 0 ? 2 : 1);
}

void attrOf(std::uint64_t ino, std::uint64_t size, fuse_attr& a) {
  a = {};
  a.ino = ino;
  a.blksize = 4096;
  if (ino == FUSE_ROOT_ID) {
    a.mode = S_IFDIR | 0755;
    a.nlink = 2;
  } else {
    a.mode = S_IFREG | 0600;
    a.nlink = 1;
    a.size = size;
    a.blocks = size / 512;
  }
}

void sleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR && !gStop) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fuseslow MOUNTPOINT SIZE_MIB DELAY_MS\n");
    return 2;
  }
  const char* mnt = argv[1];
  const std::uint64_t size = std::strtoull(argv[2], nullptr, 10) << 20;
  const long delayMs = std::strtol(argv[3], nullptr, 10);
  struct sigaction sa {};
  sa.sa_handler = onTerm;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::alarm(600);

  std::vector<char> data(size);
  gFd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (gFd < 0) {
    std::fprintf(stderr, "fuseslow: /dev/fuse: %s\n", std::strerror(errno));
    return 1;
  }
  std::string opts = "fd=" + std::to_string(gFd) + ",rootmode=40000,user_id=0,group_id=0,allow_other";
  if (::mount("ork-fuseslow", mnt, "fuse.ork-fuseslow", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    std::fprintf(stderr, "fuseslow: mount %s: %s\n", mnt, std::strerror(errno));
    return 1;
  }
  std::vector<char> buf(FUSE_MIN_READ_BUFFER + kMaxWrite + 4096);
  while (!gStop) {
    ssize_t n = ::read(gFd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == ENOENT || errno == EAGAIN) continue;
      break;  // ENODEV: unmounted
    }
    if (static_cast<std::size_t>(n) < sizeof(fuse_in_header)) continue;
    fuse_in_header in;
    std::memcpy(&in, buf.data(), sizeof in);
    const char* arg = buf.data() + sizeof in;
    const std::size_t argLen = static_cast<std::size_t>(n) - sizeof in;
    switch (in.opcode) {
      case FUSE_INIT: {
        fuse_init_in ii{};
        std::memcpy(&ii, arg, std::min(sizeof ii, argLen));
        fuse_init_out o{};
        o.major = FUSE_KERNEL_VERSION;
        o.minor = std::min<std::uint32_t>(ii.minor, FUSE_KERNEL_MINOR_VERSION);
        o.max_readahead = ii.max_readahead;
        o.max_write = kMaxWrite;
        o.max_background = 16;
        o.congestion_threshold = 12;
        reply(in.unique, 0, &o, o.minor < 23 ? 24 : sizeof o);
        std::printf("ready\n");
        std::fflush(stdout);
        break;
      }
      case FUSE_LOOKUP: {
        if (in.nodeid != FUSE_ROOT_ID || std::strncmp(arg, "disk", argLen) != 0) {
          reply(in.unique, ENOENT, nullptr, 0);
          break;
        }
        fuse_entry_out o{};
        o.nodeid = kFileIno;
        o.attr_valid = 3600;
        o.entry_valid = 3600;
        attrOf(kFileIno, size, o.attr);
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_GETATTR:
      case FUSE_SETATTR: {  // a truncate to the same size, a chmod: accepted, nothing changes
        fuse_attr_out o{};
        o.attr_valid = 3600;
        attrOf(in.nodeid, size, o.attr);
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_OPEN:
      case FUSE_OPENDIR: {
        fuse_open_out o{};
        // Every read and write of the file comes here: no page cache in between.
        if (in.opcode == FUSE_OPEN) o.open_flags = FOPEN_DIRECT_IO;
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_READ: {
        fuse_read_in r{};
        std::memcpy(&r, arg, std::min(sizeof r, argLen));
        sleepMs(delayMs);
        const std::uint64_t off = std::min<std::uint64_t>(r.offset, size);
        const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(r.size, size - off));
        reply(in.unique, 0, data.data() + off, len);
        break;
      }
      case FUSE_WRITE: {
        fuse_write_in w{};
        std::memcpy(&w, arg, std::min(sizeof w, argLen));
        sleepMs(delayMs);
        const char* bytes = arg + sizeof w;
        const std::size_t have = argLen > sizeof w ? argLen - sizeof w : 0;
        std::size_t len = std::min<std::size_t>(w.size, have);
        if (w.offset >= size) len = 0;
        len = static_cast<std::size_t>(std::min<std::uint64_t>(len, size - std::min<std::uint64_t>(w.offset, size)));
        if (len > 0) std::memcpy(data.data() + w.offset, bytes, len);
        fuse_write_out o{};
        o.size = static_cast<std::uint32_t>(len);
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_READDIR:
        reply(in.unique, 0, nullptr, 0);
        break;
      case FUSE_STATFS: {
        fuse_statfs_out o{};
        o.st.blocks = size / 4096;
        o.st.bsize = 4096;
        o.st.frsize = 4096;
        o.st.namelen = 255;
        reply(in.unique, 0, &o, sizeof o);
        break;
      }
      case FUSE_FLUSH:
      case FUSE_FSYNC:
      case FUSE_RELEASE:
      case FUSE_RELEASEDIR:
      case FUSE_DESTROY:
        reply(in.unique, 0, nullptr, 0);
        break;
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
      case FUSE_INTERRUPT:
        break;  // no reply
      default:
        reply(in.unique, ENOSYS, nullptr, 0);
        break;
    }
  }
  ::umount2(mnt, MNT_DETACH);
  return 0;
}
