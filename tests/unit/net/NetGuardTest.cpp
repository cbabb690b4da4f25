// policy::NetGuard on hand-built views: what counts, what is an echo, a VRRP MAC,
// a VM's own frame, an upper device's copy; who is protected; what goes down.
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>

#include "Frames.h"
#include "ork/policy/NetGuard.h"

namespace ork::policy {
namespace {

const Mac kEth0{{0x02, 0, 0, 0, 0, 0x10}};
const Mac kEth1{{0x02, 0, 0, 0, 0, 0x11}};
const Mac kBond{{0x02, 0, 0, 0, 0, 0x20}};
const Mac kTap{{0xfe, 0x54, 0, 0, 0, 0x30}};
const Mac kGuest{{0x52, 0x54, 0, 0, 0, 0x30}};
const Mac kStranger{{0x02, 0xee, 0, 0, 0, 1}};
const Mac kVrrp{{0x00, 0x00, 0x5e, 0x00, 0x01, 0x07}};

sys::NetLink link(int index, const char* name, Mac mac, const char* kind = "", int master = 0, int lower = 0) {
  sys::NetLink l;
  l.index = index;
  l.name = name;
  l.mac = mac;
  l.hasMac = true;
  l.flags = IFF_UP;
  l.kind = kind;
  l.master = master;
  l.lower = lower;
  return l;
}

// lo; eth0 (default route, management 192.0.2.10); eth1 and eth2 (slaves of bond0, one
// MAC); br1 (bridge) with ports eth3 and vnet0 (a VM's tap, guest MAC learned); vrrp0 a
// macvlan with a VRRP MAC on eth3.
sys::NetView hypervisor() {
  sys::NetView v;
  auto lo = link(1, "lo", Mac{});
  lo.flags |= IFF_LOOPBACK;
  v.links = {lo,
             link(2, "eth0", kEth0),
             link(3, "eth1", kBond, "", 5),
             link(4, "eth2", kBond, "", 5),
             link(5, "bond0", kBond, "bond"),
             link(6, "br1", kEth1, "bridge"),
             link(7, "eth3", kEth1, "", 6),
             link(8, "vnet0", kTap, "tun", 6),
             link(9, "vrrp0", kVrrp, "macvlan", 0, 7)};
  sys::DefaultRoute d;
  d.family = 2;
  d.oif = 2;
  d.nexthops = {2};
  d.hasPrefsrc = true;
  d.prefsrc[0] = 192, d.prefsrc[1] = 0, d.prefsrc[2] = 2, d.prefsrc[3] = 10;
  v.defaults = {d};
  sys::NetAddr a;
  a.index = 2;
  a.family = 2;
  a.addr[0] = 192, a.addr[1] = 0, a.addr[2] = 2, a.addr[3] = 10;
  v.addrs = {a};
  sys::FdbEntry learned;
  learned.port = 8;
  learned.bridge = 6;
  learned.mac = kGuest;
  learned.state = NUD_REACHABLE;
  sys::FdbEntry own;
  own.port = 8;
  own.mac = kTap;
  own.state = NUD_PERMANENT;
  v.fdb = {learned, own};
  return v;
}

NetSettings settings() {
  NetSettings s;
  s.frames = 3;
  s.window = Seconds{10};
  s.echoWindow = Seconds{2};
  return s;
}

struct Rig {
  NetGuard g{settings()};
  TimePoint now{Seconds{1000}};
  Rig() { g.update(hypervisor()); }
  NetGuard::Seen feed(const frames::Bytes& f, int ifindex, std::uint8_t type = PACKET_BROADCAST) {
    auto p = parse::parseNeighborFrame(f);
    EXPECT_TRUE(p.ok());
    now = now + Millis{100};
    return g.onFrame(*p, ifindex, type, NetGuard::frameHash(f), now);
  }
};

TEST(NetGuard, OurMacsAreTheHostsAndTheGuests) {
  Rig r;
  std::vector<std::string> seen;
  for (const auto& o : r.g.ours()) seen.push_back(o.iface + "=" + o.mac.str() + (o.vm ? " vm" : ""));
  EXPECT_EQ(seen, (std::vector<std::string>{"eth0=02:00:00:00:00:10", "eth1=02:00:00:00:00:20", "eth2=02:00:00:00:00:20",
                                            "bond0=02:00:00:00:00:20", "br1=02:00:00:00:00:11", "eth3=02:00:00:00:00:11",
                                            "vnet0=fe:54:00:00:00:30", "vrrp0=00:00:5e:00:01:07",
                                            "vnet0=52:54:00:00:00:30 vm"}));
}

TEST(NetGuard, ThreeFramesFromElsewhereConfirm) {
  Rig r;
  auto forged = frames::arp(kEth1, kEth1, {198, 51, 100, 9});
  EXPECT_EQ(r.feed(forged, 7).verdict, NetGuard::Verdict::Counted);
  EXPECT_EQ(r.feed(forged, 6).verdict, NetGuard::Verdict::UpperCopy);  // the bridge's copy
  EXPECT_EQ(r.feed(forged, 7).verdict, NetGuard::Verdict::Counted);
  auto s = r.feed(forged, 7);
  EXPECT_EQ(s.verdict, NetGuard::Verdict::Confirmed);
  EXPECT_EQ(s.frames, 3);
  EXPECT_EQ(s.mac, kEth1);
  EXPECT_EQ(r.feed(forged, 7).verdict, NetGuard::Verdict::Repeated);
  auto t = r.g.targets(kEth1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].iface, "br1");  // eth3 is its port, with the bridge's MAC
  EXPECT_EQ(t[0].protectedBy, nullptr);
}

TEST(NetGuard, FramesOutsideTheWindowDoNotAddUp) {
  Rig r;
  auto forged = frames::arp(kStranger, kEth0, {198, 51, 100, 9});  // sender hw is ours
  EXPECT_EQ(r.feed(forged, 2).verdict, NetGuard::Verdict::Counted);
  r.now = r.now + Seconds{11};
  EXPECT_EQ(r.feed(forged, 2).verdict, NetGuard::Verdict::Counted);
  r.now = r.now + Seconds{11};
  EXPECT_EQ(r.feed(forged, 2).frames, 1);
}

TEST(NetGuard, OwnFramesEchoesVrrpAndIgnoredNeverCount) {
  NetSettings s = settings();
  s.ignore = {kEth0};
  NetGuard g(s);
  g.update(hypervisor());
  TimePoint now{Seconds{5}};
  auto count = [&](const frames::Bytes& f, int ifindex, std::uint8_t type) {
    return g.onFrame(*parse::parseNeighborFrame(f), ifindex, type, NetGuard::frameHash(f), now).verdict;
  };
  // Our own ARP, sent (outgoing), then come back on another port of ours: an echo.
  auto mine = frames::arp(kEth1, kEth1, {10, 0, 0, 1});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(count(mine, 6, PACKET_OUTGOING), NetGuard::Verdict::Outgoing);  // sent by br1
    EXPECT_EQ(count(mine, 7, PACKET_OUTGOING), NetGuard::Verdict::Outgoing);  // then its port
    EXPECT_EQ(count(mine, 7, PACKET_BROADCAST), NetGuard::Verdict::Echo);
  }
  // The echo window passes: the same frame now counts.
  now = now + Seconds{3};
  EXPECT_EQ(count(mine, 7, PACKET_BROADCAST), NetGuard::Verdict::Counted);
  // A VM's own frames on its tap; their flood back through the uplink is an echo.
  auto guest = frames::nd(136, kGuest, kGuest);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(count(guest, 8, PACKET_BROADCAST), NetGuard::Verdict::OwnPort);
    EXPECT_EQ(count(guest, 7, PACKET_BROADCAST), NetGuard::Verdict::Echo);
  }
  // VRRP, even on a MAC of ours; an ignored MAC.
  auto vrrp = frames::arp(kVrrp, kVrrp, {10, 0, 0, 254});
  auto ignored = frames::arp(kEth0, kEth0, {10, 0, 0, 2});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(count(vrrp, 7, PACKET_BROADCAST), NetGuard::Verdict::Ignored);
    EXPECT_EQ(count(ignored, 2, PACKET_BROADCAST), NetGuard::Verdict::Ignored);
  }
  // Strangers and multicast sources are not ours.
  EXPECT_EQ(count(frames::arp(kStranger, kStranger, {10, 0, 0, 3}), 2, PACKET_BROADCAST), NetGuard::Verdict::NotOurs);
}

TEST(NetGuard, AnFdbNotificationTeachesAGuestMacWithoutADump) {
  auto v = hypervisor();
  v.fdb.clear();
  NetGuard g(settings());
  g.update(v);
  const std::size_t before = g.ours().size();
  sys::FdbEntry e;
  e.port = 7;  // eth3, not a tap: nothing
  e.mac = kGuest;
  e.state = NUD_REACHABLE;
  g.learn(e);
  EXPECT_EQ(g.ours().size(), before);
  e.port = 8;
  e.state = NUD_PERMANENT;  // the tap's own address
  g.learn(e);
  EXPECT_EQ(g.ours().size(), before);
  e.state = NUD_REACHABLE;
  g.learn(e);
  ASSERT_EQ(g.ours().size(), before + 1);
  EXPECT_TRUE(g.ours().back().vm);
  EXPECT_EQ(g.targets(kGuest).at(0).iface, "vnet0");
  e.port = 7;  // re-learned on the uplink: still the tap's
  g.learn(e);
  EXPECT_EQ(g.targets(kGuest).at(0).iface, "vnet0");
}

TEST(NetGuard, AGuestsOwnFrameOnItsTapTeachesItsMac) {
  auto v = hypervisor();
  v.fdb.clear();
  v.links.push_back(link(11, "vnet1", Mac{{0xfe, 0x54, 0, 0, 0, 0x41}}, "tun", 6));
  NetGuard g(settings());
  g.update(v);
  TimePoint now{Seconds{1}};
  auto frame = frames::arp(kGuest, kGuest, {10, 0, 0, 5});
  auto p = parse::parseNeighborFrame(frame);
  EXPECT_EQ(g.onFrame(*p, 8, PACKET_BROADCAST, NetGuard::frameHash(frame), now).verdict, NetGuard::Verdict::OwnPort);
  EXPECT_EQ(g.targets(kGuest).at(0).iface, "vnet0");
  // Another VM on this host (vnet1) using the same MAC: the impostor's tap goes, not
  // the first owner's.
  auto clone = frames::arp(kGuest, kGuest, {10, 0, 0, 6});
  auto c = parse::parseNeighborFrame(clone);
  NetGuard::Seen s;
  for (int i = 0; i < 3; ++i) {
    now = now + Millis{10};
    s = g.onFrame(*c, 11, PACKET_BROADCAST, NetGuard::frameHash(clone), now);
  }
  EXPECT_EQ(s.verdict, NetGuard::Verdict::Confirmed);
  auto t = g.targets(kGuest, 11);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].iface, "vnet1");
  // From the uplink, the owner's tap.
  EXPECT_EQ(g.targets(kGuest, 7).at(0).iface, "vnet0");
}

TEST(NetGuard, AFrameTheBridgeForwardsIsNotOurs) {
  // A stranger's frame with the guest's MAC: in on eth3, forwarded out of vnet0 (an
  // outgoing copy on a port): the next identical frame is no echo.
  Rig r;
  auto forged = frames::arp(kGuest, kGuest, {10, 0, 0, 77});
  EXPECT_EQ(r.feed(forged, 7).verdict, NetGuard::Verdict::Counted);
  EXPECT_EQ(r.feed(forged, 8, PACKET_OUTGOING).verdict, NetGuard::Verdict::Outgoing);
  EXPECT_EQ(r.feed(forged, 7).verdict, NetGuard::Verdict::Counted);
  EXPECT_EQ(r.feed(forged, 8, PACKET_OUTGOING).verdict, NetGuard::Verdict::Outgoing);
  EXPECT_EQ(r.feed(forged, 7).verdict, NetGuard::Verdict::Confirmed);
}

TEST(NetGuard, AGuestMacFromElsewherePutsItsTapDown) {
  Rig r;
  auto forged = frames::arp(kGuest, kGuest, {10, 0, 0, 77});
  for (int i = 0; i < 3; ++i) r.feed(forged, 7);
  auto t = r.g.targets(kGuest);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].iface, "vnet0");
  EXPECT_EQ(t[0].protectedBy, nullptr);
  // The bridge re-learned the MAC on eth3 (the duplicate did it): still the VM's.
  auto v = hypervisor();
  v.fdb[0].port = 7;
  r.g.update(v);
  EXPECT_EQ(r.g.targets(kGuest)[0].iface, "vnet0");
}

TEST(NetGuard, LibvirtNamesTheVmAndItsTapBeforeAnyTraffic) {
  auto v = hypervisor();
  v.fdb.clear();  // the guest has not spoken yet
  NetGuard g(settings());
  const Mac second{{0x52, 0x54, 0, 0, 0, 0x31}};
  g.update(v, {{kGuest, "vnet0", "instance-0000002a", "5f1c0000-0000-4000-8000-000000000001"},
               {second, "vnet0", "instance-0000002a", "5f1c0000-0000-4000-8000-000000000001"},
               {kStranger, "", "other", "u"}});  // no tap: not guarded
  int vms = 0;
  for (const auto& o : g.ours()) {
    if (!o.vm) continue;
    ++vms;
    EXPECT_EQ(o.iface, "vnet0");
    EXPECT_EQ(o.vmName, "instance-0000002a");
    EXPECT_EQ(o.vmUuid, "5f1c0000-0000-4000-8000-000000000001");
  }
  EXPECT_EQ(vms, 2);
  EXPECT_EQ(g.targets(second).at(0).iface, "vnet0");
  // A MAC the bridge learned on that tap (a nested guest) is that VM's too.
  NetGuard h(settings());
  h.update(hypervisor(), {{second, "vnet0", "vm-b", "uuid-b"}});
  for (const auto& o : h.ours()) {
    if (o.mac == kGuest) {
      EXPECT_EQ(o.vmName, "vm-b");
    }
  }
}

TEST(NetGuard, ManagementAndWhatCarriesItAreProtected) {
  NetSettings s = settings();
  s.protect = {"eth3"};
  NetGuard g(s);
  g.update(hypervisor());
  EXPECT_STREQ(g.protectedWhy(2), "default_route");
  EXPECT_STREQ(g.protectedWhy(7), "protect");
  EXPECT_STREQ(g.protectedWhy(6), "carries_protected");  // eth3's bridge
  EXPECT_EQ(g.protectedWhy(8), nullptr);                  // but not the VM's tap on it
  EXPECT_EQ(g.protectedWhy(5), nullptr);
  // Management through a VLAN on a bond: the VLAN, the bond, its slaves.
  auto v = hypervisor();
  v.links.push_back(link(10, "bond0.100", kBond, "vlan", 0, 5));
  v.defaults[0].nexthops = {10};
  v.addrs[0].index = 10;
  NetGuard h(settings());
  h.update(v);
  EXPECT_STREQ(h.protectedWhy(10), "default_route");
  EXPECT_STREQ(h.protectedWhy(5), "carries_protected");
  EXPECT_STREQ(h.protectedWhy(3), "carries_protected");
  EXPECT_STREQ(h.protectedWhy(4), "carries_protected");
  EXPECT_EQ(h.protectedWhy(2), nullptr);
  auto t = h.targets(kBond);
  ASSERT_EQ(t.size(), 2u);  // bond0 and the VLAN on it (the slaves are bond0's)
  EXPECT_EQ(t[0].iface, "bond0");
  EXPECT_EQ(t[1].iface, "bond0.100");
  EXPECT_NE(t[0].protectedBy, nullptr);
}

TEST(NetGuard, AfterTheOperatorBringsItUpOnlyNewFramesCount) {
  Rig r;
  auto forged = frames::arp(kEth0, kEth0, {10, 9, 9, 9});
  for (int i = 0; i < 3; ++i) r.feed(forged, 2);
  r.g.acted(kEth0, {2});
  auto down = hypervisor();
  down.links[1].flags &= ~IFF_UP;
  r.g.update(down);
  EXPECT_EQ(r.feed(forged, 2).verdict, NetGuard::Verdict::Repeated);
  r.g.update(hypervisor());  // up again
  EXPECT_EQ(r.feed(forged, 2).verdict, NetGuard::Verdict::Counted);
  EXPECT_EQ(r.feed(forged, 2).frames, 2);
}

TEST(NetGuard, UpperDevicesCopiesAreSkipped) {
  Rig r;
  auto forged = frames::arp(kBond, kBond, {10, 9, 9, 8});
  EXPECT_EQ(r.feed(forged, 5).verdict, NetGuard::Verdict::UpperCopy);  // bond0
  EXPECT_EQ(r.feed(forged, 9).verdict, NetGuard::Verdict::UpperCopy);  // a macvlan on eth3
  EXPECT_EQ(r.feed(forged, 3).verdict, NetGuard::Verdict::Counted);    // the slave saw it
}

TEST(NetGuard, FrameHashIgnoresTagsAndPadding) {
  auto plain = frames::arp(kEth0, kEth0, {1, 2, 3, 4});
  auto tagged = frames::arp(kEth0, kEth0, {1, 2, 3, 4}, 1, {{0x8100, 5}});
  auto unpadded = plain;
  unpadded.resize(42);
  EXPECT_EQ(NetGuard::frameHash(plain), NetGuard::frameHash(tagged));
  EXPECT_EQ(NetGuard::frameHash(plain), NetGuard::frameHash(unpadded));
  EXPECT_NE(NetGuard::frameHash(plain), NetGuard::frameHash(frames::arp(kEth0, kEth0, {1, 2, 3, 5})));
}

}  // namespace
}  // namespace ork::policy
