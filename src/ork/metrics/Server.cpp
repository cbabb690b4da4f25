#include "ork/metrics/Server.h"

#include <malloc.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace ork::metrics {

Server::~Server() {
  for (auto& c : conns_) close(c);
  if (listen_.valid() && poller_ != nullptr) (void)poller_->remove(listen_.get());
}

Result<void> Server::start(sys::UniqueFd listenFd, sys::Poller* poller, std::uint64_t tagBase) {
  listen_ = std::move(listenFd);
  poller_ = poller;
  tagBase_ = tagBase;
  return poller_->add(listen_.get(), EPOLLIN, tagBase_);
}

int Server::open() const {
  return static_cast<int>(std::count_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.fd.valid(); }));
}

TimePoint Server::nextDue() const {
  TimePoint t{Nanos::max()};
  for (const auto& c : conns_)
    if (c.fd.valid()) t = std::min(t, c.deadline);
  return t;
}

void Server::onTimer(TimePoint now) {
  for (auto& c : conns_)
    if (c.fd.valid() && now >= c.deadline) close(c);
}

void Server::close(Conn& c) {
  if (!c.fd.valid()) return;
  if (poller_ != nullptr) (void)poller_->remove(c.fd.get());
  c.fd.reset();
  // The buffers' memory goes back: an idle daemon keeps none (and what rendering the
  // answer took is returned to the system where the heap allows).
  const bool answered = c.out.capacity() > 0;
  std::string().swap(c.in);
  std::string().swap(c.out);
  if (answered) (void)::malloc_trim(0);
  c.sent = 0;
  c.writing = false;
}

void Server::accept(TimePoint now) {
  // A bounded number per turn: a flood of connections cannot keep the loop here.
  for (int i = 0; i < 16; ++i) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN (no more), or an error on that one connection
    sys::UniqueFd owned(fd);
    auto slot = std::find_if(conns_.begin(), conns_.end(), [](const Conn& c) { return !c.fd.valid(); });
    if (slot == conns_.end()) {
      ++refused_;
      continue;  // closed at once
    }
    const auto index = static_cast<std::uint64_t>(slot - conns_.begin());
    if (!poller_->add(fd, EPOLLIN | EPOLLRDHUP, tagBase_ + 1 + index)) continue;
    slot->fd = std::move(owned);
    slot->deadline = now + timeout_;
    slot->in.reserve(std::min<std::size_t>(maxRequest_, 512));
  }
}

void Server::readFrom(Conn& c, std::size_t slot) {
  char buf[1024];
  for (;;) {
    const std::size_t room = maxRequest_ - c.in.size();
    if (room == 0) break;
    ssize_t n = ::recv(c.fd.get(), buf, std::min(room, sizeof buf), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;  // the client closed its side: judge what came
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    close(c);
    return;
  }
  const bool full = c.in.size() >= maxRequest_;
  auto answer = handler_(c.in, full, c.fd.get());
  if (!answer) {
    // More is needed; a client that closed its side will never send it.
    char probe;
    if (::recv(c.fd.get(), &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0) close(c);
    return;
  }
  c.out = std::move(*answer);
  std::string().swap(c.in);
  c.writing = true;
  (void)::shutdown(c.fd.get(), SHUT_RD);
  writeTo(c, slot);
}

void Server::writeTo(Conn& c, std::size_t slot) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Wait for room: the fd is watched for writing now (and its deadline still holds).
      (void)poller_->remove(c.fd.get());
      if (!poller_->add(c.fd.get(), EPOLLOUT, tagBase_ + 1 + slot)) close(c);
      return;
    }
    close(c);
    return;
  }
  close(c);
}

void Server::onReady(std::uint64_t tag, TimePoint now) {
  if (tag == tagBase_) {
    accept(now);
    return;
  }
  const std::size_t slot = static_cast<std::size_t>(tag - tagBase_ - 1);
  if (slot >= conns_.size()) return;
  Conn& c = conns_[slot];
  if (!c.fd.valid()) return;
  if (c.writing) writeTo(c, slot);
  else readFrom(c, slot);
}

}  // namespace ork::metrics
