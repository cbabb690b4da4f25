// Neighbour frames built byte by byte, as they are on the wire (the unit tests, the
// fuzzers' seeds, tests/tools/arpsend): ARP for IPv4 and IPv6 neighbour discovery,
// optionally behind one or two VLAN tags.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ork/core/Mac.h"

namespace ork::frames {

using Bytes = std::vector<std::uint8_t>;

struct Tag {
  std::uint16_t tpid;  // 0x8100 (802.1Q) or 0x88a8 (802.1ad)
  std::uint16_t vid;
};

inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}
inline void putMac(Bytes& b, const Mac& m) { b.insert(b.end(), m.b.begin(), m.b.end()); }

inline Bytes ethHeader(const Mac& dst, const Mac& src, std::uint16_t type, const std::vector<Tag>& tags) {
  Bytes b;
  putMac(b, dst);
  putMac(b, src);
  for (const auto& t : tags) {
    put16(b, t.tpid);
    put16(b, t.vid);
  }
  put16(b, type);
  return b;
}

inline constexpr Mac kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

// A gratuitous ARP (or a request for tpa) from sha/spa, Ethernet source src.
inline Bytes arp(const Mac& src, const Mac& sha, std::array<std::uint8_t, 4> spa, std::uint16_t op = 1,
                 const std::vector<Tag>& tags = {}, std::array<std::uint8_t, 4> tpa = {0, 0, 0, 0}) {
  Bytes b = ethHeader(kBroadcast, src, 0x0806, tags);
  put16(b, 1);
  put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  put16(b, op);
  putMac(b, sha);
  b.insert(b.end(), spa.begin(), spa.end());
  putMac(b, Mac{});
  b.insert(b.end(), tpa.begin(), tpa.end());
  while (b.size() < 60) b.push_back(0);  // the Ethernet minimum, as on the wire
  return b;
}

// An IPv6 neighbour-discovery message (type 133..136) from src (link-local
// fe80::1 unless given), with a link-layer address option carrying lla (source option
// for 133-135, target option for 136). The checksum is left 0: ORK does not check it.
inline Bytes nd(std::uint8_t type, const Mac& src, const Mac& lla, const std::vector<Tag>& tags = {},
                std::array<std::uint8_t, 16> srcIp = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) {
  Bytes body;
  body.push_back(type);
  body.push_back(0);
  put16(body, 0);  // checksum
  const std::size_t fixed = type == 133 ? 4 : type == 134 ? 12 : 20;
  body.insert(body.end(), fixed, 0);
  body.push_back(type == 136 ? 2 : 1);
  body.push_back(1);
  putMac(body, lla);
  Bytes b = ethHeader(Mac{{0x33, 0x33, 0, 0, 0, 1}}, src, 0x86dd, tags);
  b.push_back(0x60);
  b.push_back(0);
  put16(b, 0);
  put16(b, static_cast<std::uint16_t>(body.size()));
  b.push_back(58);
  b.push_back(255);
  b.insert(b.end(), srcIp.begin(), srcIp.end());
  const std::array<std::uint8_t, 16> dst = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  b.insert(b.end(), dst.begin(), dst.end());
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

}  // namespace ork::frames
