// rtnetlink (NETLINK_ROUTE): what the network ladder needs to know about the
// namespace's interfaces, and the one thing it does to them.
//
// - NetMonitor: a socket subscribed to link, address, route and neighbour (bridge FDB)
//   notifications. It only says "something changed": the ladder then takes a fresh
//   dumpNetView(), which is simpler and cannot drift (a missed notification, ENOBUFS
//   when the socket overflowed, costs one dump, not a wrong view).
// - dumpNetView(): the interfaces (name, MAC, flags, master, lower device, kind), their
//   addresses, the default routes, and the bridges' learned FDB entries. Blocking on a
//   fresh socket, with a receive timeout: the kernel answers in well under a
//   millisecond for a few hundred interfaces.
// - setLinkUp(): RTM_NEWLINK changing IFF_UP only (`ip link set DEV down`). Needs
//   CAP_NET_ADMIN: EPERM otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ork/core/Mac.h"
#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

struct NetLink {
  int index = 0;
  std::string name;
  Mac mac;
  bool hasMac = false;  // an Ethernet-like address of 6 bytes
  unsigned flags = 0;   // IFF_*
  int master = 0;       // IFLA_MASTER: the bridge or bond it is a port/slave of
  int lower = 0;        // IFLA_LINK: a VLAN's (macvlan's...) lower device, when not itself
  bool lowerElsewhere = false;  // IFLA_LINK_NETNSID: the lower device is in another namespace
  std::string kind;       // IFLA_INFO_KIND: "bridge", "bond", "vlan", "veth", "tun"...
  std::string slaveKind;  // IFLA_INFO_SLAVE_KIND: "bridge" (a port), "bond" (a slave)
  bool loopback() const;
  bool up() const;
};

struct NetAddr {
  int index = 0;
  int family = 0;  // AF_INET, AF_INET6
  std::uint8_t addr[16] = {};
};

struct DefaultRoute {
  int family = 0;
  int oif = 0;  // 0: none (a blackhole, or a multipath route: see nexthops)
  std::vector<int> nexthops;
  bool hasPrefsrc = false;
  std::uint8_t prefsrc[16] = {};
};

struct FdbEntry {
  int port = 0;    // the bridge port it was learned on
  int bridge = 0;  // NDA_MASTER
  Mac mac;
  std::uint16_t state = 0;  // NUD_*: NUD_PERMANENT for the bridge's own addresses
  std::uint8_t flags = 0;   // NTF_*
};

struct NetView {
  std::vector<NetLink> links;
  std::vector<NetAddr> addrs;
  std::vector<DefaultRoute> defaults;
  std::vector<FdbEntry> fdb;
  const NetLink* link(int index) const;
  const NetLink* link(const std::string& name) const;
};

// Links, addresses, default routes; the FDB too when withFdb (it can be large: a
// bridge on a busy segment holds an entry per station seen).
Result<NetView> dumpNetView(bool withFdb = true);
// The bridges' FDB alone, into view.fdb.
Result<void> dumpFdb(NetView& view);
Result<void> setLinkUp(int index, bool up);

class NetMonitor {
 public:
  static Result<NetMonitor> open();
  int fd() const { return fd_.get(); }
  // Reads the pending notifications (a bounded number per call). Link, address and
  // route changes, and an overflow (ENOBUFS: some were lost), set `changed`: the caller
  // takes a fresh dump. A bridge FDB entry learned or refreshed (RTM_NEWNEIGH,
  // AF_BRIDGE) is handed to onFdb instead: on a busy segment the bridges learn
  // thousands of MACs a second, and a dump of the whole table for each would cost far
  // more than the entries themselves. Never blocks.
  struct Drained {
    bool changed = false;
    int fdb = 0;  // FDB entries handed to onFdb
  };
  template <class F>
  Result<Drained> drain(F&& onFdb) {
    return drainWith([&](const FdbEntry& e) { onFdb(e); });
  }

 private:
  Result<Drained> drainWith(const std::function<void(const FdbEntry&)>& onFdb);

  static constexpr std::size_t kBuf = 16384;
  UniqueFd fd_;
  // Allocated once (not zero-filled): on the loop's stack it took 16 KiB of stack depth,
  // resident and locked for good, under everything the notifications' handlers call.
  std::unique_ptr<char[]> buf_;
};

}  // namespace ork::sys

namespace ork::sys {
// Whether this process holds the capability in its effective set (capget(2)); false
// when it cannot tell.
bool haveCapability(int cap);
}  // namespace ork::sys
