#include "ork/cli/Log.h"

#include <cstdio>
#include <ctime>
#include <memory>

#include "ork/journal/Render.h"
#include "ork/parse/Kmsg.h"
#include "ork/sys/KmsgReader.h"

namespace ork::cli {

namespace {

constexpr const char* kLogHelp = R"(Usage: ork log [options]

Prints ORK's lines of the kernel log (/dev/kmsg), oldest first, as a person reads
them: the local time, ork[PID] (the daemon that wrote it), the event, then its
fields, with sizes in KiB, MiB or GiB and durations in us, ms, s or minutes, each key
without its unit (freed_kib=1843200 is shown freed=1.76GiB). docs/journal.md says
what every field means. Other messages are left out. The kernel keeps only what its
ring buffer holds; 'journalctl -k -t ork' keeps more, as written (key=value).
Reading /dev/kmsg needs root (or CAP_SYSLOG).

Options:
  -f, --follow      then print new lines as they come, until interrupted
  --kmsg FILE       read a journal file written by 'ork daemon --kmsg FILE' instead
  -h, --help        this text
)";

int usage(const char* message) {
  std::fprintf(stderr, "ork: %s\n\n%s", message, kLogHelp);
  return 2;
}

int fromKmsg(bool follow) {
  auto reader = sys::KmsgReader::open();
  if (!reader) {
    std::fprintf(stderr, "ork: cannot read the kernel log: %s%s\n", reader.error().what,
                 reader.error().code == EPERM || reader.error().code == EACCES
                     ? " (needs root or CAP_SYSLOG)"
                     : "");
    return 1;
  }
  const std::int64_t boot = sys::KmsgReader::bootWallClockNs();
  auto text = std::make_unique<char[]>(8192);
  for (;;) {
    auto rec = reader->next(follow);
    if (!rec) {
      std::fprintf(stderr, "ork: %s\n", rec.error().what);
      return 1;
    }
    if (rec->empty()) return 0;
    auto r = parse::parseKmsgRecord(*rec);
    if (!r) continue;
    const std::string_view message = parse::unescapeKmsg(r->message, text.get(), 8192);
    auto line = parse::parseOrkLine(message);
    if (!line) continue;
    const std::int64_t wall = boot + static_cast<std::int64_t>(r->usec) * 1000;
    std::printf("%s\n", formatLogLine(localTime(wall), line->pid, line->body).c_str());
  }
}

int fromFile(const std::string& path, bool follow) {
  auto file = sys::FileFollower::open(path);
  if (!file) {
    std::fprintf(stderr, "ork: cannot read the journal file: %s\n", file.error().what);
    return 1;
  }
  std::string text;
  for (;;) {
    auto more = file->next(follow, text);
    if (!more) {
      std::fprintf(stderr, "ork: %s\n", more.error().what);
      return 1;
    }
    if (!*more) return 0;
    auto line = parse::parseJournalFileLine(text);
    if (!line) continue;
    std::printf("%s\n",
                formatLogLine(stampTime(line->stamp), line->line.pid, line->line.body).c_str());
  }
}

}  // namespace

std::string localTime(std::int64_t wallNs) {
  const std::time_t secs = static_cast<std::time_t>(wallNs / 1'000'000'000);
  std::tm tm{};
  if (::localtime_r(&secs, &tm) == nullptr) return "-";
  char b[80];
  std::snprintf(b, sizeof b, "%04d-%02d-%02d %02d:%02d:%02d.%03lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(wallNs % 1'000'000'000 / 1'000'000));
  return b;
}

std::string stampTime(std::string_view stamp) {
  // "2026-12-01T09:24:33.123456+01:00": the date and time, the fraction to 3 digits.
  if (stamp.size() < 19) return "-";
  std::string out(stamp.substr(0, 19));
  out[10] = ' ';
  if (stamp.size() > 20 && stamp[19] == '.') {
    std::size_t end = 20;
    while (end < stamp.size() && end < 23 && stamp[end] >= '0' && stamp[end] <= '9') ++end;
    out += stamp.substr(19, end - 19);
  }
  return out;
}

std::string formatLogLine(std::string_view time, int pid, std::string_view body) {
  std::string out(time);
  out += pid > 0 ? " ork[" + std::to_string(pid) + "] " : std::string(" ork ");
  out += journal::renderBody(body);
  return out;
}

int runLogCommand(const std::vector<std::string_view>& args) {
  bool follow = false;
  std::string file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kLogHelp, stdout);
      return 0;
    } else if (a == "-f" || a == "--follow") {
      follow = true;
    } else if (a == "--kmsg") {
      if (i + 1 >= args.size()) return usage("--kmsg needs a value");
      file = std::string(args[++i]);
      if (file.empty() || file.front() != '/')
        return usage("--kmsg needs an absolute path (it was empty or relative)");
    } else {
      const std::string m = "unknown option for log: " + std::string(a);
      return usage(m.c_str());
    }
  }
  // Each line as soon as it is printed, to a terminal or a pipe (ork log -f | grep).
  if (follow) std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return file.empty() ? fromKmsg(follow) : fromFile(file, follow);
}

}  // namespace ork::cli
