// One reading of the host's block devices: how saturated each whole disk was since the
// previous reading, and whether tasks waited for I/O (PSI io).
#pragma once

#include <array>

#include "ork/core/Units.h"

namespace ork {

// No default member initialisers: an IoSample's 128 devices (10 KiB) are written only
// as far as count, so that on a host with a few disks only their pages become resident
// (locked). Value-initialise one on its own (`IoDevice d{};`) to have it zeroed.
struct IoDevice {
  unsigned major;
  unsigned minor;
  char name[32];
  double util;         // share of the interval with I/O in flight (io_ticks), 0..1
  double awaitMs;      // mean time of the I/Os completed in the interval (queue + service);
                       // busy with none completed: the whole interval
  double queue;        // mean I/Os in flight (weighted time / interval)
  double iops;         // reads + writes completed per second
  double bytesPerS;    // read + written
};

struct IoSample {
  // Whole disks watched at once; beyond, the busiest by io_ticks are kept (a host with
  // more disks than this is reported in the start line).
  static constexpr int kMaxDevices = 128;

  TimePoint at;
  Nanos interval{0};        // since the previous sample (0 on the first: no rates yet)
  std::array<IoDevice, kMaxDevices> devices;  // [0, count) written; the rest unspecified
  int count = 0;
  double pressure = -1;      // PSI io "some" total delta / interval, 0..1; -1 unknown
  double pressureFull = -1;  // ... "full"

  const IoDevice* begin() const { return devices.data(); }
  const IoDevice* end() const { return devices.data() + count; }
};

}  // namespace ork
