// The sensing stage: a sensor owns its kernel fds, reads them with the parsers, and
// produces one value type per reading. Adding a resource (CPU, disk, network) means
// adding one class here with the same shape: open() once, sample(now) on each tick,
// never allocating in sample().
#pragma once

#include "ork/core/Result.h"
#include "ork/core/Units.h"

namespace ork::sense {

template <class Sample>
class Sensor {
 public:
  virtual ~Sensor() = default;
  // One reading. Must not allocate; an error leaves the loop running.
  virtual Result<Sample> sample(TimePoint now) = 0;
  // Human-readable description of what is sensed, for the start line and `ork top`.
  virtual const char* describe() const = 0;
};

}  // namespace ork::sense
