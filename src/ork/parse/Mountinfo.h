// Where a process's cgroup is in the file system: /proc/PID/cgroup names the cgroup
// relative to its hierarchy, /proc/self/mountinfo says where each hierarchy (or a part
// of it) is mounted. Pure; used by sys::freezerFor.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ork/core/Result.h"

namespace ork::parse {

// The cgroup path in /proc/PID/cgroup text: of the "0::" line when v1Controller is
// empty, else of the v1 line whose controller list includes v1Controller (e.g.
// "freezer" in "6:freezer:/machine/x"). nullopt when there is no such line. The view
// points into text.
std::optional<std::string_view> cgroupPathIn(std::string_view procCgroup,
                                             std::string_view v1Controller);

// The directory of cgroupPath (as /proc/PID/cgroup gives it) in a mounted hierarchy:
// cgroup2 when v1Controller is empty, else the v1 hierarchy carrying v1Controller.
// Mount points are unescaped (\040 is a space); a mount hidden by a later mount on the
// same point is not used; a mount of a subtree (root other than "/") serves only the
// paths below it. Errors (code 0): no such hierarchy mounted, or the path is outside
// every mount of it (e.g. "/../x" from another cgroup namespace).
Result<std::string> cgroupDirFromMountinfo(std::string_view mountinfo, std::string_view cgroupPath,
                                           std::string_view v1Controller);

}  // namespace ork::parse
