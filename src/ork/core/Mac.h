// A 48-bit Ethernet (MAC) address: a value type, its text form ("02:00:00:00:00:01",
// lower case) and the classes of addresses the network ladder treats apart.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace ork {

struct Mac {
  std::array<std::uint8_t, 6> b{};

  friend bool operator==(const Mac&, const Mac&) = default;
  friend auto operator<=>(const Mac&, const Mac&) = default;

  bool isZero() const { return b == std::array<std::uint8_t, 6>{}; }
  // Group (multicast or broadcast) addresses: never a station's own address.
  bool isGroup() const { return (b[0] & 1) != 0; }
  // VRRP (and keepalived, CARP) virtual router MACs: 00:00:5e:00:01:VRID (IPv4) and
  // 00:00:5e:00:02:VRID (IPv6), RFC 5798 7.3. Shared by design between routers.
  bool isVrrp() const { return b[0] == 0 && b[1] == 0 && b[2] == 0x5e && b[3] == 0 && (b[4] == 1 || b[4] == 2); }

  // "aa:bb:cc:dd:ee:ff" into out (18 bytes, NUL-terminated).
  void format(char (&out)[18]) const {
    std::snprintf(out, sizeof out, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  }
  std::string str() const {
    char out[18];
    format(out);
    return out;
  }
  std::uint64_t key() const {
    std::uint64_t k = 0;
    for (auto x : b) k = (k << 8) | x;
    return k;
  }

  // Six hex pairs separated by ':' (or '-'), either case. nullopt for anything else.
  static std::optional<Mac> parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    Mac m;
    const char sep = text[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (std::size_t i = 0; i < 6; ++i) {
      const std::size_t at = i * 3;
      if (i > 0 && text[at - 1] != sep) return std::nullopt;
      const int hi = hex(text[at]), lo = hex(text[at + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      m.b[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return m;
  }
};

}  // namespace ork
