#include "ork/parse/Notify.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ork::parse {

Result<void> parseNotifyAddress(std::string_view text, sockaddr_un& addr, socklen_t& len) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (text.size() < 2 || (text[0] != '/' && text[0] != '@'))
    return Error::make(EINVAL, "NOTIFY_SOCKET: not an absolute path nor @abstract: \"%.*s\"",
                       static_cast<int>(std::min<std::size_t>(text.size(), 64)), text.data());
  if (text.size() >= sizeof addr.sun_path)
    return Error::make(EINVAL, "NOTIFY_SOCKET: longer than %zu bytes", sizeof addr.sun_path - 1);
  if (text.find('\0') != std::string_view::npos) return Error::make(EINVAL, "NOTIFY_SOCKET: a NUL inside");
  std::memcpy(addr.sun_path, text.data(), text.size());
  if (text[0] == '@') {
    addr.sun_path[0] = '\0';
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size());
  } else {
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
  }
  return success();
}

namespace {
// A decimal unsigned number, whole; false for anything else (empty, a sign, overflow).
bool parseUnsigned(const char* s, std::uint64_t& out) {
  if (s == nullptr || *s == '\0') return false;
  std::uint64_t v = 0;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  out = v;
  return true;
}
}  // namespace

Nanos parseWatchdogInterval(const char* usec, const char* pid, int selfPid) {
  std::uint64_t us = 0;
  if (!parseUnsigned(usec, us) || us == 0) return Nanos{0};
  if (pid != nullptr) {
    std::uint64_t p = 0;
    if (!parseUnsigned(pid, p) || p != static_cast<std::uint64_t>(selfPid)) return Nanos{0};
  }
  constexpr std::uint64_t kYearUs = 365ULL * 24 * 3600 * 1000000;
  return Micros{static_cast<std::int64_t>(std::min(us, kYearUs))};
}

}  // namespace ork::parse
