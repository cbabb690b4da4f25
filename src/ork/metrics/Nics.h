// The host's network interfaces, for ork_nic_info: /sys/class/net/<if>/address of
// every Ethernet-like interface (type 1, ARPHRD_ETHER), without lo and without an
// all-zero address. A VM's tap appears here with its host-side MAC; the part that knows
// the VM's own MAC (the network ladder, Part::nics) names the same interface and
// replaces this entry (mergeNics).
#pragma once

#include <string>
#include <vector>

#include "ork/metrics/Writer.h"

namespace ork::metrics {

// Unreadable entries are skipped (an interface that went away while listed).
std::vector<Nic> hostNics(const std::string& sysClassNet = "/sys/class/net");

// The parts' NICs, then the host's not named by any of them; sorted by interface.
std::vector<Nic> mergeNics(std::vector<Nic> fromParts, const std::vector<Nic>& host);

void nicMetrics(Writer& w, const std::vector<Nic>& nics);

}  // namespace ork::metrics
