// The network ladder's decisions, pure: which MACs are ours and where each belongs,
// which received neighbour frames count as a duplicate of one of them, which
// interfaces must never be put down, and when a duplicate is confirmed. No I/O, no
// clock: the view of the interfaces (sys::NetView) and `now` are given.
//
// A frame counts when it was received (not sent by this host), on the lowest device
// that saw it (a bridge, bond or VLAN device sees the frames of its ports and lower
// devices a second time: those copies are skipped), its Ethernet source (else its ARP/ND
// sender hardware address) is one of our MACs, it did not arrive on the port that MAC
// belongs to (a VM's own frames arrive on its tap), and it is not an echo of a frame
// this host sent or one of its VMs sent within kNetEchoWindow (a hairpin, a bridge or
// switch flooding it back). VRRP MACs and config `ignore_macs` never count.
// kNetDuplicateFrames such frames within kNetDuplicateWindow confirm a duplicate.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "ork/core/Mac.h"
#include "ork/core/Units.h"
#include "ork/parse/Neighbor.h"
#include "ork/sys/RtNetlink.h"

namespace ork::policy {

// One of our MACs and the interface that carries it (for a VM: its tap). The list
// is what `ork_nic_info` exports (the metrics issue).
struct NicOwner {
  Mac mac;
  int index = 0;
  std::string iface;
  bool vm = false;         // a guest NIC (learned on a VM's tap port, or told by libvirt)
  std::string vmName;      // when known
  std::string vmUuid;
};

// A VM's NIC as libvirt or the qemu command line tells it: its MAC and tap.
struct VmNic {
  Mac mac;
  std::string tap;  // "vnet3"; empty when unknown
  std::string vmName;
  std::string vmUuid;
  friend bool operator==(const VmNic&, const VmNic&) = default;
};

// A VM's tap: a tun or macvtap device, or one named vnetN (libvirt) or tapN (nova,
// Proxmox).
bool isVmTap(const sys::NetLink& l);

struct NetSettings {
  int frames = 3;
  Nanos window = Seconds{10};
  Nanos echoWindow = Seconds{2};
  std::vector<Mac> ignore;
  std::vector<std::string> protect;
};

class NetGuard {
 public:
  explicit NetGuard(NetSettings s) : s_(std::move(s)) {}
  void setSettings(NetSettings s) { s_ = std::move(s); }

  // A fresh view of the namespace (and the VMs' NICs when known). A VM MAC learned on
  // a tap port stays the tap's while the tap exists, even when the bridge re-learns it
  // elsewhere (which is what a duplicate does).
  void update(const sys::NetView& view, const std::vector<VmNic>& vmNics = {});
  // One FDB entry the bridge just learned (an rtnetlink notification): a new guest MAC
  // on a tap port is taken at once, without a dump. Cheap when it is not (one lookup).
  void learn(const sys::FdbEntry& e);
  const std::vector<NicOwner>& ours() const { return ours_; }
  const sys::NetView& view() const { return view_; }

  enum class Verdict {
    NotOurs,     // no MAC of ours in it
    Outgoing,    // sent by this host (remembered as an echo candidate)
    UpperCopy,   // seen again on a bridge/bond/VLAN device above the port that saw it
    OwnPort,     // a VM's own frame on its tap (remembered as an echo candidate)
    Echo,        // a frame this host or a VM sent, come back
    Ignored,     // a VRRP MAC or one of ignore_macs
    Counted,     // a duplicate frame, not yet enough of them
    Confirmed,   // the frame that made it kNetDuplicateFrames within the window
    Repeated,    // a duplicate frame after the duplicate was confirmed (not said again)
  };
  struct Seen {
    Verdict verdict = Verdict::NotOurs;
    Mac mac;                        // ours, found in the frame
    const NicOwner* owner = nullptr;
    int frames = 0;                 // in the window, this one included
    TimePoint first;                // the window's first frame
  };
  // hash: of the frame's bytes (what an echo is recognised by), see frameHash().
  Seen onFrame(const parse::NeighborFrame& f, int ifindex, std::uint8_t pktType, std::uint64_t hash, TimePoint now);

  // Where a confirmed duplicate MAC is put down: its carriers (for a VM, its tap; for a
  // MAC of several of our interfaces, the ones that are not a slave/port of another).
  struct Target {
    int index = 0;
    std::string iface;
    const char* protectedBy = nullptr;  // "default_route", "management_address", "protect", "carries_protected"
    bool up = true;
  };
  std::vector<Target> targets(const Mac& mac) const;
  // The same, knowing where the duplicate frames came in: from one of our VMs' taps,
  // that tap is the impostor (a VM using another's MAC, a clone started on this host):
  // it goes down, not the MAC's first owner.
  std::vector<Target> targets(const Mac& mac, int ingress) const;
  // The duplicate of mac was acted on: it stays confirmed (its frames Repeated) until
  // each of these interfaces is up again, then a new window starts.
  void acted(const Mac& mac, std::vector<int> downed);
  // Each interface put down for a duplicate and not yet up again, with its MAC.
  template <class F>
  void forEachDowned(F&& f) const {
    for (const auto& [mac, e] : episodes_)
      for (int index : e.downed) f(mac, index);
  }
  // Frames of a confirmed duplicate stop: after a quiet window, a new one may start
  // (dry-run and protected cases, where nothing went down).
  const char* protectedWhy(int index) const;

  static std::uint64_t frameHash(std::span<const std::uint8_t> frame);
  // A VM's tap (a tun/macvtap device, or named vnetN/tapN).
  bool isVmPort(int index) const;
  // A bridge, bond or VLAN device whose frames were all seen on its port first.
  bool isUpperCopy(int ifindex) const;
  // What the packet socket's filter may drop in the kernel: outgoing frames on ports
  // and slaves (forwarded, or seen first on their master), frames received on upper
  // devices (sorted).
  void kernelSkips(std::vector<int>& outgoingOn, std::vector<int>& receivedOn) const;

 private:
  const NicOwner* owner(const Mac& m, int ingress, bool& ownPort) const;
  void computeProtection();
  void rebuildOurs();
  bool learnable(const sys::FdbEntry& e) const;
  bool echo(std::uint64_t hash, TimePoint now);
  void remember(std::uint64_t hash, TimePoint now);

  NetSettings s_;
  sys::NetView view_;
  std::vector<NicOwner> ours_;
  std::map<Mac, int> learnedTaps_;  // VM MAC -> its tap's index (sticky)
  std::vector<VmNic> vmNics_;       // as last given to update()
  std::map<int, const char*> protected_;
  struct Episode {
    std::deque<TimePoint> frames;
    bool confirmed = false;
    std::vector<int> downed;  // interfaces put down; the episode ends when all are up
    TimePoint last;
  };
  std::map<Mac, Episode> episodes_;
  std::deque<std::pair<std::uint64_t, TimePoint>> sent_;
};

}  // namespace ork::policy
