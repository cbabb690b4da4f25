#include "ork/journal/Render.h"

#include <charconv>
#include <cstdint>
#include <cstdio>

namespace ork::journal {

namespace {

// Three significant digits: "1.76", "17.6", "176".
std::string threeDigits(double v, const char* unit) {
  char b[48];
  const double a = v < 0 ? -v : v;
  std::snprintf(b, sizeof b, a >= 99.95 ? "%.0f%s" : a >= 9.995 ? "%.1f%s" : "%.2f%s", v, unit);
  return b;
}

bool parseNumber(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

// The next field of body ("key=value" or key="quoted value"), taken off body.
std::string_view nextField(std::string_view& body) {
  while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
  std::size_t i = 0;
  while (i < body.size() && body[i] != ' ' && body[i] != '"') ++i;
  if (i < body.size() && body[i] == '"') {
    // The journal writes a quote inside a value as \x22: the next quote closes it.
    const std::size_t close = body.find('"', i + 1);
    i = close == std::string_view::npos ? body.size() : close + 1;
    while (i < body.size() && body[i] != ' ') ++i;
  }
  const std::string_view f = body.substr(0, i);
  body.remove_prefix(i);
  return f;
}

struct Unit {
  std::string_view suffix;
  enum { Kib, Duration, Percent } kind;
  std::int64_t nsPer = 0;  // durations
  const char* zero = "";
};
constexpr Unit kUnits[] = {
    {"_kib", Unit::Kib, 0, "0KiB"},
    {"_us", Unit::Duration, 1'000, "0us"},
    {"_ms", Unit::Duration, 1'000'000, "0ms"},
    {"_s", Unit::Duration, 1'000'000'000, "0s"},
    {"_pct", Unit::Percent, 0, "0%"},
};

}  // namespace

std::string humanKib(std::int64_t kib) {
  if (kib > -1024 && kib < 1024) return std::to_string(kib) + "KiB";
  static constexpr const char* kNames[] = {"MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(kib) / 1024;
  std::size_t u = 0;
  // Up a unit before the value would print as 1024 or more.
  while ((v >= 1023.5 || v <= -1023.5) && u + 1 < std::size(kNames)) {
    v /= 1024;
    ++u;
  }
  return threeDigits(v, kNames[u]);
}

std::string humanDuration(std::int64_t ns) {
  if (ns < 0) {
    // Appended to "-", not `"-" + humanDuration(...)`: GCC 12 at -O3 (Release) warns of
    // a bogus overlap in that operator+'s insert (-Werror=restrict, GCC bug 105329).
    std::string out = "-";
    out += humanDuration(ns == INT64_MIN ? INT64_MAX : -ns);
    return out;
  }
  constexpr std::int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000, kMin = 60 * kS,
                         kH = 60 * kMin, kD = 24 * kH;
  char b[48];
  if (ns < kUs) {
    std::snprintf(b, sizeof b, "%lldns", static_cast<long long>(ns));
  } else if (ns < kMs) {
    std::snprintf(b, sizeof b, "%lldus", static_cast<long long>(ns / kUs));
  } else if (ns < kS) {
    return threeDigits(static_cast<double>(ns) / kMs, "ms");
  } else if (ns < kMin) {
    return threeDigits(static_cast<double>(ns) / kS, "s");
  } else if (ns < kH) {
    std::snprintf(b, sizeof b, "%lldm%02llds", static_cast<long long>(ns / kMin),
                  static_cast<long long>(ns % kMin / kS));
  } else if (ns < kD) {
    std::snprintf(b, sizeof b, "%lldh%02lldm", static_cast<long long>(ns / kH),
                  static_cast<long long>(ns % kH / kMin));
  } else {
    std::snprintf(b, sizeof b, "%lldd%02lldh", static_cast<long long>(ns / kD),
                  static_cast<long long>(ns % kD / kH));
  }
  return b;
}

std::string renderBody(std::string_view body) {
  constexpr std::size_t kEventColumn = 18;  // "hibernate_skipped " fits
  std::string out;
  std::string_view first = nextField(body);
  if (first.starts_with("event=")) {
    out = first.substr(6);
    out.append(out.size() < kEventColumn ? kEventColumn - out.size() : 1, ' ');
  } else {
    out = std::string(first) + ' ';
  }
  bool any = false;
  for (std::string_view f = nextField(body); !f.empty(); f = nextField(body)) {
    if (any) out += ' ';
    any = true;
    const std::size_t eq = f.find('=');
    std::int64_t v = 0;
    if (eq == std::string_view::npos || !parseNumber(f.substr(eq + 1), v)) {
      out += f;
      continue;
    }
    const std::string_view key = f.substr(0, eq);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits)
      if (key.size() > u.suffix.size() && key.ends_with(u.suffix)) unit = &u;
    // A value no unit can show (a duration past ~292 years in ns) stays as written.
    if (unit == nullptr ||
        (unit->nsPer > 0 && (v > INT64_MAX / unit->nsPer || v < -INT64_MAX / unit->nsPer))) {
      out += f;
      continue;
    }
    out += key.substr(0, key.size() - unit->suffix.size());
    out += '=';
    if (v == 0)
      out += unit->zero;
    else if (unit->kind == Unit::Kib)
      out += humanKib(v);
    else if (unit->kind == Unit::Percent)
      out += std::to_string(v) + "%";
    else
      out += humanDuration(v * unit->nsPer);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace ork::journal
