#include "ork/parse/FrozenState.h"

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

namespace {
constexpr int kCode = EPROTO;

bool plainToken(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  return true;
}
}  // namespace

const char* toString(FrozenRecord::Method m) {
  switch (m) {
    case FrozenRecord::Method::Libvirt: return "libvirt";
    case FrozenRecord::Method::CgroupV1: return "cgroup_v1";
    case FrozenRecord::Method::CgroupV2: return "cgroup_v2";
  }
  return "libvirt";
}

Result<FrozenRecord> parseFrozenRecord(std::string_view line) {
  std::string_view rest = line;
  std::string_view kind = detail::nextToken(rest);
  std::string_view pid = detail::nextToken(rest);
  std::string_view start = detail::nextToken(rest);
  std::string_view uuid = detail::nextToken(rest);
  std::string_view dir = detail::nextToken(rest);
  if (!detail::nextToken(rest).empty()) return Error::make(kCode, "frozen record: trailing fields");
  FrozenRecord r;
  if (kind == "libvirt") r.method = FrozenRecord::Method::Libvirt;
  else if (kind == "cgroup_v1") r.method = FrozenRecord::Method::CgroupV1;
  else if (kind == "cgroup_v2") r.method = FrozenRecord::Method::CgroupV2;
  else return Error::make(kCode, "frozen record: unknown method");
  if (!detail::parseInt(pid, r.pid) || r.pid <= 0) return Error::make(kCode, "frozen record: bad pid");
  if (!detail::parseInt(start, r.startTimeTicks)) return Error::make(kCode, "frozen record: bad start time");
  if (!plainToken(uuid) || !plainToken(dir)) return Error::make(kCode, "frozen record: missing field");
  r.uuid = uuid == "-" ? std::string_view() : uuid;
  r.dir = dir == "-" ? std::string_view() : dir;
  if (r.method != FrozenRecord::Method::Libvirt && (r.dir.empty() || r.dir.front() != '/'))
    return Error::make(kCode, "frozen record: a cgroup record needs an absolute cgroup dir");
  if (r.method == FrozenRecord::Method::Libvirt && r.uuid.empty())
    return Error::make(kCode, "frozen record: a libvirt record needs the domain's uuid");
  return r;
}

std::string formatFrozenRecord(FrozenRecord::Method method, int pid, std::uint64_t startTimeTicks,
                               std::string_view uuid, std::string_view dir) {
  std::string out = toString(method);
  out += ' ';
  out += std::to_string(pid);
  out += ' ';
  out += std::to_string(startTimeTicks);
  out += ' ';
  out += plainToken(uuid) && uuid != "-" ? uuid : std::string_view("-");
  out += ' ';
  out += plainToken(dir) && dir != "-" ? dir : std::string_view("-");
  out += '\n';
  return out;
}

}  // namespace ork::parse
