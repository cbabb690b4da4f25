#include "ork/policy/NetGuard.h"

#include <linux/neighbour.h>

#include <algorithm>
#include <linux/if_packet.h>

namespace ork::policy {

namespace {
constexpr std::size_t kMaxSent = 512;  // echo candidates remembered (ARP/ND are rare)

bool isTap(const sys::NetLink& l) { return isVmTap(l); }
}  // namespace

bool isVmTap(const sys::NetLink& l) {
  return l.kind == "tun" || l.name.starts_with("vnet") || l.name.starts_with("tap") || l.kind == "macvtap";
}

std::uint64_t NetGuard::frameHash(std::span<const std::uint8_t> f) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to && i < f.size(); ++i) h = (h ^ f[i]) * 1099511628211ull;
  };
  if (f.size() < 14) return h;
  mix(6, 12);  // the source
  std::size_t at = 12;
  while (at + 4 <= f.size() && ((f[at] == 0x81 && f[at + 1] == 0x00) || (f[at] == 0x88 && f[at + 1] == 0xa8))) at += 4;
  if (at + 2 > f.size()) return h;
  // Up to the end of what the headers announce: padding added on the wire is not part of it.
  std::size_t end = f.size();
  if (f[at] == 0x08 && f[at + 1] == 0x06) end = at + 2 + 28;
  else if (f[at] == 0x86 && f[at + 1] == 0xdd && at + 8 <= f.size())
    end = at + 2 + 40 + static_cast<std::size_t>((f[at + 6] << 8) | f[at + 7]);
  mix(at, end);
  return h;
}

bool NetGuard::learnable(const sys::FdbEntry& e) const {
  if ((e.state & NUD_PERMANENT) != 0 || e.mac.isGroup() || e.mac.isZero()) return false;
  const auto* port = view_.link(e.port);
  if (port == nullptr || !isTap(*port)) return false;
  return std::none_of(view_.links.begin(), view_.links.end(),
                      [&](const sys::NetLink& l) { return l.hasMac && l.mac == e.mac; });
}

void NetGuard::learn(const sys::FdbEntry& e) {
  if (learnedTaps_.count(e.mac) != 0 || !learnable(e)) return;
  learnedTaps_.emplace(e.mac, e.port);
  rebuildOurs();
}

void NetGuard::rebuildOurs() {
  ours_.clear();
  for (const auto& l : view_.links)
    if (!l.loopback() && l.hasMac && !l.mac.isZero()) ours_.push_back({l.mac, l.index, l.name, false, {}, {}});
  for (const auto& [mac, index] : learnedTaps_) {
    NicOwner o{mac, index, view_.link(index)->name, true, {}, {}};
    // The VM: the one whose NIC this is, else the one whose tap learned it.
    for (const auto& n : vmNics_)
      if (n.tap == o.iface && o.vmName.empty()) o.vmName = n.vmName, o.vmUuid = n.vmUuid;
    for (const auto& n : vmNics_)
      if (n.mac == mac) o.vmName = n.vmName, o.vmUuid = n.vmUuid;
    ours_.push_back(std::move(o));
  }
}

void NetGuard::update(const sys::NetView& view, const std::vector<VmNic>& vmNics) {
  view_ = view;
  vmNics_ = vmNics;
  // Sticky VM MACs: kept while their tap exists.
  for (auto it = learnedTaps_.begin(); it != learnedTaps_.end();) {
    const auto* l = view_.link(it->second);
    it = l == nullptr || !isTap(*l) ? learnedTaps_.erase(it) : std::next(it);
  }
  for (const auto& e : view_.fdb)
    if (learnable(e)) learnedTaps_.emplace(e.mac, e.port);  // the first port it was learned on stays its own
  for (const auto& n : vmNics) {
    const auto* tap = n.tap.empty() ? nullptr : view_.link(n.tap);
    if (tap != nullptr) learnedTaps_[n.mac] = tap->index;
  }
  rebuildOurs();
  computeProtection();
  // A duplicate acted on ends when the interfaces put down are up again (or gone): only
  // new frames put them down again.
  for (auto it = episodes_.begin(); it != episodes_.end();) {
    auto& d = it->second.downed;
    const bool allBack = !d.empty() && std::all_of(d.begin(), d.end(), [&](int i) {
      const auto* l = view_.link(i);
      return l == nullptr || l->up();
    });
    it = allBack ? episodes_.erase(it) : std::next(it);
  }
}

void NetGuard::computeProtection() {
  protected_.clear();
  std::vector<int> todo;
  auto root = [&](int index, const char* why) {
    if (index > 0 && view_.link(index) != nullptr && protected_.emplace(index, why).second) todo.push_back(index);
  };
  for (const auto& d : view_.defaults)
    for (int i : d.nexthops) root(i, "default_route");
  // The management address: the default routes' preferred source, wherever it is.
  for (const auto& d : view_.defaults) {
    if (!d.hasPrefsrc) continue;
    const std::size_t size = d.family == 2 /*AF_INET*/ ? 4 : 16;
    for (const auto& a : view_.addrs)
      if (a.family == d.family && std::equal(a.addr, a.addr + size, d.prefsrc)) root(a.index, "management_address");
  }
  for (const auto& name : s_.protect)
    if (const auto* l = view_.link(name)) root(l->index, "protect");
  // What a protected interface belongs to (its bridge, its bond), what it runs on (a
  // VLAN's lower device), and what carries it (a bond's slaves, a bridge's ports but
  // VM taps: a VM's tap is never the host's way out).
  while (!todo.empty()) {
    const int i = todo.back();
    todo.pop_back();
    const auto* l = view_.link(i);
    if (l == nullptr) continue;
    auto add = [&](int j) {
      if (j > 0 && view_.link(j) != nullptr && protected_.emplace(j, "carries_protected").second) todo.push_back(j);
    };
    add(l->master);
    if (!l->lowerElsewhere) add(l->lower);
    for (const auto& m : view_.links)
      if (m.master == i && !isTap(m) && std::none_of(learnedTaps_.begin(), learnedTaps_.end(), [&](const auto& t) { return t.second == m.index; }))
        add(m.index);
  }
}

const char* NetGuard::protectedWhy(int index) const {
  auto it = protected_.find(index);
  return it == protected_.end() ? nullptr : it->second;
}

bool NetGuard::isUpperCopy(int ifindex) const {
  const auto* l = view_.link(ifindex);
  if (l == nullptr) return false;
  if (l->kind == "bridge" || l->kind == "bond" || l->kind == "team") return true;
  const bool stacked = l->kind == "vlan" || l->kind == "macvlan" || l->kind == "macvtap" || l->kind == "ipvlan";
  return stacked && l->lower != 0 && !l->lowerElsewhere && view_.link(l->lower) != nullptr;
}

bool NetGuard::isVmPort(int index) const {
  const auto* l = view_.link(index);
  return l != nullptr && isTap(*l);
}

void NetGuard::kernelSkips(std::vector<int>& outgoingOn, std::vector<int>& receivedOn) const {
  outgoingOn.clear();
  receivedOn.clear();
  for (const auto& l : view_.links) {
    if (l.master != 0) outgoingOn.push_back(l.index);
    if (isUpperCopy(l.index)) receivedOn.push_back(l.index);
  }
}

const NicOwner* NetGuard::owner(const Mac& m, int ingress, bool& ownPort) const {
  ownPort = false;
  const NicOwner* host = nullptr;
  for (const auto& o : ours_) {
    if (o.mac != m) continue;
    if (o.vm) {
      ownPort = o.index == ingress;
      return &o;
    }
    if (host == nullptr) host = &o;
  }
  return host;
}

bool NetGuard::echo(std::uint64_t hash, TimePoint now) {
  while (!sent_.empty() && now - sent_.front().second > s_.echoWindow) sent_.pop_front();
  return std::any_of(sent_.begin(), sent_.end(), [&](const auto& s) { return s.first == hash; });
}

void NetGuard::remember(std::uint64_t hash, TimePoint now) {
  if (sent_.size() >= kMaxSent) sent_.pop_front();
  sent_.emplace_back(hash, now);
}

NetGuard::Seen NetGuard::onFrame(const parse::NeighborFrame& f, int ifindex, std::uint8_t pktType, std::uint64_t hash,
                                 TimePoint now) {
  Seen s;
  if (pktType == PACKET_OUTGOING) {
    // What this host sends leaves through a device that is no one's port or slave (a
    // bridge, a bond, a plain interface), and is seen there first. An outgoing frame on
    // a bridge port may be one the bridge forwards from another port (a stranger's):
    // not ours, never an echo candidate.
    const auto* l = view_.link(ifindex);
    if (l == nullptr || l->master == 0) remember(hash, now);
    s.verdict = Verdict::Outgoing;
    return s;
  }
  // A frame a VM sends arrives on its tap: its source is that VM's MAC (as the bridge
  // learns it), unless the MAC is already known as another's.
  if (!f.ethSource.isGroup() && !f.ethSource.isZero() && learnedTaps_.count(f.ethSource) == 0) {
    sys::FdbEntry e;
    e.port = ifindex;
    e.mac = f.ethSource;
    e.state = NUD_REACHABLE;
    learn(e);
  }
  bool ownPort = false;
  const NicOwner* o = f.ethSource.isGroup() ? nullptr : owner(f.ethSource, ifindex, ownPort);
  if (o != nullptr) s.mac = f.ethSource;
  if (o == nullptr && f.hasSenderHw && !f.senderHw.isGroup() && !f.senderHw.isZero()) {
    o = owner(f.senderHw, ifindex, ownPort);
    if (o != nullptr) s.mac = f.senderHw;
  }
  if (o == nullptr) return s;
  s.owner = o;
  if (isUpperCopy(ifindex)) {
    s.verdict = Verdict::UpperCopy;
    return s;
  }
  if (s.mac.isVrrp() || std::find(s_.ignore.begin(), s_.ignore.end(), s.mac) != s_.ignore.end()) {
    s.verdict = Verdict::Ignored;
    return s;
  }
  if (ownPort) {
    remember(hash, now);
    s.verdict = Verdict::OwnPort;
    return s;
  }
  if (echo(hash, now)) {
    s.verdict = Verdict::Echo;
    return s;
  }
  Episode& e = episodes_[s.mac];
  if (e.confirmed) {
    // Nothing went down (dry-run, protected): after a quiet window, a new episode.
    if (e.downed.empty() && now - e.last > s_.window) e = Episode{};
  }
  if (e.confirmed) {
    e.last = now;
    s.verdict = Verdict::Repeated;
    s.frames = static_cast<int>(e.frames.size());
    return s;
  }
  while (!e.frames.empty() && now - e.frames.front() > s_.window) e.frames.pop_front();
  e.frames.push_back(now);
  e.last = now;
  s.frames = static_cast<int>(e.frames.size());
  s.first = e.frames.front();
  if (s.frames >= s_.frames) {
    e.confirmed = true;
    s.verdict = Verdict::Confirmed;
  } else {
    s.verdict = Verdict::Counted;
  }
  return s;
}

std::vector<NetGuard::Target> NetGuard::targets(const Mac& mac) const {
  std::vector<Target> out;
  std::vector<int> carriers;
  for (const auto& o : ours_)
    if (o.mac == mac && o.vm) carriers.push_back(o.index);
  if (carriers.empty()) {
    for (const auto& o : ours_)
      if (o.mac == mac) carriers.push_back(o.index);
    // A bond's slaves, a bridge's port with the bridge's MAC: the master is the carrier.
    std::vector<int> top;
    for (int i : carriers) {
      const auto* l = view_.link(i);
      if (l != nullptr && std::find(carriers.begin(), carriers.end(), l->master) != carriers.end()) continue;
      top.push_back(i);
    }
    carriers = std::move(top);
  }
  for (int i : carriers) {
    const auto* l = view_.link(i);
    if (l == nullptr) continue;
    out.push_back({i, l->name, protectedWhy(i), l->up()});
  }
  return out;
}

std::vector<NetGuard::Target> NetGuard::targets(const Mac& mac, int ingress) const {
  const auto* l = view_.link(ingress);
  if (l == nullptr || !isTap(*l)) return targets(mac);
  return {Target{ingress, l->name, protectedWhy(ingress), l->up()}};
}

void NetGuard::acted(const Mac& mac, std::vector<int> downed) { episodes_[mac].downed = std::move(downed); }

}  // namespace ork::policy
