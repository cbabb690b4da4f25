// The injected clock. Policy never reads time itself: the loop passes `now`, tests pass
// a FakeClock.
#pragma once

#include "ork/core/Units.h"

namespace ork {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time; never fails.
  virtual TimePoint now() const = 0;
};

// A clock that moves only when told to; for tests.
class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(Nanos d) { now_ = now_ + d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_{Nanos{1'000'000'000}};
};

}  // namespace ork
