#include "ork/sys/PacketSocket.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

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

std::array<sock_filter, kLen> assemble() {
  std::array<sock_filter, kLen> out{};
  for (std::size_t i = 0; i < kLen; ++i) {
    const Insn& in = kProgram[i];
    auto rel = [&](int target) { return static_cast<std::uint8_t>(target < 0 ? 0 : target - static_cast<int>(i) - 1); };
    out[i].code = in.code;
    if ((in.code & 0x07) == BPF_JMP && (in.code & 0xf0) == BPF_JA) {
      out[i].k = static_cast<std::uint32_t>(static_cast<int>(in.k) - static_cast<int>(i) - 1);
    } else {
      out[i].k = in.k;
      out[i].jt = rel(in.jt);
      out[i].jf = rel(in.jf);
    }
  }
  return out;
}
}  // namespace

Result<PacketSocket> PacketSocket::open(int ifindex) {
  // Protocol 0 receives nothing until bind(): the filter is attached before any frame
  // can be queued unfiltered.
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::sys(errno, "socket(AF_PACKET)");
  PacketSocket s;
  s.fd_.reset(fd);
  auto prog = assemble();
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
    return Error::sys(errno, "SO_ATTACH_FILTER");
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

Result<bool> PacketSocket::receive(Frame& out) {
  sockaddr_ll from{};
  iovec iov{buf_.data(), buf_.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  for (;;) {
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      return Error::sys(errno, "recvmsg(AF_PACKET)");
    }
    const std::size_t got = std::min(static_cast<std::size_t>(n), buf_.size());
    out.bytes = {buf_.data(), got};
    out.truncated = static_cast<std::size_t>(n) > buf_.size();
    out.ifindex = from.sll_ifindex;
    out.pktType = from.sll_pkttype;
    out.vlan = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA || c->cmsg_len < CMSG_LEN(sizeof(tpacket_auxdata)))
        continue;
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      if ((aux.tp_status & TP_STATUS_VLAN_VALID) != 0) out.vlan = aux.tp_vlan_tci & 0x0fff;
    }
    return true;
  }
}

std::uint32_t PacketSocket::dropsSinceLast() {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return 0;
  return st.tp_drops;
}

}  // namespace ork::sys
