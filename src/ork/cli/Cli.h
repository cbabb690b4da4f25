// The `ork` command line: daemon, top, log, check-config, version, help.
#pragma once

namespace ork::cli {

// Returns the process exit code: 0 success, 1 runtime failure, 2 usage error or
// invalid configuration.
int run(int argc, char** argv);

}  // namespace ork::cli
