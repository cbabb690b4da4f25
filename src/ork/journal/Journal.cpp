#include "ork/journal/Journal.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ork/sys/Sysconf.h"

namespace ork::journal {

namespace {
bool isWordChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '/' || c == ':' || c == '+';
}
}  // namespace

Line::Line(std::string_view event) {
  append("event=");
  append(event);
  eventLen_ = len_ - kPrefix;
}

std::string_view Line::key() const {
  constexpr std::string_view kWhat = " what=";
  const std::string_view t = text();
  std::size_t end = kPrefix + eventLen_;
  if (t.substr(end, kWhat.size()) == kWhat) {
    const std::size_t space = t.find(' ', end + kWhat.size());
    end = space == std::string_view::npos ? t.size() : space;
  }
  return t.substr(kPrefix, end - kPrefix);
}

void Line::appendChar(char c) {
  if (len_ < sizeof buf_) buf_[len_++] = c;
}

void Line::append(std::string_view s) {
  for (char c : s) appendChar(c);
}

Line& Line::num(std::string_view key, std::int64_t value) {
  char tmp[24];
  int n = std::snprintf(tmp, sizeof tmp, "%lld", static_cast<long long>(value));
  appendChar(' ');
  append(key);
  appendChar('=');
  append({tmp, static_cast<std::size_t>(n)});
  return *this;
}

Line& Line::word(std::string_view key, std::string_view value) {
  appendChar(' ');
  append(key);
  appendChar('=');
  for (char c : value) appendChar(isWordChar(static_cast<unsigned char>(c)) ? c : '_');
  return *this;
}

Line& Line::str(std::string_view key, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  appendChar(' ');
  append(key);
  append("=\"");
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      appendChar('\\');
      appendChar('x');
      appendChar(kHex[c >> 4]);
      appendChar(kHex[c & 15]);
    } else {
      appendChar(ch);
    }
  }
  appendChar('"');
  return *this;
}

Result<Journal> Journal::open(const std::string& kmsgPath, bool mirrorStderr, int pid) {
  auto w = sys::KmsgWriter::open(kmsgPath);
  if (!w) return w.error();
  Journal j;
  j.writer_ = std::move(*w);
  j.hasWriter_ = true;
  j.mirror_ = mirrorStderr;
  j.setTag(pid);
  return j;
}

Journal Journal::stderrOnly(int pid) {
  Journal j;
  j.mirror_ = true;
  j.setTag(pid);
  return j;
}

void Journal::setTag(int pid) {
  int n = std::snprintf(tag_, sizeof tag_, "ork[%d]: ", pid != 0 ? pid : sys::selfPid());
  tagLen_ = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof tag_ - 1) : 0;
}

std::size_t Journal::tagged(std::string_view text, char (&out)[kTaggedMax]) const {
  std::memcpy(out, tag_, tagLen_);
  const std::size_t copy = std::min(text.size(), sizeof out - tagLen_);
  std::memcpy(out + tagLen_, text.data(), copy);
  return tagLen_ + copy;
}

void Journal::write(const Line& line, Priority prio, TimePoint now) {
  const std::string_view event = line.event();
  if (tap_ != nullptr) tap_(tapCtx_, line);
  // The tap (the flight recorder) sees every line, also those the bound holds back.
  if (lineTap_ != nullptr) lineTap_->onLine(line, now);
  if (event == "stop") {
    reportSuppressed(now, true);  // the last chance to tell
  } else if (budget_.pending()) {
    reportSuppressed(now, false);
  }
  if (!budget_.admit(line.key(), classify(event), now)) return;
  emit(line.text(), prio, now);
}

void Journal::flush(TimePoint now) {
  if (budget_.pending()) reportSuppressed(now, false);
}

void Journal::reportSuppressed(TimePoint now, bool force) {
  LineBudget::Report r;
  while (budget_.takeReport(now, force, r)) {
    // key: "event" or "warning what=x"
    const std::size_t space = r.key.find(' ');
    Line l("suppressed");
    l.word("of", r.key.substr(0, space));
    if (space != std::string_view::npos && r.key.substr(space + 1, 5) == "what=")
      l.word("what", r.key.substr(space + 6));
    l.num("lines", static_cast<std::int64_t>(r.count))
        .num("over_ms", std::chrono::duration_cast<Millis>(now - r.firstDropped).count());
    emit(l.text(), Priority::Warning, now);
  }
}

void Journal::emit(std::string_view text, Priority prio, TimePoint now) {
  char buf[kTaggedMax];
  const std::string_view line(buf, tagged(text, buf));
  writeKmsg(line, prio, now);
  if (!mirror_) return;
  auto r = mirrorWriter_.write(line);
  if (r || r.error().code == EAGAIN || r.error().code == EWOULDBLOCK) return;
  // Nobody reads the mirror any more (EPIPE), or it is broken: drop it for good and
  // say so where the lines still go.
  mirror_ = false;
  Line w("warning");
  w.word("what", "mirror_dropped")
      .str("detail", r.error().what)
      .word("fallback", hasWriter_ ? (writer_.isKmsg() ? "kmsg_only" : "kmsg_file_only") : "none");
  writeKmsg({buf, tagged(w.text(), buf)}, Priority::Warning, now);
}

void Journal::writeKmsg(std::string_view text, Priority prio, TimePoint now) {
  if (!hasWriter_) return;
  char buf[kTaggedMax + 8];
  std::size_t n = 0;
  if (writer_.isKmsg()) {
    n = static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "<%d>", static_cast<int>(prio)));
  }
  std::size_t copy = std::min(text.size(), sizeof buf - n);
  std::memcpy(buf + n, text.data(), copy);
  n += copy;
  auto r = writer_.write({buf, n}, now);
  if (!r && !reportedFailure_) {
    reportedFailure_ = true;
    std::fprintf(stderr, "ork: cannot write the journal, ignoring: %s\n", r.error().what);
  }
}

}  // namespace ork::journal
