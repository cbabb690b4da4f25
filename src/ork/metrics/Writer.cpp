#include "ork/metrics/Writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ork::metrics {

std::string escapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);  // shortest that reads back the same
  return buf;
}

namespace {
// The code point of a well-formed UTF-8 sequence at the start of s and its length, or
// length 0 when it is not one.
std::size_t utf8Length(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const std::size_t n = b(0) >= 0xf0 && b(0) < 0xf5 ? 4 : b(0) >= 0xe0 ? 3 : b(0) >= 0xc2 && b(0) < 0xe0 ? 2 : 0;
  if (n == 0 || s.size() < n) return 0;
  unsigned long cp = b(0) & (0x7fu >> n);
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  const unsigned long minimum = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < minimum || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}
}  // namespace

std::string jsonString(std::string_view v) {
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80) {
      const std::size_t n = utf8Length(v.substr(i));
      if (n == 0) {
        out += "\\ufffd";
        continue;
      }
      out.append(v.substr(i, n));
      i += n - 1;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

const Writer::Family* Writer::find(std::string_view name) const {
  for (const auto& f : families_)
    if (f.name == name) return &f;
  return nullptr;
}

Writer::Family& Writer::family(std::string_view name, std::string_view help, Type type) {
  for (auto& f : families_)
    if (f.name == name) return f;
  families_.push_back({std::string(name), std::string(help), type, {}, {}});
  return families_.back();
}

namespace {
void appendLine(std::string& out, const Writer::Sample& s) {
  out += s.name;
  if (!s.labels.empty()) {
    out += '{';
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      if (i > 0) out += ',';
      out += s.labels[i].first;
      out += "=\"";
      out += escapeLabel(s.labels[i].second);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += formatValue(s.value);
  out += '\n';
}
}  // namespace

void Writer::keep(Family& f, Sample&& s) {
  if (structured_) f.samples.push_back(std::move(s));
  else appendLine(f.text, s);
}

void Writer::add(std::string_view name, std::string_view help, Type type, double value, std::span<const Label> labels) {
  Family& f = family(name, help, type);
  Sample s;
  s.name = std::string(name);
  for (const auto& l : labels) s.labels.emplace_back(std::string(l.name), std::string(l.value));
  s.value = value;
  keep(f, std::move(s));
}

void Writer::histogram(std::string_view name, std::string_view help, const Histogram& h,
                       std::initializer_list<Label> labels) {
  Family& f = family(name, help, Type::Histogram);
  auto sample = [&](const char* suffix, double value, const char* le) {
    Sample s;
    s.name = std::string(name) + suffix;
    for (const auto& l : labels) s.labels.emplace_back(std::string(l.name), std::string(l.value));
    if (le != nullptr) s.labels.emplace_back("le", le);
    s.value = value;
    keep(f, std::move(s));
  };
  for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", Histogram::kBounds[i]);
    sample("_bucket", static_cast<double>(h.bucket(i)), le);
  }
  sample("_bucket", static_cast<double>(h.count()), "+Inf");
  sample("_sum", h.sum(), nullptr);
  sample("_count", static_cast<double>(h.count()), nullptr);
}

std::string Writer::text() const {
  std::string out;
  std::size_t size = 0;
  for (const auto& f : families_) size += f.name.size() * 2 + f.help.size() + f.text.size() + 40;
  out.reserve(size);
  for (const auto& f : families_) {
    out += "# HELP " + f.name + " " + escapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " +
           (f.type == Type::Counter ? "counter" : f.type == Type::Histogram ? "histogram" : "gauge") + "\n";
    for (const auto& s : f.samples) appendLine(out, s);
    out += f.text;
  }
  return out;
}

std::string Writer::json() const {
  std::string out = "[";
  bool first = true;
  for (const auto& f : families_) {
    for (const auto& s : f.samples) {
      out += first ? "\n" : ",\n";
      first = false;
      out += "    {\"name\": " + jsonString(s.name) + ", \"labels\": {";
      for (std::size_t i = 0; i < s.labels.size(); ++i)
        out += (i > 0 ? ", " : "") + jsonString(s.labels[i].first) + ": " + jsonString(s.labels[i].second);
      // JSON has no NaN nor Infinity: they are strings there.
      const std::string v = formatValue(s.value);
      const bool number = std::isfinite(s.value);
      out += "}, \"value\": " + (number ? v : jsonString(v)) + "}";
    }
  }
  return out + (first ? "]" : "\n  ]");
}

}  // namespace ork::metrics
