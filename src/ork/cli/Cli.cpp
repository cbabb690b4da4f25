#include "ork/cli/Cli.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ork/cli/Log.h"
#include "ork/cli/Top.h"
#include "ork/config/Config.h"
#include "ork/daemon/Daemon.h"
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
                    any error stops ORK with exit code 2)
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
  --all             also list processes that are never candidates, and why
  -h, --help        this text
)";

constexpr const char* kCheckHelp = R"(Usage: ork check-config FILE
       ork check-config --defaults

Validates FILE: syntax, known sections and keys, types, ranges and patterns.
Prints each error as FILE:LINE: message and exits 2, or prints "FILE: ok" and exits 0.
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

bool loadConfig(const std::string& path, config::Config& cfg) {
  if (path.empty()) return true;
  std::vector<config::ConfigError> errors;
  cfg = config::Config::load(path, errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), e.line, e.message.c_str());
  return errors.empty();
}

// The options daemon and top share: what to watch and with which configuration.
struct Scope {
  std::string configPath;
  std::string cgroupDir;
  std::string procRoot = "/proc";
  std::string passwdPath = "/etc/passwd";
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
  opts.cgroupDir = scope.cgroupDir;
  opts.procRoot = scope.procRoot;
  opts.passwdPath = scope.passwdPath;
  opts.configPath = scope.configPath;
  config::Config cfg;
  if (!loadConfig(scope.configPath, cfg)) return 2;
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
    } else if (a == "-n") {
      if (!args.more()) return missingValue(a, kTopHelp);
      std::string n(args.next());
      char* end = nullptr;
      long v = std::strtol(n.c_str(), &end, 10);
      if (end == n.c_str() || *end != '\0' || v <= 0) return usage("-n needs a positive number", kTopHelp);
      opts.limit = static_cast<int>(v);
    } else {
      std::string m = "unknown option for top: " + std::string(a);
      return usage(m.c_str(), kTopHelp);
    }
  }
  opts.cgroupDir = scope.cgroupDir;
  opts.procRoot = scope.procRoot;
  opts.passwdPath = scope.passwdPath;
  config::Config cfg;
  if (!loadConfig(scope.configPath, cfg)) return 2;
  return runTopCommand(opts, cfg);
}

int runCheckConfig(Args& args) {
  if (!args.more()) return usage("check-config needs a file", kCheckHelp);
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
  std::string path(a);
  std::vector<config::ConfigError> errors;
  (void)config::Config::load(path, errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), e.line, e.message.c_str());
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
  std::string m = "unknown command: " + std::string(cmd);
  return usage(m.c_str(), kMainHelp);
}

}  // namespace ork::cli
