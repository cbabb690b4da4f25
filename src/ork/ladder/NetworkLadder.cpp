#include "ork/ladder/NetworkLadder.h"

#include <linux/capability.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "ork/config/Config.h"
#include "ork/core/Clock.h"
#include "ork/core/Reason.h"
#include "ork/journal/Journal.h"
#include "ork/ladder/Common.h"
#include "ork/ladder/VmFleet.h"
#include "ork/metrics/Writer.h"
#include "ork/parse/VirtProtocol.h"

namespace ork::ladder {

using config::Key;
using journal::Line;
using journal::Priority;

namespace {
// A notification is followed by a fresh view this soon (a burst of them, as when a VM
// starts, costs one dump); and in any case this often.
constexpr Nanos kRefreshDelay = Millis{50};
constexpr Nanos kRefreshEvery = Seconds{60};
// The bridges' FDB (guest MACs learned on taps, for VMs libvirt does not tell of and
// that have not sent ARP/ND yet) is dumped at start, when a tap appears, and this often:
// it can hold an entry per station of the segment.
constexpr Nanos kFdbEvery = Seconds{300};
// The VMs' NICs (libvirt's answers reach the fleet at their own pace) are looked at
// this often: a loop over the VMs, nothing read.
constexpr Nanos kVmNicsEvery = Seconds{1};

const char* errnoWord(int code) {
  const char* name = code != 0 ? ::strerrorname_np(code) : nullptr;
  return name != nullptr ? name : "unknown";
}
}  // namespace

NetworkLadder::NetworkLadder(const Services& services) : s_(services), guard_(settings()) {}

bool NetworkLadder::enabled() const { return s_.cfg->flag(Key::NetworkEnabled); }

policy::NetSettings NetworkLadder::settings() const {
  policy::NetSettings n;
  n.frames = config::kNetDuplicateFrames;
  n.window = Millis{config::kNetDuplicateWindowMs};
  n.echoWindow = Millis{config::kNetEchoWindowMs};
  n.protect = s_.cfg->network.protect;
  for (const auto& m : s_.cfg->network.ignoreMacs)
    if (auto mac = Mac::parse(m)) n.ignore.push_back(*mac);
  return n;
}

void NetworkLadder::close() {
  if (poller_ != nullptr) {
    if (packets_ && !packetsPaused_) (void)poller_->remove(packets_->fd());
    if (monitor_ && !monitorPaused_) (void)poller_->remove(monitor_->fd());
  }
  packetsPaused_ = monitorPaused_ = false;
  resumeAt_ = TimePoint{Nanos::max()};
  packets_.reset();
  monitor_.reset();
  refreshAt_ = TimePoint{Nanos::max()};
}

Result<void> NetworkLadder::open(TimePoint now) {
  off_ = false;
  openWarning_.clear();
  if (!enabled()) return success();
  // Armed, ORK must be able to put an interface down: without CAP_NET_ADMIN it could
  // only watch, and would say "link_down failed" at the worst moment.
  if (!s_.options->dryRun && !sys::haveCapability(CAP_NET_ADMIN)) {
    openWarning_ = "no CAP_NET_ADMIN: ORK could not put an interface down; the network ladder is off";
    off_ = true;
    return success();
  }
  auto mon = sys::NetMonitor::open();
  if (!mon) {
    openWarning_ = std::string("rtnetlink: ") + mon.error().what + "; the network ladder is off";
    off_ = true;
    return success();
  }
  auto pk = sys::PacketSocket::open(0);
  if (!pk) {
    openWarning_ = std::string(pk.error().what) +
                   (pk.error().code == EPERM ? " (needs CAP_NET_RAW)" : "") + "; the network ladder is off";
    off_ = true;
    return success();
  }
  monitor_ = std::move(*mon);
  packets_ = std::move(*pk);
  if (poller_ != nullptr) {
    (void)poller_->add(monitor_->fd(), EPOLLIN, kTagMonitor);
    (void)poller_->add(packets_->fd(), EPOLLIN, kTagPackets);
  }
  refresh(now);
  // A namespace with nothing but loopback (systemd's PrivateNetwork=yes): nothing to
  // guard, which the operator should hear rather than believe ORK watches the host.
  if (guard_.ours().empty())
    openWarning_ = "no interface but loopback in ORK's network namespace (PrivateNetwork=yes in its unit?): nothing to guard";
  return success();
}

void NetworkLadder::refresh(TimePoint now) {
  refreshAt_ = TimePoint{Nanos::max()};
  lastRefresh_ = now;
  auto v = sys::dumpNetView(false);
  if (v) {
    std::vector<int> taps;
    for (const auto& l : v->links)
      if (policy::isVmTap(l)) taps.push_back(l.index);
    const bool newTap = std::any_of(taps.begin(), taps.end(), [&](int t) {
      return std::find(fdbTaps_.begin(), fdbTaps_.end(), t) == fdbTaps_.end();
    });
    if (!fdbDone_ || newTap || now - fdbAt_ >= kFdbEvery) {
      // Without it, the guest MACs already known stay (they are sticky).
      if (sys::dumpFdb(*v)) {
        fdbDone_ = true;
        fdbAt_ = now;
        fdbTaps_ = std::move(taps);
      }
    }
  }
  if (!v) {
    // Said once per distinct error; the last good view stays in use.
    if (viewError_ != v.error().what) {
      viewError_ = v.error().what;
      Line w("warning");
      w.word("what", "network_view_failed").str("detail", viewError_).str("consequence", "the last view of the interfaces stays in use");
      s_.journal->write(w, Priority::Warning, now);
    }
    refreshAt_ = now + Seconds{1};
    return;
  }
  viewError_.clear();
  nics_ = vmNics();
  nicsSyncedAt_ = now;
  guard_.update(*v, nics_);
  // The copies ORK would skip anyway are dropped in the kernel: a broadcast crossing a
  // bridge of N ports would otherwise wake ORK N + 1 times.
  std::vector<int> out, in;
  guard_.kernelSkips(out, in);
  if (packets_ && (out != skipOut_ || in != skipIn_)) {
    if (auto r = packets_->setSkip(out, in); r) {
      skipOut_ = std::move(out);
      skipIn_ = std::move(in);
    }
  }
}

std::vector<policy::VmNic> NetworkLadder::vmNics() const {
  std::vector<policy::VmNic> out;
  if (s_.vms == nullptr) return out;
  for (const auto& vm : s_.vms->all()) {
    const auto* d = s_.vms->domainOf(vm);
    if (d == nullptr || d->nics.empty()) continue;
    for (const auto& n : parse::parseNics(d->nics))
      if (auto m = Mac::parse(n.mac)) out.push_back({*m, n.target, vm.name, vm.uuid});
  }
  return out;
}

void NetworkLadder::syncVmNics(TimePoint now) {
  nicsSyncedAt_ = now;
  auto fresh = vmNics();
  if (fresh == nics_) return;
  nics_ = std::move(fresh);
  const sys::NetView view = guard_.view();
  guard_.update(view, nics_);
}

void NetworkLadder::onTablePass(TimePoint now) {
  if (packets_) syncVmNics(now);
}

void NetworkLadder::describe(journal::Line& start) const {
  start.flag("network", enabled() && packets_.has_value());
  if (!packets_) return;
  std::int64_t prot = 0;
  for (const auto& l : guard_.view().links) prot += guard_.protectedWhy(l.index) != nullptr;
  start.num("network_macs", static_cast<std::int64_t>(guard_.ours().size())).num("network_protected", prot);
}

void NetworkLadder::announce(TimePoint now) {
  if (openWarning_.empty()) return;
  Line w("warning");
  w.word("what", off_ ? "network_unavailable" : "network_nothing_to_guard").str("detail", openWarning_);
  s_.journal->write(w, Priority::Warning, now);
}

void NetworkLadder::state(journal::Line& l) const {
  if (!packets_) return;
  l.num("net_frames", static_cast<std::int64_t>(framesSeen_)).num("net_duplicates", static_cast<std::int64_t>(duplicates_));
}

Report NetworkLadder::report() const {
  Report r;
  r.title = "network";
  if (!enabled()) {
    r.lines.emplace_back("off (network.enabled = false)");
    return r;
  }
  if (!packets_) {
    r.lines.emplace_back(off_ ? "off: " + openWarning_ : "not started");
    return r;
  }
  for (const auto& o : guard_.ours()) {
    std::string line = o.mac.str() + " on " + o.iface;
    if (o.vm) line += " (VM" + (o.vmName.empty() ? std::string() : " " + o.vmName) + ")";
    if (const char* why = guard_.protectedWhy(o.index)) line += std::string(", protected: ") + why;
    r.lines.push_back(std::move(line));
  }
  char b[160];
  std::snprintf(b, sizeof b, "%llu neighbour frames seen, %llu duplicates confirmed, %llu interfaces put down",
                static_cast<unsigned long long>(framesSeen_), static_cast<unsigned long long>(duplicates_),
                static_cast<unsigned long long>(linksDown_));
  r.lines.emplace_back(b);
  return r;
}

TimePoint NetworkLadder::nextDue() const {
  if (!packets_) return TimePoint{Nanos::max()};
  TimePoint t = std::min({refreshAt_, lastRefresh_ + kRefreshEvery, resumeAt_});
  if (s_.vms != nullptr && !s_.vms->all().empty()) t = std::min(t, nicsSyncedAt_ + kVmNicsEvery);
  return t;
}

void NetworkLadder::onTimer(TimePoint now) {
  if (!packets_) return;
  if (now >= resumeAt_) {
    // Read what came meanwhile, then watch again (level-triggered: more pending wakes
    // the loop at once).
    resumeAt_ = TimePoint{Nanos::max()};
    if (packetsPaused_) {
      (void)drainPackets(now);
      packetsPaused_ = false;
      if (poller_ != nullptr) (void)poller_->add(packets_->fd(), EPOLLIN, kTagPackets);
    }
    if (monitorPaused_ && monitor_) {
      drainMonitor(now);
      monitorPaused_ = false;
      if (poller_ != nullptr) (void)poller_->add(monitor_->fd(), EPOLLIN, kTagMonitor);
    }
  }
  if (now >= refreshAt_ || now >= lastRefresh_ + kRefreshEvery) refresh(now);
  else if (now >= nicsSyncedAt_ + kVmNicsEvery) syncVmNics(now);
}

void NetworkLadder::onReady(std::uint64_t tag, TimePoint now) {
  if (tag == kTagMonitor && monitor_ && !monitorPaused_) {
    drainMonitor(now);
    pause(monitor_->fd(), monitorPaused_, now);
    return;
  }
  if (tag == kTagPackets && packets_ && !packetsPaused_) {
    if (drainPackets(now) > 0) pause(packets_->fd(), packetsPaused_, now);
  }
}

void NetworkLadder::pause(int fd, bool& paused, TimePoint now) {
  if (poller_ == nullptr || !poller_->remove(fd)) return;
  paused = true;
  resumeAt_ = std::min(resumeAt_, now + Millis{config::kNetBatchMs});
}

void NetworkLadder::drainMonitor(TimePoint now) {
  auto d = monitor_->drain([&](const sys::FdbEntry& e) { guard_.learn(e); });
  if ((!d || d->changed) && refreshAt_ > now + kRefreshDelay) refreshAt_ = now + kRefreshDelay;
}

void NetworkLadder::nics(std::vector<metrics::Nic>& out) const {
  for (const auto& o : guard_.ours()) out.push_back({o.mac.str(), o.iface, o.vmName, o.vmUuid});
}

void NetworkLadder::metrics(metrics::Writer& w) const {
  if (!enabled()) return;
  bool any = false;
  guard_.forEachDowned([&](const Mac& mac, int index) {
    any = true;
    std::string vm, uuid;
    for (const auto& o : guard_.ours())
      if (o.mac == mac) {
        vm = o.vmName;
        uuid = o.vmUuid;
        break;
      }
    const std::string iface = ifName(index), m = mac.str();
    w.gauge("ork_interface_down", "An interface ORK put down for a duplicated MAC, not yet up again (1)", 1,
            {{"interface", iface}, {"mac", m}, {"vm", vm}, {"uuid", uuid}});
  });
  w.gauge("ork_ladder_step",
          "The ladder's step: 0 all is well, 1 below the soft threshold (step 1: hibernate, clean, freeze), 2 below "
          "the hard one or step 2 due (kill, stop)",
          any ? 2 : 0, {{"resource", "network"}});
}

std::string NetworkLadder::ifName(int index) const {
  const auto* l = guard_.view().link(index);
  if (l != nullptr) return l->name;
  char b[24];
  std::snprintf(b, sizeof b, "if%d", index);
  return b;
}

int NetworkLadder::drainPackets(TimePoint now) {
  sys::PacketSocket::Frame fr;
  int read = 0;
  // Bounded: a flood is read in slices, the loop comes back for the rest (the fd stays
  // readable) after looking at its other fds and timers.
  for (int i = 0; i < config::kNetDrainMax; ++i) {
    auto got = packets_->receive(fr);
    if (!got) {
      const int code = got.error().code;
      // ENETDOWN (the interface the socket is bound to went down), ENXIO (it vanished):
      // the kernel clears the error when it is read; the next frame comes normally.
      if (code == ENETDOWN || code == ENXIO) continue;
      if (code != lastSocketErrno_) {
        lastSocketErrno_ = code;
        Line w("warning");
        w.word("what", "network_socket_error").str("detail", got.error().what);
        s_.journal->write(w, Priority::Warning, now);
      }
      return read;
    }
    if (!*got) return read;
    ++read;
    lastSocketErrno_ = 0;
    ++framesSeen_;
    auto f = parse::parseNeighborFrame(fr.bytes);
    if (!f) {
      ++bogusFrames_;
      continue;
    }
    const auto seen = guard_.onFrame(*f, fr.ifindex, fr.pktType, policy::NetGuard::frameHash(fr.bytes), now);
    if (seen.verdict == policy::NetGuard::Verdict::Confirmed) onDuplicate(*f, fr.ifindex, fr.vlan, seen, now);
  }
  return read;
}

void NetworkLadder::onDuplicate(const parse::NeighborFrame& f, int ingress, int vlan, const policy::NetGuard::Seen& seen,
                                TimePoint now) {
  ++duplicates_;
  const bool dry = s_.options->dryRun;
  // Copied: the owner points into the guard's list, which a refresh replaces.
  const policy::NicOwner owner = *seen.owner;
  const Mac mac = seen.mac;
  auto targets = guard_.targets(mac, ingress);
  char ip[46];
  f.formatIp(ip);
  auto sides = [&](Line& l) {
    l.word("mac", mac.str()).str("iface", owner.iface).word("owner", owner.vm ? "vm" : "host");
    if (owner.vm && !owner.vmName.empty()) l.str("vm", owner.vmName);
    if (owner.vm && !owner.vmUuid.empty()) l.word("uuid", owner.vmUuid);
  };
  // The detection: both sides (ours, and where the other one was seen from).
  Line d("mac_duplicate");
  d.word("reason", toString(Reason::DuplicateMac));
  sides(d);
  d.str("seen_on", ifName(ingress)).word("frame", f.kindName());
  // The tag the kernel took out (auxdata) is the outer one; tags left in the frame follow.
  if (vlan >= 0) d.num("vlan", vlan);
  else if (f.vlanCount > 0) d.num("vlan", f.vlan[0]);
  if (vlan >= 0 && f.vlanCount > 0) d.num("inner_vlan", f.vlan[0]);
  d.word("eth_source", f.ethSource.str());
  if (f.hasSenderHw) d.word("sender_hw", f.senderHw.str());
  d.word("sender_ip", ip[0] != '\0' ? ip : "none").num("frames", seen.frames).num("over_ms", msBetween(seen.first, now));
  const char* action = "none";
  for (const auto& t : targets) {
    if (t.protectedBy != nullptr) action = "protected";
    else if (!t.up) action = action == std::string_view("none") ? "already_down" : action;
    else {
      action = dry ? "would_link_down" : "link_down";
      break;
    }
  }
  d.word("action", action);
  s_.journal->write(d, Priority::Warning, now);

  std::vector<int> downed;
  for (const auto& t : targets) {
    if (t.protectedBy != nullptr) {
      Line p("link_protected");
      p.word("reason", toString(Reason::DuplicateMac)).str("iface", t.iface).word("mac", mac.str())
          .word("protected_by", t.protectedBy).str("seen_on", ifName(ingress)).word("sender_ip", ip[0] != '\0' ? ip : "none")
          .str("detail", "a forged frame must not take the host off its network: not put down");
      s_.journal->write(p, Priority::Warning, now);
      continue;
    }
    if (!t.up) continue;
    if (dry) {
      Line w("would_link_down");
      w.word("reason", toString(Reason::DuplicateMac));
      sides(w);
      if (t.iface != owner.iface) w.str("target", t.iface);
      w.flag("dry_run", true).word("result", "dry_run");
      s_.journal->write(w, Priority::Notice, now);
      continue;
    }
    const TimePoint t0 = s_.clock->now();
    auto r = sys::setLinkUp(t.index, false);
    const TimePoint t1 = s_.clock->now();
    Line l("link_down");
    l.word("reason", toString(Reason::DuplicateMac));
    sides(l);
    if (t.iface != owner.iface) l.str("target", t.iface);
    l.flag("dry_run", false).word("result", r ? "ok" : "failed");
    if (!r) l.word("errno", errnoWord(r.error().code)).str("detail", r.error().what);
    // From the frame that confirmed the duplicate (its wake-up) to the kernel's answer.
    l.num("took_us", std::chrono::duration_cast<Micros>(t1 - now).count())
        .num("netlink_us", std::chrono::duration_cast<Micros>(t1 - t0).count())
        .str("up_again", "ip link set " + t.iface + " up");
    s_.journal->write(l, r ? Priority::Warning : Priority::Error, t1);
    if (r) {
      ++linksDown_;
      downed.push_back(t.index);
    }
  }
  if (!downed.empty()) {
    guard_.acted(mac, std::move(downed));
    refreshAt_ = std::min(refreshAt_, now + kRefreshDelay);
  }
}

void NetworkLadder::reconfigure(TimePoint now) {
  guard_.setSettings(settings());
  if (!enabled()) {
    close();
    return;
  }
  if (!packets_) {
    (void)open(now);
    announce(now);
    return;
  }
  refresh(now);
}

}  // namespace ork::ladder
