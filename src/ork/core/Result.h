// Result<T>: the one error type of ORK. A value or an Error carrying errno and a
// short context, with no heap allocation, so it can be returned on the kill path.
#pragma once

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace ork {

// An errno value (0 when the failure is not a system error, e.g. a parse error) and a
// bounded, NUL-terminated description. Copyable, never allocates.
struct Error {
  int code = 0;
  char what[160] = {};

  // printf-style context; the text is truncated to fit.
  [[gnu::format(printf, 2, 3)]] static Error make(int code, const char* fmt, ...) {
    Error e;
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(e.what, sizeof e.what, fmt, ap);
    va_end(ap);
    return e;
  }
  // Context plus strerror(code), e.g. "open /proc/meminfo: No such file or directory".
  static Error sys(int code, std::string_view context) {
    Error e;
    e.code = code;
    std::snprintf(e.what, sizeof e.what, "%.*s: %s", static_cast<int>(context.size()),
                  context.data(), std::strerror(code));
    return e;
  }
  std::string_view message() const { return what; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : error_(error) {}         // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  const Error& error() const { return error_; }
  T valueOr(T fallback) const { return ok() ? *value_ : fallback; }

 private:
  std::optional<T> value_;
  Error error_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : ok_(false), error_(error) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  bool ok_ = true;
  Error error_;
};

inline Result<void> success() { return {}; }

}  // namespace ork
