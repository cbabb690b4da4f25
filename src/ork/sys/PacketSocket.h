// An AF_PACKET socket that only ARP and IPv6 neighbour discovery wake: a classic BPF
// filter (SO_ATTACH_FILTER) in the kernel drops everything else before it is queued,
// so that ORK costs nothing per unrelated frame but the filter's few instructions.
// Frames with one or two VLAN tags still in them (QinQ, a device without VLAN
// offload) pass too; a tag the kernel took out is not in the frame (see Neighbor.h).
//
// Bound to every interface of the network namespace (ifindex 0: an interface added
// later is covered without anything to do) or to one. Non-blocking: receive() returns
// false when the queue is empty. Each frame comes with the interface it was seen on
// and sll_pkttype (PACKET_OUTGOING: sent by this host).
//
// A socket bound to one interface gets ENETDOWN once when that interface goes down,
// ENXIO when it vanished: receive() returns it as an error (the kernel clears it when
// it is read, so the caller does not spin), and the socket stays usable.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class PacketSocket {
 public:
  // Needs CAP_NET_RAW: EPERM otherwise.
  static Result<PacketSocket> open(int ifindex = 0);

  struct Frame {
    std::span<const std::uint8_t> bytes;  // valid until the next receive()
    int ifindex = 0;
    std::uint8_t pktType = 0;  // PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST, _OUTGOING
    bool truncated = false;    // longer than the buffer: bytes is its start
    int vlan = -1;             // the VLAN id of a tag the kernel took out of the frame (PACKET_AUXDATA); -1: none
  };
  Result<bool> receive(Frame& out);
  int fd() const { return fd_.get(); }
  // How many frames the kernel dropped (queue full) since the last call.
  std::uint32_t dropsSinceLast();

 private:
  UniqueFd fd_;
  std::array<std::uint8_t, 2048> buf_{};
};

}  // namespace ork::sys
