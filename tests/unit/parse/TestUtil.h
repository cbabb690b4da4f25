// Helpers shared by the parser unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/parse/ParseUtil.h"

namespace ork::parse::testing {

// An exactly-sized heap copy of a text, with no terminator after it, so that an
// over-read by a parser is caught by ASan (a std::string would hide it behind its NUL).
class HeapText {
 public:
  explicit HeapText(std::string_view s)
      : size_(s.size()), data_(new char[s.size() ? s.size() : 1]) {
    if (!s.empty()) std::memcpy(data_.get(), s.data(), s.size());
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> data_;
};

// Asserts that r is a parse error (code kParseErrorCode) whose message contains want.
template <class T>
::testing::AssertionResult isParseError(const Result<T>& r, std::string_view want) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected an error, got a value";
  if (r.error().code != detail::kParseErrorCode) {
    return ::testing::AssertionFailure() << "error code " << r.error().code;
  }
  if (r.error().message().find(want) == std::string_view::npos) {
    return ::testing::AssertionFailure() << "message \"" << std::string(r.error().message())
                                         << "\" lacks \"" << std::string(want) << "\"";
  }
  return ::testing::AssertionSuccess();
}

// Printable form of a test input for failure messages (escapes control bytes).
inline std::string show(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

inline constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

}  // namespace ork::parse::testing
