#include "ork/sense/MemorySensor.h"

#include <unistd.h>

#include <algorithm>

#include "ork/parse/Parsers.h"

namespace ork::sense {

namespace {
bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }
}  // namespace

Result<MemorySensor> MemorySensor::openHost(const std::string& procRoot, bool countZfsArc) {
  MemorySensor s;
  s.domain_ = Domain::Host;
  s.procRoot_ = procRoot;
  auto mi = sys::KeptOpenFile::open(procRoot + "/meminfo");
  if (!mi) return mi.error();
  s.meminfo_ = std::move(*mi);
  s.description_ = "host";
  if (countZfsArc) {
    auto arc = sys::KeptOpenFile::open(procRoot + "/spl/kstat/zfs/arcstats", 16384);
    if (arc) {
      s.arcstats_ = std::move(*arc);
      s.description_ = "host (with ZFS ARC)";
    }
  }
  // Validate once so that a broken /proc is reported at start, not at the first tick.
  auto first = s.sampleHost(TimePoint{});
  if (!first) return first.error();
  return s;
}

Result<MemorySensor> MemorySensor::openCgroup(const std::string& cgroupDir, const std::string& procRoot) {
  MemorySensor s;
  s.procRoot_ = procRoot;
  s.cgroupDir_ = cgroupDir;
  std::string usage, limit;
  if (exists(cgroupDir + "/memory.current")) {
    s.domain_ = Domain::CgroupV2;
    usage = cgroupDir + "/memory.current";
    limit = cgroupDir + "/memory.max";
  } else if (exists(cgroupDir + "/memory.usage_in_bytes")) {
    s.domain_ = Domain::CgroupV1;
    usage = cgroupDir + "/memory.usage_in_bytes";
    limit = cgroupDir + "/memory.limit_in_bytes";
  } else {
    return Error::make(ENOENT,
                       "%s: not a cgroup with the memory controller (no memory.current nor "
                       "memory.usage_in_bytes)",
                       cgroupDir.c_str());
  }
  auto u = sys::KeptOpenFile::open(usage, 64);
  if (!u) return u.error();
  auto l = sys::KeptOpenFile::open(limit, 64);
  if (!l) return l.error();
  auto st = sys::KeptOpenFile::open(cgroupDir + "/memory.stat", 8192);
  if (!st) return st.error();
  auto mi = sys::KeptOpenFile::open(procRoot + "/meminfo");
  if (!mi) return mi.error();
  s.usage_ = std::move(*u);
  s.limit_ = std::move(*l);
  s.stat_ = std::move(*st);
  s.meminfo_ = std::move(*mi);
  s.description_ = (s.domain_ == Domain::CgroupV2 ? "cgroup2:" : "cgroup1:") + cgroupDir;
  auto first = s.sampleCgroup(TimePoint{});
  if (!first) return first.error();
  return s;
}

std::string MemorySensor::pressurePath() const {
  if (domain_ == Domain::Host) return procRoot_ + "/pressure/memory";
  if (domain_ == Domain::CgroupV2) return cgroupDir_ + "/memory.pressure";
  return "";
}

Result<MemorySample> MemorySensor::sample(TimePoint now) {
  return domain_ == Domain::Host ? sampleHost(now) : sampleCgroup(now);
}

Result<MemorySample> MemorySensor::sampleHost(TimePoint now) {
  auto text = meminfo_.read();
  if (!text) return text.error();
  auto mi = parse::parseMeminfo(*text);
  if (!mi) return mi.error();
  MemorySample s;
  s.at = now;
  s.total = mi->total;
  s.available = mi->available;
  s.swapTotal = mi->swapTotal;
  s.swapFree = mi->swapFree;
  if (arcstats_.valid()) {
    auto arcText = arcstats_.read();
    if (arcText) {
      auto arc = parse::parseArcstats(*arcText);
      if (arc && arc->size > arc->cMin) {
        s.zfsArcShrinkable = arc->size - arc->cMin;
        s.available += s.zfsArcShrinkable;
      }
    }
  }
  s.available = std::min(s.available, s.total);
  return s;
}

Result<MemorySample> MemorySensor::sampleCgroup(TimePoint now) {
  auto usageText = usage_.read();
  if (!usageText) return usageText.error();
  auto usage = parse::parseUint(*usageText);
  if (!usage) return usage.error();
  auto limitText = limit_.read();
  if (!limitText) return limitText.error();
  auto limit = parse::parseCgroupLimit(*limitText);
  if (!limit) return limit.error();
  auto statText = stat_.read();
  if (!statText) return statText.error();
  auto stat = parse::parseCgroupMemStat(*statText);
  if (!stat) return stat.error();
  auto miText = meminfo_.read();
  if (!miText) return miText.error();
  auto mi = parse::parseMeminfo(*miText);
  if (!mi) return mi.error();

  MemorySample s;
  s.at = now;
  s.total = limit->has_value() ? std::min(Bytes{static_cast<std::int64_t>(**limit)}, mi->total) : mi->total;
  Bytes used{static_cast<std::int64_t>(*usage)};
  Bytes free = std::max(Bytes{0}, s.total - used);
  // Like MemAvailable: page cache and reclaimable slab count, less a reserve (the
  // kernel keeps min(half, low watermark); a cgroup has no watermark, so 1 % of it).
  Bytes reclaimable = stat->inactiveFile + stat->activeFile + stat->slabReclaimable;
  Bytes reserve = std::min(Bytes{reclaimable.value / 2}, Bytes{s.total.value / 100});
  s.available = free + std::max(Bytes{0}, reclaimable - reserve);
  // The host can run out before the cgroup reaches its limit.
  s.available = std::min({s.available, mi->available, s.total});
  return s;
}

}  // namespace ork::sense
