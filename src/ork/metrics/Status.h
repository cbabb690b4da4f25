// `ork status`: the running daemon's live state over a Unix socket only root may use.
// The daemon (StatusServer, a part of its loop) listens on the socket (default
// kDefaultStatusSocket; --status-socket PATH), in a directory it creates 0700, the
// socket itself 0600, and answers only a peer whose SO_PEERCRED uid is 0. The protocol:
// the client sends one line, "text" or "json", and reads the answer until the daemon
// closes. A socket left by a dead daemon is replaced; one a live daemon serves is left
// to it (a warning, this daemon goes on without status).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "ork/ladder/Ladder.h"
#include "ork/metrics/Server.h"

namespace ork::journal {
class Journal;
}

namespace ork::metrics {

inline constexpr const char* kDefaultStatusSocket = "/run/ork/status.sock";

class StatusServer final : public ladder::Part {
 public:
  // render(json): the whole answer (daemon/Observe.h).
  StatusServer(std::string path, journal::Journal* journal, std::function<std::string(bool json)> render)
      : path_(std::move(path)), journal_(journal), render_(std::move(render)) {}
  ~StatusServer() override;
  const char* name() const override { return "status"; }

  // Creates the directory and the socket; a failure is a warning, ORK goes on.
  void start(TimePoint now);
  TimePoint nextDue() const override { return server_ ? server_->nextDue() : TimePoint{Nanos::max()}; }
  void onTimer(TimePoint now) override {
    if (server_) server_->onTimer(now);
  }
  void onReady(std::uint64_t tag, TimePoint now) override {
    if (server_) server_->onReady(tag, now);
  }
  void stop(TimePoint now) override;  // removes the socket (when still its own)
  bool serving() const { return server_ != nullptr; }

  // The answer to a request from a peer of uid `uid` (for tests): nullopt when more is
  // needed.
  static std::optional<std::string> answer(std::string_view request, bool full, uid_t uid,
                                           const std::function<std::string(bool)>& render);

 private:
  std::string path_;
  journal::Journal* journal_;
  std::function<std::string(bool)> render_;
  std::unique_ptr<Server> server_;
  ino_t ino_ = 0;  // the socket's inode: removed at stop only if still this one
};

// The client: asks the daemon at path, prints the answer on stdout. Returns the exit
// code (0, 1 no daemon / refused / failed, with a message on stderr).
int queryStatus(const std::string& path, bool json);

}  // namespace ork::metrics
