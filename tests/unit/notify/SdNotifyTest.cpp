// The sd_notify datagram protocol against a real AF_UNIX datagram socket standing in
// for systemd's (a path, and an abstract one), and the environment's parsing.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "ork/parse/Notify.h"
#include "ork/sys/SdNotify.h"

namespace ork::sys {
namespace {

// A datagram socket bound to address ($NOTIFY_SOCKET syntax), as systemd binds its own.
class Listener {
 public:
  explicit Listener(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    socklen_t len = 0;
    EXPECT_TRUE(parse::parseNotifyAddress(address, addr, len).ok());
    if (address[0] == '/') ::unlink(address.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    path_ = address[0] == '/' ? address : "";
  }
  ~Listener() {
    ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  // The next datagram ("" after 2 s without one).
  std::string next() {
    char buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  bool empty() {
    char buf[512];
    return ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) < 0;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

std::string tempSocketPath() { return "/tmp/ork-notify-test-" + std::to_string(::getpid()) + ".sock"; }

TEST(NotifyAddress, PathAndAbstract) {
  sockaddr_un a{};
  socklen_t len = 0;
  ASSERT_TRUE(parse::parseNotifyAddress("/run/systemd/notify", a, len).ok());
  EXPECT_STREQ(a.sun_path, "/run/systemd/notify");
  EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + 20);  // with its NUL
  ASSERT_TRUE(parse::parseNotifyAddress("@ork/notify", a, len).ok());
  EXPECT_EQ(a.sun_path[0], '\0');
  EXPECT_EQ(std::string(a.sun_path + 1, 10), "ork/notify");
  EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + 11);  // no NUL counted
}

TEST(NotifyAddress, RejectsWhatIsNotAnAddress) {
  sockaddr_un a{};
  socklen_t len = 0;
  EXPECT_FALSE(parse::parseNotifyAddress("", a, len).ok());
  EXPECT_FALSE(parse::parseNotifyAddress("@", a, len).ok());
  EXPECT_FALSE(parse::parseNotifyAddress("run/notify", a, len).ok());
  EXPECT_FALSE(parse::parseNotifyAddress("/" + std::string(200, 'x'), a, len).ok());
  EXPECT_FALSE(parse::parseNotifyAddress(std::string("/a\0b", 4), a, len).ok());
}

TEST(WatchdogInterval, FromTheEnvironmentsWords) {
  EXPECT_EQ(parse::parseWatchdogInterval("20000000", nullptr, 42), Seconds{20});
  EXPECT_EQ(parse::parseWatchdogInterval("20000000", "42", 42), Seconds{20});
  EXPECT_EQ(parse::parseWatchdogInterval("20000000", "43", 42), Nanos{0});  // another process's
  EXPECT_EQ(parse::parseWatchdogInterval(nullptr, "42", 42), Nanos{0});
  EXPECT_EQ(parse::parseWatchdogInterval("0", nullptr, 42), Nanos{0});
  EXPECT_EQ(parse::parseWatchdogInterval("12s", nullptr, 42), Nanos{0});
  EXPECT_EQ(parse::parseWatchdogInterval("-5", nullptr, 42), Nanos{0});
  EXPECT_EQ(parse::parseWatchdogInterval("", nullptr, 42), Nanos{0});
  EXPECT_EQ(parse::parseWatchdogInterval("99999999999999999999999", nullptr, 42), Nanos{0});
  EXPECT_EQ(parse::parseWatchdogInterval("20000000", "x42", 42), Nanos{0});
}

TEST(SdNotify, SendsDatagramsToAPathSocket) {
  const std::string path = tempSocketPath();
  Listener systemd(path);
  auto n = SdNotify::open(path, Nanos{0});
  ASSERT_TRUE(n.ok()) << n.error().what;
  EXPECT_TRUE(n->enabled());
  ASSERT_TRUE(n->send("READY=1").ok());
  EXPECT_EQ(systemd.next(), "READY=1");
  ASSERT_TRUE(n->send("RELOADING=1\nMONOTONIC_USEC=123").ok());
  EXPECT_EQ(systemd.next(), "RELOADING=1\nMONOTONIC_USEC=123");
}

TEST(SdNotify, SendsDatagramsToAnAbstractSocket) {
  const std::string name = "@ork-notify-test-" + std::to_string(::getpid());
  Listener systemd(name);
  auto n = SdNotify::open(name, Nanos{0});
  ASSERT_TRUE(n.ok()) << n.error().what;
  ASSERT_TRUE(n->send("STOPPING=1").ok());
  EXPECT_EQ(systemd.next(), "STOPPING=1");
}

TEST(SdNotify, AGoneSocketIsAnErrorNotAHang) {
  auto n = SdNotify::open("/tmp/ork-notify-nobody-" + std::to_string(::getpid()), Nanos{0});
  ASSERT_TRUE(n.ok());
  auto r = n->send("READY=1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOENT);
}

TEST(SdNotify, PingsAtMostEveryHalfInterval) {
  const std::string path = tempSocketPath();
  Listener systemd(path);
  auto n = SdNotify::open(path, Seconds{10});
  ASSERT_TRUE(n.ok());
  const TimePoint t0{Seconds{100}};
  EXPECT_EQ(n->pingSlack(t0), Nanos{0});  // never pinged: at once
  auto p = n->ping(t0);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(*p);
  EXPECT_EQ(systemd.next(), "WATCHDOG=1");
  EXPECT_EQ(n->pingSlack(t0 + Seconds{1}), Seconds{4});
  p = n->ping(t0 + Seconds{4});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);
  EXPECT_TRUE(systemd.empty());
  p = n->ping(t0 + Seconds{5});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(*p);
  EXPECT_EQ(systemd.next(), "WATCHDOG=1");
}

TEST(SdNotify, WithoutAWatchdogNoPing) {
  const std::string path = tempSocketPath();
  Listener systemd(path);
  auto n = SdNotify::open(path, Nanos{0});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->pingSlack(TimePoint{Seconds{5}}), Nanos::max());
  auto p = n->ping(TimePoint{Seconds{5}});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);
  EXPECT_TRUE(systemd.empty());
}

TEST(SdNotify, FromTheEnvironmentWhichIsThenCleared) {
  const std::string path = tempSocketPath();
  Listener systemd(path);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  auto n = SdNotify::fromEnvironment();
  ASSERT_TRUE(n.ok()) << n.error().what;
  EXPECT_TRUE(n->enabled());
  EXPECT_EQ(n->watchdog(), Seconds{3});
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr);
  EXPECT_EQ(std::getenv("WATCHDOG_PID"), nullptr);
  ASSERT_TRUE(n->send("READY=1").ok());
  EXPECT_EQ(systemd.next(), "READY=1");
  // Not under systemd: disabled, every call a no-op.
  auto none = SdNotify::fromEnvironment();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->enabled());
  EXPECT_TRUE(none->send("READY=1").ok());
  // A malformed socket is an error, and the environment is cleared all the same.
  ::setenv("NOTIFY_SOCKET", "relative/notify", 1);
  EXPECT_FALSE(SdNotify::fromEnvironment().ok());
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
}

}  // namespace
}  // namespace ork::sys
