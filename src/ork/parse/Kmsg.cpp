#include "ork/parse/Kmsg.h"

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::isDigit;
using detail::kParseErrorCode;
using detail::parseInt;

namespace {

// Takes the text up to the next ',' (or all of it) off s.
std::string_view takeField(std::string_view& s) {
  const std::size_t comma = s.find(',');
  const std::string_view f = s.substr(0, comma);
  s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  return f;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)": the shape only, not the calendar.
bool isRfc3339(std::string_view s) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < kShape.size() + 1) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i)
    if (kShape[i] == 'd' ? !isDigit(s[i]) : s[i] != kShape[i]) return false;
  std::size_t i = kShape.size();
  if (s[i] == '.') {
    ++i;
    const std::size_t digits = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == digits) return false;
  }
  const std::string_view zone = s.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && isDigit(zone[1]) &&
         isDigit(zone[2]) && zone[3] == ':' && isDigit(zone[4]) && isDigit(zone[5]);
}

}  // namespace

Result<KmsgRecord> parseKmsgRecord(std::string_view record) {
  const std::size_t semi = record.find(';');
  if (semi == std::string_view::npos) return Error::make(kParseErrorCode, "kmsg record: no ';'");
  std::string_view header = record.substr(0, semi);
  KmsgRecord r;
  int pri = 0;
  if (!parseInt(takeField(header), pri) || pri < 0)
    return Error::make(kParseErrorCode, "kmsg record: bad priority");
  if (!parseInt(takeField(header), r.seq))
    return Error::make(kParseErrorCode, "kmsg record: bad sequence number");
  if (!parseInt(takeField(header), r.usec))
    return Error::make(kParseErrorCode, "kmsg record: bad time");
  r.level = pri & 7;
  r.facility = pri >> 3;
  std::string_view rest = record.substr(semi + 1);
  // The message ends at the first newline; the dictionary lines after it are not ours.
  r.message = rest.substr(0, rest.find('\n'));
  return r;
}

std::string_view unescapeKmsg(std::string_view escaped, char* out, std::size_t cap) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < escaped.size() && n < cap; ++i) {
    if (escaped[i] == '\\' && i + 3 < escaped.size() && escaped[i + 1] == 'x') {
      const int hi = hexValue(escaped[i + 2]);
      const int lo = hexValue(escaped[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = static_cast<char>(hi * 16 + lo);
        i += 3;
        continue;
      }
    }
    out[n++] = escaped[i];
  }
  return {out, n};
}

Result<OrkLine> parseOrkLine(std::string_view message) {
  constexpr std::string_view kEvent = "event=";
  OrkLine l;
  std::string_view rest;
  if (message.starts_with("ork: ")) {
    rest = message.substr(5);
  } else if (message.starts_with("ork[")) {
    const std::size_t close = message.find(']');
    if (close == std::string_view::npos || !parseInt(message.substr(4, close - 4), l.pid) ||
        l.pid <= 0 || message.substr(close + 1, 2) != ": ")
      return Error::make(kParseErrorCode, "not an ORK line: bad tag");
    rest = message.substr(close + 3);
  } else {
    return Error::make(kParseErrorCode, "not an ORK line");
  }
  if (!rest.starts_with(kEvent) || rest.size() == kEvent.size())
    return Error::make(kParseErrorCode, "not an ORK line: no event");
  l.body = rest;
  return l;
}

Result<StampedOrkLine> parseJournalFileLine(std::string_view line) {
  StampedOrkLine s;
  if (!line.starts_with("ork")) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || !isRfc3339(line.substr(0, space)))
      return Error::make(kParseErrorCode, "journal file line: no time stamp");
    s.stamp = line.substr(0, space);
    line.remove_prefix(space + 1);
  }
  auto l = parseOrkLine(line);
  if (!l) return l.error();
  s.line = *l;
  return s;
}

}  // namespace ork::parse
