// A FUSE filesystem that does not answer statfs: the "mount that does not answer" of
// the disk tests. Speaks the raw /dev/fuse protocol (<linux/fuse.h>, no libfuse).
//
//   fusehang MOUNTPOINT [FILE]
//
// Mounts an empty directory on MOUNTPOINT, answers FUSE_INIT, GETATTR (the root),
// LOOKUP (ENOENT) and the open/read of the root directory, and holds every FUSE_STATFS
// unanswered, so that statvfs(MOUNTPOINT) blocks. SIGUSR1: answer the held statfs
// requests and every later one (a mount that comes back). Prints "ready" on stdout once
// INIT is answered. SIGUSR2: from then on hold every request (GETATTR, LOOKUP...) too,
// as a server that stopped answering altogether. The mount is lazily unmounted on SIGTERM/SIGINT;
// the caller should also umount2(MOUNTPOINT, MNT_DETACH) and kill this process (killing it aborts
// the connection: every request still held fails with ENOTCONN).
// With FILE, the mount also serves one regular file, MOUNTPOINT/<FILE's basename>, with
// FILE's contents as they were at start (read-only, direct I/O, nothing cached: every
// open and read asks this server), so that after SIGUSR2 a process that opens or reads
// it is stuck in that syscall (a configuration file on a server that stopped answering).
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

// The served file (ino 2), when there is one.
constexpr std::uint64_t kFileIno = 2;
std::string gFileName;
std::string gFileData;
bool gServeFile = false;

void fileAttr(fuse_attr& a) {
  a = {};
  a.ino = kFileIno;
  a.mode = S_IFREG | 0644;
  a.nlink = 1;
  a.size = gFileData.size();
  a.blocks = (gFileData.size() + 511) / 512;
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
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: fusehang MOUNTPOINT [FILE]\n");
    return 2;
  }
  const char* mnt = argv[1];
  if (argc == 3) {
    std::string path = argv[2];
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "fusehang: %s: %s\n", path.c_str(), std::strerror(errno));
      return 1;
    }
    char chunk[4096];
    std::size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) gFileData.append(chunk, got);
    std::fclose(f);
    gFileName = path.substr(path.rfind('/') + 1);
    gServeFile = true;
  }
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
        if (gServeFile && in.nodeid == kFileIno) {
          fileAttr(o.attr);  // attr_valid 0: never cached
        } else {
          rootAttr(o.attr);
          o.attr_valid = 1;
        }
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
        if (gServeFile && in.nodeid == FUSE_ROOT_ID && gFileName == arg) {
          fuse_entry_out o{};
          o.nodeid = kFileIno;
          o.generation = 1;
          fileAttr(o.attr);  // entry_valid, attr_valid 0: looked up again at every open
          reply(in.unique, 0, &o, sizeof o);
        } else {
          reply(in.unique, ENOENT, nullptr, 0);
        }
        break;
      case FUSE_OPEN: {
        fuse_open_out o{};
        o.open_flags = FOPEN_DIRECT_IO;  // every read comes here
        reply(in.unique, gServeFile ? 0 : ENOENT, &o, sizeof o);
        break;
      }
      case FUSE_READ: {
        fuse_read_in r;
        std::memcpy(&r, arg, std::min<std::size_t>(sizeof r, static_cast<std::size_t>(n) - sizeof in));
        std::size_t off = std::min<std::size_t>(r.offset, gFileData.size());
        std::size_t len = std::min<std::size_t>(r.size, gFileData.size() - off);
        len = std::min<std::size_t>(len, 480);  // reply()'s buffer; the reader reads on
        reply(in.unique, 0, gFileData.data() + off, len);
        break;
      }
      case FUSE_FLUSH:
      case FUSE_RELEASE:
        reply(in.unique, 0, nullptr, 0);
        break;
      default:
        reply(in.unique, ENOSYS, nullptr, 0);
        break;
    }
  }
  ::umount2(mnt, MNT_DETACH);
  return 0;
}
