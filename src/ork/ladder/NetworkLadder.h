// Network: the fourth ladder. A MAC address of ours (the host's interfaces, the VMs'
// NICs) seen in ARP or IPv6 neighbour-discovery frames arriving from elsewhere, often
// enough (policy::NetGuard), puts the interface that carries it down: for a VM, its
// tap, so that only that VM leaves the network. The interfaces that carry the host's
// default route or management address, what they belong to or run on, and the
// configured `protect` are never put down: the journal says so instead. An interface
// put down stays down until the operator brings it up (`ip link set DEV up`); then
// only new duplicate frames put it down again.
//
// Event-driven: an AF_PACKET socket with a BPF filter (only ARP and ND wake ORK), and
// an rtnetlink socket whose notifications (interfaces appearing, going, changing; routes,
// addresses, the bridges' FDB) bring a fresh view. Needs CAP_NET_RAW (and CAP_NET_ADMIN
// when armed): without them, one warning and the ladder stays off; ORK goes on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ork/ladder/Ladder.h"
#include "ork/policy/NetGuard.h"
#include "ork/sys/PacketSocket.h"
#include "ork/sys/RtNetlink.h"

namespace ork::ladder {

class NetworkLadder final : public Ladder {
 public:
  explicit NetworkLadder(const Services& services);

  const char* name() const override { return "network"; }
  Result<void> open(TimePoint now) override;
  void describe(journal::Line& start) const override;
  void announce(TimePoint now) override;
  void state(journal::Line& l) const override;
  Report report() const override;

  TimePoint nextDue() const override;
  void onTimer(TimePoint now) override;
  void onReady(std::uint64_t tag, TimePoint now) override;
  void reconfigure(TimePoint now) override;
  void onTablePass(TimePoint now) override;

  // Our MACs and where each is (interface; VM name and UUID when known). Empty while the
  // ladder is off.
  const std::vector<policy::NicOwner>& ours() const { return guard_.ours(); }
  // ork_nic_info: our MACs as the ladder knows them (the guests' on their taps);
  // ork_interface_down and ork_ladder_step{resource="network"}.
  void nics(std::vector<metrics::Nic>& out) const override;
  void metrics(metrics::Writer& w) const override;
  bool watching() const { return packets_.has_value(); }

 private:
  static constexpr std::uint64_t kTagPackets = 1;
  static constexpr std::uint64_t kTagMonitor = 2;

  bool enabled() const;
  policy::NetSettings settings() const;
  void close();
  void refresh(TimePoint now);
  // Returns how many frames were read.
  int drainPackets(TimePoint now);
  void drainMonitor(TimePoint now);
  void pause(int fd, bool& paused, TimePoint now);
  void onDuplicate(const parse::NeighborFrame& f, int ingress, int vlan, const policy::NetGuard::Seen& seen, TimePoint now);
  std::string ifName(int index) const;
  // The VMs' NICs as libvirt tells them (VmFleet's domains): MAC, tap, VM name, UUID.
  std::vector<policy::VmNic> vmNics() const;
  void syncVmNics(TimePoint now);

  Services s_;
  policy::NetGuard guard_;
  std::optional<sys::PacketSocket> packets_;
  std::optional<sys::NetMonitor> monitor_;
  TimePoint refreshAt_{Nanos::max()};
  TimePoint lastRefresh_;
  TimePoint fdbAt_;             // the last FDB dump
  bool fdbDone_ = false;
  std::vector<int> fdbTaps_;    // the taps at that dump: a new one asks for another
  std::vector<policy::VmNic> nics_;
  std::vector<int> skipOut_, skipIn_;  // what the socket's filter drops now
  // Batching: after a wake-up that read something, an fd is left out of epoll until
  // resumeAt_ (kNetBatchMs), then read again: under a flood ORK wakes ~200 times a
  // second, not once per frame; a lone frame is read at once.
  bool packetsPaused_ = false;
  bool monitorPaused_ = false;
  TimePoint resumeAt_{Nanos::max()};
  TimePoint nicsSyncedAt_;
  std::string openWarning_;  // said by announce()
  bool off_ = false;         // open() could not watch: the warning said why
  std::string viewError_;    // the last dump's error, said once
  std::uint64_t framesSeen_ = 0;
  std::uint64_t bogusFrames_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t linksDown_ = 0;
  int lastSocketErrno_ = 0;
};

}  // namespace ork::ladder
