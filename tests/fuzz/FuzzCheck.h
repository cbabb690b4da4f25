// What every libFuzzer target in tests/fuzz/ shares: the invariant check (a violated
// invariant traps, which libFuzzer reports as a crash) and the input as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ork::fuzz {

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

// True when inner is empty or lies entirely inside outer (views a parser returns
// must point into its input).
inline bool within(std::string_view inner, std::string_view outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits off the first byte, which steers a non-text parameter; the rest is the text.
inline std::uint8_t takeSteer(std::string_view& text) {
  if (text.empty()) return 0;
  const auto steer = static_cast<std::uint8_t>(text.front());
  text.remove_prefix(1);
  return steer;
}

}  // namespace ork::fuzz
