#include "ork/sys/RtNetlink.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>

#include "ork/sys/PageBuffer.h"

namespace ork::sys {

bool NetLink::loopback() const { return (flags & IFF_LOOPBACK) != 0; }
bool NetLink::up() const { return (flags & IFF_UP) != 0; }

const NetLink* NetView::link(int index) const {
  for (const auto& l : links)
    if (l.index == index) return &l;
  return nullptr;
}
const NetLink* NetView::link(const std::string& name) const {
  for (const auto& l : links)
    if (l.name == name) return &l;
  return nullptr;
}

namespace {

constexpr std::size_t kBuf = 32768;

Result<UniqueFd> openRoute(unsigned groups) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups != 0 ? SOCK_NONBLOCK : 0), NETLINK_ROUTE);
  if (fd < 0) return Error::sys(errno, "socket(NETLINK_ROUTE)");
  UniqueFd f(fd);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return Error::sys(errno, "bind(NETLINK_ROUTE)");
  if (groups == 0) {
    timeval tv{1, 0};  // a kernel that does not answer within a second: an error, not a hang
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  return f;
}

// Sends one request and feeds every answer message to each until NLMSG_DONE (a dump)
// or the ACK (a request with NLM_F_ACK). An NLMSG_ERROR with an errno is the result.
Result<void> request(int fd, const void* req, std::size_t len, const char* what,
                     const std::function<void(const nlmsghdr*)>& each) {
  if (::send(fd, req, len, 0) < 0) return Error::sys(errno, what);
  // Pages of its own for the dump's moment (sys/PageBuffer.h): from the heap, the
  // pages the answers were written to stayed resident (locked) after it, and the block
  // pinned the heap's top under what was allocated after it.
  PageBuffer buf(kBuf);
  if (buf.data() == nullptr) return Error::sys(ENOMEM, what);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), kBuf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys(errno, what);
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) return success();
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) return success();
        return Error::sys(-e->error, what);
      }
      each(h);
    }
  }
}

template <class Header>
Result<void> dump(int fd, std::uint16_t type, Header hdr, const char* what,
                  const std::function<void(const nlmsghdr*)>& each) {
  struct {
    nlmsghdr h;
    Header body;
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(Header));
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.body = hdr;
  return request(fd, &req, req.h.nlmsg_len, what, each);
}

// The attributes of a message after its fixed header of `fixed` bytes.
template <class F>
void attrs(const nlmsghdr* h, std::size_t fixed, F&& f) {
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(fixed));
  if (len < 0) return;
  auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(fixed));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) f(a);
}
template <class F>
void nested(const rtattr* outer, F&& f) {
  int len = static_cast<int>(RTA_PAYLOAD(outer));
  for (auto* a = static_cast<const rtattr*>(RTA_DATA(outer)); RTA_OK(a, len); a = RTA_NEXT(a, len)) f(a);
}
int u32(const rtattr* a) {
  if (RTA_PAYLOAD(a) < 4) return 0;
  std::uint32_t v;
  std::memcpy(&v, RTA_DATA(a), 4);
  return static_cast<int>(v);
}
std::string text(const rtattr* a) {
  const char* p = static_cast<const char*>(RTA_DATA(a));
  return std::string(p, strnlen(p, RTA_PAYLOAD(a)));
}

void onLink(const nlmsghdr* h, NetView& v) {
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  NetLink l;
  l.index = ifi->ifi_index;
  l.flags = ifi->ifi_flags;
  attrs(h, sizeof(ifinfomsg), [&](const rtattr* a) {
    switch (a->rta_type) {
      case IFLA_IFNAME: l.name = text(a); break;
      case IFLA_ADDRESS:
        if (RTA_PAYLOAD(a) == 6 && ifi->ifi_type == ARPHRD_ETHER) {
          std::memcpy(l.mac.b.data(), RTA_DATA(a), 6);
          l.hasMac = true;
        }
        break;
      case IFLA_MASTER: l.master = u32(a); break;
      case IFLA_LINK: l.lower = u32(a); break;
      case IFLA_LINK_NETNSID: l.lowerElsewhere = true; break;
      case IFLA_LINKINFO:
        nested(a, [&](const rtattr* b) {
          if (b->rta_type == IFLA_INFO_KIND) l.kind = text(b);
          if (b->rta_type == IFLA_INFO_SLAVE_KIND) l.slaveKind = text(b);
        });
        break;
      default: break;
    }
  });
  if (l.lower == l.index) l.lower = 0;
  v.links.push_back(std::move(l));
}

void onAddr(const nlmsghdr* h, NetView& v) {
  if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return;
  const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  NetAddr n;
  n.index = static_cast<int>(ifa->ifa_index);
  n.family = ifa->ifa_family;
  const std::size_t size = n.family == AF_INET ? 4 : 16;
  bool have = false;
  attrs(h, sizeof(ifaddrmsg), [&](const rtattr* a) {
    // IFA_LOCAL is the address of a point-to-point link's own end; IFA_ADDRESS otherwise.
    if ((a->rta_type == IFA_LOCAL || (a->rta_type == IFA_ADDRESS && !have)) && RTA_PAYLOAD(a) >= size) {
      std::memcpy(n.addr, RTA_DATA(a), size);
      have = true;
    }
  });
  if (have) v.addrs.push_back(n);
}

void onRoute(const nlmsghdr* h, NetView& v) {
  if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return;
  const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
  if (rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST) return;
  DefaultRoute d;
  d.family = rt->rtm_family;
  int table = rt->rtm_table;
  const std::size_t size = d.family == AF_INET ? 4 : 16;
  attrs(h, sizeof(rtmsg), [&](const rtattr* a) {
    switch (a->rta_type) {
      case RTA_OIF: d.oif = u32(a); break;
      case RTA_TABLE: table = u32(a); break;
      case RTA_PREFSRC:
        if (RTA_PAYLOAD(a) >= size) {
          std::memcpy(d.prefsrc, RTA_DATA(a), size);
          d.hasPrefsrc = true;
        }
        break;
      case RTA_MULTIPATH: {
        int len = static_cast<int>(RTA_PAYLOAD(a));
        for (auto* nh = static_cast<const rtnexthop*>(RTA_DATA(a)); RTNH_OK(nh, len); len -= NLMSG_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh))
          d.nexthops.push_back(nh->rtnh_ifindex);
        break;
      }
      default: break;
    }
  });
  if (table != RT_TABLE_MAIN) return;
  if (d.oif != 0) d.nexthops.push_back(d.oif);
  if (!d.nexthops.empty()) v.defaults.push_back(std::move(d));
}

void onNeigh(const nlmsghdr* h, NetView& v) {
  if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return;
  const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
  if (nd->ndm_family != AF_BRIDGE) return;
  FdbEntry e;
  e.port = nd->ndm_ifindex;
  e.state = nd->ndm_state;
  e.flags = nd->ndm_flags;
  bool have = false;
  attrs(h, sizeof(ndmsg), [&](const rtattr* a) {
    if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
      std::memcpy(e.mac.b.data(), RTA_DATA(a), 6);
      have = true;
    }
    if (a->rta_type == NDA_MASTER) e.bridge = u32(a);
  });
  if (have) v.fdb.push_back(e);
}

}  // namespace

Result<NetView> dumpNetView(bool withFdb) {
  auto fd = openRoute(0);
  if (!fd) return fd.error();
  NetView v;
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (auto r = dump(fd->get(), RTM_GETLINK, ifi, "RTM_GETLINK", [&](const nlmsghdr* h) { onLink(h, v); }); !r)
    return r.error();
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  if (auto r = dump(fd->get(), RTM_GETADDR, ifa, "RTM_GETADDR", [&](const nlmsghdr* h) { onAddr(h, v); }); !r)
    return r.error();
  for (unsigned char family : {AF_INET, AF_INET6}) {
    rtmsg rt{};
    rt.rtm_family = family;
    auto r = dump(fd->get(), RTM_GETROUTE, rt, "RTM_GETROUTE", [&](const nlmsghdr* h) { onRoute(h, v); });
    // Without IPv6 in the kernel the dump fails with EAFNOSUPPORT: no IPv6 routes.
    if (!r && !(family == AF_INET6 && r.error().code == EAFNOSUPPORT)) return r.error();
  }
  if (withFdb)
    if (auto r = dumpFdb(v); !r) return r.error();
  return v;
}

Result<void> dumpFdb(NetView& v) {
  auto fd = openRoute(0);
  if (!fd) return fd.error();
  v.fdb.clear();
  ndmsg nd{};
  nd.ndm_family = AF_BRIDGE;
  auto r = dump(fd->get(), RTM_GETNEIGH, nd, "RTM_GETNEIGH(AF_BRIDGE)", [&](const nlmsghdr* h) { onNeigh(h, v); });
  // No bridge support in the kernel: no FDB, not an error.
  if (!r && r.error().code != EAFNOSUPPORT && r.error().code != EOPNOTSUPP) return r.error();
  return success();
}

Result<void> setLinkUp(int index, bool up) {
  auto fd = openRoute(0);
  if (!fd) return fd.error();
  struct {
    nlmsghdr h;
    ifinfomsg ifi;
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  req.h.nlmsg_type = RTM_NEWLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.h.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = index;
  req.ifi.ifi_flags = up ? IFF_UP : 0;
  req.ifi.ifi_change = IFF_UP;
  return request(fd->get(), &req, req.h.nlmsg_len, "RTM_NEWLINK", [](const nlmsghdr*) {});
}

Result<NetMonitor> NetMonitor::open() {
  // Not RTMGRP_NEIGH: on a busy segment the bridges learn thousands of MACs a second,
  // one notification each (measured: 10,000 random-source ARP/s cost ORK 20-40 % of a
  // CPU in recv() alone). A guest MAC is learned from the guest's own frames on its tap
  // (NetGuard::onFrame), from libvirt, and from the FDB in each dump.
  auto fd = openRoute(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                      RTMGRP_IPV6_ROUTE);
  if (!fd) return fd.error();
  NetMonitor m;
  m.fd_ = std::move(*fd);
  m.buf_ = std::make_unique_for_overwrite<char[]>(kBuf);
  return m;
}

Result<NetMonitor::Drained> NetMonitor::drainWith(const std::function<void(const FdbEntry&)>& onFdb) {
  char* const buf = buf_.get();
  if (buf == nullptr) return Error::make(EBADF, "netlink monitor not open");
  Drained d;
  // Bounded: a storm of notifications is read in slices; the loop comes back for more.
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(fd_.get(), buf, kBuf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return d;
      if (errno == ENOBUFS) {
        d.changed = true;  // the kernel dropped some: a dump catches up
        continue;
      }
      return Error::sys(errno, "recv(NETLINK_ROUTE)");
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH) {
        // Neighbour entries of IP (ARP/ND caches) are no concern; an FDB entry that
        // went (aged out) changes nothing either: a VM's MAC stays its tap's.
        if (h->nlmsg_type == RTM_NEWNEIGH) {
          NetView v;
          onNeigh(h, v);
          for (const auto& e : v.fdb) {
            onFdb(e);
            ++d.fdb;
          }
        }
        continue;
      }
      d.changed = true;
    }
  }
  return d;
}

}  // namespace ork::sys

#include <linux/capability.h>
#include <sys/syscall.h>

namespace ork::sys {
bool haveCapability(int cap) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}
}  // namespace ork::sys
