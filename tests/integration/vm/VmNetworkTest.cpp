// The network ladder with a real QEMU guest: libvirt (the test's own libvirtd, in its
// own network namespace) plugs the guest's NIC into a bridge through a tap (vnetN);
// ORK, run in that namespace, learns the guest's MAC and tap from libvirt (ork-virt
// reads the domain's live XML); "another node" (a process in a network namespace of its
// own, joined by a veth to the bridge) sends ARP with the guest's MAC: the guest's tap
// goes down, and only it. ORK is scoped with --cgroup to the test's cgroup (the
// daemons and the guest) and its CPU and disk ladders are off.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "support/Libvirt.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kGuestMac = "52:54:00:4f:52:4b";

struct InNetns {
  std::string ns;  // /proc/PID/ns/net
  std::vector<std::string> cmd(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=" + ns});
    return argv;
  }
  int run(const std::vector<std::string>& argv, std::string* out = nullptr) const { return runCommand(cmd(argv), out); }
  bool up(const std::string& dev) const {
    std::string out;
    if (run({"/usr/sbin/ip", "-o", "link", "show", dev}, &out) != 0) return false;
    auto lt = out.find('<'), gt = out.find('>');
    return lt != std::string::npos && gt != std::string::npos &&
           ("," + out.substr(lt + 1, gt - lt - 1) + ",").find(",UP,") != std::string::npos;
  }
};

TEST(VmNetwork, AnotherNodeWithTheGuestsMacPutsOnlyItsTapDown) {
  ORK_REQUIRE_LIBVIRTD(lv);
  const InNetns host{"/proc/" + std::to_string(lv->libvirtdPid()) + "/ns/net"};
  const std::string tag = std::to_string(::getpid() % 100000);
  const std::string br = "okbr" + tag, up = "okup" + tag;
  ASSERT_EQ(host.run({"/usr/sbin/ip", "link", "add", br, "type", "bridge"}), 0);
  // The other node: a process alone in a new network namespace, and a veth to it.
  Child other = spawn({"/usr/bin/unshare", "--net", "/bin/sh", "-c", "echo ready; exec sleep 600"});
  ASSERT_TRUE(other.waitFor("ready", 5s));
  const InNetns node{"/proc/" + std::to_string(other.pid) + "/ns/net"};
  std::string out;
  ASSERT_EQ(host.run({"/usr/sbin/ip", "link", "add", up, "type", "veth", "peer", "name", "y0", "netns",
                      std::to_string(other.pid)}, &out), 0) << out;
  host.run({"/usr/sbin/ip", "link", "set", up, "master", br});
  host.run({"/usr/sbin/ip", "link", "set", up, "up"});
  host.run({"/usr/sbin/ip", "link", "set", br, "up"});
  node.run({"/usr/sbin/ip", "link", "set", "y0", "up"});
  struct Cleanup {
    const InNetns& host;
    std::string br, up;
    Child& other;
    ~Cleanup() {
      (void)host.run({"/usr/sbin/ip", "link", "del", up});
      (void)host.run({"/usr/sbin/ip", "link", "del", br});
      other.stop();
    }
  } cleanup{host, br, up, other};

  GuestSpec spec = GuestSpec::idle(128);
  spec.extraDevices = "    <interface type='bridge'><mac address='" + std::string(kGuestMac) + "'/><source bridge='" + br +
                      "'/><model type='e1000'/></interface>\n";
  Guest g(*lv, spec);
  std::string err;
  ASSERT_TRUE(g.start(&err)) << err;
  // The tap libvirt made for it.
  std::string list;
  ASSERT_EQ(lv->virsh({"domiflist", g.name()}, &list), 0) << list;
  std::string tap;
  {
    std::istringstream in(list);
    std::string w;
    while (in >> w)
      if (w.rfind("vnet", 0) == 0 || w.rfind("tap", 0) == 0) tap = w;
  }
  ASSERT_FALSE(tap.empty()) << list;
  ASSERT_TRUE(host.up(tap));

  const std::string dir = tempDir();
  JournalFile journal{dir + "/journal.log"};
  writeFile(dir + "/ork.toml", "[network]\nenabled = true\n[cpu]\nenabled = false\n[disk]\nenabled = false\n" + recorderIn(dir));
  Child ork = spawn(host.cmd({ORK_BINARY, "daemon", "--cgroup", lv->memoryCgroup(), "--config", dir + "/ork.toml", "--kmsg",
                              journal.path, "--quiet", "--state-dir", dir + "/state"}));
  struct Stop {
    Child& ork;
    JournalFile& journal;
    std::string dir;
    ~Stop() {
      ork.stop(SIGTERM);
      if (::testing::Test::HasFailure())
        for (const auto& l : journal.lines()) std::cerr << "  " << l << "\n";
      (void)runCommand({"/bin/rm", "-rf", dir});
    }
  } stop{ork, journal, dir};
  ASSERT_NE(journal.waitFor({"event=start", "network=1"}, 10s), "") << "ORK's network ladder did not start";
  ASSERT_NE(journal.waitFor({"event=libvirt_connected"}, 30s), "") << "ORK did not reach libvirt";
  std::this_thread::sleep_for(2s);  // the ladder looks at the VMs' NICs every second

  // The guest has sent nothing (no driver in its initramfs): only libvirt told ORK.
  const auto t0 = Clock::now();
  ASSERT_EQ(runCommand(node.cmd({ORK_ARPSEND, "y0", "--src", kGuestMac, "--ip", "10.99.0.7", "--count", "3",
                                 "--interval-us", "2000"}), &out), 0) << out;
  bool down = false;
  while (Clock::now() - t0 < 10s && !(down = !host.up(tap))) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(down) << "the guest's tap " << tap << " is still up";
  std::cout << "[ figure ] duplicate guest MAC -> " << tap << " down: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() << " ms\n";
  EXPECT_TRUE(host.up(br));
  EXPECT_TRUE(host.up(up));
  EXPECT_EQ(g.state(), "running") << "only its network goes: the guest keeps running";
  const std::string line = journal.waitFor({"event=link_down", "iface=\"" + tap + "\""}, 2s);
  ASSERT_NE(line, "");
  std::cout << "[ journal ] " << line << "\n";
  EXPECT_EQ(field(line, "owner"), "vm");
  EXPECT_EQ(field(line, "vm"), "\"" + g.name() + "\"");
  EXPECT_EQ(field(line, "uuid"), g.uuid());
  const std::string d = journal.waitFor({"event=mac_duplicate", "iface=\"" + tap + "\""}, 1s);
  EXPECT_EQ(field(d, "seen_on"), "\"" + up + "\"");
  EXPECT_EQ(field(d, "sender_ip"), "10.99.0.7");
}

}  // namespace
}  // namespace ork::test
