// A real slow disk for the I/O tests, without touching the host's disks: a null_blk
// device where the kernel has it (configfs), else a loop device over the file of
// tests/tools/fuseslow (a FUSE server answering each request 10 ms late, one at a
// time). Both are block devices that /proc/diskstats and PSI io see saturated under a
// heavy writer. Everything is removed at the end (device, mount, process).
#pragma once

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {

using namespace std::chrono_literals;

// A loop device over a file, detached and freed at the end.
class LoopDevice {
 public:
  bool attach(const std::string& file) {
    int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) return false;
    int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
    ::close(ctl);
    if (n < 0) return false;
    path_ = "/dev/loop" + std::to_string(n);
    int back = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (back < 0 || fd_ < 0) {
      if (back >= 0) ::close(back);
      return false;
    }
    int r = ::ioctl(fd_, LOOP_SET_FD, back);
    ::close(back);
    if (r != 0) return false;
    name_ = "loop" + std::to_string(n);
    return true;
  }
  ~LoopDevice() { detach(); }
  void detach() {
    if (fd_ < 0) return;
    for (int i = 0; i < 100 && ::ioctl(fd_, LOOP_CLR_FD, 0) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(50ms);
    ::close(fd_);
    fd_ = -1;
  }
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  std::string path_, name_;
};

// A null_blk device made through configfs (the lab guest's kernel has the module; most
// hosts' do not): no storage behind it, a bandwidth cap (mbps) so that I/O queues as on
// a saturated disk, each I/O completed 1 ms late. Powered off and removed at the end.
class NullBlk {
 public:
  static bool available() { return ::access(kConfig, W_OK) == 0; }
  // "" when made, else what failed.
  std::string create() {
    dir_ = std::string(kConfig) + "/ork-io-" + std::to_string(::getpid());
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      dir_.clear();
      return std::string("mkdir: ") + std::strerror(errno);
    }
    const std::set<std::string> before = blockDevices();
    // power last: the device appears then, with these settings.
    for (auto [attr, value] : {std::pair{"size", "1024"}, {"memory_backed", "0"}, {"irqmode", "2"},
                               {"completion_nsec", "1000000"}, {"mbps", "4"}, {"power", "1"}}) {
      int fd = ::open((dir_ + "/" + attr).c_str(), O_WRONLY | O_CLOEXEC);
      bool ok = fd >= 0 && ::write(fd, value, std::strlen(value)) == static_cast<ssize_t>(std::strlen(value));
      int err = errno;
      if (fd >= 0) ::close(fd);
      if (!ok) return std::string(attr) + "=" + value + ": " + std::strerror(err);
    }
    // Its name: "nullb<index>" on most kernels, the configfs item's on some; the one
    // block device that was not there before.
    for (int i = 0; i < 100 && name_.empty(); ++i) {
      for (const std::string& d : blockDevices())
        if (before.count(d) == 0) name_ = d;
      if (name_.empty()) std::this_thread::sleep_for(20ms);
    }
    if (name_.empty()) return "no new block device in /sys/block";
    path_ = "/dev/" + name_;
    for (int i = 0; i < 100 && ::access(path_.c_str(), R_OK) != 0; ++i) std::this_thread::sleep_for(20ms);
    return ::access(path_.c_str(), R_OK | W_OK) == 0 ? "" : path_ + " did not appear";
  }
  void remove() {
    if (dir_.empty()) return;
    writeFile(dir_ + "/power", "0");
    ::rmdir(dir_.c_str());
    dir_.clear();
  }
  ~NullBlk() { remove(); }
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }

 private:
  static std::set<std::string> blockDevices() {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator("/sys/block")) out.insert(e.path().filename());
    return out;
  }
  static constexpr const char* kConfig = "/sys/kernel/config/nullb";
  std::string dir_, path_, name_;
};

class SlowDisk {
 public:
  static constexpr int kDelayMs = 10;
  static constexpr int kFuseMib = 64;

  // dir: a directory of the test's own (the FUSE mount point goes there). "" when
  // made, else what failed.
  std::string create(const std::string& dir) {
    if (NullBlk::available()) {
      std::string err = nullb_.create();
      if (!err.empty()) return "null_blk through configfs: " + err;
      path_ = nullb_.path();
      name_ = nullb_.name();
      return "";
    }
    mnt_ = dir + "/slow-mnt";
    if (::mkdir(mnt_.c_str(), 0755) != 0) return "mkdir " + mnt_ + ": " + std::strerror(errno);
    fuse_ = spawn({ORK_FUSESLOW, mnt_, std::to_string(kFuseMib), std::to_string(kDelayMs)});
    if (!fuse_.waitFor("ready", 10s)) return "fuseslow did not start";
    if (!loop_.attach(mnt_ + "/disk")) return std::string("no loop device over the FUSE file: ") + std::strerror(errno);
    path_ = loop_.path();
    name_ = loop_.name();
    return "";
  }
  void remove() {
    loop_.detach();
    nullb_.remove();
    fuse_.stop(SIGTERM);
    if (!mnt_.empty()) {
      ::umount2(mnt_.c_str(), MNT_DETACH);
      ::rmdir(mnt_.c_str());
      mnt_.clear();
    }
  }
  ~SlowDisk() { remove(); }
  // The device node and its /proc/diskstats name.
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }

 private:
  NullBlk nullb_;
  LoopDevice loop_;
  Child fuse_;
  std::string mnt_, path_, name_;
};

}  // namespace ork::test
