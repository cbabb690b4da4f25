#include "ork/sense/IoScan.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "ork/parse/Io.h"
#include "ork/parse/Mountinfo.h"
#include "ork/parse/Mounts.h"
#include "ork/parse/Parsers.h"
#include "ork/sys/Files.h"

namespace ork::sense {

namespace {

bool readInto(const std::string& path, char* buf, std::size_t cap, std::string_view& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (n < 0) return false;
  out = {buf, static_cast<std::size_t>(n)};
  return true;
}

std::string dirOf(const std::string& root, std::string_view path) {
  if (root.empty() || path.find("/..") != std::string_view::npos) return {};
  if (path == "/") return root;
  return root + std::string(path);
}

}  // namespace

CgroupRoots cgroupRootsFrom(std::string_view mountinfo) {
  CgroupRoots r;
  if (auto v2 = parse::cgroupDirFromMountinfo(mountinfo, "/", "")) r.v2 = *v2;
  if (auto v1 = parse::cgroupDirFromMountinfo(mountinfo, "/", "blkio")) r.blkio = *v1;
  return r;
}

void ioScanTargets(std::span<const ProcessInfo> entries, std::vector<IoScanTarget>& out) {
  out.clear();
  for (const ProcessInfo& p : entries)
    if (!p.kernelThread) out.push_back({p.pid, p.startTimeTicks});
}

void scanIo(const std::string& procRoot, const CgroupRoots& roots, std::span<const ProcessInfo> entries,
            TimePoint now, policy::IoSnapshot& out) {
  std::vector<IoScanTarget> targets;
  ioScanTargets(entries, targets);
  scanIo(procRoot, roots, targets, now, out);
}

void scanIo(const std::string& procRoot, const CgroupRoots& roots, std::span<const IoScanTarget> targets,
            TimePoint now, policy::IoSnapshot& out) {
  out.at = now;
  out.procs.clear();
  out.cgroups.clear();
  // v1 blkio paths, parallel to out.cgroups (used only to read the counters).
  std::vector<std::string> blkioOf;
  char buf[16384];
  char path[64];
  std::string_view text;
  for (const IoScanTarget& p : targets) {
    std::snprintf(path, sizeof path, "/%d/io", p.pid);
    if (!readInto(procRoot + path, buf, sizeof buf, text)) continue;
    auto io = parse::parseProcIo(text);
    if (!io) continue;
    policy::IoProc e;
    e.pid = p.pid;
    e.startTimeTicks = p.startTimeTicks;
    e.bytes = io->readBytes + io->writeBytes;
    e.ios = io->syscr + io->syscw;
    std::snprintf(path, sizeof path, "/%d/cgroup", p.pid);
    if (readInto(procRoot + path, buf, sizeof buf, text)) {
      auto v2 = parse::cgroupPathIn(text, "");
      auto v1 = parse::cgroupPathIn(text, "blkio");
      std::string key = !roots.v2.empty() && v2 ? std::string(*v2) : v1 ? std::string(*v1) : std::string();
      if (!key.empty()) {
        int idx = -1;
        for (std::size_t c = 0; c < out.cgroups.size(); ++c)
          if (out.cgroups[c].path == key) idx = static_cast<int>(c);
        if (idx < 0) {
          idx = static_cast<int>(out.cgroups.size());
          policy::IoCgroup cg;
          cg.path = key;
          out.cgroups.push_back(std::move(cg));
          blkioOf.push_back(v1 ? std::string(*v1) : std::string());
        }
        e.cgroup = idx;
      }
    }
    out.procs.push_back(e);
  }
  for (std::size_t c = 0; c < out.cgroups.size(); ++c) {
    policy::IoCgroup& cg = out.cgroups[c];
    const std::string v2dir = dirOf(roots.v2, cg.path);
    if (!v2dir.empty()) {
      if (readInto(v2dir + "/io.pressure", buf, sizeof buf, text))
        if (auto psi = parse::parsePsi(text)) cg.psiSomeUs = static_cast<std::int64_t>(psi->some.totalUs);
      if (readInto(v2dir + "/io.stat", buf, sizeof buf, text) && parse::parseCgroupIoStat(text, cg.devices))
        cg.hasDevices = !cg.devices.empty();
    }
    const std::string v1dir = dirOf(roots.blkio, blkioOf[c]);
    if (!cg.hasDevices && !v1dir.empty()) {
      cg.devices.clear();
      bool ok = readInto(v1dir + "/blkio.throttle.io_service_bytes", buf, sizeof buf, text) &&
                parse::parseBlkioThrottle(text, false, cg.devices);
      if (ok && readInto(v1dir + "/blkio.throttle.io_serviced", buf, sizeof buf, text)) (void)parse::parseBlkioThrottle(text, true, cg.devices);
      cg.hasDevices = ok && !cg.devices.empty();
    }
  }
}

}  // namespace ork::sense
