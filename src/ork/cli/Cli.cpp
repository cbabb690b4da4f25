#include "ork/cli/Cli.h"

#include <unistd.h>

#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <string>
#include <string_view>
#include <vector>

#include "ork/cli/Events.h"
#include "ork/cli/Log.h"
#include "ork/cli/Status.h"
#include "ork/cli/Top.h"
#include "ork/config/Config.h"
#include "ork/daemon/Daemon.h"
#include "ork/sys/Files.h"
#include "ork/sys/SelfProtect.h"

#ifndef ORK_VERSION
#define ORK_VERSION "0.0.0"
#endif

namespace ork::cli {

namespace {

constexpr const char* kMainHelp = R"(ork - the Out of Resource Killer

Usage: ork <command> [options]

Commands:
  daemon          watch memory and kill the expected process before the host stalls
  top             show the candidates ranked right now, with each score's breakdown
  log             show ORK's lines of the kernel log, readably (-f: follow)
  status          the running daemon's live state (root; --json)
  events          what ORK and the kernel's OOM killer did, after the fact (the
                  flight recorder): VMs named, memory around each, --plot
  check-config    validate a configuration file
  version         print the version
  help            this text

Run 'ork <command> --help' for the options of a command.
Documentation: docs/ (configuration.md, scoring.md, journal.md).
)";

constexpr const char* kDaemonHelp = R"(Usage: ork daemon [options]

Runs in the foreground (the systemd unit runs this). Without a configuration file it
uses the compiled-in defaults ('ork check-config --defaults' prints them).

Options:
  --dry-run         decide and write the journal, but kill, hibernate and freeze
                    nothing (libvirt is opened read-only)
  --config FILE     TOML file overriding compiled-in defaults (checked at start;
                    any error stops ORK with exit code 2). Without it,
                    /etc/ork/ork.toml is read when it exists; the start line says
                    which file is in use (config=...), or config=none
  --cgroup PATH     the memory domain is this cgroup (a cgroup v2 directory or a v1
                    memory-controller directory), and only processes and VMs inside
                    it may be hibernated, frozen or killed (the CPU is still sensed
                    host-wide)
  --kmsg PATH       write journal lines to PATH instead of /dev/kmsg, each after
                    its local time ('ork log --kmsg PATH' reads them)
  --state-dir DIR   where ORK keeps what must outlive it: the VMs it froze, resumed
                    by its next run if it dies (default /var/lib/ork; not written
                    in dry-run)
  --proc DIR        read processes and memory from DIR instead of /proc (only
                    with --dry-run: the PIDs in DIR are not this host's processes)
  --passwd FILE     user names from FILE instead of /etc/passwd
  --quiet           do not mirror journal lines on stderr (the unit passes it: the
                    kernel log has them, journalctl -k -t ork; a mirror that cannot
                    be written, e.g. a pipe whose reader exited, is dropped and
                    said once in the journal; ORK goes on)
  --no-protect      do not mlockall nor set ORK's own oom_score_adj to -1000
  --status-socket PATH  where 'ork status' asks (default /run/ork/status.sock, in a
                    0700 directory ORK creates; the socket is 0600, root only)
  -h, --help        this text

Signals: SIGTERM/SIGINT stop (the VMs ORK froze are resumed first); SIGHUP reloads
the configuration file (checked first: a bad file is reported and the running
configuration kept).

Every path must be absolute (an empty or relative one is a usage error).

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad usage or config.
)";

constexpr const char* kTopHelp = R"(Usage: ork top [options]

Reads every process of the domain once and prints its VMs (memory, CPU over half a
second, libvirt state, and what ORK would do to each on memory pressure and on CPU
overload), then the candidates, best first, with the parts of each score (see
docs/scoring.md) and the one ORK would kill now if memory were below the hard
threshold. Changes nothing (libvirt is asked read-only).

Options:
  --config FILE     as for 'ork daemon'
  --cgroup PATH     as for 'ork daemon'
  --proc DIR        as for 'ork daemon'
  --passwd FILE     as for 'ork daemon'
  -n N              show the best N candidates (default 20)
  --interval S      look at the processes twice, S seconds apart, to see what grows
                    (default 1; 0: one look, no growth seen)
  --all             also list processes that are never candidates, and why
  -h, --help        this text
)";

constexpr const char* kCheckHelp = R"(Usage: ork check-config [FILE]
       ork check-config --defaults

Validates FILE (default: /etc/ork/ork.toml, the file the daemon reads without
--config): syntax, known sections and keys, types, ranges and patterns. Prints each
error as FILE:LINE: message (FILE: message for the file as a whole) and exits 2, or
prints "FILE: ok" and exits 0. Without FILE, when /etc/ork/ork.toml does not exist,
says so and exits 0: the daemon then runs on its compiled-in defaults.
--defaults prints the compiled-in defaults as a TOML file.
)";

struct Args {
  std::vector<std::string_view> items;
  std::size_t pos = 0;
  bool more() const { return pos < items.size(); }
  std::string_view next() { return items[pos++]; }
};

int usage(const char* message, const char* help) {
  std::fprintf(stderr, "ork: %s\n\n%s", message, help);
  return 2;
}

bool isHelp(std::string_view a) { return a == "-h" || a == "--help" || a == "help"; }

// FILE:LINE: message, or FILE: message for the file as a whole (missing, a FIFO).
void printConfigErrors(const std::string& path, const std::vector<config::ConfigError>& errors) {
  for (const auto& e : errors) {
    if (e.line > 0) std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), e.line, e.message.c_str());
    else std::fprintf(stderr, "%s: %s\n", path.c_str(), e.message.c_str());
  }
}

// The file read without --config: config::kDefaultConfigPath, or $ORK_DEFAULT_CONFIG
// (for tests, so that they never depend on this host's /etc/ork). Empty when that
// variable is not an absolute path (a usage error).
std::string defaultConfigPath() {
  const char* env = std::getenv("ORK_DEFAULT_CONFIG");
  if (env == nullptr || *env == '\0') return config::kDefaultConfigPath;
  return env[0] == '/' ? std::string(env) : std::string();
}

bool absent(const std::vector<config::ConfigError>& errors) {
  return errors.size() == 1 && errors[0].line == 0 && errors[0].code == ENOENT;
}

// The configuration: the --config file, which must be valid, or else the default file
// when it exists. False (errors printed) when invalid or unreadable. `used`: the file
// the configuration came from ("" : none, the compiled-in defaults).
bool loadConfig(const std::string& given, config::Config& cfg, std::string& used) {
  const std::string path = given.empty() ? defaultConfigPath() : given;
  if (path.empty()) {
    std::fprintf(stderr, "ork: ORK_DEFAULT_CONFIG must be an absolute path\n");
    return false;
  }
  std::vector<config::ConfigError> errors;
  cfg = config::Config::load(path, errors);
  if (given.empty() && absent(errors)) {
    cfg = config::Config();
    used.clear();
    return true;
  }
  printConfigErrors(path, errors);
  used = path;
  return errors.empty();
}

// The options daemon and top share: what to watch and with which configuration.
struct Scope {
  std::string configPath;
  std::string cgroupDir;
  std::string procRoot = "/proc";
  std::string passwdPath = "/etc/passwd";
  bool passwdGiven = false;
};

enum class Taken { Yes, No, MissingValue, NotAbsolute };

// Takes one of --config, --cgroup, --proc, --passwd and its value.
Taken takeScopeOption(std::string_view a, Args& args, Scope& scope) {
  std::string* dst = a == "--config"   ? &scope.configPath
                     : a == "--cgroup" ? &scope.cgroupDir
                     : a == "--proc"   ? &scope.procRoot
                     : a == "--passwd" ? &scope.passwdPath
                                       : nullptr;
  if (dst == nullptr) return Taken::No;
  if (!args.more()) return Taken::MissingValue;
  *dst = std::string(args.next());
  scope.passwdGiven = scope.passwdGiven || dst == &scope.passwdPath;
  // An empty value ("--cgroup $UNSET") must never widen the scope to the whole host,
  // and a relative one depends on where ORK was started: both are refused.
  if (dst->empty() || dst->front() != '/') return Taken::NotAbsolute;
  return Taken::Yes;
}

int notAbsolute(std::string_view option, const char* help) {
  std::string m = std::string(option) + " needs an absolute path (it was empty or relative)";
  return usage(m.c_str(), help);
}

int missingValue(std::string_view option, const char* help) {
  std::string m = std::string(option) + " needs a value";
  return usage(m.c_str(), help);
}

// A --passwd file that cannot be read would leave every user a number, silently: it is
// refused (exit 2). The default /etc/passwd may be missing (a container): uids then.
bool passwdUnreadable(const Scope& scope, const char* help, int& exitCode) {
  if (!scope.passwdGiven) return false;
  auto text = sys::readRegularFile(scope.passwdPath, 16 << 20);
  if (text) return false;
  std::string m = "--passwd: " + std::string(text.error().what);
  exitCode = usage(m.c_str(), help);
  return true;
}

int runDaemon(Args& args) {
  // Before anything is written: ORK must never die of its own logging (a reader of its
  // stderr that went away raises SIGPIPE, whose default is to kill). The ork-virt
  // helpers get every signal back at its default (sys/Spawn.h).
  if (auto r = sys::ignoreSigpipe(); !r)
    std::fprintf(stderr, "ork: cannot ignore SIGPIPE, ignoring: %s\n", r.error().what);
  daemon::Options opts;
  Scope scope;
  bool procGiven = false;
  while (args.more()) {
    std::string_view a = args.next();
    Taken t = takeScopeOption(a, args, scope);
    if (t == Taken::Yes) {
      procGiven = procGiven || a == "--proc";
      continue;
    }
    if (t == Taken::MissingValue) return missingValue(a, kDaemonHelp);
    if (t == Taken::NotAbsolute) return notAbsolute(a, kDaemonHelp);
    if (isHelp(a)) {
      std::fputs(kDaemonHelp, stdout);
      return 0;
    } else if (a == "--dry-run") {
      opts.dryRun = true;
    } else if (a == "--quiet") {
      opts.mirrorStderr = false;
    } else if (a == "--no-protect") {
      opts.protectSelf = false;
    } else if (a == "--kmsg") {
      if (!args.more()) return missingValue(a, kDaemonHelp);
      opts.kmsgPath = std::string(args.next());
      if (opts.kmsgPath.empty() || opts.kmsgPath.front() != '/') return notAbsolute(a, kDaemonHelp);
    } else if (a == "--status-socket") {
      if (!args.more()) return missingValue(a, kDaemonHelp);
      opts.statusSocket = std::string(args.next());
      if (opts.statusSocket.empty() || opts.statusSocket.front() != '/') return notAbsolute(a, kDaemonHelp);
    } else if (a == "--state-dir") {
      if (!args.more()) return missingValue(a, kDaemonHelp);
      opts.stateDir = std::string(args.next());
      if (opts.stateDir.empty() || opts.stateDir.front() != '/') return notAbsolute(a, kDaemonHelp);
    } else {
      std::string m = "unknown option for daemon: " + std::string(a);
      return usage(m.c_str(), kDaemonHelp);
    }
  }
  // A fixture tree's PIDs and start times can match real processes: armed, ORK would
  // open pidfds on this host's PIDs and kill them.
  if (procGiven && !opts.dryRun)
    return usage("--proc needs --dry-run: the processes in DIR are not this host's, and "
                 "their PIDs could name real processes that ORK would kill",
                 kDaemonHelp);
  if (int rc = 0; passwdUnreadable(scope, kDaemonHelp, rc)) return rc;
  opts.cgroupDir = scope.cgroupDir;
  opts.procRoot = scope.procRoot;
  opts.passwdPath = scope.passwdPath;
  config::Config cfg;
  if (!loadConfig(scope.configPath, cfg, opts.configPath)) return 2;
  if (scope.configPath.empty()) opts.configDefault = defaultConfigPath();
  auto d = daemon::Daemon::create(opts, cfg);
  if (!d) {
    std::fprintf(stderr, "ork: cannot start: %s\n", d.error().what);
    return 1;
  }
  return (*d)->run();
}

int runTop(Args& args) {
  TopOptions opts;
  Scope scope;
  while (args.more()) {
    std::string_view a = args.next();
    Taken t = takeScopeOption(a, args, scope);
    if (t == Taken::Yes) continue;
    if (t == Taken::MissingValue) return missingValue(a, kTopHelp);
    if (t == Taken::NotAbsolute) return notAbsolute(a, kTopHelp);
    if (isHelp(a)) {
      std::fputs(kTopHelp, stdout);
      return 0;
    } else if (a == "--all") {
      opts.all = true;
    } else if (a == "--interval") {
      if (!args.more()) return missingValue(a, kTopHelp);
      std::string n(args.next());
      char* end = nullptr;
      double v = std::strtod(n.c_str(), &end);
      if (end == n.c_str() || *end != '\0' || !(v >= 0 && v <= 60))
        return usage("--interval needs a number of seconds from 0 to 60", kTopHelp);
      opts.interval = Millis{static_cast<long long>(v * 1000)};
    } else if (a == "-n") {
      if (!args.more()) return missingValue(a, kTopHelp);
      // Checked in the type it is kept in: "-n 4294967296" must not become 0.
      std::string_view n = args.next();
      int v = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v, 10);
      if (ec != std::errc{} || end != n.data() + n.size() || v <= 0)
        return usage("-n needs a whole number from 1 to 2147483647", kTopHelp);
      opts.limit = v;
    } else {
      std::string m = "unknown option for top: " + std::string(a);
      return usage(m.c_str(), kTopHelp);
    }
  }
  if (int rc = 0; passwdUnreadable(scope, kTopHelp, rc)) return rc;
  opts.cgroupDir = scope.cgroupDir;
  opts.procRoot = scope.procRoot;
  opts.passwdPath = scope.passwdPath;
  config::Config cfg;
  std::string used;
  if (!loadConfig(scope.configPath, cfg, used)) return 2;
  return runTopCommand(opts, cfg);
}

int runCheckConfig(Args& args) {
  std::string path;
  if (args.more()) {
    std::string_view a = args.next();
    if (isHelp(a)) {
      std::fputs(kCheckHelp, stdout);
      return 0;
    }
    if (args.more()) return usage("check-config takes one file", kCheckHelp);
    if (a == "--defaults") {
      std::fputs(config::Config().toToml().c_str(), stdout);
      return 0;
    }
    path = std::string(a);
  }
  const bool byDefault = path.empty();
  if (byDefault) {
    path = defaultConfigPath();
    if (path.empty()) return usage("ORK_DEFAULT_CONFIG must be an absolute path", kCheckHelp);
  }
  std::vector<config::ConfigError> errors;
  (void)config::Config::load(path, errors);
  if (byDefault && absent(errors)) {
    std::printf("%s: no such file: there is no configuration file, and ORK runs on its compiled-in defaults "
                "('ork check-config --defaults' prints them)\n",
                path.c_str());
    return 0;
  }
  printConfigErrors(path, errors);
  if (!errors.empty()) return 2;
  std::printf("%s: ok\n", path.c_str());
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) args.items.emplace_back(argv[i]);
  if (!args.more()) return usage("no command given", kMainHelp);
  std::string_view cmd = args.next();
  if (isHelp(cmd)) {
    std::fputs(kMainHelp, stdout);
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::printf("ork %s\n", ORK_VERSION);
    return 0;
  }
  if (cmd == "daemon") return runDaemon(args);
  if (cmd == "top") return runTop(args);
  if (cmd == "log") return runLogCommand({args.items.begin() + static_cast<std::ptrdiff_t>(args.pos), args.items.end()});
  if (cmd == "check-config") return runCheckConfig(args);
  if (cmd == "status") return runStatusCommand({args.items.begin() + static_cast<std::ptrdiff_t>(args.pos), args.items.end()});
  if (cmd == "events")
    return runEventsCommand({args.items.begin() + static_cast<std::ptrdiff_t>(args.pos), args.items.end()});
  std::string m = "unknown command: " + std::string(cmd);
  return usage(m.c_str(), kMainHelp);
}

}  // namespace ork::cli
