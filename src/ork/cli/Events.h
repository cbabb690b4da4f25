// `ork events`: what happened, after the fact, from the flight recorder's file.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ork::cli {

// The options after "events"; returns the exit code (0, 1 unreadable, 2 usage).
int runEventsCommand(const std::vector<std::string_view>& args);

// "--since" as given: a duration back from now ("90s", "30m", "2h", "3d") or a local
// time ("2026-11-30 21:36", "2026-11-30T21:36:05"). false when neither.
bool parseSince(std::string_view text, std::int64_t nowNs, std::int64_t& sinceNs);

}  // namespace ork::cli
