// The host's CPUs: /proc/stat (busy time, online CPUs, runnable tasks) and, when the
// kernel has PSI, /proc/pressure/cpu (how long runnable work waited for a CPU). Both
// are cumulative counters, so a sample is the difference from the previous one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ork/core/CpuSample.h"
#include "ork/sense/Sensor.h"
#include "ork/sys/Files.h"

namespace ork::sense {

class CpuSensor final : public Sensor<CpuSample> {
 public:
  // procRoot: "/proc" or a fixture. <procRoot>/stat must be readable and parse;
  // <procRoot>/pressure/cpu is optional (absent or unreadable: pressure unknown).
  static Result<CpuSensor> open(const std::string& procRoot);

  // The first sample has interval 0 (no rates yet). A sample less than one clock tick
  // after the previous one also has interval 0 and keeps the previous reading as the
  // base, so the next sample spans both; so does a failed sample.
  Result<CpuSample> sample(TimePoint now) override;
  const char* describe() const override { return hasPressure() ? "cpu (with PSI)" : "cpu"; }

  bool hasPressure() const { return psi_.valid(); }

 private:
  sys::KeptOpenFile stat_;
  std::size_t statCapacity_ = 0;
  sys::KeptOpenFile psi_;  // invalid when the kernel has no PSI

  // The previous reading: the base of the next sample's rates.
  bool haveBase_ = false;
  TimePoint baseAt_;
  std::uint64_t baseBusy_ = 0;
  std::uint64_t baseIdle_ = 0;  // idle + iowait
  bool haveBasePsi_ = false;
  std::uint64_t basePsiUs_ = 0;
};

}  // namespace ork::sense
