// End-to-end tests against a real libvirtd and real QEMU guests (TCG): the daemons are
// started by hand, confined to what the test creates, and removed at the end.
//
//   TEST(Vm, Something) {
//     ORK_REQUIRE_LIBVIRTD(lv);      // Libvirtd* lv: the binary's shared daemons (started
//                                    // on first use); skips here, fails in CI, if this
//                                    // machine lacks root/libvirtd/QEMU/a guest kernel
//     std::string err;
//     Guest g(*lv, GuestSpec::idle(256).touch(48));    // or GuestSpec::burn(128)
//     ASSERT_TRUE(g.start(&err)) << err;                // define + virsh start
//     ASSERT_TRUE(g.waitReady(120s, &err)) << err;      // the guest's /init is done
//     g.pid(); g.uuid(); g.state(); g.cgroup("memory"); lv->virsh({"managedsave", g.name()});
//     // ork daemon --cgroup lv->memoryCgroup() ... sees the guests' QEMUs below it
//   }
//
// What Libvirtd::start() sets up:
// - The test process moves into a private mount namespace (once, on the calling thread:
//   spawn from that thread; every child spawned afterwards, virsh and ork included,
//   shares it). There it bind-mounts private directories over /etc/libvirt (its own
//   qemu.conf), /var/lib/libvirt (domains, managed-save images in
//   /var/lib/libvirt/qemu/save), /var/log/libvirt, a tmpfs over /run
//   (/run/libvirt/libvirt-sock, /run/libvirt/qemu/NAME.pid), a persistent capabilities
//   cache (BUILD/e2e-cache/libvirt-cache) over /var/cache/libvirt, and a private copy of
//   /dev/kvm that libvirt-qemu may open (without it libvirt re-probes QEMU, 4-12 s, at
//   every start and every domain start). Nothing of the host's libvirt state is read or
//   changed.
// - Cgroups: ID = ork-e2e-<pid>-<n>.test in every mounted hierarchy (v1 controllers and
//   the cgroup2 "unified" one). ID/daemons holds virtlogd and libvirtd; ID/machine.partition
//   is the libvirt partition the guests are created in (<resource><partition>), so QEMU
//   lands in /ID/machine.partition/qemu-N-NAME.libvirt-qemu. libvirt takes a partition as
//   absolute (its default /machine is the hierarchy's root), not relative to libvirtd's
//   own cgroup: hence the explicit partition. Measured on the project's machines (v1
//   controllers + an empty cgroup2 "unified"): QEMU's memory, freezer and blkio cgroups
//   are .../qemu-N-NAME.libvirt-qemu; cpu, cpuset and unified are .../emulator below it
//   (vCPU threads: .../vcpuK); cpuacct, devices and pids stay ID/daemons (in this hybrid
//   layout libvirt does CPU accounting and device control through cgroup2). The page
//   cache of a managed-save image is charged to ID/daemons (libvirt's iohelper writes
//   it), not to the guest.
// - virtlogd and libvirtd (system mode, qemu:///system, config files given with -f) run
//   in a network namespace of their own, as children of the test process.
// - A reaper process (/bin/sh, its own session, outside the test's process tree) waits
//   for a line on a pipe from the test process, or its end: the test process died,
//   however it died (a crash, CTest's kill on a timeout). Then it kills what is
//   left in the ID cgroups by PID, removes them bottom-up, unmounts what was mounted and
//   deletes the temporary directory. Normal teardown (destructor) first destroys and
//   undefines every domain and stops the daemons by PID, then lets the reaper finish.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/Harness.h"

namespace ork::test {

namespace libvirt_detail {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

inline std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

inline std::string lastLines(const std::string& text, std::size_t n) {
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  while (n > 0 && pos > 0) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
    --n;
  }
  return n == 0 ? text.substr(pos + 1) : text;
}

inline std::string fileTail(const std::string& path, std::size_t n) {
  return "--- " + path + " (last lines) ---\n" + lastLines(readFile(path), n);
}

inline bool writeText(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  return ::close(fd) == 0 && ok;
}

// Runs argv (looked up in PATH) with stdin from /dev/null and stdout+stderr into *out.
// After `timeout` the child is killed by its PID. Returns its exit code, 124 on timeout,
// 127 when it could not be executed.
inline int run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
               std::string* out = nullptr) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 127;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return 127;
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string all;
  auto until = Clock::now() + timeout;
  bool timedOut = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 200)));
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      all.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (timedOut || Clock::now() >= until) {
      timedOut = true;
      ::kill(pid, SIGKILL);  // our own child, by its PID
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  if (out) *out = all;
  if (timedOut) {
    if (out) *out += "\n[killed after " + std::to_string(timeout.count()) + " ms]";
    return 124;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string which(const std::string& name) {
  for (const char* dir :
       {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// The source tree and the build directory of this test binary (from the definitions the
// test CMakeLists gives every test: ORK_FIXTURES = <src>/tests/fixtures, ORK_BINARY =
// <build>/ork).
inline std::string sourceDir() {
#ifdef ORK_FIXTURES
  std::string f = ORK_FIXTURES;
  auto pos = f.rfind("/tests/fixtures");
  if (pos != std::string::npos) return f.substr(0, pos);
#endif
  return "";
}
inline std::string buildDir() {
#ifdef ORK_BINARY
  std::string b = ORK_BINARY;
  auto pos = b.rfind('/');
  if (pos != std::string::npos) return b.substr(0, pos);
#endif
  return "";
}
// Where downloads and the libvirt capabilities cache persist between runs.
inline std::string cacheDir() {
  std::string b = buildDir();
  return b.empty() ? std::string("/var/tmp/ork-e2e-cache") : b + "/e2e-cache";
}

// The guest kernel in a lab-style cache directory (kernel.path names the extracted
// Debian package): the PVH vmlinux when present (no decompression under TCG), else the
// bzImage.
inline std::string kernelIn(const std::string& cache) {
  std::string root = trim(readFile(cache + "/kernel.path"));
  if (root.empty()) return "";
  std::string pvh, bz;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root + "/boot", ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind("vmlinux-pvh-", 0) == 0 && n.find(".tmp") == std::string::npos)
      pvh = e.path().string();
    if (n.rfind("vmlinuz-", 0) == 0) bz = e.path().string();
  }
  return pvh.empty() ? bz : pvh;
}

// Finds the guest kernel: $ORK_E2E_KERNEL, the lab's caches (build/lab-cache,
// build-lab/lab-cache), the harness's own cache; else fetches the stock Debian kernel
// into the harness's cache with the lab's own code (lab/lab.py: apt-get download +
// dpkg -x, PVH extraction). "" with *why when none can be had.
inline std::string findKernel(std::string* why) {
  if (const char* k = std::getenv("ORK_E2E_KERNEL"); k && *k) {
    if (exists(k)) return k;
    *why = std::string("ORK_E2E_KERNEL=") + k + " does not exist";
    return "";
  }
  std::string src = sourceDir(), build = buildDir(), own = cacheDir() + "/kernel";
  std::vector<std::string> caches;
  if (!build.empty()) caches.push_back(build + "/lab-cache");
  if (!src.empty()) caches.push_back(src + "/build-lab/lab-cache");
  caches.push_back(own);
  for (const auto& c : caches) {
    std::string k = kernelIn(c);
    if (!k.empty() && k.find("vmlinux-pvh-") != std::string::npos) return k;
  }
  if (src.empty() || !exists(src + "/lab/lab.py")) {
    for (const auto& c : caches)
      if (std::string k = kernelIn(c); !k.empty()) return k;
    *why = "no guest kernel cached and lab/lab.py not found to fetch one";
    return "";
  }
  // Fetch (or just PVH-extract) into our own cache, one process at a time.
  std::filesystem::create_directories(own);
  int lock = ::open((own + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock >= 0) ::flock(lock, LOCK_EX);
  static const char* kFetch =
      "import sys\n"
      "sys.path.insert(0, sys.argv[1])\n"
      "import lab\n"
      "try:\n"
      "    v, _ = lab.fetch_kernel(sys.argv[2])\n"
      "except lab.LabUnavailable as e:\n"
      "    print('ERROR: %s' % e)\n"
      "    sys.exit(3)\n"
      "print('KERNEL: ' + (lab.pvh_vmlinux(v) or v))\n";
  std::string out;
  int rc = run({"python3", "-c", kFetch, src + "/lab", own}, std::chrono::minutes(5), &out);
  if (lock >= 0) ::close(lock);
  auto pos = out.rfind("KERNEL: ");
  if (rc == 0 && pos != std::string::npos) {
    std::string k = trim(out.substr(pos + 8));
    if (exists(k)) return k;
  }
  for (const auto& c : caches)
    if (std::string k = kernelIn(c); !k.empty()) return k;
  *why = "no guest kernel: fetching the Debian kernel failed (rc " + std::to_string(rc) +
         "): " + lastLines(out, 5);
  return "";
}

// The guest's /init (busybox sh). Kernel command line:
//   ork_mode=idle   sleep forever (default)
//   ork_mode=burn   burn one vCPU forever
//   ork_mode=fill   load the virtio block driver (the kernel package's modules, copied
//                   into the initramfs) and write 512 KiB of non-zero data a second to
//                   /dev/vda, further on each time: a guest filling the host filesystem
//                   that holds its (sparse, raw) image. Needs a virtio <disk> vda.
//   ork_mode=io     load the virtio block driver and write /dev/vda as fast as it takes,
//                   four O_DIRECT writers of 64 KiB in regions of their own: a guest
//                   saturating the host device behind its disk (the I/O ladder's tests)
//   ork_touch_mib=N first fill N MiB of a tmpfs with non-zero data (the guest's RAM, and
//                   so QEMU's RSS on the host, grow by N MiB; non-zero so that it also
//                   lands in a managed-save image, which skips zero pages)
// Console lines (first serial port): "ORK-GUEST: init ...", "ORK-GUEST: touched N MiB",
// "ORK-GUEST: ready mode=M", then "ORK-GUEST: alive K" every second of guest time (also
// while burning), each with the guest's uptime.
inline const char* guestInit() {
  return R"SH(#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
export PATH=/bin
mode=idle touch=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
  ork_mode=*) mode=${arg#ork_mode=} ;;
  ork_touch_mib=*) touch=${arg#ork_touch_mib=} ;;
  esac
done
say() { echo "ORK-GUEST: $* uptime=$(cut -d' ' -f1 /proc/uptime)" >/dev/ttyS0; }
say "init mode=$mode touch_mib=$touch"
if [ "$touch" -gt 0 ] 2>/dev/null; then
  mount -t tmpfs -o size=$((touch + 2))m tmpfs /mnt
  dd if=/bin/busybox of=/tmp/chunk bs=1024 count=1024 2>/dev/null
  i=0
  while [ $i -lt $touch ]; do cat /tmp/chunk; i=$((i + 1)); done >/mnt/fill
  rm -f /tmp/chunk
  say "touched $touch MiB"
fi
(n=0; while :; do sleep 1; n=$((n + 1)); say "alive $n"; done) &
say "ready mode=$mode"
if [ "$mode" = burn ]; then
  while :; do :; done
fi
if [ "$mode" = fill ]; then
  for m in /lib/ork-modules/*.ko; do insmod "$m" 2>/dev/null; done
  n=0; while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  say "fill vda=$([ -b /dev/vda ] && echo yes || echo no)"
  i=0
  while :; do
    dd if=/bin/busybox of=/dev/vda bs=64k count=8 seek=$((i * 8)) conv=notrunc 2>/dev/null
    sync
    i=$((i + 1))
    sleep 1
  done
fi
if [ "$mode" = io ]; then
  for m in /lib/ork-modules/*.ko; do insmod "$m" 2>/dev/null; done
  n=0; while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  say "io vda=$([ -b /dev/vda ] && echo yes || echo no)"
  for i in 0 1 2 3; do
    (while :; do dd if=/dev/zero of=/dev/vda bs=64k count=200 seek=$((i * 200)) oflag=direct 2>/dev/null; done) &
  done
fi
while :; do sleep 3600; done
)SH";
}

// Waits for a line on stdin or its end (the test process died), then removes all
// that Libvirtd created: processes left in the ID cgroups (killed by PID), the cgroups
// (bottom-up), the mounts of the harness's mount namespace, the temporary directory.
// Args: $1 test pid, $2 ID, $3 temp dir, $4... cgroup hierarchy mount points.
inline const char* reaperScript() {
  return R"SH(trap '' INT TERM HUP PIPE
read -r _ || true
testpid=$1 id=$2 tdir=$3
shift 3
i=0
while [ $i -lt 100 ]; do
  left=0
  for h in "$@"; do
    [ -d "$h/$id" ] || continue
    [ -f "$h/$id/freezer.state" ] && echo THAWED >"$h/$id/freezer.state" 2>/dev/null
    [ -f "$h/$id/cgroup.freeze" ] && echo 0 >"$h/$id/cgroup.freeze" 2>/dev/null
    for f in $(find "$h/$id" -name cgroup.procs 2>/dev/null); do
      for p in $(cat "$f" 2>/dev/null); do
        case "$p" in "$testpid"|1|"$$") continue ;; esac
        kill -9 "$p" 2>/dev/null
        left=1
      done
    done
  done
  [ $left = 0 ] && break
  sleep 0.1
  i=$((i + 1))
done
for h in "$@"; do
  j=0
  while [ -d "$h/$id" ] && [ $j -lt 50 ]; do
    find "$h/$id" -depth -type d -exec rmdir {} \; 2>/dev/null
    [ -d "$h/$id" ] && sleep 0.1
    j=$((j + 1))
  done
  [ -d "$h/$id" ] && echo "ork-e2e reaper: could not remove $h/$id" >&2
done
if [ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ]; then
  awk '{print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    case "$m" in
    /etc/libvirt|/var/lib/libvirt|/var/lib/libvirt/*|/var/log/libvirt|/var/cache/libvirt|/run|/run/*|/dev/kvm|"$tdir"|"$tdir"/*)
      umount -l "$m" 2>/dev/null ;;
    esac
  done
fi
case "$tdir" in /tmp/ork-e2e-*) rm -rf "$tdir" ;; esac
exit 0
)SH";
}

// Every cgroup hierarchy mounted under /sys/fs/cgroup that has controllers (named
// hierarchies such as name=systemd are left alone): {name, mount point}. The cgroup2
// hierarchy is called "unified".
struct Hierarchy {
  std::string name;
  std::string path;
};
inline std::vector<Hierarchy> cgroupHierarchies() {
  std::vector<Hierarchy> out;
  forEachCgroupMount([&](const std::string& type, const std::string& mp, const std::string& opts) {
    if (mp.rfind("/sys/fs/cgroup", 0) != 0) return;
    if (type == "cgroup2") {
      out.push_back({"unified", mp});
    } else if (opts.find("name=") == std::string::npos) {
      out.push_back({mp.substr(mp.rfind('/') + 1), mp});
    }
  });
  return out;
}

}  // namespace libvirt_detail

// virtlogd + libvirtd started by hand (see the top of this file).
class Libvirtd {
 public:
  using Clock = libvirt_detail::Clock;

  // What this machine lacks to run libvirt end-to-end tests ("" if nothing): root, the
  // daemons, virsh, QEMU, busybox, cpio, gzip, mkfs.ext4, cgroups, a guest kernel (which
  // this may download once, see findKernel). For ORK_REQUIRE.
  static std::string missingPrerequisites() {
    static std::string cached = [] {
      if (::geteuid() != 0) return std::string("needs root (cgroups, mounts, libvirtd)");
      for (const char* b : {"libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "busybox",
                            "cpio", "gzip", "mkfs.ext4", "mount", "umount"}) {
        if (libvirt_detail::which(b).empty())
          return std::string(b) + " is missing (scripts/deps.sh test installs it)";
      }
      if (libvirt_detail::cgroupHierarchies().empty())
        return std::string("no cgroup hierarchy mounted");
      std::string why;
      if (libvirt_detail::findKernel(&why).empty()) return why;
      return std::string();
    }();
    return cached;
  }

  // The instance shared by all tests of this binary, started on first use and stopped
  // at exit. nullptr (with *error) when it could not start; later calls do not retry.
  static Libvirtd* shared(std::string* error = nullptr) {
    static std::unique_ptr<Libvirtd> instance;
    static std::string failure;
    static bool tried = false;
    if (!tried) {
      tried = true;
      auto lv = std::make_unique<Libvirtd>();
      if (lv->start(&failure)) instance = std::move(lv);
    }
    if (!instance && error) *error = failure;
    return instance.get();
  }

  Libvirtd() = default;
  Libvirtd(const Libvirtd&) = delete;
  Libvirtd& operator=(const Libvirtd&) = delete;
  ~Libvirtd() { stop(); }

  // Starts everything; false with *error (including the daemons' log tails) when it
  // could not within `timeout`. Only one instance may run per process at a time.
  bool start(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    using namespace libvirt_detail;
    auto t0 = Clock::now();
    auto fail = [&](const std::string& why) {
      *error = why;
      stop();
      return false;
    };
    if (activeFlag()) return fail("another Libvirtd runs in this process");
    std::string missing = missingPrerequisites();
    if (!missing.empty()) return fail(missing);
    std::string why;
    kernelSource_ = findKernel(&why);
    if (kernelSource_.empty()) return fail(why);

    char tmpl[] = "/tmp/ork-e2e-XXXXXX";
    if (!::mkdtemp(tmpl)) return fail("mkdtemp failed");
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);  // QEMU (libvirt-qemu) reads the guest image here
    static int counter = 0;
    id_ = "ork-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".test";
    hierarchies_ = cgroupHierarchies();
    activeFlag() = true;
    active_ = true;

    if (!enterMountNamespace(&why)) return fail(why);
    if (!startReaper(&why)) return fail(why);
    if (!makeCgroups(&why)) return fail(why);
    if (!mountPrivateDirs(&why)) return fail(why);
    if (!buildGuestImage(&why)) return fail(why);

    // The daemons: virtlogd first (libvirtd connects to it for QEMU's logs and the
    // serial console files), in a new network namespace that libvirtd then joins.
    virtlogd_ = spawnDaemon(
        {"/usr/sbin/virtlogd", "-f", dir_ + "/virtlogd.conf", "-p", "/run/virtlogd.pid"},
        dir_ + "/virtlogd.out", -1);
    if (virtlogd_ <= 0) return fail("could not start virtlogd");
    // libvirtd joins virtlogd's network namespace once virtlogd has made it.
    std::string theirs = "/proc/" + std::to_string(virtlogd_) + "/ns/net";
    auto nsUntil = Clock::now() + std::chrono::seconds(10);
    while (nsLink(theirs) == nsLink("/proc/self/ns/net")) {
      if (!alive(virtlogd_) || Clock::now() >= nsUntil)
        return fail("virtlogd got no network namespace\n" + logs());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    int netns = ::open(theirs.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns < 0) return fail("cannot open " + theirs);
    libvirtd_ = spawnDaemon(
        {"/usr/sbin/libvirtd", "-f", dir_ + "/libvirtd.conf", "-p", "/run/libvirtd.pid"},
        dir_ + "/libvirtd.out", netns);
    ::close(netns);
    if (libvirtd_ <= 0) return fail("could not start libvirtd");

    // Ready when `virsh version` answers (libvirtd accepts on its socket at once but
    // answers only once its drivers have initialised: probing QEMU on a cold cache).
    auto until = t0 + timeout;
    std::string out;
    for (;;) {
      int st = 0;
      if (!alive(libvirtd_, &st))
        return fail("libvirtd exited during start-up: " + exitText(st) + "\n" + logs());
      if (!alive(virtlogd_, &st))
        return fail("virtlogd exited during start-up: " + exitText(st) + "\n" + logs());
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0)
        return fail("libvirtd not ready within " + std::to_string(timeout.count() / 1000) +
                    " s: " + out + "\n" + logs());
      if (exists("/run/libvirt/libvirt-sock") && virsh({"version"}, &out, left) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    startSeconds_ = secondsSince(t0);
    return true;
  }

  // Destroys and undefines every domain (managed-save images included), stops the
  // daemons by PID (SIGTERM, SIGKILL after 10 s), then has the reaper remove what is
  // left: stray processes in the cgroups, the cgroups, the mounts, the directory.
  void stop() {
    using namespace libvirt_detail;
    if (!active_) return;
    if (libvirtd_ > 0 && alive(libvirtd_)) {
      std::string names;
      if (virsh({"list", "--all", "--name"}, &names, std::chrono::seconds(30)) == 0) {
        std::istringstream in(names);
        std::string n;
        while (std::getline(in, n)) {
          n = trim(n);
          if (n.empty()) continue;
          virsh({"destroy", n}, nullptr, std::chrono::seconds(30));
          virsh({"undefine", "--managed-save", n}, nullptr, std::chrono::seconds(30));
        }
      }
    }
    terminate({libvirtd_, virtlogd_});
    libvirtd_ = virtlogd_ = -1;
    if (reaperIn_ >= 0) {
      (void)!::write(reaperIn_, "\n", 1);  // the reaper starts cleaning
      ::close(reaperIn_);
      reaperIn_ = -1;
    }
    if (reaperDone_ >= 0) {
      // It closes its stdout when it exits: wait for that (bounded).
      auto until = Clock::now() + std::chrono::seconds(60);
      while (Clock::now() < until) {
        pollfd p{reaperDone_, POLLIN, 0};
        if (::poll(&p, 1, 200) > 0) {
          char buf[256];
          if (::read(reaperDone_, buf, sizeof buf) <= 0) break;
        }
      }
      ::close(reaperDone_);
      reaperDone_ = -1;
    } else if (!dir_.empty() && dir_.rfind("/tmp/ork-e2e-", 0) == 0) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);  // no reaper got started: nothing mounted yet
    }
    active_ = false;
    activeFlag() = false;
  }

  // virsh -c qemu:///system ARGS..., bounded; its exit code (124: timed out), output in *out.
  int virsh(const std::vector<std::string>& args, std::string* out = nullptr,
            std::chrono::milliseconds timeout = std::chrono::seconds(60)) const {
    std::vector<std::string> argv{"virsh", "-c", uri()};
    argv.insert(argv.end(), args.begin(), args.end());
    return libvirt_detail::run(argv, timeout, out);
  }

  // The end of the daemons' logs, for failure messages.
  std::string logs(std::size_t lines = 25) const {
    using libvirt_detail::fileTail;
    return fileTail(dir_ + "/libvirtd.log", lines) + fileTail(dir_ + "/libvirtd.out", 10) +
           fileTail(dir_ + "/virtlogd.log", 10) + fileTail(dir_ + "/virtlogd.out", 10);
  }

  std::string uri() const { return "qemu:///system"; }
  // ork-e2e-<pid>-<n>.test: the name of the test's cgroup in every hierarchy.
  const std::string& id() const { return id_; }
  // The hierarchies in use ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
  // "blkio", "pids", "unified" here).
  const std::vector<libvirt_detail::Hierarchy>& hierarchies() const { return hierarchies_; }
  // /sys/fs/cgroup/<hierarchy>/ID (hierarchy "unified" = the cgroup2 one). The memory
  // one is the cgroup to scope ORK to (ork daemon --cgroup ...).
  std::string cgroup(const std::string& hierarchy = "memory") const {
    std::string root = hierarchyRoot(hierarchy);
    return root.empty() ? root : root + "/" + id_;
  }
  // The hierarchy's mount point (/sys/fs/cgroup/memory, /sys/fs/cgroup/unified...).
  std::string hierarchyRoot(const std::string& hierarchy) const {
    const std::string name = resolve(hierarchy);
    for (const auto& h : hierarchies_)
      if (h.name == name) return h.path;
    return "";
  }
  // The hierarchy that serves a controller: its v1 one where mounted, else "unified"
  // when the cgroup2 root offers it (pure v2 hosts: "memory" is "unified").
  std::string resolve(const std::string& hierarchy) const {
    std::string unified;
    for (const auto& h : hierarchies_) {
      if (h.name == hierarchy) return hierarchy;
      if (h.name == "unified") unified = h.path;
    }
    if (!unified.empty()) {
      std::istringstream in(readFile(unified + "/cgroup.controllers"));
      std::string c;
      while (in >> c)
        if (c == hierarchy) return "unified";
    }
    return hierarchy;
  }
  std::string memoryCgroup() const { return cgroup("memory"); }
  // .../ID/machine.partition: where libvirt creates the guests' cgroups.
  std::string machineCgroup(const std::string& hierarchy = "memory") const {
    std::string c = cgroup(hierarchy);
    return c.empty() ? c : c + "/machine.partition";
  }
  // .../ID/daemons: virtlogd, libvirtd (and libvirt's iohelper while it writes a
  // managed-save image: that page cache is charged here, not to the guest).
  std::string daemonCgroup(const std::string& hierarchy = "memory") const {
    std::string c = cgroup(hierarchy);
    return c.empty() ? c : c + "/daemons";
  }
  // The domain XML's <resource><partition>.
  std::string partition() const { return "/" + id_ + "/machine.partition"; }
  // libvirt's paths (inside the harness's mount namespace).
  static std::string saveDir() { return "/var/lib/libvirt/qemu/save"; }
  static std::string pidFile(const std::string& domain) {
    return "/run/libvirt/qemu/" + domain + ".pid";
  }
  static std::string qemuLog(const std::string& domain) {
    return "/var/log/libvirt/qemu/" + domain + ".log";
  }
  // The temporary directory (configs, logs, guest image, consoles).
  const std::string& dir() const { return dir_; }
  std::string kernel() const { return dir_ + "/guest/vmlinux"; }
  std::string initrd() const { return dir_ + "/guest/initrd.gz"; }
  // Where the kernel was found.
  const std::string& kernelSource() const { return kernelSource_; }
  pid_t libvirtdPid() const { return libvirtd_; }
  pid_t virtlogdPid() const { return virtlogd_; }
  // From start() to libvirtd answering.
  double startSeconds() const { return startSeconds_; }

 private:
  static bool& activeFlag() {
    static bool active = false;
    return active;
  }

  static std::string nsLink(const std::string& path) {
    char buf[128];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

  // True while our child `pid` runs; reaps it once it exited (its status in *status).
  static bool alive(pid_t pid, int* status = nullptr) {
    if (pid <= 0) return false;
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid && status) *status = st;
    return r == 0;
  }

  static std::string exitText(int status) {
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    int code = WEXITSTATUS(status);
    const char* why = code == 120   ? " (could not join its cgroups)"
                      : code == 121 ? " (could not get its network namespace)"
                      : code == 127 ? " (could not be executed)"
                                    : "";
    return "exit code " + std::to_string(code) + why;
  }

  // SIGTERM to our own daemons by PID, SIGKILL to those still there after 10 s. Only
  // to children not yet reaped (alive() reaps), so the PID cannot be someone else's.
  static void terminate(std::initializer_list<pid_t> pids) {
    for (pid_t p : pids)
      if (p > 0 && alive(p)) ::kill(p, SIGTERM);
    auto until = Clock::now() + std::chrono::seconds(10);
    for (pid_t p : pids) {
      if (p <= 0) continue;
      while (alive(p) && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (alive(p)) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
    }
  }

  // Once per process: a private mount namespace (mounts made here stay here).
  static bool enterMountNamespace(std::string* why) {
    static int state = 0;  // 0 not yet, 1 done, -1 failed
    if (state == 0) {
      state = -1;
      if (::unshare(CLONE_NEWNS) != 0) {
        *why = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
        return false;
      }
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        *why = std::string("making / private: ") + std::strerror(errno);
        return false;
      }
      state = 1;
    }
    if (state < 0 && why->empty()) *why = "could not enter a private mount namespace";
    return state == 1;
  }

  // The reaper: /bin/sh in its own session, double-forked so that it is not in the test
  // process's tree (CTest kills that tree on a timeout). It waits for EOF on its stdin.
  bool startReaper(std::string* why) {
    int in[2], done[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return *why = "pipe failed", false;
    if (::pipe2(done, O_CLOEXEC) != 0) return *why = "pipe failed", false;
    std::vector<std::string> args{"/bin/sh",
                                  "-c",
                                  libvirt_detail::reaperScript(),
                                  "ork-e2e-reaper",
                                  std::to_string(::getpid()),
                                  id_,
                                  dir_};
    for (const auto& h : hierarchies_) args.push_back(h.path);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child == 0) {
      if (::fork() != 0) ::_exit(0);
      ::setsid();
      ::dup2(in[0], 0);
      ::dup2(done[1], 1);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 2);
      ::execv("/bin/sh", argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(done[1]);
    if (child < 0) {
      ::close(in[1]);
      ::close(done[0]);
      return *why = "fork failed", false;
    }
    ::waitpid(child, nullptr, 0);
    reaperIn_ = in[1];
    reaperDone_ = done[0];
    return true;
  }

  bool makeCgroups(std::string* why) {
    for (const auto& h : hierarchies_) {
      for (const char* sub : {"", "/daemons", "/machine.partition"}) {
        std::string d = h.path + "/" + id_ + sub;
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
          *why = "mkdir " + d + ": " + std::strerror(errno);
          return false;
        }
        // v2: the controllers the root offers (memory, cpu, io, pids on a pure v2 host)
        // are enabled down to machine.partition, where libvirt makes the guests' cgroups.
        // (ID and machine.partition hold no process: v2's no-internal-process rule.)
        if (h.name == "unified" && std::string(sub) != "/daemons") {
          std::string parent = d.substr(0, d.rfind('/'));
          std::istringstream offered(readFile(parent + "/cgroup.controllers"));
          std::string c;
          while (offered >> c)
            if (c == "memory" || c == "cpu" || c == "io" || c == "pids") {
              enableV2Controller(parent, c);
              if (std::string(sub) == "/machine.partition") enableV2Controller(d, c);
            }
        }
        if (h.name == "cpuset") {  // a new v1 cpuset is empty: give it its parent's
          std::string parent = d.substr(0, d.rfind('/'));
          writeFile(d + "/cpuset.cpus", readFile(parent + "/cpuset.cpus"));
          writeFile(d + "/cpuset.mems", readFile(parent + "/cpuset.mems"));
        }
      }
    }
    return true;
  }

  bool mountPrivateDirs(std::string* why) {
    using libvirt_detail::writeText;
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string cache = libvirt_detail::cacheDir() + "/libvirt-cache";
    for (const std::string& d :
         {dir_ + "/etc", dir_ + "/lib", dir_ + "/log", dir_ + "/guest", cache})
      fs::create_directories(d, ec);
    auto bind = [&](const std::string& from, const std::string& to) {
      if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        *why = "bind-mount " + from + " on " + to + ": " + std::strerror(errno);
        return false;
      }
      return true;
    };
    if (!bind(dir_ + "/etc", "/etc/libvirt") || !bind(dir_ + "/lib", "/var/lib/libvirt") ||
        !bind(dir_ + "/log", "/var/log/libvirt") || !bind(cache, "/var/cache/libvirt"))
      return false;
    if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") != 0) {
      *why = std::string("tmpfs on /run: ") + std::strerror(errno);
      return false;
    }
    ::mkdir("/run/lock", 01777);
    ::chmod("/run/lock", 01777);
    // /dev/kvm: root-only here, so libvirt finds KVM "not usable" for libvirt-qemu while
    // its QEMU probe saw it enabled, declares its capabilities cache stale and re-probes
    // QEMU at every start and every domain start (4-12 s each). A private node of the
    // same device, group kvm 0660, bind-mounted in this namespace only, ends that. The
    // guests are type='qemu' (TCG) and never open it.
    struct stat kvm {};
    if (::stat("/dev/kvm", &kvm) == 0 && S_ISCHR(kvm.st_mode)) {
      std::string node = dir_ + "/kvm";
      if (::mknod(node.c_str(), S_IFCHR | 0660, kvm.st_rdev) == 0) {
        struct group* g = ::getgrnam("kvm");
        if (g && ::chown(node.c_str(), 0, g->gr_gid) == 0) ::chmod(node.c_str(), 0660);
        ::mount(node.c_str(), "/dev/kvm", nullptr, MS_BIND, nullptr);
      }
    }
    // Our own qemu.conf (in our /etc/libvirt): libvirt's defaults but for the security
    // driver (no AppArmor/SELinux confinement of the guests). QEMU runs as libvirt-qemu.
    writeText("/etc/libvirt/qemu.conf",
              "# ORK e2e harness (tests/support/Libvirt.h), private mount namespace\n"
              "security_driver = \"none\"\n");
    writeText(dir_ + "/libvirtd.conf",
              "unix_sock_ro_perms = \"0700\"\n"
              "unix_sock_rw_perms = \"0700\"\n"
              "auth_unix_ro = \"none\"\n"
              "auth_unix_rw = \"none\"\n"
              "log_outputs = \"3:file:" +
                  dir_ + "/libvirtd.log\"\n");
    writeText(dir_ + "/virtlogd.conf", "log_outputs = \"3:file:" + dir_ + "/virtlogd.log\"\n");
    return true;
  }

  bool buildGuestImage(std::string* why) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string g = dir_ + "/guest";
    // A copy: libvirt chowns the kernel and initrd to libvirt-qemu while a guest runs.
    fs::copy_file(kernelSource_, kernel(), fs::copy_options::overwrite_existing, ec);
    if (ec) return *why = "copying " + kernelSource_ + ": " + ec.message(), false;
    ::chmod(kernel().c_str(), 0644);
    for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "mnt"})
      fs::create_directories(g + "/root/" + d, ec);
    fs::copy_file(libvirt_detail::which("busybox"), g + "/root/bin/busybox",
                  fs::copy_options::overwrite_existing, ec);
    if (ec) return *why = "copying busybox: " + ec.message(), false;
    // The virtio block driver for ork_mode=fill, in load order (not fatal when missing:
    // only that mode needs it). The kernel package's tree: <root>/boot/vmlinuz-V and
    // <root>/lib/modules/V/kernel/drivers.
    {
      fs::path modules = fs::path(kernelSource_).parent_path().parent_path() / "lib" / "modules";
      fs::create_directories(g + "/root/lib/ork-modules", ec);
      int n = 0;
      for (const auto& v : fs::directory_iterator(modules, ec))
        for (const char* m : {"virtio/virtio_ring.ko", "virtio/virtio.ko", "virtio/virtio_pci_legacy_dev.ko",
                              "virtio/virtio_pci_modern_dev.ko", "virtio/virtio_pci.ko", "block/virtio_blk.ko"}) {
          char prefix[16];
          std::snprintf(prefix, sizeof prefix, "%02d-", n++);
          fs::copy_file(v.path() / "kernel" / "drivers" / m,
                        g + "/root/lib/ork-modules/" + prefix + fs::path(m).filename().string(),
                        fs::copy_options::overwrite_existing, ec);
        }
      ec.clear();
    }
    libvirt_detail::writeText(g + "/root/init", libvirt_detail::guestInit());
    ::chmod((g + "/root/init").c_str(), 0755);
    ::chmod((g + "/root/bin/busybox").c_str(), 0755);
    std::string out;
    int rc = libvirt_detail::run(
        {"/bin/sh", "-c",
         "cd '" + g + "/root' && find . | cpio -o -H newc --quiet | gzip -1 > '" + initrd() + "'"},
        std::chrono::seconds(60), &out);
    if (rc != 0) return *why = "building the initramfs: " + out, false;
    ::chmod(initrd().c_str(), 0644);
    return true;
  }

  // A daemon as our child: in the daemons cgroup of every hierarchy, in the network
  // namespace `netns` (or a new one when -1), in its own session, output to `log`.
  pid_t spawnDaemon(const std::vector<std::string>& argv, const std::string& log, int netns) {
    std::vector<std::string> procs;
    for (const auto& h : hierarchies_)
      procs.push_back(h.path + "/" + id_ + "/daemons/cgroup.procs");
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    for (const auto& p : procs) {
      int fd = ::open(p.c_str(), O_WRONLY);
      if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(120);
      ::close(fd);
    }
    if (netns >= 0 ? ::setns(netns, CLONE_NEWNET) != 0 : ::unshare(CLONE_NEWNET) != 0) ::_exit(121);
    ::setsid();
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }

  bool active_ = false;
  std::string dir_, id_, kernelSource_;
  std::vector<libvirt_detail::Hierarchy> hierarchies_;
  pid_t libvirtd_ = -1, virtlogd_ = -1;
  int reaperIn_ = -1, reaperDone_ = -1;
  double startSeconds_ = 0;
};

// A guest booted from the harness's image: direct kernel boot, no disk, no network, the
// serial console appended to a file.
struct GuestSpec {
  std::string mode = "idle";  // ork_mode: "idle", "burn", "fill" or "io"
  int memoryMib = 256;
  int touchMib = 0;  // ork_touch_mib: non-zero data the guest writes at boot
  int vcpus = 1;
  std::string name;          // default: ork-vm-<n>
  std::string partition;     // default: the harness's (inside its cgroups). "/machine",
                             // libvirt's default, is the hierarchy's root: outside the
                             // test's cgroups, and libvirt leaves /sys/fs/cgroup/*/machine
  std::string extraCmdline;  // appended to the kernel command line
  std::string extraDevices;  // XML inserted in <devices>

  // GuestSpec::idle().touch(48), GuestSpec::burn(128).named("web")
  static GuestSpec idle(int memoryMib = 256) { return make("idle", memoryMib); }
  static GuestSpec burn(int memoryMib = 256) { return make("burn", memoryMib); }
  static GuestSpec fill(int memoryMib = 256) { return make("fill", memoryMib); }
  static GuestSpec io(int memoryMib = 256) { return make("io", memoryMib); }
  GuestSpec& touch(int mib) {
    touchMib = mib;
    return *this;
  }
  GuestSpec& named(std::string n) {
    name = std::move(n);
    return *this;
  }
  GuestSpec& cpus(int n) {
    vcpus = n;
    return *this;
  }
  GuestSpec& inPartition(std::string p) {
    partition = std::move(p);
    return *this;
  }

 private:
  static GuestSpec make(const char* m, int mib) {
    GuestSpec s;
    s.mode = m;
    s.memoryMib = mib;
    return s;
  }
};

class Guest {
 public:
  using Clock = libvirt_detail::Clock;

  Guest(Libvirtd& lv, GuestSpec spec) : lv_(lv), spec_(std::move(spec)) {
    static int counter = 0;
    if (spec_.name.empty()) spec_.name = "ork-vm-" + std::to_string(++counter);
    if (spec_.partition.empty()) spec_.partition = lv_.partition();
    console_ = lv_.dir() + "/guest/" + spec_.name + ".console";
  }
  Guest(const Guest&) = delete;
  Guest& operator=(const Guest&) = delete;
  // Destroys and undefines the domain, its managed-save image included.
  ~Guest() { remove(); }

  const std::string& name() const { return spec_.name; }
  const GuestSpec& spec() const { return spec_; }
  const std::string& consolePath() const { return console_; }

  std::string xml() const {
    std::string cmdline =
        "console=ttyS0 loglevel=4 panic=-1 mitigations=off ork_mode=" + spec_.mode;
    if (spec_.touchMib > 0) cmdline += " ork_touch_mib=" + std::to_string(spec_.touchMib);
    if (!spec_.extraCmdline.empty()) cmdline += " " + spec_.extraCmdline;
    return "<domain type='qemu'>\n"
           "  <name>" +
           spec_.name +
           "</name>\n"
           "  <memory unit='MiB'>" +
           std::to_string(spec_.memoryMib) +
           "</memory>\n"
           "  <vcpu>" +
           std::to_string(spec_.vcpus) +
           "</vcpu>\n"
           "  <resource><partition>" +
           spec_.partition +
           "</partition></resource>\n"
           "  <os>\n"
           "    <type arch='x86_64'>hvm</type>\n"
           "    <kernel>" +
           lv_.kernel() +
           "</kernel>\n"
           "    <initrd>" +
           lv_.initrd() +
           "</initrd>\n"
           "    <cmdline>" +
           cmdline +
           "</cmdline>\n"
           "  </os>\n"
           "  <features><tcg><tb-cache unit='MiB'>64</tb-cache></tcg></features>\n"
           "  <on_poweroff>destroy</on_poweroff>\n"
           "  <on_reboot>destroy</on_reboot>\n"
           "  <on_crash>destroy</on_crash>\n"
           "  <devices>\n"
           "    <serial type='file'><source path='" +
           console_ +
           "' append='on'/><target port='0'/></serial>\n"
           "    <memballoon model='none'/>\n" +
           spec_.extraDevices +
           "  </devices>\n"
           "</domain>\n";
  }

  // virsh define (persistent domain).
  bool define(std::string* error) {
    std::string file = lv_.dir() + "/guest/" + spec_.name + ".xml";
    libvirt_detail::writeText(file, xml());
    std::string out;
    if (lv_.virsh({"define", file}, &out) != 0) return *error = "virsh define: " + out, false;
    defined_ = true;
    return true;
  }
  // define (if not yet) + virsh start: boots it, or restores its managed-save image.
  bool start(std::string* error) {
    if (!defined_ && !define(error)) return false;
    std::string out;
    if (lv_.virsh({"start", spec_.name}, &out, std::chrono::seconds(120)) != 0)
      return *error = "virsh start: " + out + "\n" + qemuLogTail(), false;
    return true;
  }
  // Until the console shows that /init reached "ready" (after ork_touch_mib).
  bool waitReady(std::chrono::milliseconds timeout, std::string* error) {
    return waitConsole("ORK-GUEST: ready", timeout, 0, error);
  }
  // Until `text` appears in the console after byte `from` (see consoleSize()).
  bool waitConsole(const std::string& text, std::chrono::milliseconds timeout, std::size_t from,
                   std::string* error) {
    auto until = Clock::now() + timeout;
    for (;;) {
      std::string c = console();
      if (c.size() > from && c.find(text, from) != std::string::npos) return true;
      if (Clock::now() >= until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (error)
      *error = "'" + text + "' not on " + spec_.name + "'s console within " +
               std::to_string(timeout.count()) + " ms (state " + state() + ")\n" +
               libvirt_detail::fileTail(console_, 15) + qemuLogTail();
    return false;
  }
  std::string console() const { return readFile(console_); }
  std::size_t consoleSize() const { return console().size(); }

  // QEMU's PID from /run/libvirt/qemu/NAME.pid; -1 when it is not running.
  pid_t pid() const {
    std::string s = libvirt_detail::trim(readFile(Libvirtd::pidFile(spec_.name)));
    pid_t p = s.empty() ? -1 : static_cast<pid_t>(std::atol(s.c_str()));
    return p > 0 && ::kill(p, 0) == 0 ? p : -1;
  }
  std::string uuid() const { return virshValue({"domuuid", spec_.name}); }
  // virsh domstate: "running", "paused", "shut off", ...; with reason: "shut off (saved)".
  std::string state(bool withReason = false) const {
    if (withReason) return virshValue({"domstate", "--reason", spec_.name});
    return virshValue({"domstate", spec_.name});
  }
  // Until state() is `want` (bounded).
  bool waitState(const std::string& want, std::chrono::milliseconds timeout) const {
    auto until = Clock::now() + timeout;
    while (state() != want) {
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }
  // QEMU's cgroup in a hierarchy ("memory", "cpu", "freezer", "cpuacct", "unified"...),
  // as /proc/PID/cgroup has it (relative to the hierarchy's root); "" if not running.
  std::string cgroup(const std::string& hierarchy) const {
    pid_t p = pid();
    return p > 0 ? cgroupOf(p, lv_.resolve(hierarchy)) : "";
  }
  // The same as a directory: /sys/fs/cgroup/memory/ID/machine.partition/qemu-N-NAME...
  // (the guest's whole cgroup for memory, freezer, blkio; for cpu, cpuset and unified
  // the emulator thread's: its parent is the guest's, e.g. unified's cpu.stat usage_usec
  // for all of QEMU's threads).
  std::string cgroupDir(const std::string& hierarchy) const {
    std::string c = cgroup(hierarchy), root = lv_.hierarchyRoot(hierarchy);
    return c.empty() || root.empty() ? "" : root + c;
  }
  static std::string cgroupOf(pid_t pid, const std::string& hierarchy) {
    std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/cgroup"));
    std::string line;
    while (std::getline(in, line)) {
      auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if (hierarchy == "unified"
              ? ctrls.empty()
              : ("," + ctrls + ",").find("," + hierarchy + ",") != std::string::npos)
        return path;
    }
    return "";
  }
  // VmRSS of QEMU in KiB (-1 if not running).
  long rssKib() const {
    pid_t p = pid();
    if (p <= 0) return -1;
    std::string s = readFile("/proc/" + std::to_string(p) + "/status");
    auto pos = s.find("VmRSS:");
    return pos == std::string::npos ? -1 : std::atol(s.c_str() + pos + 6);
  }
  // QEMU's CPU time (utime + stime) in clock ticks (-1 if not running).
  long cpuTicks() const {
    pid_t p = pid();
    if (p <= 0) return -1;
    std::string s = readFile("/proc/" + std::to_string(p) + "/stat");
    auto close = s.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream in(s.substr(close + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (in >> f); ++i) {
      if (i == 14) utime = std::atol(f.c_str());
      if (i == 15) stime = std::atol(f.c_str());
    }
    return utime + stime;
  }
  std::string saveImage() const { return Libvirtd::saveDir() + "/" + spec_.name + ".save"; }

  // destroy + undefine --managed-save; errors ignored (for cleanup).
  void remove() {
    if (!defined_) return;
    lv_.virsh({"destroy", spec_.name}, nullptr, std::chrono::seconds(30));
    lv_.virsh({"undefine", "--managed-save", spec_.name}, nullptr, std::chrono::seconds(30));
    defined_ = false;
  }

  std::string qemuLogTail(std::size_t lines = 10) const {
    return libvirt_detail::fileTail(Libvirtd::qemuLog(spec_.name), lines);
  }

 private:
  std::string virshValue(const std::vector<std::string>& args) const {
    std::string out;
    if (lv_.virsh(args, &out, std::chrono::seconds(30)) != 0) return "";
    return libvirt_detail::trim(out);
  }

  Libvirtd& lv_;
  GuestSpec spec_;
  std::string console_;
  bool defined_ = false;
};

// A small ext4 file system on a loop device mounted at a directory (e.g. over
// Libvirtd::saveDir() to make a managed save fail with ENOSPC); unmounted (and its image
// deleted) in the destructor. Mounted in the caller's mount namespace: the harness's
// private one once a Libvirtd runs.
class LoopFs {
 public:
  LoopFs() = default;
  LoopFs(const LoopFs&) = delete;
  LoopFs& operator=(const LoopFs&) = delete;
  ~LoopFs() { unmount(); }

  bool mount(const std::string& dir, long sizeMib, std::string* error) {
    using libvirt_detail::run;
    char tmpl[] = "/tmp/ork-e2e-loop-XXXXXX";
    if (!::mkdtemp(tmpl)) return *error = "mkdtemp failed", false;
    tmp_ = tmpl;
    image_ = tmp_ + "/fs.img";
    std::string out;
    if (run({"truncate", "-s", std::to_string(sizeMib) + "M", image_}, std::chrono::seconds(30),
            &out) != 0 ||
        run({"mkfs.ext4", "-q", "-F", image_}, std::chrono::seconds(60), &out) != 0) {
      *error = "making the file system: " + out;
      unmount();
      return false;
    }
    if (run({"mount", "-o", "loop", image_, dir}, std::chrono::seconds(30), &out) != 0) {
      *error = "mount -o loop " + image_ + " " + dir + ": " + out;
      unmount();
      return false;
    }
    dir_ = dir;
    return true;
  }

  // Unmounts (the loop device is freed with it) and deletes the image.
  void unmount() {
    using namespace std::chrono_literals;
    if (!dir_.empty()) {
      for (int i = 0; i < 50 && ::umount2(dir_.c_str(), 0) != 0 && errno == EBUSY; ++i)
        std::this_thread::sleep_for(100ms);
      ::umount2(dir_.c_str(), MNT_DETACH);  // no-op when already unmounted
      dir_.clear();
    }
    if (!tmp_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(tmp_, ec);
      tmp_.clear();
    }
  }

  const std::string& dir() const { return dir_; }
  unsigned long long freeBytes() const {
    struct statvfs s {};
    if (dir_.empty() || ::statvfs(dir_.c_str(), &s) != 0) return 0;
    return static_cast<unsigned long long>(s.f_bavail) * s.f_frsize;
  }

 private:
  std::string dir_, tmp_, image_;
};

}  // namespace ork::test

// In a TEST body: declares `Libvirtd* var`, the binary's shared daemons; skips (fails in
// CI) when this machine lacks a prerequisite, fails when the daemons do not start.
#define ORK_REQUIRE_LIBVIRTD(var)                                     \
  ::ork::test::Libvirtd* var = nullptr;                               \
  do {                                                                \
    std::string why_ = ::ork::test::Libvirtd::missingPrerequisites(); \
    ORK_REQUIRE(why_.empty(), why_);                                  \
    var = ::ork::test::Libvirtd::shared(&why_);                       \
    ASSERT_NE(var, nullptr) << "libvirtd did not start: " << why_;    \
  } while (0)
