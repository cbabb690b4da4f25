// Units carried in types: Bytes for amounts of memory, std::chrono for time.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>

namespace ork {

// A signed amount of memory in bytes (signed so that differences and deficits are
// natural). All memory quantities in ORK are Bytes, never bare integers.
struct Bytes {
  std::int64_t value = 0;

  static constexpr Bytes kib(std::int64_t n) { return Bytes{n * 1024}; }
  static constexpr Bytes mib(std::int64_t n) { return Bytes{n * 1024 * 1024}; }
  static constexpr Bytes gib(std::int64_t n) { return Bytes{n * 1024 * 1024 * 1024}; }
  constexpr std::int64_t toKib() const { return value / 1024; }
  constexpr std::int64_t toMib() const { return value / (1024 * 1024); }

  constexpr auto operator<=>(const Bytes&) const = default;
  constexpr Bytes operator+(Bytes o) const { return Bytes{value + o.value}; }
  constexpr Bytes operator-(Bytes o) const { return Bytes{value - o.value}; }
  constexpr Bytes& operator+=(Bytes o) { value += o.value; return *this; }
  constexpr Bytes& operator-=(Bytes o) { value -= o.value; return *this; }
  constexpr Bytes scaled(double f) const { return Bytes{static_cast<std::int64_t>(static_cast<double>(value) * f)}; }
};

// a + b, saturated at the limits of int64 instead of overflowing.
constexpr Bytes saturatingAdd(Bytes a, Bytes b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a.value, b.value, &r)) return Bytes{b.value > 0 ? INT64_MAX : INT64_MIN};
  return Bytes{r};
}

using Nanos = std::chrono::nanoseconds;
using Micros = std::chrono::microseconds;
using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

// A point on the monotonic clock, as nanoseconds since an arbitrary origin.
struct TimePoint {
  Nanos sinceOrigin{0};
  constexpr auto operator<=>(const TimePoint&) const = default;
  constexpr Nanos operator-(TimePoint o) const { return sinceOrigin - o.sinceOrigin; }
  constexpr TimePoint operator+(Nanos d) const { return TimePoint{sinceOrigin + d}; }
};

}  // namespace ork
