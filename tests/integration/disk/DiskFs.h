// Real filesystems for the disk tests: a loop-mounted ext4 image or a tmpfs with
// size= and nr_inodes=, created under a temp dir, unmounted and removed afterwards.
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {

struct TempFs {
  std::string base;  // the temp dir
  std::string mnt;   // the mountpoint
  bool mounted = false;

  // kind "ext4" (a loop image of sizeMib, inodes) or "tmpfs".
  bool make(const std::string& kind, int sizeMib, int inodes) {
    base = tempDir();
    mnt = base + "/mnt";
    ::mkdir(mnt.c_str(), 0755);
    std::string cmd;
    if (kind == "ext4") {
      std::string img = base + "/img";
      cmd = "truncate -s " + std::to_string(sizeMib) + "M " + img + " && mkfs.ext4 -q -F -m 0 -N " + std::to_string(inodes) +
            " " + img + " >/dev/null 2>&1 && mount -o loop " + img + " " + mnt;
    } else {
      cmd = "mount -t tmpfs -o size=" + std::to_string(sizeMib) + "m,nr_inodes=" + std::to_string(inodes) + " ork-test " + mnt;
    }
    mounted = std::system(cmd.c_str()) == 0;
    if (mounted) std::system(("rm -rf " + mnt + "/lost+found").c_str());
    return mounted;
  }
  ~TempFs() {
    if (mounted) ::umount2(mnt.c_str(), MNT_DETACH);
    if (!base.empty() && base != "/tmp") std::system(("rm -rf " + base).c_str());
  }
  dev_t dev() const {
    struct stat st {};
    ::stat(mnt.c_str(), &st);
    return st.st_dev;
  }
  std::int64_t freeBytes() const {
    struct statvfs s {};
    ::statvfs(mnt.c_str(), &s);
    return static_cast<std::int64_t>(s.f_bavail) * static_cast<std::int64_t>(s.f_frsize);
  }
  std::uint64_t freeInodes() const {
    struct statvfs s {};
    ::statvfs(mnt.c_str(), &s);
    return s.f_favail;
  }
  std::string path(const std::string& rel) const { return mnt + "/" + rel; }
  // A file of sizeKib real (allocated) KiB with this mtime (seconds since the epoch).
  void file(const std::string& rel, int sizeKib, long mtime = 0, const std::string& fill = "x") const {
    std::string p = path(rel);
    std::ofstream out(p, std::ios::binary);
    std::string block(1024, fill.empty() ? 'x' : fill[0]);
    for (int i = 0; i < sizeKib; ++i) out << block;
    out.close();
    if (mtime != 0) {
      timespec ts[2] = {{mtime, 0}, {mtime, 0}};
      ::utimensat(AT_FDCWD, p.c_str(), ts, 0);
    }
  }
  static bool exists(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
  }
  static std::int64_t size(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 ? st.st_size : -1;
  }
};

// A FUSE mount whose statfs never answers (tests/tools/fusehang.cpp, raw /dev/fuse):
// statvfs on it blocks, uninterruptibly once the server has read the request, until
// the server answers (release()) or dies. Unmounted lazily and the server killed at
// the end, which fails every request still held with ENOTCONN.
struct HungFuse {
  std::string base;
  std::string mnt;
  Child server;

  // Whether this kernel can mount FUSE: /dev/fuse and "fuse" in /proc/filesystems
  // (after `modprobe fuse` if it was missing).
  static bool available() {
    auto have = [] { return ::access("/dev/fuse", R_OK | W_OK) == 0 && readFile("/proc/filesystems").find("\tfuse\n") != std::string::npos; };
    if (have()) return true;
    std::system("modprobe fuse >/dev/null 2>&1");
    return have();
  }
  bool make() {
    base = tempDir();
    mnt = base + "/fuse";
    ::mkdir(mnt.c_str(), 0755);
    server = spawn({ORK_FUSEHANG, mnt});
    return server.waitFor("ready", std::chrono::seconds(5));
  }
  // From now on statfs is answered (the held requests too).
  void release() { ::kill(server.pid, SIGUSR1); }
  // From now on nothing is answered (getattr, lookup, open...).
  void hangAll() { ::kill(server.pid, SIGUSR2); }
  // Lazy unmount, then the server killed (the held requests fail), then the dir removed.
  void close() {
    if (!mnt.empty()) ::umount2(mnt.c_str(), MNT_DETACH);
    mnt.clear();
    server.stop(SIGKILL);
    if (!base.empty() && base != "/tmp") std::system(("rm -rf " + base).c_str());
    base.clear();
  }
  ~HungFuse() { close(); }
};

}  // namespace ork::test
