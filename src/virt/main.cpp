// ork-virt: ORK's libvirt helper. libvirt's client library is large, may block in any
// call while libvirtd is slow or hung, and cannot be loaded into ORK's static binary, so
// it lives here, in a process ORK can SIGKILL when a call passes its deadline.
//
//   ork-virt serve --uri URI [--read-only]   requests on fd 0 (a SOCK_SEQPACKET socket)
//                                            until EOF; see parse/VirtProtocol.h
//   ork-virt list --uri URI                  prints the domains ORK would see
//
// serve: the main thread only reads requests, stamps them and queues them; one worker
// thread runs them in order. So EOF (ORK exited or closed the lane) is noticed even
// while a call hangs, and a request's deadline counts from when ORK sent it, however
// long it waited behind a slow save.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ork/parse/VirtProtocol.h"
#include "virt/LibvirtClient.h"

namespace {

using ork::parse::VirtDomain;
using ork::parse::VirtReply;
using ork::parse::VirtRequest;
using ork::virt::CallResult;
using ork::virt::LibvirtClient;
using ork::virt::SteadyTime;

constexpr int kSocketFd = 0;

int usage() {
  std::fprintf(stderr,
               "usage: ork-virt serve --uri URI [--read-only]\n"
               "       ork-virt list --uri URI\n");
  return 2;
}

struct Queued {
  VirtRequest request;
  SteadyTime received;
};

class Server {
 public:
  explicit Server(LibvirtClient::Options o) : client_(std::move(o)) {}

  int run() {
    std::thread worker([this] { work(); });
    worker.detach();
    std::vector<char> buf(ork::parse::kVirtMaxMessage);
    for (;;) {
      const ssize_t n = ::recv(kSocketFd, buf.data(), buf.size(), MSG_TRUNC);
      if (n < 0 && errno == EINTR) continue;
      // EOF: ORK closed the lane or exited. Leave now, even with a call in flight: the
      // connection to libvirtd closes with the process, and libvirtd finishes or
      // cleans up the job on its own.
      if (n == 0) ::_exit(0);
      if (n < 0) {
        std::fprintf(stderr, "ork-virt: recv: %s\n", std::strerror(errno));
        ::_exit(1);
      }
      const auto received = std::chrono::steady_clock::now();
      if (static_cast<std::size_t>(n) > buf.size()) {
        std::fprintf(stderr, "ork-virt: request of %zd bytes dropped\n", n);
        continue;
      }
      const std::string_view packet(buf.data(), static_cast<std::size_t>(n));
      auto r = ork::parse::decodeVirtRequest(packet);
      if (!r) {
        // Answered at once when the id can be read; otherwise ORK gives the request up
        // at its deadline. Either way stderr (ORK's) says why.
        std::fprintf(stderr, "ork-virt: bad request: %s\n", r.error().what);
        if (const auto id = ork::parse::virtMessageId(packet)) {
          VirtReply reply;
          reply.id = *id;
          reply.code = ork::parse::kVirtBadRequest;
          reply.message = std::string("bad request: ") + r.error().what;
          send(ork::parse::encodeVirtReply(reply));
        }
        continue;
      }
      {
        std::lock_guard lock(m_);
        queue_.push_back({std::move(*r), received});
      }
      cv_.notify_one();
    }
  }

 private:
  void work() {
    std::vector<VirtDomain> domains;
    for (;;) {
      Queued q;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        q = std::move(queue_.front());
        queue_.pop_front();
      }
      const auto start = std::chrono::steady_clock::now();
      const SteadyTime deadline = q.received + std::chrono::milliseconds(q.request.deadlineMs);
      const CallResult res = client_.execute(q.request, deadline, domains);
      for (const auto& d : domains) send(ork::parse::encodeVirtDomain(q.request.id, d));
      VirtReply reply;
      reply.id = q.request.id;
      reply.ok = res.ok;
      reply.code = res.code;
      reply.message = res.message;
      reply.tookMs =
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
      send(ork::parse::encodeVirtReply(reply));
    }
  }

  // Blocking: if ORK is slow to read a long listing, the worker waits for it. Both
  // threads send without a lock: a SEQPACKET send is one whole packet, and every
  // message carries its request's id, so interleaving is harmless.
  static void send(const std::string& packet) {
    while (::send(kSocketFd, packet.data(), packet.size(), MSG_NOSIGNAL) < 0) {
      if (errno == EINTR) continue;
      ::_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 1);  // ORK is gone
    }
  }

  LibvirtClient client_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
};

int serve(LibvirtClient::Options o) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(kSocketFd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET) {
    std::fprintf(stderr, "ork-virt serve: fd 0 must be a SOCK_SEQPACKET socket (ORK starts it)\n");
    return 2;
  }
  // Dies with ORK even if the socket was somehow inherited elsewhere.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Server server(std::move(o));
  return server.run();
}

std::string mib(ork::Bytes b) { return std::to_string(b.toMib()); }

int list(LibvirtClient::Options o) {
  o.readOnly = true;  // listing needs no more, and works for any user
  LibvirtClient client(std::move(o));
  std::vector<VirtDomain> domains;
  const CallResult r = client.list(domains);
  if (!r.ok) {
    std::fprintf(stderr, "ork-virt: %s (code %d)\n", r.message.c_str(), r.code);
    return 1;
  }
  std::printf("%-36s %-5s %-8s %8s %8s %5s %5s %-20s %s\n", "UUID", "ID", "STATE", "MEM_MIB",
              "MAX_MIB", "VCPU", "SAVED", "NAME", "NOVA (name project flavor)");
  for (const auto& d : domains) {
    std::printf(
        "%-36s %-5d %-8s %8s %8s %5d %5s %-20s %s\n", d.uuid.c_str(), d.id, d.state.c_str(),
        mib(d.memory).c_str(), mib(d.maxMemory).c_str(), d.vcpus, d.managedSave ? "yes" : "no",
        d.name.c_str(),
        d.novaName.empty() ? "-" : (d.novaName + " " + d.novaProject + " " + d.novaFlavor).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  ::signal(SIGPIPE, SIG_IGN);
  const std::string_view cmd = argv[1];
  LibvirtClient::Options o;
  bool haveUri = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--uri" && i + 1 < argc) {
      o.uri = argv[++i];
      haveUri = true;
    } else if (a == "--read-only") {
      o.readOnly = true;
    } else {
      return usage();
    }
  }
  if (!haveUri) return usage();
  if (cmd == "serve") return serve(std::move(o));
  if (cmd == "list") return list(std::move(o));
  return usage();
}
