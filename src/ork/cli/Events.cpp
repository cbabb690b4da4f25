#include "ork/cli/Events.h"

#include <time.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "ork/cli/Log.h"
#include "ork/config/Config.h"
#include "ork/journal/Render.h"
#include "ork/recorder/History.h"
#include "ork/sys/Files.h"
#include "ork/sys/RecorderFile.h"

namespace ork::cli {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

constexpr const char* kEventsHelp = R"(Usage: ork events [options]

What ORK and the kernel did, after the fact, from the flight recorder ([recorder] dir of
the configuration, /var/lib/ork by default): one entry per kill, hibernation, freeze,
thaw, clean-up and link-down, ORK's and the kernel OOM killer's (also those made while
ORK was not running, as far as the kernel log still held them at ORK's next start):
when, who acted (ork or kernel), the action, the process (PID, name, user), its VM
(name, UUID, OpenStack instance), why, what it freed, memory available before and
after, and a sparkline of available memory from 5 minutes before to 5 minutes after.

Options:
  --since WHEN      only entries since WHEN: a duration back from now (90s, 30m, 2h,
                    7d) or a local time (2026-11-30 21:36, 2026-11-30T21:36:05)
  --json            one JSON object per line, per entry
  --plot FILE       also draw available memory, swap, PSI, CPU busy and each
                    filesystem's free space over time, the entries marked, as an
                    SVG image in FILE
  --config FILE     the configuration to take [recorder] dir from (default: the
                    daemon's, /etc/ork/ork.toml when it exists)
  -h, --help        this text

Exit codes: 0 (also when there is no entry), 1 the recorder's file cannot be read,
2 bad usage or configuration.
)";

std::int64_t nowNs() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::int64_t>(t.tv_sec) * kSecond + t.tv_nsec;
}

int usage(const std::string& m) {
  std::fprintf(stderr, "ork: %s\n\n%s", m.c_str(), kEventsHelp);
  return 2;
}

std::string kib(long long v) { return v < 0 ? std::string("?") : journal::humanKib(v); }

}  // namespace

bool parseSince(std::string_view text, std::int64_t now, std::int64_t& since) {
  if (text.empty()) return false;
  // A duration: a number and its unit.
  long long n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc{} && p != text.data() && n >= 0 && n < 100'000'000) {
    const std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
    const long long mult = unit == "s" ? 1 : unit == "m" || unit == "min" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (mult != 0) {
      since = now - n * mult * kSecond;
      return true;
    }
  }
  // A local time.
  std::string s(text);
  for (char& c : s)
    if (c == 'T') c = ' ';
  for (const char* f : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
    std::tm tm{};
    tm.tm_isdst = -1;
    const char* end = ::strptime(s.c_str(), f, &tm);
    if (end != nullptr && *end == '\0') {
      const std::time_t t = ::mktime(&tm);
      if (t == static_cast<std::time_t>(-1)) return false;
      since = static_cast<std::int64_t>(t) * kSecond;
      return true;
    }
  }
  return false;
}

int runEventsCommand(const std::vector<std::string_view>& args) {
  std::string configPath, plotPath;
  bool json = false;
  std::string sinceText;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = std::string(args[++i]);
      return true;
    };
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kEventsHelp, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--since") {
      if (!value(sinceText)) return usage("--since needs a value");
    } else if (a == "--plot") {
      if (!value(plotPath) || plotPath.empty()) return usage("--plot needs a file");
    } else if (a == "--config") {
      if (!value(configPath) || configPath.empty() || configPath.front() != '/')
        return usage("--config needs an absolute path");
    } else {
      return usage("unknown option for events: " + std::string(a));
    }
  }
  const std::int64_t now = nowNs();
  std::int64_t since = 0;
  if (!sinceText.empty() && !parseSince(sinceText, now, since))
    return usage("--since needs a duration (90s, 30m, 2h, 7d) or a local time (2026-11-30 21:36)");

  // The daemon's configuration: --config, else the default file when it exists.
  std::string path = configPath;
  if (path.empty()) {
    const char* env = std::getenv("ORK_DEFAULT_CONFIG");
    path = env != nullptr && env[0] == '/' ? env : config::kDefaultConfigPath;
  }
  std::vector<config::ConfigError> errors;
  config::Config cfg = config::Config::load(path, errors);
  if (configPath.empty() && errors.size() == 1 && errors[0].line == 0 && errors[0].code == ENOENT) {
    cfg = config::Config();
    errors.clear();
  }
  for (const auto& e : errors) std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), e.line, e.message.c_str());
  if (!errors.empty()) return 2;

  const std::string file = cfg.recorderDir + "/" + sys::RecorderFile::kFileName;
  auto rf = sys::RecorderFile::openForReading(file);
  if (!rf) {
    std::fprintf(stderr, "ork: cannot read the flight recorder: %s\n", rf.error().what);
    if (rf.error().code == ENOENT)
      std::fprintf(stderr, "ork: (no ORK has recorded here yet: [recorder] enabled and dir in %s)\n",
                   cfg.flag(config::Key::RecorderEnabled) ? "the configuration" : "the configuration, where enabled = false");
    return 1;
  }
  recorder::History h;
  auto scanned = rf->scan([&](recorder::Region, std::uint64_t, const recorder::SlotView& v) { h.add(v); });
  if (!scanned) {
    std::fprintf(stderr, "ork: %s\n", scanned.error().what);
    return 1;
  }
  h.corrupt = *scanned;
  h.sort();
  auto entries = recorder::buildEntries(h, since);
  if (h.corrupt > 0 && !json)
    std::fprintf(stderr, "ork: %llu damaged records in %s were skipped\n", static_cast<unsigned long long>(h.corrupt),
                 file.c_str());

  for (const auto& e : entries) {
    long long lo = 0, hi = 0;
    const std::string spark = recorder::sparkline(h, e.timeNs - 300 * kSecond, e.timeNs + 300 * kSecond, 40, lo, hi);
    if (json) {
      std::printf("%s\n", recorder::entryJson(e, spark).c_str());
      continue;
    }
    std::string who = e.who + " " + e.action + (e.dryRun ? " (dry-run)" : "");
    std::printf("%s  %-18s pid %lld %s", localTime(e.timeNs).c_str(), who.c_str(), e.pid, e.name.c_str());
    if (!e.user.empty()) std::printf(" (user %s)", e.user.c_str());
    if (!e.result.empty() && e.result != "ok") std::printf(" result=%s", e.result.c_str());
    std::printf("\n");
    if (!e.vm.empty()) {
      std::printf("    VM %s", e.vm.c_str());
      if (!e.uuid.empty()) std::printf(" uuid %s", e.uuid.c_str());
      if (!e.instance.empty()) std::printf(" instance %s", e.instance.c_str());
      if (!e.instanceName.empty()) std::printf(" (%s)", e.instanceName.c_str());
      if (!e.project.empty()) std::printf(" project %s", e.project.c_str());
      if (!e.flavor.empty()) std::printf(" flavor %s", e.flavor.c_str());
      std::printf("\n");
    }
    std::printf("    reason %s", e.reason.empty() ? "-" : e.reason.c_str());
    if (!e.detail.empty()) std::printf(" (%s)", e.detail.c_str());
    if (!e.cgroup.empty()) std::printf("  cgroup %s", e.cgroup.c_str());
    std::printf("\n    freed %s  available before %s, after %s\n", kib(e.freedKib).c_str(), kib(e.availBeforeKib).c_str(),
                kib(e.availAfterKib).c_str());
    if (hi >= 0)
      std::printf("    memory -5m [%s] +5m  (%s .. %s)\n", spark.c_str(), kib(lo).c_str(), kib(hi).c_str());
  }
  if (entries.empty() && !json) std::printf("no events recorded%s\n", since > 0 ? " in that time" : "");

  if (!plotPath.empty()) {
    std::int64_t t0 = since > 0 ? since : now;
    if (since == 0) {
      for (const auto& s : h.samples) t0 = std::min(t0, s.timeNs);
      for (const auto& m : h.minutes) t0 = std::min(t0, m.timeNs);
      for (const auto& e : entries) t0 = std::min(t0, e.timeNs - 300 * kSecond);
    }
    const std::string svg = recorder::renderSvg(h, entries, t0, now);
    const std::size_t slash = plotPath.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : plotPath.substr(0, slash);
    const std::string name = slash == std::string::npos ? plotPath : plotPath.substr(slash + 1);
    if (auto r = sys::replaceFile(dir, name, svg); !r) {
      std::fprintf(stderr, "ork: --plot: %s\n", r.error().what);
      return 1;
    }
    if (!json) std::printf("plot written to %s\n", plotPath.c_str());
  }
  return 0;
}

}  // namespace ork::cli
