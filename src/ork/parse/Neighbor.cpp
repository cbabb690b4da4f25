#include "ork/parse/Neighbor.h"

#include <arpa/inet.h>

#include <cstring>

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

namespace {
constexpr std::uint16_t kEtherArp = 0x0806;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88a8;
constexpr std::uint8_t kIcmpv6 = 58;
constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kArpEthIpv4 = 28;  // htype..tpa for Ethernet + IPv4
constexpr std::size_t kIpv6Header = 40;

Error bad(const char* what) { return Error::make(detail::kParseErrorCode, "neighbour frame: %s", what); }

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

Mac macAt(const std::uint8_t* p) {
  Mac m;
  std::memcpy(m.b.data(), p, 6);
  return m;
}
}  // namespace

const char* NeighborFrame::kindName() const {
  switch (kind) {
    case Kind::Arp: return arpOp == 1 ? "arp_request" : arpOp == 2 ? "arp_reply" : "arp";
    case Kind::RouterSolicit: return "nd_rs";
    case Kind::RouterAdvert: return "nd_ra";
    case Kind::NeighborSolicit: return "nd_ns";
    case Kind::NeighborAdvert: return "nd_na";
  }
  return "unknown";
}

void NeighborFrame::formatIp(char (&out)[46]) const {
  out[0] = '\0';
  if (family == 4) ::inet_ntop(AF_INET, senderIp, out, sizeof out);
  else if (family == 6) ::inet_ntop(AF_INET6, senderIp, out, sizeof out);
}

Result<NeighborFrame> parseNeighborFrame(std::span<const std::uint8_t> frame) {
  NeighborFrame f;
  if (frame.size() < kEthHeader) return bad("shorter than an Ethernet header");
  const std::uint8_t* p = frame.data();
  f.ethDest = macAt(p);
  f.ethSource = macAt(p + 6);
  std::size_t at = 12;
  std::uint16_t type = be16(p + at);
  // Up to two tags (QinQ: 802.1ad outside, 802.1Q inside; 802.1Q twice is seen too).
  while (type == kEtherVlan || type == kEtherQinQ) {
    if (f.vlanCount == 2) return bad("more than two VLAN tags");
    if (frame.size() < at + 6) return bad("truncated VLAN tag");
    f.vlan[f.vlanCount++] = be16(p + at + 2) & 0x0fff;
    at += 4;
    type = be16(p + at);
  }
  at += 2;  // the payload
  const std::size_t rest = frame.size() - at;
  const std::uint8_t* q = p + at;
  if (type == kEtherArp) {
    if (rest < 8) return bad("truncated ARP header");
    const std::uint16_t htype = be16(q), ptype = be16(q + 2);
    const std::uint8_t hlen = q[4], plen = q[5];
    if (htype != 1 || hlen != 6) return bad("ARP hardware is not Ethernet (htype 1, hlen 6)");
    if (ptype != 0x0800 || plen != 4) return bad("ARP protocol is not IPv4 (ptype 0x0800, plen 4)");
    if (rest < kArpEthIpv4) return bad("truncated ARP body");
    f.kind = NeighborFrame::Kind::Arp;
    f.arpOp = be16(q + 6);
    f.senderHw = macAt(q + 8);
    f.hasSenderHw = true;
    f.family = 4;
    std::memcpy(f.senderIp, q + 14, 4);
    return f;
  }
  if (type != kEtherIpv6) return bad("not ARP or IPv6");
  if (rest < kIpv6Header) return bad("truncated IPv6 header");
  if ((q[0] >> 4) != 6) return bad("IPv6 version is not 6");
  const std::size_t payload = be16(q + 4);
  if (q[6] != kIcmpv6) return bad("IPv6 next header is not ICMPv6");
  if (payload > rest - kIpv6Header) return bad("IPv6 payload length beyond the frame");
  f.family = 6;
  std::memcpy(f.senderIp, q + 8, 16);
  const std::uint8_t* icmp = q + kIpv6Header;
  if (payload < 8) return bad("truncated ICMPv6 header");
  std::size_t optionsAt = 0;
  switch (icmp[0]) {
    case 133: f.kind = NeighborFrame::Kind::RouterSolicit, optionsAt = 8; break;
    case 134: f.kind = NeighborFrame::Kind::RouterAdvert, optionsAt = 16; break;
    case 135: f.kind = NeighborFrame::Kind::NeighborSolicit, optionsAt = 24; break;
    case 136: f.kind = NeighborFrame::Kind::NeighborAdvert, optionsAt = 24; break;
    default: return bad("ICMPv6 type is not neighbour discovery (133-136)");
  }
  if (icmp[1] != 0) return bad("ICMPv6 code is not 0");
  if (payload < optionsAt) return bad("truncated neighbour-discovery message");
  // The link-layer address option: source (1) in RS/RA/NS, target (2) in NA: the
  // sender's own hardware address either way.
  const std::uint8_t wanted = f.kind == NeighborFrame::Kind::NeighborAdvert ? 2 : 1;
  std::size_t o = optionsAt;
  while (o < payload) {
    if (payload - o < 2) return bad("truncated ND option");
    const std::size_t len = static_cast<std::size_t>(icmp[o + 1]) * 8;
    if (len == 0) return bad("ND option of length 0");
    if (len > payload - o) return bad("ND option beyond the message");
    if (icmp[o] == wanted && len >= 8 && !f.hasSenderHw) {
      f.senderHw = macAt(icmp + o + 2);
      f.hasSenderHw = true;
    }
    o += len;
  }
  return f;
}

}  // namespace ork::parse
