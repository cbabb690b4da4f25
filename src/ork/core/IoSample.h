// One reading of the host's block devices: how saturated each whole disk was since the
// previous reading, and whether tasks waited for I/O (PSI io).
#pragma once

#include <array>

#include "ork/core/Units.h"

namespace ork {

struct IoDevice {
  unsigned major = 0;
  unsigned minor = 0;
  char name[32] = {};
  double util = 0;         // share of the interval with I/O in flight (io_ticks), 0..1
  double awaitMs = 0;      // mean time of the I/Os completed in the interval (queue + service);
                           // busy with none completed: the whole interval
  double queue = 0;        // mean I/Os in flight (weighted time / interval)
  double iops = 0;         // reads + writes completed per second
  double bytesPerS = 0;    // read + written
};

struct IoSample {
  // Whole disks watched at once; beyond, the busiest by io_ticks are kept (a host with
  // more disks than this is reported in the start line).
  static constexpr int kMaxDevices = 128;

  TimePoint at;
  Nanos interval{0};        // since the previous sample (0 on the first: no rates yet)
  std::array<IoDevice, kMaxDevices> devices{};
  int count = 0;
  double pressure = -1;      // PSI io "some" total delta / interval, 0..1; -1 unknown
  double pressureFull = -1;  // ... "full"

  const IoDevice* begin() const { return devices.data(); }
  const IoDevice* end() const { return devices.data() + count; }
};

}  // namespace ork
