#include "ork/cli/Status.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "ork/metrics/Status.h"

namespace ork::cli {

namespace {
constexpr const char* kStatusHelp = R"(Usage: ork status [--json] [--status-socket PATH]

Asks the running daemon for its live state: for each resource what it senses, its
thresholds, its ladder step and the actions in flight; the VMs ORK holds (frozen,
hibernating); the last journal lines (up to 16). Root only: the daemon's socket is
0600 in a 0700 directory, and the daemon answers only a peer of uid 0.

Options:
  --json                 the same as JSON (every metric sample, as /metrics has them)
  --status-socket PATH   the daemon's socket (default /run/ork/status.sock; as given
                         to 'ork daemon --status-socket')
  -h, --help             this text

Exit codes: 0 answered, 1 no daemon, refused or failed, 2 bad usage.
)";
}  // namespace

int runStatusCommand(const std::vector<std::string_view>& args) {
  bool json = false;
  std::string path = metrics::kDefaultStatusSocket;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kStatusHelp, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--status-socket") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "ork: --status-socket needs a value\n\n%s", kStatusHelp);
        return 2;
      }
      path = std::string(args[++i]);
      if (path.empty() || path.front() != '/') {
        std::fprintf(stderr, "ork: --status-socket needs an absolute path (it was empty or relative)\n\n%s", kStatusHelp);
        return 2;
      }
    } else {
      std::fprintf(stderr, "ork: unknown option for status: %.*s\n\n%s", static_cast<int>(a.size()), a.data(), kStatusHelp);
      return 2;
    }
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "ork: ork status is for root (the daemon's socket %s is root's only): run it with sudo\n",
                 path.c_str());
    return 1;
  }
  return metrics::queryStatus(path, json);
}

}  // namespace ork::cli
