#include "ork/metrics/Status.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ork/journal/Journal.h"
#include "ork/metrics/Requests.h"

namespace ork::metrics {

namespace {
constexpr std::size_t kMaxRequest = 64;
constexpr Nanos kTimeout = Seconds{5};
constexpr std::uint64_t kTagServer = 1;
constexpr int kClientTimeoutMs = 10000;

bool socketAddress(const std::string& path, sockaddr_un& a) {
  std::memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) return false;
  std::memcpy(a.sun_path, path.data(), path.size());
  return true;
}

std::string parentOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}
}  // namespace

std::optional<std::string> StatusServer::answer(std::string_view request, bool full, uid_t uid,
                                                const std::function<std::string(bool)>& render) {
  return statusAnswer(request, full, uid, render);
}

StatusServer::~StatusServer() = default;

void StatusServer::start(TimePoint now) {
  auto warn = [&](const char* detail, int code) {
    journal::Line w("warning");
    Error e = Error::sys(code, detail);
    w.word("what", "status_unavailable").str("socket", path_).str("detail", code != 0 ? e.what : detail)
        .str("consequence", "no ork status; ORK goes on");
    journal_->write(w, journal::Priority::Warning, now);
  };
  sockaddr_un a;
  if (!socketAddress(path_, a)) return warn("socket path too long", 0);
  const std::string dir = parentOf(path_);
  if (::mkdir(dir.c_str(), 0700) == 0) {
    (void)::chmod(dir.c_str(), 0700);  // whatever the umask
  } else if (const int e = errno; e != EEXIST) {
    return warn(("mkdir " + dir).c_str(), e);
  }
  sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return warn("socket", errno);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    if (const int e = errno; e != EADDRINUSE) return warn(("bind " + path_).c_str(), e);
    // Something is there: a live daemon's socket is left to it, a dead one's replaced.
    struct stat st{};
    if (::lstat(path_.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return warn("the path exists and is not a socket", 0);
    sys::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0)
      return warn("another ORK serves status on this socket", 0);
    (void)::unlink(path_.c_str());
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
      const int e = errno;
      return warn(("bind " + path_).c_str(), e);
    }
  }
  (void)::chmod(path_.c_str(), 0600);  // the directory (0700) already keeps others out
  struct stat st{};
  if (::stat(path_.c_str(), &st) == 0) ino_ = st.st_ino;
  if (::listen(fd.get(), 8) != 0) return warn("listen", errno);
  auto server = std::make_unique<Server>(kMaxRequest, kTimeout, [this](std::string_view req, bool full, int cfd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    uid_t uid = static_cast<uid_t>(-1);
    if (::getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) uid = cred.uid;
    return answer(req, full, uid, render_);
  });
  if (auto r = server->start(std::move(fd), poller_, kTagServer); !r) return warn(r.error().what, 0);
  server_ = std::move(server);
}

void StatusServer::stop(TimePoint now) {
  (void)now;
  if (!server_) return;
  server_.reset();
  struct stat st{};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_ino == ino_) (void)::unlink(path_.c_str());
}

int queryStatus(const std::string& path, bool json) {
  sockaddr_un a;
  if (!socketAddress(path, a)) {
    std::fprintf(stderr, "ork: status socket path too long: %s\n", path.c_str());
    return 1;
  }
  sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ECONNREFUSED)
      std::fprintf(stderr, "ork: the daemon is not running (nothing answers on %s%s)\n", path.c_str(),
                   e == ECONNREFUSED ? ": a socket left by a daemon that stopped" : "");
    else if (e == EACCES || e == EPERM)
      std::fprintf(stderr, "ork: %s: permission denied: ork status is for root\n", path.c_str());
    else
      std::fprintf(stderr, "ork: cannot reach the daemon at %s: %s\n", path.c_str(), std::strerror(e));
    return 1;
  }
  const char* req = json ? "json\n" : "text\n";
  if (::send(fd.get(), req, std::strlen(req), MSG_NOSIGNAL) < 0) {
    std::fprintf(stderr, "ork: cannot ask the daemon at %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    int r = ::poll(&p, 1, kClientTimeoutMs);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      std::fprintf(stderr, "ork: the daemon at %s did not answer within %d s\n", path.c_str(), kClientTimeoutMs / 1000);
      return 1;
    }
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "ork: reading the daemon's answer: %s\n", std::strerror(errno));
      return 1;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  if (out.starts_with("error: ")) {
    std::fprintf(stderr, "ork: %s", out.c_str() + 7);
    return 1;
  }
  if (out.empty()) {
    std::fprintf(stderr, "ork: the daemon at %s closed without answering\n", path.c_str());
    return 1;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace ork::metrics
