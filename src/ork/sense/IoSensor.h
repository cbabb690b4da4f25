// The host's block devices: /proc/diskstats (utilisation from io_ticks, latency and
// queue from the time counters) and, when the kernel has PSI, /proc/pressure/io (how
// long tasks waited for I/O). Cumulative counters: a sample is the difference from the
// previous one.
//
// Which devices: whole disks only. A partition's I/O is its disk's (counted there
// too), so partitions are skipped (<sysRoot>/class/block/NAME/partition exists); ram
// and zram devices are memory, not disks, and are skipped; a device that has never
// completed an I/O says nothing and is skipped. Loop, dm, md and nbd devices are kept:
// each can be the one saturated (a dm-delay, a throttled loop, an LVM volume over a
// slow disk), and the rule judges each device on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ork/core/IoSample.h"
#include "ork/parse/Io.h"
#include "ork/sense/Sensor.h"
#include "ork/sys/Files.h"

namespace ork::sense {

class IoSensor final : public Sensor<IoSample> {
 public:
  // <procRoot>/diskstats must be readable and parse; <procRoot>/pressure/io is
  // optional (absent, or PSI disabled: pressure unknown). sysRoot is "/sys" or a fixture.
  static Result<IoSensor> open(const std::string& procRoot, const std::string& sysRoot);

  // The first sample has interval 0 (no rates yet); a sample less than 1 ms after the
  // previous one also has interval 0 and keeps the base. A failed sample keeps the base.
  Result<IoSample> sample(TimePoint now) override;
  // The same into out, written only when the sample succeeds: the daemon's path. An
  // IoSample is 10 KiB; built on the stack and returned through Result it made the loop
  // thread's stack 28 KiB deeper, resident for good (ORK locks its memory).
  Result<void> sampleInto(TimePoint now, IoSample& out);
  const char* describe() const override { return hasPressure() ? "io (with PSI)" : "io"; }
  bool hasPressure() const { return psi_.valid(); }

 private:
  // Whether diskstats line d is a disk ORK watches (see the header comment); cached
  // by device number, so /sys is looked at once per device.
  bool watched(const parse::DiskStat& d);

  std::string sysRoot_;
  sys::KeptOpenFile stats_;
  std::size_t capacity_ = 0;
  sys::KeptOpenFile psi_;
  std::vector<parse::DiskStat> now_;
  std::vector<parse::DiskStat> base_;
  struct Known {
    unsigned major, minor;
    bool watched;
  };
  std::vector<Known> known_;
  bool haveBase_ = false;
  TimePoint baseAt_;
  bool haveBasePsi_ = false;
  std::uint64_t basePsiSome_ = 0, basePsiFull_ = 0;
};

}  // namespace ork::sense
