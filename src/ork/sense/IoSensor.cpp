#include "ork/sense/IoSensor.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ork/parse/Parsers.h"

namespace ork::sense {

namespace {

// /proc/diskstats is ~150 bytes a device (hundreds of loop devices on some hosts).
constexpr std::size_t kMinCapacity = 64 * 1024;
constexpr std::size_t kMaxSize = 8 * 1024 * 1024;

std::uint64_t forward(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : 0; }

bool startsWith(const char* s, const char* prefix) { return std::strncmp(s, prefix, std::strlen(prefix)) == 0; }

}  // namespace

Result<IoSensor> IoSensor::open(const std::string& procRoot, const std::string& sysRoot) {
  IoSensor s;
  s.sysRoot_ = sysRoot;
  const std::string path = procRoot + "/diskstats";
  auto whole = sys::readWholeFile(path, kMaxSize);
  if (!whole) return whole.error();
  s.capacity_ = std::max(kMinCapacity, 2 * whole->size() + 4096);
  auto f = sys::KeptOpenFile::open(path, s.capacity_);
  if (!f) return f.error();
  s.stats_ = std::move(*f);
  std::vector<parse::DiskStat> probe;
  if (auto ok = parse::parseDiskstats(*whole, probe); !ok) return Error::make(0, "%s: %s", path.c_str(), ok.error().what);
  s.now_.reserve(probe.size() * 2 + 16);
  s.base_.reserve(probe.size() * 2 + 16);
  s.known_.reserve(probe.size() * 2 + 16);
  auto psi = sys::KeptOpenFile::open(procRoot + "/pressure/io", 512);
  if (psi) {
    auto text = psi->read();
    if (text && parse::parsePsi(*text)) s.psi_ = std::move(*psi);
  }
  return s;
}

bool IoSensor::watched(const parse::DiskStat& d) {
  for (const Known& k : known_)
    if (k.major == d.major && k.minor == d.minor) return k.watched;
  bool w = !startsWith(d.name, "ram") && !startsWith(d.name, "zram");
  if (w) {
    // A partition has a "partition" attribute; a name with '/' never comes from the
    // kernel (diskstats shows "cciss!c0d0" for those) and is not looked up.
    struct stat st {};
    std::string p = sysRoot_ + "/class/block/" + d.name + "/partition";
    if (std::strchr(d.name, '/') != nullptr || ::stat(p.c_str(), &st) == 0) w = false;
  }
  // Known devices only grow with hot-plug; a cache that outgrew its room is rebuilt.
  if (known_.size() == known_.capacity()) known_.clear();
  known_.push_back({d.major, d.minor, w});
  return w;
}

Result<IoSample> IoSensor::sample(TimePoint now) {
  IoSample s;
  if (auto r = sampleInto(now, s); !r) return r.error();
  return s;
}

Result<void> IoSensor::sampleInto(TimePoint now, IoSample& s) {
  auto text = stats_.read();
  if (!text) return text.error();
  if (text->size() >= capacity_) return Error::make(EFBIG, "%s: larger than %zu bytes", stats_.path().c_str(), capacity_);
  now_.clear();
  if (auto ok = parse::parseDiskstats(*text, now_); !ok) return Error::make(0, "%s: %s", stats_.path().c_str(), ok.error().what);

  bool psiOk = false;
  std::uint64_t some = 0, full = 0;
  if (psi_.valid()) {
    if (auto t = psi_.read()) {
      if (auto p = parse::parsePsi(*t)) {
        psiOk = true;
        some = p->some.totalUs;
        full = p->hasFull ? p->full.totalUs : 0;
      }
    }
  }

  // From here nothing fails: out is written.
  s.at = now;
  s.interval = Nanos{0};
  s.count = 0;
  s.pressure = s.pressureFull = -1;
  if (haveBase_ && now - baseAt_ < Millis{1}) return success();  // no rate over less than 1 ms
  if (haveBase_) {
    s.interval = now - baseAt_;
    const double ms = static_cast<double>(s.interval.count()) / 1e6;
    for (const parse::DiskStat& d : now_) {
      if (d.reads + d.writes == 0 || !watched(d)) continue;
      const parse::DiskStat* b = nullptr;
      for (const parse::DiskStat& c : base_)
        if (c.major == d.major && c.minor == d.minor) {
          b = &c;
          break;
        }
      if (b == nullptr) continue;  // hot-plugged since: rates from the next sample
      IoDevice dev{};
      dev.major = d.major;
      dev.minor = d.minor;
      std::memcpy(dev.name, d.name, sizeof dev.name);
      const double ios = static_cast<double>(forward(d.reads, b->reads) + forward(d.writes, b->writes));
      const double busyMs = static_cast<double>(forward(d.ioTicksMs, b->ioTicksMs));
      const double waitMs = static_cast<double>(forward(d.readMs, b->readMs) + forward(d.writeMs, b->writeMs));
      dev.util = std::clamp(busyMs / ms, 0.0, 1.0);
      dev.queue = static_cast<double>(forward(d.weightedMs, b->weightedMs)) / ms;
      // Busy and nothing completed: every I/O in flight has waited the whole interval.
      dev.awaitMs = ios > 0 ? waitMs / ios : (busyMs > 0 ? ms : 0);
      dev.iops = ios / (ms / 1e3);
      dev.bytesPerS = static_cast<double>(forward(d.readSectors, b->readSectors) + forward(d.writeSectors, b->writeSectors)) *
                      512.0 / (ms / 1e3);
      if (s.count < IoSample::kMaxDevices) {
        s.devices[static_cast<std::size_t>(s.count++)] = dev;
      } else {
        // Full: the least busy one makes room.
        auto least = std::min_element(s.devices.begin(), s.devices.end(),
                                      [](const IoDevice& x, const IoDevice& y) { return x.util < y.util; });
        if (least->util < dev.util) *least = dev;
      }
    }
    if (psiOk && haveBasePsi_) {
      const double us = ms * 1e3;
      s.pressure = std::clamp(static_cast<double>(forward(some, basePsiSome_)) / us, 0.0, 1.0);
      s.pressureFull = std::clamp(static_cast<double>(forward(full, basePsiFull_)) / us, 0.0, 1.0);
    }
  }
  haveBase_ = true;
  baseAt_ = now;
  base_.swap(now_);
  haveBasePsi_ = psiOk;
  basePsiSome_ = some;
  basePsiFull_ = full;
  return success();
}

}  // namespace ork::sense
