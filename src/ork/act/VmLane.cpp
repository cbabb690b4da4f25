#include "ork/act/VmLane.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "ork/sys/Epoll.h"
#include "ork/sys/Spawn.h"

namespace ork::act {

namespace {

using sys::isExecutableFile;

// Whole milliseconds, rounded up: a deadline is never shortened in transit.
std::uint64_t ceilMillis(Nanos d) {
  if (d <= Nanos{0}) return 0;
  return static_cast<std::uint64_t>((d.count() + 999'999) / 1'000'000);
}

}  // namespace

VmLane::VmLane(Options o) : opt_(std::move(o)) {
  if (opt_.name.empty()) opt_.name = "vm";
}

VmLane::~VmLane() {
  stop();
  // Shutting down: waiting for the SIGKILLed helpers to die is fine now (milliseconds).
  for (auto& d : dying_) {
    if (opt_.epoll != nullptr && d.pidfd.valid()) (void)opt_.epoll->remove(d.pidfd.get());
    sys::reapChildBlocking(d.pid);
  }
}

Result<void> VmLane::start() {
  if (opt_.helperPath.empty())
    return Error::make(ENOENT,
                       "%s: no ork-virt helper found (ORK_VIRT_HELPER, next to ork, "
                       "/usr/libexec/ork/ork-virt)",
                       opt_.name.c_str());
  if (!isExecutableFile(opt_.helperPath))
    return Error::make(ENOENT, "%s: helper %s is not an executable file", opt_.name.c_str(),
                       opt_.helperPath.c_str());
  std::vector<std::string> args = {opt_.helperPath, "serve", "--uri", opt_.uri};
  if (opt_.readOnly) args.emplace_back("--read-only");
  auto h = sys::spawnHelper(args);
  if (!h) return Error::make(h.error().code, "%s: %s", opt_.name.c_str(), h.error().what);

  if (opt_.epoll != nullptr) {
    if (auto r = opt_.epoll->add(h->sock.get(), EPOLLIN, opt_.epollTag); !r) {
      sys::killHelperGroup(h->pid, h->pidfd.get());  // our unreaped child
      sys::reapChildBlocking(h->pid);
      return r.error();
    }
  }
  sock_ = std::move(h->sock);
  pidfd_ = std::move(h->pidfd);
  pid_ = h->pid;
  return success();
}

std::string VmLane::stop() {
  if (pid_ == 0) return "ork-virt not running";
  if (opt_.epoll != nullptr && sock_.valid()) (void)opt_.epoll->remove(sock_.get());
  sock_.reset();
  std::string how = "ork-virt (pid " + std::to_string(pid_) + ") ";
  if (auto end = sys::peekChild(pid_)) {
    how += end->describe();  // it had already ended on its own
  } else {
    how += "sent SIGKILL";
  }
  // The whole process group, also when the helper ended on its own: what it started
  // (the ssh of a qemu+ssh:// URI) must not outlive it, restart after restart.
  sys::killHelperGroup(pid_, pidfd_.get());
  if (!sys::reapChild(pid_)) {
    // Dying, not dead yet: reaped when its pidfd becomes readable (same epoll tag) or
    // on a later call.
    if (opt_.epoll != nullptr && pidfd_.valid())
      (void)opt_.epoll->add(pidfd_.get(), EPOLLIN, opt_.epollTag);
    dying_.push_back({pid_, std::move(pidfd_)});
  }
  pidfd_.reset();
  pid_ = 0;
  return how;
}

void VmLane::reapDying() {
  std::erase_if(dying_, [this](Dying& d) {
    if (!sys::reapChild(d.pid)) return false;
    if (opt_.epoll != nullptr && d.pidfd.valid()) (void)opt_.epoll->remove(d.pidfd.get());
    return true;
  });
}

VmReply VmLane::failure(Pending&& p, int code, std::string message) const {
  VmReply r;
  r.id = p.id;
  r.op = p.op;
  r.uuid = std::move(p.uuid);
  r.ok = false;
  r.code = code;
  r.message = std::move(message);
  r.took = lastNow_ > p.submitted ? lastNow_ - p.submitted : Nanos{0};
  return r;
}

int VmLane::failAll(const std::string& why, const TimePoint* now, const Callback& cb) {
  // Moved out first: a callback may submit again (and so start a new helper).
  std::vector<Pending> lost = std::move(pending_);
  pending_.clear();
  const std::string how = stop();
  int n = 0;
  for (auto& p : lost) {
    const bool late = now != nullptr && p.deadline + opt_.grace <= *now;
    std::string msg = opt_.name + ": " + std::string(parse::virtOpName(p.op));
    if (!p.uuid.empty()) msg += " " + p.uuid;
    if (late) {
      msg += ": no answer within " + std::to_string(ceilMillis(p.deadline - p.submitted)) +
             " ms; " + how;
    } else {
      msg += ": " + why + "; " + how;
    }
    cb(failure(std::move(p), late ? kVmDeadline : kVmHelperDied, std::move(msg)));
    ++n;
  }
  return n;
}

int VmLane::flushFailed(const Callback& cb) {
  std::vector<VmReply> out = std::move(failed_);
  failed_.clear();
  for (auto& r : out) cb(std::move(r));
  return static_cast<int>(out.size());
}

Result<std::uint64_t> VmLane::submit(VmOp op, std::string_view uuid, TimePoint now,
                                     Nanos deadline) {
  lastNow_ = now;
  reapDying();
  const bool needsUuid = op == VmOp::Save || op == VmOp::Suspend || op == VmOp::Resume;
  if (needsUuid && uuid.empty())
    return Error::make(EINVAL, "%s: %s needs a domain uuid", opt_.name.c_str(),
                       std::string(parse::virtOpName(op)).c_str());
  parse::VirtRequest req;
  req.id = nextId_;
  req.op = op;
  req.uuid = std::string(uuid);
  req.deadlineMs = ceilMillis(deadline);
  const std::string packet = parse::encodeVirtRequest(req);

  // Twice at most: a helper found dead while sending is replaced once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (pid_ == 0) {
      if (auto r = start(); !r) return r.error();
    }
    const auto sent = sys::sendPacket(sock_.get(), packet);
    if (sent) {
      pending_.push_back({req.id, op, req.uuid, now, now + deadline, {}});
      ++nextId_;
      return req.id;
    }
    const int err = sent.error().code;
    if (err == EAGAIN || err == EWOULDBLOCK)
      return Error::make(err, "%s: ork-virt (pid %d) is not reading its requests",
                         opt_.name.c_str(), pid_);
    // EPIPE/ECONNRESET: the helper is gone. Its outstanding requests are answered at
    // the next onReadable/checkDeadlines (nextDeadline() says "now").
    failAll("send: " + std::string(std::strerror(err)), nullptr,
            [this](VmReply&& r) { failed_.push_back(std::move(r)); });
  }
  return Error::make(EPIPE, "%s: ork-virt %s exits at once", opt_.name.c_str(),
                     opt_.helperPath.c_str());
}

void VmLane::onReadable(const Callback& cb) {
  reapDying();
  flushFailed(cb);
  // Not zero-filled: ORK's memory is locked, and a zeroed 64 KiB would be resident for
  // good where a message touches a page or two.
  if (!buf_) buf_ = std::make_unique_for_overwrite<char[]>(parse::kVirtMaxMessage);
  while (sock_.valid()) {
    const auto got = sys::recvPacket(sock_.get(), buf_.get(), parse::kVirtMaxMessage);
    if (!got) {
      if (got.error().code == EAGAIN || got.error().code == EWOULDBLOCK) return;
      failAll(got.error().what, nullptr, cb);
      return;
    }
    const std::size_t n = *got;
    if (n == 0) {
      failAll("ork-virt closed its socket", nullptr, cb);
      return;
    }
    if (n > parse::kVirtMaxMessage) {
      failAll("ork-virt sent an oversized message", nullptr, cb);
      return;
    }
    auto m = parse::decodeVirtHelperMessage({buf_.get(), n});
    if (!m) {
      // A helper that speaks garbage cannot be trusted with the rest either.
      failAll(std::string("protocol error: ") + m.error().what, nullptr, cb);
      return;
    }
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const Pending& p) { return p.id == m->id; });
    if (it == pending_.end()) continue;  // not ours (any more): ignore
    if (m->kind == parse::VirtHelperMessage::Kind::Domain) {
      it->domains.push_back(std::move(m->domain));
      continue;
    }
    VmReply r;
    r.id = it->id;
    r.op = it->op;
    r.uuid = std::move(it->uuid);
    r.domains = std::move(it->domains);
    r.ok = m->reply.ok;
    r.code = m->reply.code;
    r.message = std::move(m->reply.message);
    r.took = Millis(static_cast<std::int64_t>(std::min<std::uint64_t>(
        m->reply.tookMs, std::numeric_limits<std::int64_t>::max() / 1'000'000)));
    pending_.erase(it);
    cb(std::move(r));
  }
}

int VmLane::checkDeadlines(TimePoint now, const Callback& cb) {
  lastNow_ = now;
  reapDying();
  int n = flushFailed(cb);
  const bool expired = std::any_of(pending_.begin(), pending_.end(), [&](const Pending& p) {
    return p.deadline + opt_.grace <= now;
  });
  if (expired) n += failAll("ork-virt was killed for another request past its deadline", &now, cb);
  return n;
}

std::size_t VmLane::outstanding() const { return pending_.size() + failed_.size(); }

TimePoint VmLane::nextDeadline() const {
  if (!failed_.empty()) return TimePoint{};
  TimePoint next{Nanos::max()};
  for (const auto& p : pending_) next = std::min(next, p.deadline + opt_.grace);
  // A killed helper not reaped yet: look again soon (its pidfd may also wake the loop).
  if (!dying_.empty()) next = std::min(next, lastNow_ + Millis(10));
  return next;
}

std::string findVirtHelper() {
  if (const char* env = std::getenv("ORK_VIRT_HELPER"); env != nullptr && *env != '\0')
    return isExecutableFile(env) ? env : "";
  if (const std::string dir = sys::selfExeDir(); !dir.empty()) {
    std::string next = dir + "/ork-virt";
    if (isExecutableFile(next)) return next;
  }
  std::string libexec = "/usr/libexec/ork/ork-virt";
  return isExecutableFile(libexec) ? libexec : "";
}

}  // namespace ork::act
