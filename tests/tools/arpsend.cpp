// Sends forged neighbour frames on an interface (AF_PACKET): the "other node" of the
// network tests and benchmarks.
//   arpsend IFACE --src MAC [--sha MAC] [--ip A.B.C.D] [--nd] [--vlan ID]
//           [--count N] [--interval-us U] [--burst B] [--random-src] [--udp]
// --src: the Ethernet source; --sha: the ARP sender (or ND link-layer option) address,
// --src by default; --nd: an IPv6 neighbour advertisement instead of a gratuitous ARP;
// --random-src: every frame from another random (locally administered) MAC, sender
// too, for unrelated broadcast load; --udp: an IPv4 UDP broadcast instead (a frame the
// BPF filter drops); --burst: B frames every interval. Prints "sent N", the time of
// the first frame (CLOCK_REALTIME, ns) and how long it took on stdout.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "unit/net/Frames.h"

int main(int argc, char** argv) {
  using ork::Mac;
  if (argc < 2) {
    std::fprintf(stderr, "usage: arpsend IFACE --src MAC [--sha MAC] [--ip A.B.C.D] [--nd] [--vlan ID] [--count N] [--interval-us U] [--random-src]\n");
    return 2;
  }
  const char* iface = argv[1];
  Mac src{{0x02, 0, 0, 0, 0, 1}};
  std::optional<Mac> sha;
  std::array<std::uint8_t, 4> ip = {192, 0, 2, 99};
  bool nd = false, randomSrc = false, udp = false;
  long count = 1, intervalUs = 100000, burst = 1;
  std::vector<ork::frames::Tag> tags;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "arpsend: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto mac = [&](const std::string& t) {
      auto m = Mac::parse(t);
      if (!m) {
        std::fprintf(stderr, "arpsend: bad MAC %s\n", t.c_str());
        std::exit(2);
      }
      return *m;
    };
    if (a == "--src") src = mac(next());
    else if (a == "--sha") sha = mac(next());
    else if (a == "--ip") {
      std::string t = next();
      if (::inet_pton(AF_INET, t.c_str(), ip.data()) != 1) return 2;
    } else if (a == "--nd") nd = true;
    else if (a == "--random-src") randomSrc = true;
    else if (a == "--udp") udp = true;
    else if (a == "--burst") burst = std::max(1L, std::atol(next().c_str()));
    else if (a == "--vlan") tags.push_back({0x8100, static_cast<std::uint16_t>(std::atoi(next().c_str()))});
    else if (a == "--count") count = std::atol(next().c_str());
    else if (a == "--interval-us") intervalUs = std::atol(next().c_str());
    else {
      std::fprintf(stderr, "arpsend: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const unsigned index = ::if_nametoindex(iface);
  if (index == 0) {
    std::perror("if_nametoindex");
    return 1;
  }
  int fd = ::socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    std::perror("socket(AF_PACKET)");
    return 1;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(index);
  to.sll_halen = 6;
  std::mt19937_64 rng(static_cast<unsigned long>(::getpid()));
  timespec first{};
  auto next = std::chrono::steady_clock::now();
  long sent = 0;
  for (long n = 0; n < count; ++n) {
    Mac s = src;
    if (randomSrc) {
      std::uint64_t r = rng();
      for (int k = 0; k < 6; ++k) s.b[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(r >> (8 * k));
      s.b[0] = static_cast<std::uint8_t>((s.b[0] & 0xfc) | 0x02);  // unicast, locally administered
    }
    const Mac h = randomSrc ? s : sha.value_or(s);
    auto frame = nd ? ork::frames::nd(136, s, h, tags) : ork::frames::arp(s, h, ip, 1, tags);
    if (udp) {
      // IPv4 (0x0800) in place of ARP: same size, never let through by ORK's filter.
      frame[12 + 4 * tags.size()] = 0x08;
      frame[12 + 4 * tags.size() + 1] = 0x00;
    }
    std::memcpy(to.sll_addr, frame.data(), 6);
    if (n == 0) ::clock_gettime(CLOCK_REALTIME, &first);
    if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      std::perror("sendto");
      return 1;
    }
    ++sent;
    if (intervalUs > 0 && n + 1 < count && (n + 1) % burst == 0) {
      next += std::chrono::microseconds(intervalUs);
      std::this_thread::sleep_until(next);
    }
  }
  timespec last{};
  ::clock_gettime(CLOCK_REALTIME, &last);
  const long long firstNs = static_cast<long long>(first.tv_sec) * 1000000000LL + first.tv_nsec;
  const long long lastNs = static_cast<long long>(last.tv_sec) * 1000000000LL + last.tv_nsec;
  std::printf("sent %ld first_ns %lld elapsed_ms %lld\n", sent, firstNs, (lastNs - firstNs) / 1000000);
  return 0;
}
