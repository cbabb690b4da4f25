// Small, allocation-free text helpers shared by the parsers in Parsers.cpp (and their
// tests). Everything works on std::string_view and never reads outside it.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

#include "ork/core/Units.h"

namespace ork::parse::detail {

// Error code carried by every parse error. Parsers.h and Result.h both say a parse
// error is not a system error, so it carries code 0 (not EINVAL).
inline constexpr int kParseErrorCode = 0;

// Walks text line by line ('\n' separated). The last line need not end in '\n'.
// Embedded NULs and other bytes are ordinary characters.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}
  // Stores the next line (without its '\n') in line; false when the text is exhausted.
  bool next(std::string_view& line) {
    if (rest_.empty()) return false;
    const std::size_t nl = rest_.find('\n');
    if (nl == std::string_view::npos) {
      line = rest_;
      rest_ = {};
      return true;
    }
    line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
    return true;
  }

 private:
  std::string_view rest_;
};

inline bool isBlank(char c) { return c == ' ' || c == '\t'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

inline std::string_view trimBlanks(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Returns the next blank-separated token of s and removes it (and the blanks before
// it) from s; empty when s holds no more tokens.
inline std::string_view nextToken(std::string_view& s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  std::size_t n = 0;
  while (n < s.size() && !isBlank(s[n])) ++n;
  const std::string_view token = s.substr(0, n);
  s.remove_prefix(n);
  return token;
}

// The whole of s must be a decimal number that fits in T: no sign for unsigned types,
// an optional '-' for signed ones, no '+', no blanks, no trailing bytes.
template <class T>
bool parseInt(std::string_view s, T& out) {
  if (s.empty()) return false;
  T v{};
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v, 10);
  if (ec != std::errc{} || ptr != end) return false;
  out = v;
  return true;
}

// Drops one trailing '\n' (the single-value files in /proc and /sys end with one).
inline std::string_view dropNewline(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

// A non-negative fixed-point decimal "123" or "1.23" (as PSI prints its averages).
// At most 9 integer and 9 fraction digits, so absurd values are rejected instead of
// losing precision. Computed as one integer divided by a power of ten, so "1.23"
// yields exactly the double nearest to 1.23.
inline bool parseDecimal(std::string_view s, double& out) {
  constexpr std::size_t kMaxDigits = 9;
  std::size_t i = 0;
  std::uint64_t mantissa = 0;
  std::size_t intDigits = 0;
  while (i < s.size() && isDigit(s[i])) {
    if (++intDigits > kMaxDigits) return false;
    mantissa = mantissa * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (intDigits == 0) return false;
  std::uint64_t scale = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t fracDigits = 0;
    while (i < s.size() && isDigit(s[i])) {
      if (++fracDigits > kMaxDigits) return false;
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(s[i] - '0');
      scale *= 10;
      ++i;
    }
    if (fracDigits == 0) return false;
  }
  if (i != s.size()) return false;
  out = static_cast<double>(mantissa) / static_cast<double>(scale);
  return true;
}

// Conversions into Bytes (a signed 64-bit count) that saturate instead of overflowing.
inline Bytes bytesFromU64(std::uint64_t n) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return Bytes{static_cast<std::int64_t>(n > kMax ? kMax : n)};
}
inline Bytes bytesFromKib(std::uint64_t kib) {
  constexpr auto kMaxKib =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 1024;
  if (kib > kMaxKib) return Bytes{std::numeric_limits<std::int64_t>::max()};
  return Bytes{static_cast<std::int64_t>(kib * 1024)};
}

}  // namespace ork::parse::detail
