#include "ork/policy/DiskRule.h"

#include <algorithm>
#include <cmath>

namespace ork::policy {

namespace {

// clang-format off
// class          soft %  cap MiB  hard %  cap MiB  inodes soft % cap      inodes hard % cap
constexpr DiskClassDefaults kDefaults[] = {
  /* root   */ {10,    4096,    5,     1024,    10,   1000000,  5,    250000},
  /* log    */ {15,    2048,    5,     512,     10,   500000,   5,    100000},
  /* images */ {8,     20480,   3,     5120,    5,    200000,   2,    50000},
  /* cache  */ {3,     2048,    1,     512,     5,    500000,   2,    100000},
  /* other  */ {10,    4096,    5,     1024,    10,   1000000,  5,    250000},
};
// clang-format on

constexpr std::string_view kPseudo[] = {
    "proc",     "sysfs",   "cgroup",  "cgroup2",   "devpts",  "devtmpfs", "mqueue",   "debugfs",
    "tracefs",  "securityfs", "pstore", "bpf",     "configfs", "fusectl", "hugetlbfs", "autofs",
    "binfmt_misc", "efivarfs", "rpc_pipefs", "nsfs", "selinuxfs", "overlay", "squashfs", "ramfs",
    "nfsd",     "iso9660", "aufs",    "tmpfs-ro", "none",
};
constexpr std::string_view kNetwork[] = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs", "lustre", "gpfs", "ocfs2", "gfs2",
    "davfs", "sshfs", "fuse", "fuseblk", "virtiofs",
};

bool under(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/');
}

bool hasCacheComponent(std::string_view mp) {
  std::size_t i = 0;
  while (i < mp.size()) {
    std::size_t j = mp.find('/', i);
    std::string_view c = mp.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (c.find("cache") != std::string_view::npos) return true;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return false;
}

Bytes capped(Bytes total, double pct, std::int64_t capMib) {
  Bytes b = total.scaled(pct / 100.0);
  return capMib > 0 ? std::min(b, Bytes::mib(capMib)) : b;
}
std::uint64_t cappedCount(std::uint64_t total, double pct, std::int64_t cap) {
  auto n = static_cast<std::uint64_t>(static_cast<double>(total) * pct / 100.0);
  return cap > 0 ? std::min<std::uint64_t>(n, static_cast<std::uint64_t>(cap)) : n;
}

bool isCompressed(std::string_view n) {
  for (std::string_view suf : {".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"})
    if (n.size() > suf.size() && n.ends_with(suf)) return true;
  return false;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The part after "<base>" of a rotated sibling: ".N", ".N.gz", "-YYYYMMDD...", ".old".
bool rotatedTail(std::string_view tail) {
  for (std::string_view suf : {".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"})
    if (tail.ends_with(suf)) {
      tail.remove_suffix(suf.size());
      break;
    }
  if (tail.empty()) return true;  // "<base>.gz"
  if (tail == ".old") return true;
  if (tail.front() == '.' && allDigits(tail.substr(1))) return true;
  if (tail.front() == '-' && tail.size() >= 9 && allDigits(tail.substr(1, 8))) return true;
  return false;
}

}  // namespace

const char* toString(DiskClass c) {
  switch (c) {
    case DiskClass::Root: return "root";
    case DiskClass::Log: return "log";
    case DiskClass::Images: return "images";
    case DiskClass::Cache: return "cache";
    case DiskClass::Other: return "other";
  }
  return "other";
}

std::optional<DiskClass> diskClassFromString(std::string_view s) {
  for (DiskClass c : {DiskClass::Root, DiskClass::Log, DiskClass::Images, DiskClass::Cache, DiskClass::Other})
    if (s == toString(c)) return c;
  return std::nullopt;
}

const DiskClassDefaults& classDefaults(DiskClass c) { return kDefaults[static_cast<int>(c)]; }

bool isPseudoFs(std::string_view t) {
  return std::find(std::begin(kPseudo), std::end(kPseudo), t) != std::end(kPseudo);
}

bool isNetworkFs(std::string_view t) {
  if (t.starts_with("fuse.")) return true;
  return std::find(std::begin(kNetwork), std::end(kNetwork), t) != std::end(kNetwork);
}

DiskClass classify(std::string_view mp, std::optional<bool> rotational, std::string_view configured) {
  if (auto c = diskClassFromString(configured)) return *c;
  if (mp == "/") return DiskClass::Root;
  for (std::string_view img : kImageStores)
    if (under(img, mp) || under(mp, img)) return DiskClass::Images;
  if (under(mp, "/var/log") || (under("/var/log", mp) && mp != "/var")) return DiskClass::Log;
  if (rotational.has_value() && !*rotational && hasCacheComponent(mp)) return DiskClass::Cache;
  return DiskClass::Other;
}

std::vector<WatchedFs> selectFilesystems(std::span<const parse::MountEntry> mounts, const config::DiskSettings& cfg,
                                         const std::function<std::optional<bool>(unsigned, unsigned)>& rotational) {
  // The mounts that are visible: a later mount on the same point hides the earlier.
  std::vector<const parse::MountEntry*> visible;
  for (const auto& m : mounts) {
    std::erase_if(visible, [&](const parse::MountEntry* v) { return v->mountPoint == m.mountPoint; });
    visible.push_back(&m);
  }
  auto listed = [&](const std::string& mp) {
    return std::find(cfg.watch.begin(), cfg.watch.end(), mp) != cfg.watch.end();
  };
  std::vector<const parse::MountEntry*> chosen;
  for (const auto* m : visible) {
    if (m->readOnly || isPseudoFs(m->fsType)) continue;
    // Kernel interfaces mounted on a tmpfs (/sys/fs/cgroup of cgroup v1) hold no data.
    if (under(m->mountPoint, "/sys") || under(m->mountPoint, "/proc")) continue;
    bool net = isNetworkFs(m->fsType);
    if (!cfg.watch.empty() && !listed(m->mountPoint)) continue;
    if (net && !listed(m->mountPoint)) continue;
    // One filesystem mounted several times counts once: the whole filesystem before a
    // bind of a subtree, then the shortest mountpoint.
    auto same = std::find_if(chosen.begin(), chosen.end(), [&](const parse::MountEntry* c) {
      return c->major == m->major && c->minor == m->minor;
    });
    if (same == chosen.end()) {
      chosen.push_back(m);
      continue;
    }
    bool better = (m->root == "/" && (*same)->root != "/") ||
                  ((m->root == "/") == ((*same)->root == "/") && m->mountPoint.size() < (*same)->mountPoint.size());
    if (better) *same = m;
  }
  std::vector<WatchedFs> out;
  out.reserve(chosen.size());
  for (const auto* m : chosen) {
    WatchedFs w;
    w.mountPoint = m->mountPoint;
    w.fsType = m->fsType;
    w.source = m->source;
    w.major = m->major;
    w.minor = m->minor;
    w.network = isNetworkFs(m->fsType);
    const config::DiskMount* dm = cfg.mount(m->mountPoint);
    std::optional<bool> rot = m->major != 0 && rotational ? rotational(m->major, m->minor) : std::nullopt;
    w.diskClass = classify(m->mountPoint, rot, dm != nullptr ? std::string_view(dm->diskClass) : std::string_view());
    out.push_back(std::move(w));
  }
  return out;
}

DiskThresholds diskThresholds(DiskClass c, std::string_view mountPoint, Bytes total, std::uint64_t totalInodes,
                              const config::Config& cfg) {
  const DiskClassDefaults& d = classDefaults(c);
  DiskThresholds t;
  t.softBytes = capped(total, d.softPercent, d.softCapMib);
  t.hardBytes = capped(total, d.hardPercent, d.hardCapMib);
  t.softInodes = cappedCount(totalInodes, d.inodesSoftPercent, d.inodesSoftCap);
  t.hardInodes = cappedCount(totalInodes, d.inodesHardPercent, d.inodesHardCap);
  auto apply = [&](const config::DiskOverrides& o) {
    if (o.softPercent) t.softBytes = capped(total, *o.softPercent, 0);
    if (o.hardPercent) t.hardBytes = capped(total, *o.hardPercent, 0);
    if (o.inodesSoftPercent) t.softInodes = cappedCount(totalInodes, *o.inodesSoftPercent, 0);
    if (o.inodesHardPercent) t.hardInodes = cappedCount(totalInodes, *o.inodesHardPercent, 0);
  };
  apply(cfg.disk.all);
  if (const auto* m = cfg.disk.mount(mountPoint)) apply(m->thresholds);
  // A soft threshold below the hard one (a mount override against the class's other
  // value) would make step 1 never run: soft is at least hard.
  t.softBytes = std::max(t.softBytes, t.hardBytes);
  t.softInodes = std::max(t.softInodes, t.hardInodes);
  return t;
}

Bytes softBytesFor(std::string_view path, std::span<const parse::MountEntry> mounts, Bytes total, std::uint64_t totalInodes,
                   const config::Config& cfg) {
  if (!cfg.flag(config::Key::DiskEnabled)) return Bytes{0};
  std::string_view best = "/";
  for (const auto& m : mounts)
    if (under(path, m.mountPoint) && m.mountPoint.size() > best.size()) best = m.mountPoint;
  const config::DiskMount* dm = cfg.disk.mount(best);
  DiskClass c = classify(best, std::nullopt, dm != nullptr ? std::string_view(dm->diskClass) : std::string_view());
  return diskThresholds(c, best, total, totalInodes, cfg).softBytes;
}

const char* toString(DiskLevel l) {
  switch (l) {
    case DiskLevel::Ok: return "ok";
    case DiskLevel::BelowSoft: return "below_soft";
    case DiskLevel::BelowHard: return "below_hard";
  }
  return "ok";
}

DiskVerdict judgeDisk(const FsSample& s, const DiskThresholds& t, const config::Config& cfg) {
  DiskVerdict v;
  bool haveInodes = s.totalInodes > 0;
  v.bytes = s.available < t.softBytes;
  v.inodes = haveInodes && s.freeInodes < t.softInodes;
  v.hardBytes = s.available < t.hardBytes;
  v.hardInodes = haveInodes && s.freeInodes < t.hardInodes;
  v.level = (v.hardBytes || v.hardInodes) ? DiskLevel::BelowHard : (v.bytes || v.inodes) ? DiskLevel::BelowSoft : DiskLevel::Ok;
  double m = cfg.get(config::Key::DiskMarginPercent) / 100.0;
  Bytes margin = std::min(s.total.scaled(m), Bytes::gib(1));
  if (v.bytes) v.needBytes = t.softBytes + margin - s.available;
  if (v.inodes) {
    auto im = std::min<std::uint64_t>(static_cast<std::uint64_t>(static_cast<double>(s.totalInodes) * m), 100000);
    v.needInodes = t.softInodes + im - s.freeInodes;
  }
  return v;
}

void DiskFill::update(const FsSample& s) {
  if (samples_ > 0 && s.at > last_.at) {
    double dt = std::chrono::duration<double>(s.at - last_.at).count();
    double b = static_cast<double>((last_.available - s.available).value) / dt;
    double i = (static_cast<double>(last_.freeInodes) - static_cast<double>(s.freeInodes)) / dt;
    lastBytes_ = b;
    lastInodes_ = i;
    bytesRate_ = samples_ >= 2 ? (bytesRate_ + b) / 2 : b;
    inodesRate_ = samples_ >= 2 ? (inodesRate_ + i) / 2 : i;
  }
  last_ = s;
  ++samples_;
}

std::optional<double> DiskFill::secondsToFull(const FsSample& s) const {
  if (!known()) return std::nullopt;
  std::optional<double> out;
  if (bytesRate_ > 0) out = static_cast<double>(s.available.value) / bytesRate_;
  if (inodesRate_ > 0 && s.totalInodes > 0) {
    double i = static_cast<double>(s.freeInodes) / inodesRate_;
    out = out ? std::min(*out, i) : i;
  }
  return out;
}

Nanos nextDiskInterval(const FsSample& s, const DiskThresholds& t, const DiskFill& fill, const config::Config& cfg) {
  Nanos base = cfg.seconds(config::Key::DiskIntervalS);
  double seconds = std::chrono::duration<double>(base).count();
  auto headroom = [](double free, double soft, double hard) {
    // The next threshold down from where it is now (below hard: running out).
    if (free > soft) return free - soft;
    if (free > hard) return free - hard;
    return free;
  };
  if (fill.bytesPerSecond() > 0) {
    double h = headroom(static_cast<double>(s.available.value), static_cast<double>(t.softBytes.value),
                        static_cast<double>(t.hardBytes.value));
    seconds = std::min(seconds, h / fill.bytesPerSecond() / 2);
  }
  if (fill.inodesPerSecond() > 0 && s.totalInodes > 0) {
    double h = headroom(static_cast<double>(s.freeInodes), static_cast<double>(t.softInodes),
                        static_cast<double>(t.hardInodes));
    seconds = std::min(seconds, h / fill.inodesPerSecond() / 2);
  }
  seconds = std::max(seconds, 0.2);
  return std::min(base, std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(seconds)));
}

bool isRotatedName(std::string_view name, std::string_view base) {
  if (base.empty()) {
    if (isCompressed(name) || name.ends_with(".old")) return true;
    // "x.log.1", "x.1", "x-20240101"
    std::size_t dot = name.rfind('.');
    if (dot != std::string_view::npos && dot > 0 && allDigits(name.substr(dot + 1))) return true;
    std::size_t dash = name.rfind('-');
    if (dash != std::string_view::npos && dash > 0 && rotatedTail(name.substr(dash))) return true;
    return false;
  }
  if (name.size() <= base.size() || name.substr(0, base.size()) != base) return false;
  return rotatedTail(name.substr(base.size()));
}

std::vector<CleanStep> planCleaning(std::span<const CleanFile> files, Bytes needBytes, std::uint64_t needInodes) {
  std::vector<int> order;
  for (std::size_t i = 0; i < files.size(); ++i)
    if (files[i].size.value > 0 || files[i].kind == CleanFile::Kind::Rotated) order.push_back(static_cast<int>(i));
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const CleanFile& x = files[static_cast<std::size_t>(a)];
    const CleanFile& y = files[static_cast<std::size_t>(b)];
    if (x.kind != y.kind) return x.kind < y.kind;
    if (x.kind == CleanFile::Kind::Rotated) {
      if (x.mtimeSec != y.mtimeSec) return x.mtimeSec < y.mtimeSec;
      return x.path < y.path;
    }
    if (x.size != y.size) return x.size > y.size;
    return x.path < y.path;
  });
  std::vector<CleanStep> out;
  Bytes freed;
  std::uint64_t inodes = 0;
  for (int i : order) {
    if (freed >= needBytes && inodes >= needInodes) break;
    const CleanFile& f = files[static_cast<std::size_t>(i)];
    bool del = f.kind == CleanFile::Kind::Rotated;
    // Truncating gives no inode back: when only inodes are short, only deletions help.
    if (!del && freed >= needBytes) continue;
    out.push_back({i, !del});
    freed += f.size;
    if (del) ++inodes;
  }
  return out;
}

int chooseWriter(std::span<const WriterCandidate> ws, bool forInodes) {
  int best = -1;
  double bestRate = 0;
  for (std::size_t i = 0; i < ws.size(); ++i) {
    const WriterCandidate& w = ws[i];
    if (!w.eligible) continue;
    double r = forInodes ? w.opsPerSecond : w.bytesPerSecond;
    if (r > bestRate || (r == bestRate && r > 0 && best >= 0 && w.pid < ws[static_cast<std::size_t>(best)].pid)) {
      best = static_cast<int>(i);
      bestRate = r;
    }
  }
  return bestRate > 0 ? best : -1;
}

bool writerEligible(const ProcessInfo& p) {
  Exclusion e = exclusionOf(p);
  return e == Exclusion::None || e == Exclusion::NoMemory;
}

namespace {

int entryIndex(std::span<const ProcessInfo> entries, int pid) {
  auto it = std::lower_bound(entries.begin(), entries.end(), pid, [](const ProcessInfo& p, int x) { return p.pid < x; });
  return it != entries.end() && it->pid == pid ? static_cast<int>(it - entries.begin()) : -1;
}

bool interactive(const ProcessInfo& p) { return p.session == p.pid && p.hasTty; }

// The edge child -> parent may carry a group: not a boundary.
bool groupEdge(const ProcessInfo& child, const ProcessInfo& parent) {
  if (parent.pid == 1 || !writerEligible(parent) || interactive(parent)) return false;
  if (child.session == child.pid) return false;
  if (parent.startTimeTicks > child.startTimeTicks) return false;
  if (child.identity != nullptr && parent.identity != nullptr && child.identity->cgroup != parent.identity->cgroup)
    return false;
  return true;
}

bool sameProgram(const ProcessInfo& a, const ProcessInfo& b) {
  return a.identity != nullptr && b.identity != nullptr && a.identity->exeKey != 0 && a.identity->exeKey == b.identity->exeKey;
}

}  // namespace

int writerGroup(std::span<const ProcessInfo> entries, int writer, std::span<const int> writing, long ticksPerSecond,
                int* out, int cap, Group* group) {
  *group = Group::Process;
  if (cap <= 0 || writer < 0 || static_cast<std::size_t>(writer) >= entries.size()) return 0;
  const ProcessInfo& w = entries[static_cast<std::size_t>(writer)];
  // Pool: up the chain of the same program, then down it.
  int root = writer;
  for (int guard = 0; guard < 64; ++guard) {
    const ProcessInfo& r = entries[static_cast<std::size_t>(root)];
    int p = entryIndex(entries, r.ppid);
    if (p < 0 || p == root || !sameProgram(r, entries[static_cast<std::size_t>(p)]) ||
        !groupEdge(r, entries[static_cast<std::size_t>(p)]))
      break;
    root = p;
  }
  int n = 0;
  out[n++] = root;
  for (int i = 0; i < n && n < cap; ++i) {
    const ProcessInfo& head = entries[static_cast<std::size_t>(out[i])];
    for (std::size_t c = 0; c < entries.size() && n < cap; ++c) {
      const ProcessInfo& ch = entries[c];
      if (ch.ppid != head.pid || !sameProgram(ch, head) || !writerEligible(ch) || interactive(ch) || !groupEdge(ch, head))
        continue;
      out[n++] = static_cast<int>(c);
    }
  }
  if (n > 1) {
    *group = Group::Pool;
    return n;
  }
  // Burst: the writing siblings born close together, in start order, around the writer.
  out[0] = writer;
  int parent = entryIndex(entries, w.ppid);
  if (parent < 0 || w.ppid == 1 || !groupEdge(w, entries[static_cast<std::size_t>(parent)])) return 1;
  std::vector<int> sib;
  for (int i : writing) {
    if (i < 0 || static_cast<std::size_t>(i) >= entries.size()) continue;
    const ProcessInfo& s = entries[static_cast<std::size_t>(i)];
    if (s.ppid == w.ppid && writerEligible(s) && !interactive(s) && groupEdge(s, entries[static_cast<std::size_t>(parent)]))
      sib.push_back(i);
  }
  if (std::find(sib.begin(), sib.end(), writer) == sib.end()) sib.push_back(writer);
  std::sort(sib.begin(), sib.end(), [&](int a, int b) {
    const ProcessInfo& x = entries[static_cast<std::size_t>(a)];
    const ProcessInfo& y = entries[static_cast<std::size_t>(b)];
    return x.startTimeTicks != y.startTimeTicks ? x.startTimeTicks < y.startTimeTicks : x.pid < y.pid;
  });
  auto gap = static_cast<std::uint64_t>(std::chrono::duration<double>(kBurstGap).count() * static_cast<double>(ticksPerSecond));
  std::size_t at = static_cast<std::size_t>(std::find(sib.begin(), sib.end(), writer) - sib.begin());
  std::size_t lo = at, hi = at;
  auto start = [&](std::size_t k) { return entries[static_cast<std::size_t>(sib[k])].startTimeTicks; };
  while (lo > 0 && start(lo) - start(lo - 1) <= gap) --lo;
  while (hi + 1 < sib.size() && start(hi + 1) - start(hi) <= gap) ++hi;
  if (hi == lo) return 1;
  for (std::size_t k = lo; k <= hi && n < cap; ++k)
    if (sib[k] != writer) out[n++] = sib[k];
  *group = Group::Burst;
  return n;
}

}  // namespace ork::policy
