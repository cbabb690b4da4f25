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
#include <memory>
#include <span>
#include <vector>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class PacketSocket {
 public:
  PacketSocket();
  ~PacketSocket();
  PacketSocket(PacketSocket&&) noexcept;
  PacketSocket& operator=(PacketSocket&&) noexcept;
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
  // Replaces the filter with one that also drops, in the kernel, frames the caller
  // would skip anyway: outgoing ones on the devices of `outgoingOn` (bridge ports, bond
  // slaves: a bridge forwarding a broadcast would otherwise wake ORK once per port) and
  // received ones on `receivedOn` (bridges, bonds, VLANs: a second copy of what their
  // port saw). Lists beyond kMaxSkip entries in all are cut: the caller's own checks
  // still skip the rest.
  static constexpr std::size_t kMaxSkip = 1500;
  Result<void> setSkip(const std::vector<int>& outgoingOn, const std::vector<int>& receivedOn);
  int fd() const { return fd_.get(); }
  // How many frames the kernel dropped (queue full) since the last call.
  std::uint32_t dropsSinceLast();

 private:
  // Frames are read kBatch at a time (recvmmsg: one system call for a burst) into
  // buffers allocated once; receive() hands them out one by one. Not zero-filled (64
  // KiB, locked by mlockall once touched): a page is resident once a frame was written
  // to it, the first one or two at idle (a batch of n frames writes ceil(n/2) pages).
  static constexpr std::size_t kBatch = 32;
  static constexpr std::size_t kFrameMax = 2048;
  struct Slot;
  Result<bool> refill();
  UniqueFd fd_;
  std::unique_ptr<std::uint8_t[]> bufs_;
  std::vector<Slot> slots_;
  std::size_t have_ = 0, next_ = 0;
};

}  // namespace ork::sys
