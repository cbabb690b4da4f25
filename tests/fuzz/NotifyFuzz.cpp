// libFuzzer: parseNotifyAddress ($NOTIFY_SOCKET) and parseWatchdogInterval
// ($WATCHDOG_USEC, $WATCHDOG_PID). The first byte steers: even, the address; odd, the
// interval (the rest split at the first NUL into the two words). An address that parses
// fits sun_path and says its own length; an interval is 0 or within a year.
#include <string>

#include "fuzz/FuzzCheck.h"
#include "ork/parse/Notify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (size == 0) return 0;
  const std::string_view text = fuzz::asText(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    sockaddr_un addr{};
    socklen_t len = 0;
    if (parse::parseNotifyAddress(text, addr, len).ok()) {
      fuzz::check(len > offsetof(sockaddr_un, sun_path) && len <= sizeof addr);
      fuzz::check(addr.sun_family == AF_UNIX);
      fuzz::check(text[0] == '@' ? addr.sun_path[0] == '\0' : addr.sun_path[text.size()] == '\0');
    }
  } else {
    const std::size_t nul = text.find('\0');
    const std::string usec(text.substr(0, nul));
    const std::string pid = nul == std::string_view::npos ? std::string() : std::string(text.substr(nul + 1));
    const Nanos d = parse::parseWatchdogInterval(usec.c_str(), nul == std::string_view::npos ? nullptr : pid.c_str(), 4242);
    fuzz::check(d >= Nanos{0} && d <= Seconds{365LL * 24 * 3600});
  }
  return 0;
}
