// One reading of the host's CPUs: how busy they were since the previous reading, and
// whether runnable work had to wait for them.
#pragma once

#include "ork/core/Units.h"

namespace ork {

struct CpuSample {
  TimePoint at;
  Nanos interval{0};  // since the previous sample (0 on the first: no rates yet)
  double busy = 0;    // fraction of all CPUs' time busy over the interval, 0..1
  int cpus = 0;
  int runnable = 0;      // procs_running minus ORK itself (it is running while it reads)
  double pressure = -1;  // PSI cpu "some" total delta / interval, 0..1; -1 unknown
};

}  // namespace ork
