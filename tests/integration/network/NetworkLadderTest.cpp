// The network ladder against real frames in real network namespaces. Each test builds
// its own namespaces (names unique to this process; deleted in TearDown, also after a
// failure, and every veth and bridge goes with them):
//
//   A, ORK's node:  x0 (default route, 10.77.0.1/24: the management interface)
//                   x1 (a plain data interface)
//                   br0, a bridge with ports x2 and vnet0 (the tap of a "VM")
//   B, "another node": y0, y1, y2, the peers of x0, x1, x2
//   V, the "VM": g0, the peer of vnet0, with a guest MAC 52:54:00:...
//
// ORK runs armed inside A (nsenter --net: its network scope is A's interfaces only;
// `ip netns exec` would remount /sys and hide the cgroup the test gives it), scoped
// with --cgroup to an empty cgroup of the test's own and with its CPU, disk and VM
// ladders off: its memory ladder cannot touch anything outside the test. Needs root.
#include <sched.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <net/if.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "ork/sys/PacketSocket.h"
#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kBridge = "/usr/sbin/bridge";
constexpr const char* kGuestMac = "52:54:00:12:34:56";

std::string run(const std::vector<std::string>& argv) {
  std::string out;
  int rc = runCommand(argv, &out);
  if (rc != 0) ADD_FAILURE() << "command failed (" << rc << "): " << argv[0] << " " << (argv.size() > 1 ? argv[1] : "")
                             << " ...: " << out;
  return out;
}

class NetworkLadder : public ::testing::Test {
 protected:
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "needs root for network namespaces");
    ORK_REQUIRE(::access(kIp, X_OK) == 0 && ::access(kBridge, X_OK) == 0, "needs iproute2 (ip, bridge)");
    ORK_REQUIRE(cgroup_.create(1024), "no writable memory cgroup hierarchy");
    const std::string p = "orkn" + std::to_string(::getpid()) + "-" + std::to_string(++counter_);
    a_ = p + "a", b_ = p + "b", v_ = p + "v";
    for (const auto& ns : {a_, b_, v_}) {
      ASSERT_EQ(runCommand({kIp, "netns", "add", ns}), 0) << "cannot create namespace " << ns;
      made_.push_back(ns);
    }
    for (int i = 0; i < 3; ++i) veth(a_, "x" + std::to_string(i), b_, "y" + std::to_string(i));
    veth(a_, "vnet0", v_, "g0");
    run({kIp, "-n", v_, "link", "set", "g0", "address", kGuestMac});
    run({kIp, "-n", a_, "link", "add", "br0", "type", "bridge"});
    run({kIp, "-n", a_, "link", "set", "x2", "master", "br0"});
    run({kIp, "-n", a_, "link", "set", "vnet0", "master", "br0"});
    for (const auto& d : {"lo", "x0", "x1", "x2", "vnet0", "br0"}) run({kIp, "-n", a_, "link", "set", d, "up"});
    for (const auto& d : {"y0", "y1", "y2"}) run({kIp, "-n", b_, "link", "set", d, "up"});
    run({kIp, "-n", v_, "link", "set", "g0", "up"});
    run({kIp, "-n", a_, "addr", "add", "10.77.0.1/24", "dev", "x0"});
    run({kIp, "-n", a_, "route", "add", "default", "via", "10.77.0.254", "dev", "x0"});
    dir_ = tempDir();
    journal_.path = dir_ + "/journal.log";
  }

  void TearDown() override {
    if (HasFailure() && !journal_.path.empty()) {
      std::string out;
      for (const auto& l : journal_.lines()) out += "  " + l + "\n";
      std::cerr << "ORK's journal:\n" << out;
    }
    ork_.stop(SIGTERM);
    for (const auto& ns : made_) (void)runCommand({kIp, "netns", "del", ns});
    if (!dir_.empty()) (void)runCommand({"/bin/rm", "-rf", dir_});
  }

  void veth(const std::string& ns1, const std::string& n1, const std::string& ns2, const std::string& n2) {
    run({kIp, "link", "add", n1, "netns", ns1, "type", "veth", "peer", "name", n2, "netns", ns2});
  }

  // dropCaps: run ORK without these capabilities ("net_raw,net_admin"; setpriv).
  void startOrk(const std::string& networkExtra = "", bool dryRun = false, const std::string& dropCaps = "") {
    writeFile(dir_ + "/ork.toml", "[network]\nenabled = true\n" + networkExtra +
                                      "[cpu]\nenabled = false\n[disk]\nenabled = false\n[vm]\nenabled = false\n" +
                                      recorderIn(dir_));
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--net=/run/netns/" + a_};
    if (!dropCaps.empty()) {
      std::string drop;
      for (std::size_t i = 0, j; i <= dropCaps.size(); i = j + 1) {
        j = dropCaps.find(',', i);
        if (j == std::string::npos) j = dropCaps.size();
        drop += (drop.empty() ? "-" : ",-") + dropCaps.substr(i, j - i);
      }
      argv.insert(argv.end(), {"/usr/bin/setpriv", "--bounding-set", drop});
    }
    argv.insert(argv.end(), {ORK_BINARY, "daemon", "--cgroup", cgroup_.path(), "--config", dir_ + "/ork.toml", "--kmsg",
                             journal_.path, "--quiet", "--state-dir", dir_ + "/state"});
    if (dryRun) argv.push_back("--dry-run");
    ork_ = spawn(argv);
    ASSERT_NE(journal_.waitFor({"event=start"}, 10s), "") << "ORK did not start";
    if (dropCaps.empty()) {
      ASSERT_NE(journal_.waitFor({"event=start", "network=1"}, 100ms), "") << "the network ladder is off";
    }
  }

  std::string mac(const std::string& ns, const std::string& dev) {
    return trim(readCmd({kIp, "-n", ns, "-br", "link", "show", dev}), 2);
  }
  static std::string trim(const std::string& line, int column) {
    std::istringstream in(line);
    std::string w;
    for (int i = 0; i <= column; ++i) in >> w;
    return w;
  }
  static std::string readCmd(const std::vector<std::string>& argv) {
    std::string out;
    (void)runCommand(argv, &out);
    return out;
  }
  // IFF_UP (administratively up), from `ip -o link`: the flags between < and >.
  bool isUp(const std::string& ns, const std::string& dev) {
    std::string out = readCmd({kIp, "-n", ns, "-o", "link", "show", dev});
    auto lt = out.find('<'), gt = out.find('>');
    if (lt == std::string::npos || gt == std::string::npos) return false;
    std::string flags = "," + out.substr(lt + 1, gt - lt - 1) + ",";
    return flags.find(",UP,") != std::string::npos;
  }
  // Frames from another namespace's interface.
  std::string send(const std::string& ns, const std::string& dev, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--net=/run/netns/" + ns, ORK_ARPSEND, dev};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  // Waits until dev is down; the time it took, or -1 ms.
  std::chrono::milliseconds waitDown(const std::string& dev, Clock::time_point from, std::chrono::milliseconds limit) {
    while (Clock::now() - from < limit) {
      if (!isUp(a_, dev)) return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - from);
      std::this_thread::sleep_for(2ms);
    }
    return -1ms;
  }
  void expectUp(std::initializer_list<const char*> devs) {
    for (const char* d : devs) EXPECT_TRUE(isUp(a_, d)) << d << " went down";
  }
  long rxPackets(const std::string& ns, const std::string& dev) {
    // (/sys under nsenter --net is the host's: the counter comes through ip.)
    std::string out = readCmd({kIp, "-n", ns, "-s", "-o", "link", "show", dev});
    auto pos = out.find("RX:");
    if (pos == std::string::npos) return -1;
    std::istringstream in(out.substr(pos));
    std::string w;
    long bytes = 0, packets = -1;
    // "RX: bytes packets errors ... \    <bytes> <packets> ..."
    while (in >> w && w != "\\") {}
    in >> bytes >> packets;
    return packets;
  }

  static inline int counter_ = 0;
  MemoryCgroup cgroup_;
  std::string a_, b_, v_;
  std::vector<std::string> made_;
  std::string dir_;
  JournalFile journal_;
  Child ork_;
};

TEST_F(NetworkLadder, ArpWithOurMacFromAnotherNodePutsThatInterfaceDownOnly) {
  startOrk();
  const std::string m1 = mac(a_, "x1");
  // One forged frame is not enough.
  send(b_, "y1", {"--src", m1, "--count", "1"});
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(isUp(a_, "x1")) << "one frame put it down";
  // Three within the window: down, measured from the first frame of the burst and from
  // the third (the one that confirms).
  const auto t0 = Clock::now();
  send(b_, "y1", {"--src", m1, "--count", "2", "--interval-us", "1000"});
  const auto took = waitDown("x1", t0, 5s);
  ASSERT_GE(took.count(), 0) << "x1 is still up";
  std::cout << "[ figure ] duplicate ARP -> x1 down: " << took.count() << " ms after the confirming burst (polled every 2 ms)\n";
  // The 1 s target is measured (printed above, recorded in docs/benchmarks.md), not
  // asserted: a loaded machine must not fail the behaviour test.
  const std::string line = journal_.waitFor({"event=link_down", "iface=\"x1\""}, 2s);
  ASSERT_NE(line, "");
  EXPECT_EQ(field(line, "result"), "ok");
  EXPECT_EQ(field(line, "mac"), m1);
  std::cout << "[ figure ] ORK's own wake-up -> netlink answer: took_us=" << field(line, "took_us") << "\n";
  const std::string d = journal_.waitFor({"event=mac_duplicate", "iface=\"x1\""}, 100ms);
  EXPECT_EQ(field(d, "sender_ip"), "192.0.2.99");
  EXPECT_EQ(field(d, "seen_on"), "\"x1\"");
  EXPECT_EQ(field(d, "action"), "link_down");
  expectUp({"x0", "x2", "br0", "vnet0"});

  // The operator brings it up: the old frames do not put it down again...
  run({kIp, "-n", a_, "link", "set", "x1", "up"});
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(isUp(a_, "x1")) << "put down again without new frames";
  send(b_, "y1", {"--src", m1, "--count", "1"});
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(isUp(a_, "x1")) << "one new frame after the operator's up was enough";
  // ...new ones do.
  send(b_, "y1", {"--src", m1, "--count", "2", "--interval-us", "1000"});
  EXPECT_GE(waitDown("x1", Clock::now(), 5s).count(), 0) << "new duplicate frames did not put it down again";
  EXPECT_EQ(journal_.count("event=link_down"), 2);
  EXPECT_TRUE(ork_.alive());
}

TEST_F(NetworkLadder, OurOwnArpNeverCountsEvenReflected) {
  // B floods every broadcast back to where it came from (a hairpin port on a bridge).
  run({kIp, "-n", b_, "link", "add", "bb", "type", "bridge"});
  run({kIp, "-n", b_, "link", "set", "y1", "master", "bb"});
  run({kBridge, "-n", b_, "link", "set", "dev", "y1", "hairpin", "on"});
  run({kIp, "-n", b_, "link", "set", "bb", "up"});
  startOrk();
  const std::string m1 = mac(a_, "x1");
  const long before = rxPackets(a_, "x1");
  // ORK's own node sends ARP with its own MAC, many times: they go out, and come back.
  send(a_, "x1", {"--src", m1, "--count", "20", "--interval-us", "10000"});
  // The kernel's own ARP too: a datagram to a neighbour nobody answers for makes it ask
  // (three times, a second apart), and the hairpin sends each request back.
  run({kIp, "-n", a_, "addr", "add", "10.77.1.1/24", "dev", "x1"});
  run({"/usr/bin/nsenter", "--net=/run/netns/" + a_, "/bin/bash", "-c", "echo x > /dev/udp/10.77.1.2/9"});
  std::this_thread::sleep_for(2500ms);
  const long after = rxPackets(a_, "x1");
  EXPECT_GE(after - before, 22) << "the reflection did not happen: the test proves nothing";
  EXPECT_TRUE(isUp(a_, "x1"));
  EXPECT_EQ(journal_.count("event=mac_duplicate"), 0);
  // The VM's own frames on its tap, flooded through the bridge, never count either.
  send(v_, "g0", {"--src", kGuestMac, "--count", "20", "--interval-us", "5000"});
  std::this_thread::sleep_for(300ms);
  expectUp({"vnet0", "x2", "br0"});
  EXPECT_EQ(journal_.count("event=mac_duplicate"), 0);
}

TEST_F(NetworkLadder, VrrpAndIgnoredMacsNeverCount) {
  // keepalived's use_vmac: a macvlan on x1 with the VRRP MAC of VRID 7. It is ours; so
  // is x2's MAC, listed in ignore_macs.
  run({kIp, "-n", a_, "link", "add", "link", "x1", "vrrp.7", "address", "00:00:5e:00:01:07", "type", "macvlan", "mode", "private"});
  run({kIp, "-n", a_, "link", "set", "vrrp.7", "up"});
  const std::string m2 = mac(a_, "x2");
  startOrk("ignore_macs = [\"" + m2 + "\"]\n");
  send(b_, "y1", {"--src", "00:00:5e:00:01:07", "--count", "10", "--interval-us", "5000"});
  send(b_, "y1", {"--src", "00:00:5e:00:02:07", "--nd", "--count", "10", "--interval-us", "5000"});
  send(b_, "y2", {"--src", m2, "--count", "10", "--interval-us", "5000"});
  std::this_thread::sleep_for(500ms);
  expectUp({"x1", "vrrp.7", "x2", "br0"});
  EXPECT_EQ(journal_.count("event=mac_duplicate"), 0);
}

TEST_F(NetworkLadder, ForgedFramesWithTheManagementMacLeaveItUp) {
  startOrk();
  const std::string m0 = mac(a_, "x0");
  send(b_, "y0", {"--src", m0, "--count", "5", "--interval-us", "5000"});
  const std::string line = journal_.waitFor({"event=link_protected", "iface=\"x0\""}, 3s);
  ASSERT_NE(line, "") << "no journal line says x0 is protected";
  EXPECT_EQ(field(line, "protected_by"), "default_route");
  EXPECT_NE(journal_.waitFor({"event=mac_duplicate", "iface=\"x0\"", "action=protected"}, 100ms), "");
  std::this_thread::sleep_for(300ms);
  expectUp({"x0", "x1", "x2", "br0", "vnet0"});
  // IPv6 neighbour advertisements with the sender's link-layer address only (the
  // Ethernet source a stranger's): the same.
  send(b_, "y0", {"--src", "02:66:66:66:66:66", "--sha", m0, "--nd", "--count", "5", "--interval-us", "5000"});
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(isUp(a_, "x0"));
}

TEST_F(NetworkLadder, AnInterfaceAddedAfterStartIsWatched) {
  startOrk();
  veth(a_, "x3", b_, "y3");
  run({kIp, "-n", a_, "link", "set", "x3", "up"});
  run({kIp, "-n", b_, "link", "set", "y3", "up"});
  std::this_thread::sleep_for(300ms);  // the notification, then ORK's fresh view
  const std::string m3 = mac(a_, "x3");
  send(b_, "y3", {"--src", m3, "--count", "3", "--interval-us", "2000", "--vlan", "42"});
  EXPECT_GE(waitDown("x3", Clock::now(), 5s).count(), 0) << "x3 (added after start) is still up";
  const std::string d = journal_.waitFor({"event=mac_duplicate", "iface=\"x3\""}, 1s);
  EXPECT_EQ(field(d, "vlan"), "42");
  expectUp({"x0", "x1", "x2"});
}

TEST_F(NetworkLadder, AVmMacFromAnotherNodePutsOnlyItsTapDown) {
  startOrk();
  // The "VM" speaks: the bridge learns its MAC on vnet0, and ORK with it.
  send(v_, "g0", {"--src", kGuestMac, "--ip", "10.77.2.5", "--count", "3", "--interval-us", "10000"});
  std::this_thread::sleep_for(400ms);
  ASSERT_NE(readCmd({kBridge, "-n", a_, "fdb", "show", "dev", "vnet0"}).find(kGuestMac), std::string::npos);
  // Another node uses the guest's MAC, through the bridge's uplink x2.
  const auto t0 = Clock::now();
  send(b_, "y2", {"--src", kGuestMac, "--count", "3", "--interval-us", "2000"});
  const auto took = waitDown("vnet0", t0, 5s);
  ASSERT_GE(took.count(), 0) << "the VM's tap is still up";
  std::cout << "[ figure ] duplicate guest MAC -> tap down: " << took.count() << " ms\n";
  expectUp({"x2", "br0", "x0", "x1"});
  const std::string line = journal_.waitFor({"event=link_down", "iface=\"vnet0\""}, 1s);
  EXPECT_EQ(field(line, "owner"), "vm");
  EXPECT_EQ(field(line, "mac"), kGuestMac);
  const std::string d = journal_.waitFor({"event=mac_duplicate", "iface=\"vnet0\""}, 100ms);
  EXPECT_EQ(field(d, "seen_on"), "\"x2\"");
}

// Without libvirt and before the guest sent any ARP/ND: what the bridge learned on the
// tap (a dynamic FDB entry, as learned from any frame) is the guest's MAC.
TEST_F(NetworkLadder, TheBridgesFdbTeachesAGuestMacWithoutAnyArp) {
  const std::string learned = "52:54:00:aa:bb:02";
  run({kBridge, "-n", a_, "fdb", "add", learned, "dev", "vnet0", "master", "dynamic"});
  ASSERT_NE(readCmd({kBridge, "-n", a_, "fdb", "show", "dev", "vnet0"}).find(learned), std::string::npos);
  startOrk();
  send(b_, "y2", {"--src", learned, "--count", "3", "--interval-us", "2000"});
  EXPECT_GE(waitDown("vnet0", Clock::now(), 5s).count(), 0) << "the tap that learned the MAC is still up";
  const std::string line = journal_.waitFor({"event=link_down", "iface=\"vnet0\""}, 1s);
  EXPECT_EQ(field(line, "owner"), "vm");
  EXPECT_EQ(field(line, "mac"), learned);
  expectUp({"x2", "br0"});
}

// Without the capabilities: one clear warning, the ladder off, ORK goes on.
TEST_F(NetworkLadder, WithoutCapabilitiesTheLadderIsOffAndOrkGoesOn) {
  ORK_REQUIRE(::access("/usr/bin/setpriv", X_OK) == 0, "needs setpriv (util-linux)");
  startOrk("", false, "net_admin");
  std::string w = journal_.waitFor({"event=warning", "what=network_unavailable"}, 2s);
  EXPECT_NE(w.find("CAP_NET_ADMIN"), std::string::npos) << w;
  EXPECT_NE(journal_.waitFor({"event=start", "network=0"}, 100ms), "");
  ork_.stop(SIGTERM);
  ::unlink(journal_.path.c_str());
  startOrk("", true, "net_raw");  // dry-run needs no CAP_NET_ADMIN, but the socket needs CAP_NET_RAW
  w = journal_.waitFor({"event=warning", "what=network_unavailable"}, 2s);
  EXPECT_NE(w.find("CAP_NET_RAW"), std::string::npos) << w;
  // ORK keeps running, and forged frames change nothing.
  send(b_, "y1", {"--src", mac(a_, "x1"), "--count", "3", "--interval-us", "2000"});
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(ork_.alive());
  EXPECT_TRUE(isUp(a_, "x1"));
}

// A namespace with nothing but loopback (what systemd's PrivateNetwork=yes gives):
// said, not silently "watched".
TEST_F(NetworkLadder, NothingButLoopbackIsSaid) {
  writeFile(dir_ + "/ork.toml", "[network]\nenabled = true\n[cpu]\nenabled = false\n[disk]\nenabled = false\n[vm]\nenabled = false\n" +
                                    recorderIn(dir_));
  ork_ = spawn({"/usr/bin/unshare", "--net", ORK_BINARY, "daemon", "--dry-run", "--cgroup", cgroup_.path(), "--config",
                dir_ + "/ork.toml", "--kmsg", journal_.path, "--quiet"});
  ASSERT_NE(journal_.waitFor({"event=start", "network=1", "network_macs=0"}, 10s), "");
  EXPECT_NE(journal_.waitFor({"event=warning", "what=network_nothing_to_guard"}, 2s), "");
  EXPECT_TRUE(ork_.alive());
}

// IPv6: neighbour advertisements whose target link-layer address is ours, from a
// stranger's Ethernet source (the other node's own NIC), behind a VLAN tag.
TEST_F(NetworkLadder, NeighbourAdvertisementsWithOurMacCountToo) {
  startOrk();
  const std::string m1 = mac(a_, "x1");
  send(b_, "y1", {"--src", "02:66:66:66:66:66", "--sha", m1, "--nd", "--vlan", "7", "--count", "3", "--interval-us", "2000"});
  EXPECT_GE(waitDown("x1", Clock::now(), 5s).count(), 0) << "x1 is still up";
  const std::string d = journal_.waitFor({"event=mac_duplicate", "iface=\"x1\""}, 1s);
  EXPECT_EQ(field(d, "frame"), "nd_na");
  EXPECT_EQ(field(d, "sender_hw"), m1);
  EXPECT_EQ(field(d, "eth_source"), "02:66:66:66:66:66");
  EXPECT_EQ(field(d, "sender_ip"), "fe80::1");
  EXPECT_EQ(field(d, "vlan"), "7");
  expectUp({"x0", "x2", "br0"});
}

TEST_F(NetworkLadder, DryRunOnlySays) {
  startOrk("", true);
  const std::string m1 = mac(a_, "x1");
  send(b_, "y1", {"--src", m1, "--count", "3", "--interval-us", "2000"});
  const std::string line = journal_.waitFor({"event=would_link_down", "iface=\"x1\""}, 3s);
  ASSERT_NE(line, "");
  EXPECT_EQ(field(line, "dry_run"), "1");
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(isUp(a_, "x1"));
  EXPECT_EQ(journal_.count("event=link_down"), 0);
}

// A packet socket bound to an interface that goes down gets ENETDOWN once: read, it is
// gone; the socket does not stay readable (a loop on it would spin), and frames come
// again once the interface is up.
TEST_F(NetworkLadder, EnetdownIsReadOnceAndDoesNotSpin) {
  int result = 0;
  std::string why;
  std::thread t([&] {
    int nsfd = ::open(("/run/netns/" + a_).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) {
      why = "setns failed";
      return;
    }
    ::close(nsfd);
    auto s = sys::PacketSocket::open(static_cast<int>(::if_nametoindex("x1")));
    if (!s) {
      why = s.error().what;
      return;
    }
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s->fd(), &ev);
    (void)runCommand({kIp, "-n", a_, "link", "set", "x1", "down"});
    epoll_event out[4];
    if (::epoll_wait(ep, out, 4, 2000) != 1) {
      why = "the socket did not wake up when x1 went down";
      return;
    }
    sys::PacketSocket::Frame f;
    auto r = s->receive(f);
    if (r.ok() || r.error().code != ENETDOWN) {
      why = std::string("expected ENETDOWN, got ") + (r.ok() ? "a frame or nothing" : r.error().what);
      return;
    }
    // Frames the socket queued before the link went down (IPv6 neighbour or multicast
    // traffic from the peer, slow to be read in a TCG guest) are still there after the
    // error, and are data, not a spin: read them. What must not happen is the error
    // again, or readable with nothing to read.
    for (int queued = 0;; ++queued) {
      if (::epoll_wait(ep, out, 4, 200) == 0) break;
      auto more = s->receive(f);
      if (!more.ok() || !*more || queued >= 64) {
        why = std::string("still readable after the error was read: a loop would spin (") +
              (!more.ok() ? more.error().what : !*more ? "nothing to read" : "more than 64 frames") + ")";
        return;
      }
    }
    (void)runCommand({kIp, "-n", a_, "link", "set", "x1", "up"});
    std::this_thread::sleep_for(100ms);
    (void)runCommand({"/usr/bin/nsenter", "--net=/run/netns/" + b_, ORK_ARPSEND, "y1", "--count", "1"});
    if (::epoll_wait(ep, out, 4, 2000) != 1) {
      why = "no frame after the interface came back";
      return;
    }
    auto again = s->receive(f);
    if (!again.ok() || !*again) {
      why = "the socket is unusable after ENETDOWN";
      return;
    }
    ::close(ep);
    result = 1;
  });
  t.join();
  EXPECT_EQ(result, 1) << why;
}

}  // namespace
}  // namespace ork::test
