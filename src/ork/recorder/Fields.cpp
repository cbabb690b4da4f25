#include "ork/recorder/Fields.h"

#include <charconv>

namespace ork::recorder {

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string_view Fields::get(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k == key) return v;
  return {};
}

bool Fields::has(std::string_view key) const {
  for (const auto& kv : items)
    if (kv.first == key) return true;
  return false;
}

long long Fields::num(std::string_view key, long long fallback) const {
  for (const auto& [k, v] : items) {
    if (k != key) continue;
    long long out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc{} && p == v.data() + v.size() ? out : fallback;
  }
  return fallback;
}

Fields parseFields(std::string_view s) {
  Fields f;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(s.substr(i, eq - i));
    if (key.empty() || key.find(' ') != std::string::npos) break;
    i = eq + 1;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char c = s[i];
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (c == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hexValue(s[i + 2]) >= 0 && hexValue(s[i + 3]) >= 0) {
          value += static_cast<char>(hexValue(s[i + 2]) * 16 + hexValue(s[i + 3]));
          i += 4;
          continue;
        }
        value += c;
        ++i;
      }
      if (!closed) break;
    } else {
      const std::size_t end = s.find(' ', i);
      value = std::string(s.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      i = end == std::string_view::npos ? s.size() : end;
    }
    f.items.emplace_back(std::move(key), std::move(value));
  }
  return f;
}

}  // namespace ork::recorder
