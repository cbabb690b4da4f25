// Neighbour frames: an Ethernet frame carrying ARP or an IPv6 neighbour-discovery
// message (router/neighbour solicitation and advertisement), as an AF_PACKET socket
// returns it (SOCK_RAW: from the Ethernet header). Pure; no I/O.
//
// Up to two 802.1Q (0x8100) / 802.1ad (0x88a8, QinQ) tags are read; the kernel may
// also have taken one tag out of the frame already (VLAN offload: it is then in the
// packet's auxdata, not here). Errors (code 0): a frame too short for what its headers
// announce, a bogus ARP length field, an IPv6 payload length beyond the frame, an
// ethertype or ICMPv6 type that is not one of these, a neighbour-discovery option of
// length 0 (RFC 4861 4.6: such a packet must be dropped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ork/core/Mac.h"
#include "ork/core/Result.h"

namespace ork::parse {

struct NeighborFrame {
  enum class Kind : std::uint8_t { Arp, RouterSolicit, RouterAdvert, NeighborSolicit, NeighborAdvert };
  Kind kind = Kind::Arp;
  Mac ethDest;
  Mac ethSource;
  // The sender hardware address: ARP's sha, or ND's source/target link-layer address
  // option (RFC 4861 4.6.1); hasSenderHw false when an ND message carries none.
  Mac senderHw;
  bool hasSenderHw = false;
  int vlanCount = 0;           // tags found in the frame (0..2)
  std::uint16_t vlan[2] = {};  // their VLAN ids, outer first
  // The sender's IP: ARP's spa (family 4, first 4 bytes) or the IPv6 source (family 6).
  int family = 0;
  std::uint8_t senderIp[16] = {};
  std::uint16_t arpOp = 0;  // ARP: 1 request, 2 reply

  const char* kindName() const;
  // The sender IP as text ("192.0.2.1", "fe80::1"; "" when family is 0).
  void formatIp(char (&out)[46]) const;
};

Result<NeighborFrame> parseNeighborFrame(std::span<const std::uint8_t> frame);

}  // namespace ork::parse
