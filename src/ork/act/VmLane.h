// An executor lane for libvirt calls: one ork-virt helper process (spawned on the first
// request, again after it died or was killed), spoken to over a SOCK_SEQPACKET
// socketpair (parse/VirtProtocol.h). ORK runs two: "vm-save" for managed saves
// (minutes) and "vm-control" for list, suspend and resume, so a long save never delays
// a freeze.
//
// Nothing here blocks the loop: the socket is non-blocking on ORK's side, replies
// arrive through the daemon's epoll, and a call that outlives its deadline (libvirtd
// hung) is not waited for: the helper is SIGKILLed through its pidfd, with its whole
// process group (what it started, e.g. the ssh of a qemu+ssh:// URI), and reaped without
// blocking; the next request starts a fresh one. No libvirt here: the static ork binary
// never links it. Every system call is in sys/Spawn.h.
//
// The daemon's wiring: epoll reports epollTag -> onReadable(); the loop's timeout
// includes nextDeadline() and checkDeadlines() runs when it passes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/parse/VirtProtocol.h"
#include "ork/sys/Fd.h"

namespace ork::sys {
class Poller;
}

namespace ork::act {

// The protocol's types, under the names the rest of ORK uses.
using VmOp = parse::VirtOp;
using DomainInfo = parse::VirtDomain;

// Reply codes: >= 0 libvirt's virErrorNumber (0 with ok), or ORK's own:
inline constexpr int kVmNoConnection = parse::kVirtNoConnection;  // -1 libvirt unreachable
inline constexpr int kVmDeadline = parse::kVirtDeadline;          // -2 deadline, aborted
inline constexpr int kVmHelperDied = parse::kVirtHelperDied;      // -3 helper died/killed
inline constexpr int kVmReadOnly = parse::kVirtReadOnly;          // -4 read-only lane
inline constexpr int kVmBadRequest = parse::kVirtBadRequest;      // -5 helper refused it

struct VmReply {
  std::uint64_t id = 0;
  VmOp op = VmOp::Ping;
  std::string uuid;
  bool ok = false;
  int code = 0;
  std::string message;
  Nanos took{0};                    // the libvirt call as the helper timed it; ORK's wait for -2/-3
  std::vector<DomainInfo> domains;  // List
};

// What a ladder needs of a lane (a fake one in the ladders' tests).
class Lane {
 public:
  using Callback = std::function<void(VmReply&&)>;
  virtual ~Lane() = default;
  virtual Result<std::uint64_t> submit(VmOp op, std::string_view uuid, TimePoint now, Nanos deadline) = 0;
  virtual void onReadable(const Callback& cb) = 0;
  virtual int checkDeadlines(TimePoint now, const Callback& cb) = 0;
  virtual std::size_t outstanding() const = 0;
  virtual TimePoint nextDeadline() const = 0;
};

class VmLane final : public Lane {
 public:
  struct Options {
    std::string helperPath;  // findVirtHelper()
    std::string uri;
    bool readOnly = false;
    std::string name;  // "vm-save" / "vm-control", for messages
    sys::Poller* epoll = nullptr;
    std::uint64_t epollTag = 0;
    Nanos grace = Seconds{2};  // after a request's deadline before the helper is killed
  };
  explicit VmLane(Options o);
  ~VmLane();  // kills and reaps its helper
  VmLane(const VmLane&) = delete;
  VmLane& operator=(const VmLane&) = delete;

  // Sends a request, starting the helper first if it is not running
  // (sys::spawnHelper: stdout to /dev/null, stderr inherited, its own session and
  // process group, empty signal mask, default dispositions). Never blocks.
  // Fails if the helper cannot be started (the message names the path), if uuid is
  // empty for save/suspend/resume, or if the helper is not reading its socket.
  Result<std::uint64_t> submit(VmOp op, std::string_view uuid, TimePoint now, Nanos deadline) override;

  // epoll reported epollTag: reads every complete reply and calls back for each. A
  // helper that exited or closed its socket: every outstanding request is answered
  // with kVmHelperDied and the helper is reaped; the next submit starts a new one.
  void onReadable(const Callback& cb) override;

  // Requests past deadline + grace: the helper and its process group are SIGKILLed
  // and the helper reaped (now, or later without blocking), those requests
  // answered kVmDeadline, the other outstanding ones kVmHelperDied. Also delivers
  // failures that submit() found. Returns how many requests were failed.
  int checkDeadlines(TimePoint now, const Callback& cb) override;

  std::size_t outstanding() const override;
  // When checkDeadlines() next has work; TimePoint{Nanos::max()} when none.
  TimePoint nextDeadline() const override;
  int helperPid() const { return pid_; }  // 0 when not running

 private:
  struct Pending {
    std::uint64_t id;
    VmOp op;
    std::string uuid;
    TimePoint submitted;
    TimePoint deadline;
    std::vector<DomainInfo> domains;
  };
  struct Dying {
    int pid;
    sys::UniqueFd pidfd;
  };

  Result<void> start();
  // Stops the helper: SIGKILL to it (unless it already exited) and to its process
  // group, then reaps it, now or, if it is not dead yet, later from dying_. Returns how
  // it ended, for messages.
  std::string stop();
  // Fails every outstanding request: `why` for all, code kVmDeadline for those past
  // deadline + grace at `now` (when given), kVmHelperDied for the rest.
  int failAll(const std::string& why, const TimePoint* now, const Callback& cb);
  void reapDying();
  int flushFailed(const Callback& cb);
  VmReply failure(Pending&& p, int code, std::string message) const;

  Options opt_;
  sys::UniqueFd sock_;
  sys::UniqueFd pidfd_;
  int pid_ = 0;
  std::uint64_t nextId_ = 1;
  std::vector<Pending> pending_;
  std::vector<VmReply> failed_;  // answered by submit(), delivered by the next call
  std::vector<Dying> dying_;
  std::unique_ptr<char[]> buf_;  // parse::kVirtMaxMessage bytes, at first need
  TimePoint lastNow_{};
};

// Where the helper is: $ORK_VIRT_HELPER if set (and then only there: an explicit choice
// is not silently replaced), else "ork-virt" next to /proc/self/exe, else
// /usr/libexec/ork/ork-virt. Only executable files count; "" when there is none.
std::string findVirtHelper();

}  // namespace ork::act
