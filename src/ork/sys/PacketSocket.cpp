#include "ork/sys/PacketSocket.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ork::sys {

namespace {
// The filter: ARP, or IPv6 whose next header is ICMPv6 with a type 133..136 (router
// and neighbour solicitation/advertisement), behind zero, one or two VLAN tags.
struct Insn {
  std::uint16_t code;
  std::uint32_t k;
  int jt, jf;  // absolute targets (-1: next instruction)
};
constexpr int kAccept = 26, kReject = 27;
constexpr Insn kProgram[] = {
    /* 0 */ {BPF_LD | BPF_H | BPF_ABS, 12, -1, -1},
    /* 1 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, kAccept, -1},
    /* 2 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 13, -1},
    /* 3 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, 5, -1},
    /* 4 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021AD, 5, kReject},
    /* 5 */ {BPF_LD | BPF_H | BPF_ABS, 16, -1, -1},
    /* 6 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, kAccept, -1},
    /* 7 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 17, -1},
    /* 8 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, 10, -1},
    /* 9 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021AD, 10, kReject},
    /* 10 */ {BPF_LD | BPF_H | BPF_ABS, 20, -1, -1},
    /* 11 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, kAccept, -1},
    /* 12 */ {BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 21, kReject},
    /* 13 */ {BPF_LD | BPF_B | BPF_ABS, 14 + 6, -1, -1},
    /* 14 */ {BPF_JMP | BPF_JEQ | BPF_K, 58, -1, kReject},
    /* 15 */ {BPF_LD | BPF_B | BPF_ABS, 14 + 40, -1, -1},
    /* 16 */ {BPF_JMP | BPF_JA, 24, -1, -1},
    /* 17 */ {BPF_LD | BPF_B | BPF_ABS, 18 + 6, -1, -1},
    /* 18 */ {BPF_JMP | BPF_JEQ | BPF_K, 58, -1, kReject},
    /* 19 */ {BPF_LD | BPF_B | BPF_ABS, 18 + 40, -1, -1},
    /* 20 */ {BPF_JMP | BPF_JA, 24, -1, -1},
    /* 21 */ {BPF_LD | BPF_B | BPF_ABS, 22 + 6, -1, -1},
    /* 22 */ {BPF_JMP | BPF_JEQ | BPF_K, 58, -1, kReject},
    /* 23 */ {BPF_LD | BPF_B | BPF_ABS, 22 + 40, -1, -1},
    /* 24 */ {BPF_JMP | BPF_JGE | BPF_K, 133, -1, kReject},
    /* 25 */ {BPF_JMP | BPF_JGT | BPF_K, 136, kReject, kAccept},
    /* 26 */ {BPF_RET | BPF_K, 0xffff, -1, -1},
    /* 27 */ {BPF_RET | BPF_K, 0, -1, -1},
};
constexpr std::size_t kLen = sizeof kProgram / sizeof kProgram[0];

// The program: an optional skip prefix (by packet type and interface), then kProgram.
std::vector<sock_filter> assemble(const std::vector<int>& outgoingOn, const std::vector<int>& receivedOn) {
  std::vector<sock_filter> out;
  auto stmt = [&](std::uint16_t code, std::uint32_t k) { out.push_back(sock_filter{code, 0, 0, k}); };
  auto jump = [&](std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    out.push_back(sock_filter{code, jt, jf, k});
  };
  if (!outgoingOn.empty() || !receivedOn.empty()) {
    std::size_t budget = PacketSocket::kMaxSkip;
    const std::size_t nOut = std::min(outgoingOn.size(), budget);
    budget -= nOut;
    const std::size_t nIn = std::min(receivedOn.size(), budget);
    // A: the packet type; outgoing goes to the outgoing list, the rest to the other.
    stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
    // Each list: "jeq IFINDEX, 0, 1; ret 0" per entry (no jump longer than one), then
    // a jump over the rest (32-bit offset).
    const std::uint32_t outLen = 1 + 2 * static_cast<std::uint32_t>(nOut) + 1;
    jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1);
    stmt(BPF_JMP | BPF_JA, 0);  // patched: to the outgoing list
    const std::size_t toOut = out.size() - 1;
    // Received: the incoming list.
    stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX));
    for (std::size_t i = 0; i < nIn; ++i) {
      jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(receivedOn[i]), 0, 1);
      stmt(BPF_RET | BPF_K, 0);
    }
    stmt(BPF_JMP | BPF_JA, outLen);  // over the outgoing list
    out[toOut].k = static_cast<std::uint32_t>(out.size() - toOut - 1);
    stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX));
    for (std::size_t i = 0; i < nOut; ++i) {
      jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(outgoingOn[i]), 0, 1);
      stmt(BPF_RET | BPF_K, 0);
    }
    stmt(BPF_JMP | BPF_JA, 0);  // to the protocol program, next
  }
  for (std::size_t i = 0; i < kLen; ++i) {
    const Insn& in = kProgram[i];
    auto rel = [&](int target) { return static_cast<std::uint8_t>(target < 0 ? 0 : target - static_cast<int>(i) - 1); };
    sock_filter f{};
    f.code = in.code;
    if ((in.code & 0x07) == BPF_JMP && (in.code & 0xf0) == BPF_JA) {
      f.k = static_cast<std::uint32_t>(static_cast<int>(in.k) - static_cast<int>(i) - 1);
    } else {
      f.k = in.k;
      f.jt = rel(in.jt);
      f.jf = rel(in.jf);
    }
    out.push_back(f);
  }
  return out;
}

Result<void> attach(int fd, const std::vector<int>& outgoingOn, const std::vector<int>& receivedOn) {
  auto prog = assemble(outgoingOn, receivedOn);
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
    return Error::sys(errno, "SO_ATTACH_FILTER");
  return success();
}
}  // namespace

Result<PacketSocket> PacketSocket::open(int ifindex) {
  // Protocol 0 receives nothing until bind(): the filter is attached before any frame
  // can be queued unfiltered.
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::sys(errno, "socket(AF_PACKET)");
  PacketSocket s;
  s.fd_.reset(fd);
  if (auto r = attach(fd, {}, {}); !r) return r.error();
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) return Error::sys(errno, "bind(AF_PACKET)");
  // The VLAN tag the kernel takes out of a received frame comes as auxdata.
  int one = 1;
  (void)::setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
  return s;
}

struct PacketSocket::Slot {
  sockaddr_ll from;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  iovec iov;
};

PacketSocket::PacketSocket()
    : bufs_(std::make_unique_for_overwrite<std::uint8_t[]>(kBatch * kFrameMax)), slots_(kBatch) {}
PacketSocket::~PacketSocket() = default;
PacketSocket::PacketSocket(PacketSocket&&) noexcept = default;
PacketSocket& PacketSocket::operator=(PacketSocket&&) noexcept = default;

Result<bool> PacketSocket::refill() {
  std::array<mmsghdr, kBatch> msgs{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    Slot& sl = slots_[i];
    sl.iov = {bufs_.get() + i * kFrameMax, kFrameMax};
    msghdr& m = msgs[i].msg_hdr;
    m.msg_name = &sl.from;
    m.msg_namelen = sizeof sl.from;
    m.msg_iov = &sl.iov;
    m.msg_iovlen = 1;
    m.msg_control = sl.control;
    m.msg_controllen = sizeof sl.control;
  }
  for (;;) {
    int n = ::recvmmsg(fd_.get(), msgs.data(), kBatch, MSG_TRUNC | MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      return Error::sys(errno, "recvmmsg(AF_PACKET)");
    }
    // Keep what each message needs after the array goes: its length and control length.
    for (int i = 0; i < n; ++i) {
      Slot& sl = slots_[static_cast<std::size_t>(i)];
      sl.iov.iov_len = msgs[static_cast<std::size_t>(i)].msg_len;  // the frame's length (MSG_TRUNC: its real one)
      if (msgs[static_cast<std::size_t>(i)].msg_hdr.msg_controllen < CMSG_LEN(sizeof(tpacket_auxdata)))
        std::memset(sl.control, 0, sizeof sl.control);
    }
    have_ = static_cast<std::size_t>(n);
    next_ = 0;
    return n > 0;
  }
}

Result<bool> PacketSocket::receive(Frame& out) {
  if (next_ >= have_) {
    auto r = refill();
    if (!r) return r.error();
    if (!*r) return false;
  }
  const std::size_t i = next_++;
  Slot& sl = slots_[i];
  const std::size_t len = sl.iov.iov_len;
  out.bytes = {bufs_.get() + i * kFrameMax, std::min(len, kFrameMax)};
  out.truncated = len > kFrameMax;
  out.ifindex = sl.from.sll_ifindex;
  out.pktType = sl.from.sll_pkttype;
  out.vlan = -1;
  const auto* c = reinterpret_cast<const cmsghdr*>(sl.control);
  if (c->cmsg_len >= CMSG_LEN(sizeof(tpacket_auxdata)) && c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
    tpacket_auxdata aux;
    std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
    if ((aux.tp_status & TP_STATUS_VLAN_VALID) != 0) out.vlan = aux.tp_vlan_tci & 0x0fff;
  }
  return true;
}

Result<void> PacketSocket::setSkip(const std::vector<int>& outgoingOn, const std::vector<int>& receivedOn) {
  return attach(fd_.get(), outgoingOn, receivedOn);
}

std::uint32_t PacketSocket::dropsSinceLast() {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return 0;
  return st.tp_drops;
}

}  // namespace ork::sys
