// Memory of one domain: the whole host (/proc/meminfo, plus the shrinkable ZFS ARC),
// or one cgroup (v2 memory.current/memory.max/memory.stat, v1
// memory.usage_in_bytes/memory.limit_in_bytes/memory.stat), counting reclaimable file
// cache as available the way MemAvailable does.
#pragma once

#include <string>

#include "ork/core/MemorySample.h"
#include "ork/sense/Sensor.h"
#include "ork/sys/Files.h"

namespace ork::sense {

class MemorySensor final : public Sensor<MemorySample> {
 public:
  enum class Domain { Host, CgroupV1, CgroupV2 };

  // procRoot: "/proc" or a fixture. countZfsArc: add ARC size - c_min when
  // <procRoot>/spl/kstat/zfs/arcstats exists.
  static Result<MemorySensor> openHost(const std::string& procRoot, bool countZfsArc);
  // cgroupDir: a v2 directory (memory.current) or a v1 memory-controller directory
  // (memory.usage_in_bytes). An unlimited cgroup has the host's MemTotal as its size.
  static Result<MemorySensor> openCgroup(const std::string& cgroupDir, const std::string& procRoot);

  Result<MemorySample> sample(TimePoint now) override;
  const char* describe() const override { return description_.c_str(); }

  Domain domain() const { return domain_; }
  const std::string& cgroupDir() const { return cgroupDir_; }
  // The PSI file that reports this domain's memory pressure ("" when there is none).
  std::string pressurePath() const;

 private:
  Result<MemorySample> sampleHost(TimePoint now);
  Result<MemorySample> sampleCgroup(TimePoint now);

  Domain domain_ = Domain::Host;
  std::string procRoot_;
  std::string cgroupDir_;
  std::string description_;
  sys::KeptOpenFile meminfo_;
  sys::KeptOpenFile arcstats_;  // invalid when absent or not counted
  sys::KeptOpenFile usage_;
  sys::KeptOpenFile limit_;
  sys::KeptOpenFile stat_;
};

}  // namespace ork::sense
