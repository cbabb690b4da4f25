#include "ork/parse/Mounts.h"

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::LineReader;

namespace {

bool listHas(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool parseUnsigned(std::string_view s, unsigned& out) {
  if (s.empty() || s.size() > 9) return false;
  unsigned v = 0;
  for (char c : s) {
    if (!detail::isDigit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

// "key: value" lines: the value of key as an unsigned number in base.
std::optional<std::uint64_t> fieldOf(std::string_view text, std::string_view key, int base) {
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    std::string_view v = detail::trimBlanks(line.substr(key.size() + 1));
    if (v.empty() || v.size() > 22) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) {
      int d = c - '0';
      if (d < 0 || d >= base) return std::nullopt;
      std::uint64_t next = n * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
      if (next / static_cast<std::uint64_t>(base) != n) return std::nullopt;  // overflow
      n = next;
    }
    return n;
  }
  return std::nullopt;
}

}  // namespace

std::string unescapeMountField(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const char a = s[i + 1], b = s[i + 2], c = s[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out += static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<MountEntry> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    MountEntry m;
    unsigned id = 0;
    if (!parseUnsigned(detail::nextToken(rest), id)) continue;
    if (detail::nextToken(rest).empty()) continue;  // parent
    std::string_view dev = detail::nextToken(rest);
    const std::size_t colon = dev.find(':');
    if (colon == std::string_view::npos || !parseUnsigned(dev.substr(0, colon), m.major) ||
        !parseUnsigned(dev.substr(colon + 1), m.minor))
      continue;
    std::string_view root = detail::nextToken(rest);
    std::string_view mp = detail::nextToken(rest);
    std::string_view opts = detail::nextToken(rest);
    if (root.empty() || mp.empty() || opts.empty()) continue;
    std::string_view field;
    bool sep = false;
    while (!(field = detail::nextToken(rest)).empty()) {
      if (field == "-") {
        sep = true;
        break;
      }
    }
    if (!sep) continue;
    std::string_view type = detail::nextToken(rest);
    std::string_view source = detail::nextToken(rest);
    std::string_view super = detail::nextToken(rest);
    if (type.empty()) continue;
    m.id = static_cast<int>(id);
    m.root = unescapeMountField(root);
    m.mountPoint = unescapeMountField(mp);
    m.fsType = std::string(type);
    m.source = unescapeMountField(source);
    m.readOnly = listHas(opts, "ro") || listHas(super, "ro");
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<ProcIo> parseProcIo(std::string_view text) {
  auto wb = fieldOf(text, "write_bytes", 10);
  if (!wb) return std::nullopt;
  ProcIo io;
  io.writeBytes = *wb;
  io.wchar = fieldOf(text, "wchar", 10).value_or(0);
  io.syscw = fieldOf(text, "syscw", 10).value_or(0);
  io.rchar = fieldOf(text, "rchar", 10).value_or(0);
  io.syscr = fieldOf(text, "syscr", 10).value_or(0);
  io.readBytes = fieldOf(text, "read_bytes", 10).value_or(0);
  io.cancelledWriteBytes = fieldOf(text, "cancelled_write_bytes", 10).value_or(0);
  return io;
}

std::optional<unsigned> parseFdinfoFlags(std::string_view text) {
  auto f = fieldOf(text, "flags", 8);
  if (!f || *f > 0xffffffffu) return std::nullopt;
  return static_cast<unsigned>(*f);
}

}  // namespace ork::parse
