// The two request parsers of metrics/: an HTTP/1.x request for GET /metrics, and the
// one-line request of `ork status`. Pure functions of the bytes received so far (no
// socket, no journal), fuzzed by tests/fuzz/MetricsRequestFuzz.cpp.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ork::metrics {

// The whole HTTP response to `request`, or nullopt while its headers are incomplete
// (full: no more will be read, the answer is 431). body() is called only for a 200.
std::optional<std::string> httpAnswer(std::string_view request, bool full, const std::function<std::string()>& body);

// The answer to a status request from a peer of `uid`: render(json) for "text\n" or
// "json\n" from root, an "error: ..." line otherwise, nullopt while the line is
// incomplete.
std::optional<std::string> statusAnswer(std::string_view request, bool full, uid_t uid,
                                        const std::function<std::string(bool)>& render);

}  // namespace ork::metrics
