// A small stream server inside the event loop, for GET /metrics (HTTP over TCP) and
// `ork status` (a Unix socket): non-blocking accept on the loop's epoll, at most
// kMaxConnections at once (more are accepted and closed at once, so that the listening
// socket never stays ready), a request of at most maxRequest bytes, every connection
// closed when its deadline passes (a slow or silent client holds a slot for `timeout`
// at most, and no memory beyond its bounded buffers). One request, one answer, close:
// nothing blocks the loop, nothing grows with what a client sends.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/sys/Epoll.h"
#include "ork/sys/Fd.h"

namespace ork::metrics {

class Server {
 public:
  static constexpr std::size_t kMaxConnections = 4;
  // request: what the client sent so far (at most maxRequest bytes); full: the limit is
  // reached (the answer must be an error); fd: the connection's, for its peer's
  // credentials. Returns the answer, or nullopt to wait for more.
  using Handler = std::function<std::optional<std::string>(std::string_view request, bool full, int fd)>;

  Server(std::size_t maxRequest, Nanos timeout, Handler handler)
      : maxRequest_(maxRequest), timeout_(timeout), handler_(std::move(handler)) {}
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Takes a listening, non-blocking socket and registers it: tags base .. base+kMax.
  Result<void> start(sys::UniqueFd listenFd, sys::Poller* poller, std::uint64_t tagBase);
  bool owns(std::uint64_t tag) const { return tag >= tagBase_ && tag <= tagBase_ + kMaxConnections; }
  void onReady(std::uint64_t tag, TimePoint now);
  // The earliest deadline of an open connection.
  TimePoint nextDue() const;
  void onTimer(TimePoint now);  // closes the connections past their deadline
  int open() const;             // connections open now
  std::uint64_t refused() const { return refused_; }  // accepted and closed: all slots busy

 private:
  struct Conn {
    sys::UniqueFd fd;
    std::string in;
    std::string out;
    std::size_t sent = 0;
    bool writing = false;
    TimePoint deadline;
  };
  void accept(TimePoint now);
  void readFrom(Conn& c, std::size_t slot);
  void writeTo(Conn& c, std::size_t slot);
  void close(Conn& c);

  std::size_t maxRequest_;
  Nanos timeout_;
  Handler handler_;
  sys::UniqueFd listen_;
  sys::Poller* poller_ = nullptr;
  std::uint64_t tagBase_ = 0;
  std::array<Conn, kMaxConnections> conns_;
  std::uint64_t refused_ = 0;
};

}  // namespace ork::metrics
