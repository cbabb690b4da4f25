// The libvirt side of ork-virt: one connection, opened on the first request and again
// after libvirtd went away (close callback, keepalive), and the five operations ORK
// asks for. Every failure is a reply (libvirt's virErrorNumber and message), never a
// crash: a domain that vanished between ORK's decision and the call is an ordinary
// VIR_ERR_NO_DOMAIN.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "ork/parse/VirtProtocol.h"

// libvirt's opaque types, so that users of this header do not need libvirt's headers.
struct _virConnect;

namespace ork::virt {

using SteadyTime = std::chrono::steady_clock::time_point;

struct CallResult {
  bool ok = false;
  int code = 0;  // libvirt's virErrorNumber, or parse::kVirt* (negative)
  std::string message;

  static CallResult success(std::string message = {}) { return {true, 0, std::move(message)}; }
};

class LibvirtClient {
 public:
  struct Options {
    std::string uri;
    bool readOnly = false;
    // Keepalive: a probe every intervalS seconds, the connection closed after `count`
    // unanswered ones, so a hung or dead libvirtd is noticed while ORK is idle.
    int keepAliveIntervalS = 5;
    unsigned keepAliveCount = 3;
  };

  // Once per process, before any client: silences libvirt's printing of errors to
  // stderr and starts the event loop thread that keepalive and close callbacks need.
  static void initProcess();

  explicit LibvirtClient(Options o);
  ~LibvirtClient();
  LibvirtClient(const LibvirtClient&) = delete;
  LibvirtClient& operator=(const LibvirtClient&) = delete;

  // Active domains plus those hibernated (a managed save image exists).
  CallResult list(std::vector<parse::VirtDomain>& out);
  // virDomainManagedSave; a watchdog thread aborts the job at the deadline (the VM
  // keeps running), and the result is then kVirtDeadline.
  CallResult save(std::string_view uuid, SteadyTime deadline);
  CallResult suspend(std::string_view uuid);
  CallResult resume(std::string_view uuid);
  // One round trip to libvirtd (connecting first if needed); the message is its version.
  CallResult ping();

  // Runs one decoded request: checks the deadline first (a request queued past it is
  // not started), dispatches, and fills domains for a list.
  CallResult execute(const parse::VirtRequest& r, SteadyTime deadline,
                     std::vector<parse::VirtDomain>& domains);

  bool connected() const { return conn_ != nullptr; }

 private:
  // Opens the connection if there is none, or if libvirt closed it. kVirtNoConnection
  // with libvirt's message when it cannot.
  CallResult ensureConnected();
  void disconnect();
  // A call failed: libvirt's last error as a result; drops the connection if the
  // failure was the connection's (so the next request reconnects).
  CallResult failure(std::string_view what);
  CallResult lifecycle(std::string_view uuid, bool suspend);

  Options opt_;
  _virConnect* conn_ = nullptr;
  // Set from libvirt's event thread when the connection closes (keepalive timeout,
  // libvirtd exit); the next request then reconnects.
  std::atomic<bool> closed_{false};
};

}  // namespace ork::virt
