#include "ork/metrics/Nics.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>

#include "ork/sys/Files.h"

namespace ork::metrics {

namespace {
std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// "aa:bb:cc:dd:ee:ff", lower case.
bool validMac(std::string& mac) {
  if (mac.size() != 17) return false;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    const char c = mac[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
    mac[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return mac != "00:00:00:00:00:00";
}
}  // namespace

std::vector<Nic> hostNics(const std::string& sysClassNet) {
  std::vector<Nic> out;
  DIR* d = ::opendir(sysClassNet.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name == "lo") continue;
    const std::string dir = sysClassNet + "/" + name;
    auto type = sys::readRegularFile(dir + "/type", 64);
    if (!type || trimmed(*type) != "1") continue;
    auto addr = sys::readRegularFile(dir + "/address", 64);
    if (!addr) continue;
    std::string mac = trimmed(*addr);
    if (!validMac(mac)) continue;
    out.push_back({mac, name, "", ""});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const Nic& a, const Nic& b) { return a.interface < b.interface; });
  return out;
}

std::vector<Nic> mergeNics(std::vector<Nic> fromParts, const std::vector<Nic>& host) {
  for (const auto& h : host) {
    const bool named = std::any_of(fromParts.begin(), fromParts.end(),
                                   [&](const Nic& n) { return !n.interface.empty() && n.interface == h.interface; });
    if (!named) fromParts.push_back(h);
  }
  // Two parts may tell the same NIC (the VM fleet from libvirt, the network ladder): one
  // series each, the one that names the VM kept.
  std::stable_sort(fromParts.begin(), fromParts.end(), [](const Nic& a, const Nic& b) {
    if (a.interface != b.interface) return a.interface < b.interface;
    if (a.mac != b.mac) return a.mac < b.mac;
    return !a.vm.empty() && b.vm.empty();
  });
  fromParts.erase(std::unique(fromParts.begin(), fromParts.end(),
                              [](const Nic& a, const Nic& b) { return a.interface == b.interface && a.mac == b.mac; }),
                  fromParts.end());
  return fromParts;
}

void nicMetrics(Writer& w, const std::vector<Nic>& nics) {
  for (const auto& n : nics)
    w.gauge("ork_nic_info",
            "One per local network interface (the host's, and the VMs' as the network ladder knows them): a MAC "
            "seen on two nodes is count by (mac) (ork_nic_info) > 1",
            1, {{"mac", n.mac}, {"interface", n.interface}, {"vm", n.vm}, {"uuid", n.uuid}});
}

}  // namespace ork::metrics
