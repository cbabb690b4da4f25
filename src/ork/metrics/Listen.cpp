#include "ork/metrics/Listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ork::metrics {

bool parseListen(std::string_view text, ListenAddress& out, std::string& message) {
  // Appended to "\"", not `"\"" + std::string(...)`: GCC 12 at -O3 (Release) warns of a
  // bogus overlap in that operator+'s insert (-Werror=restrict, GCC bug 105329).
  std::string shown = "\"";
  shown.append(text.substr(0, 80)).append("\"");
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    message = shown + " has no port: write ADDRESS:PORT, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\"";
    return false;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    message = shown + ": the port must be a number in [1, 65535]";
    return false;
  }
  out = ListenAddress{};
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string h(host.substr(1, host.size() - 2));
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (::inet_pton(AF_INET6, h.c_str(), &a6->sin6_addr) != 1) {
      message = shown + ": \"" + h + "\" is not an IPv6 address";
      return false;
    }
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<std::uint16_t>(value));
    out.len = sizeof(sockaddr_in6);
    return true;
  }
  const std::string h(host);
  auto* a4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  if (h.empty() || ::inet_pton(AF_INET, h.c_str(), &a4->sin_addr) != 1) {
    message = shown + ": the address must be a literal IPv4 address (\"127.0.0.1\", \"0.0.0.0\") or a bracketed "
                      "IPv6 one (\"[::1]\"); host names are not resolved";
    return false;
  }
  a4->sin_family = AF_INET;
  a4->sin_port = htons(static_cast<std::uint16_t>(value));
  out.len = sizeof(sockaddr_in);
  return true;
}

Result<sys::UniqueFd> listenTcp(const ListenAddress& a) {
  sys::UniqueFd fd(::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::sys(errno, "socket");
  int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) return Error::sys(errno, "bind");
  if (::listen(fd.get(), 16) != 0) return Error::sys(errno, "listen");
  return fd;
}

}  // namespace ork::metrics
