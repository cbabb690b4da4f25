// `ork status [--json] [--status-socket PATH]`: the running daemon's live state, asked
// over its status socket (metrics/Status.h).
#pragma once

#include <string_view>
#include <vector>

namespace ork::cli {

int runStatusCommand(const std::vector<std::string_view>& args);

}  // namespace ork::cli
