// ORK's record of the VMs it froze (--state-dir/frozen-vms): one line per VM,
//   <method> <pid> <start time ticks> <uuid or -> <cgroup dir or ->
// method one of libvirt, cgroup_v1, cgroup_v2. Written by ladder/VmFleet, read back by
// the next run; a line that does not parse is skipped, never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ork/core/Result.h"

namespace ork::parse {

struct FrozenRecord {
  enum class Method { Libvirt, CgroupV1, CgroupV2 };
  Method method = Method::Libvirt;
  int pid = 0;
  std::uint64_t startTimeTicks = 0;
  std::string_view uuid;  // empty for "-"; points into the line
  std::string_view dir;   // empty for "-"; absolute for the cgroup methods
};

// One line (without its newline). Errors: a missing or bad field, a method not known,
// a cgroup record without an absolute dir, a token with a control byte, trailing fields.
Result<FrozenRecord> parseFrozenRecord(std::string_view line);

// The line for one record (with its newline). uuid and dir must be free of blanks and
// control bytes (a UUID, a cgroup path): anything else is written as "-".
std::string formatFrozenRecord(FrozenRecord::Method method, int pid, std::uint64_t startTimeTicks,
                               std::string_view uuid, std::string_view dir);

const char* toString(FrozenRecord::Method m);

}  // namespace ork::parse
