// [metrics] listen: "ADDRESS:PORT", ADDRESS a literal IPv4 address or a bracketed IPv6
// one ("[::1]:9464"). No host names: the daemon never resolves a name (a DNS query
// would block its loop), and check-config says so.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::metrics {

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

// False with a message (for check-config and the journal) when text is not one.
bool parseListen(std::string_view text, ListenAddress& out, std::string& message);

// A listening, non-blocking TCP socket on it (SO_REUSEADDR, backlog 16).
Result<sys::UniqueFd> listenTcp(const ListenAddress& a);

}  // namespace ork::metrics
