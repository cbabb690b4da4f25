#include "ork/parse/Mountinfo.h"
#include "ork/parse/Mounts.h"

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::kParseErrorCode;
using detail::LineReader;

namespace {

bool listHas(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

struct MountLine {
  std::string_view root;
  std::string_view mountPoint;  // still escaped
  std::string_view fsType;
  std::string_view superOptions;
};

// "36 25 0:31 / /sys/fs/cgroup/freezer rw,relatime shared:9 - cgroup cgroup rw,freezer"
bool splitMountLine(std::string_view line, MountLine& out) {
  std::string_view rest = line;
  std::string_view field;
  for (int i = 0; i < 3; ++i) {
    if (detail::nextToken(rest).empty()) return false;  // id, parent, major:minor
  }
  out.root = detail::nextToken(rest);
  out.mountPoint = detail::nextToken(rest);
  if (out.root.empty() || out.mountPoint.empty()) return false;
  // Optional fields run up to a lone "-".
  do {
    field = detail::nextToken(rest);
    if (field.empty()) return false;
  } while (field != "-");
  out.fsType = detail::nextToken(rest);
  detail::nextToken(rest);  // source
  out.superOptions = detail::nextToken(rest);
  return !out.fsType.empty();
}

}  // namespace

std::optional<std::string_view> cgroupPathIn(std::string_view procCgroup,
                                             std::string_view v1Controller) {
  LineReader lines(procCgroup);
  std::string_view line;
  while (lines.next(line)) {
    // "hierarchy-ID:controller-list:path"; the path itself may hold ':'.
    const std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view hierarchy = line.substr(0, c1);
    const std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string_view path = line.substr(c2 + 1);
    if (path.empty() || path.front() != '/') continue;
    if (v1Controller.empty()) {
      if (hierarchy == "0" && controllers.empty()) return path;
    } else if (hierarchy != "0" && listHas(controllers, v1Controller)) {
      return path;
    }
  }
  return std::nullopt;
}

Result<std::string> cgroupDirFromMountinfo(std::string_view mountinfo, std::string_view cgroupPath,
                                           std::string_view v1Controller) {
  const bool v2 = v1Controller.empty();
  const char* what = v2 ? "cgroup2" : "cgroup v1 ";
  const std::string_view controller = v2 ? std::string_view() : v1Controller;
  // A path that climbs ("/../..": the process is outside ORK's cgroup namespace) has
  // no directory ORK can name.
  if (cgroupPath.empty() || cgroupPath.front() != '/' ||
      cgroupPath.find("/..") != std::string_view::npos) {
    return Error::make(kParseErrorCode, "cgroup path \"%.*s\" is not below a hierarchy root",
                       static_cast<int>(cgroupPath.size() > 100 ? 100 : cgroupPath.size()),
                       cgroupPath.data());
  }

  bool anyMount = false;
  bool found = false;
  MountLine best;
  LineReader lines(mountinfo);
  std::string_view line;
  while (lines.next(line)) {
    MountLine m;
    if (!splitMountLine(line, m)) continue;
    // A later mount on the same point hides the earlier one.
    if (found && m.mountPoint == best.mountPoint) found = false;
    const bool match =
        v2 ? m.fsType == "cgroup2" : m.fsType == "cgroup" && listHas(m.superOptions, controller);
    if (!match) continue;
    anyMount = true;
    const bool rootIsSlash = m.root == "/";
    const bool covers =
        rootIsSlash || cgroupPath == m.root ||
        (cgroupPath.size() > m.root.size() && cgroupPath.substr(0, m.root.size()) == m.root &&
         cgroupPath[m.root.size()] == '/');
    if (!covers) continue;
    // Prefer the whole hierarchy; among subtree mounts, the first one that covers.
    if (!found || (rootIsSlash && best.root != "/")) {
      best = m;
      found = true;
    }
  }
  if (!anyMount) {
    return Error::make(kParseErrorCode, "no %s%.*s hierarchy is mounted", what,
                       static_cast<int>(controller.size()), controller.data());
  }
  if (!found) {
    return Error::make(
        kParseErrorCode, "cgroup %.*s is outside every mount of the %s%.*s hierarchy",
        static_cast<int>(cgroupPath.size() > 100 ? 100 : cgroupPath.size()), cgroupPath.data(),
        what, static_cast<int>(controller.size()), controller.data());
  }
  std::string dir = unescapeMountField(best.mountPoint);
  std::string_view rel = best.root == "/" ? cgroupPath : cgroupPath.substr(best.root.size());
  if (rel == "/") rel = {};
  if (dir == "/" && !rel.empty()) dir.clear();
  dir.append(rel);
  return dir;
}

}  // namespace ork::parse
