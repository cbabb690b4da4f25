// `ork log`: ORK's lines of the kernel log (or of a journal file), as a person reads
// them, optionally following new ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ork::cli {

// The options after "log"; returns the exit code (0, 1 unreadable, 2 usage).
int runLogCommand(const std::vector<std::string_view>& args);

// One line as `ork log` prints it: the local time ("2026-12-01 09:24:33.123", or "-"
// when unknown), the tag ("ork[812]"), then journal::renderBody of the body.
std::string formatLogLine(std::string_view time, int pid, std::string_view body);
// The local time of a wall-clock instant (ns since the epoch), as formatLogLine shows it.
std::string localTime(std::int64_t wallNs);
// A journal file's stamp ("2026-12-01T09:24:33.123456+01:00") as formatLogLine shows it:
// the writer's local time, to the millisecond.
std::string stampTime(std::string_view stamp);

}  // namespace ork::cli
