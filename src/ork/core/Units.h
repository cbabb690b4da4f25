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

// A non-negative amount of memory held in 32 bits as KiB, for what is kept once per
// process (ProcessInfo): 4 bytes instead of 8. Reads as Bytes (implicitly); assigned
// from Bytes (`p.rss = Bytes::mib(1)`).
// A value that is not a whole number of KiB is rounded up (so that a process holding
// anything never reads as holding nothing), a negative one is 0, and anything from
// 4 TiB on is kMax (4 TiB - 1 KiB): it saturates, never wraps.
struct Kib32 {
  static constexpr std::uint32_t kMax = UINT32_MAX;
  std::uint32_t kib = 0;

  constexpr Kib32() = default;
  constexpr explicit Kib32(Bytes b) : kib(fromBytes(b)) {}
  constexpr Kib32& operator=(Bytes b) {
    kib = fromBytes(b);
    return *this;
  }
  constexpr operator Bytes() const { return bytes(); }  // NOLINT(google-explicit-constructor)
  constexpr Bytes bytes() const { return Bytes{static_cast<std::int64_t>(kib) * 1024}; }
  constexpr bool saturated() const { return kib == kMax; }
  constexpr auto operator<=>(const Kib32&) const = default;

  static constexpr std::uint32_t fromBytes(Bytes b) {
    if (b.value <= 0) return 0;
    std::int64_t k = b.value / 1024 + (b.value % 1024 != 0 ? 1 : 0);
    return k >= static_cast<std::int64_t>(kMax) ? kMax : static_cast<std::uint32_t>(k);
  }
};

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
