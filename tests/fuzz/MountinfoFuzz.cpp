// libFuzzer: cgroupDirFromMountinfo (/proc/self/mountinfo, Mountinfo.h). Input: a steer
// byte choosing the v1 controller ("" = cgroup2), the cgroup path up to the first
// '\n', then the mountinfo text.
#include <string>

#include "ork/parse/Mountinfo.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  constexpr std::string_view kControllers[] = {"", "freezer", "memory", "cpu"};
  const std::string_view controller = kControllers[fuzz::takeSteer(text) % 4];
  const std::size_t nl = text.find('\n');
  const std::string_view path = text.substr(0, nl);
  const std::string_view mountinfo = nl == std::string_view::npos ? "" : text.substr(nl + 1);
  if (const auto dir = parse::cgroupDirFromMountinfo(mountinfo, path, controller); dir.ok()) {
    // Only absolute paths that never climb ("/..") name a directory, which ends with the
    // path's part below the mount's root.
    fuzz::check(path.starts_with('/') && path.find("/..") == std::string_view::npos);
    fuzz::check(!dir->empty());
  }
  return 0;
}
