#include "ork/sense/CpuSensor.h"

#include <algorithm>
#include <cerrno>

#include "ork/parse/Cpu.h"
#include "ork/parse/Parsers.h"

namespace ork::sense {

namespace {

// /proc/stat grows with the CPUs and interrupts (about 1 KiB here, tens of KiB on a
// large host). It is measured once at open and given twice its size, so a CPU brought
// online later still fits; a reading that fills the buffer is reported, not parsed.
constexpr std::size_t kMinStatCapacity = 16 * 1024;
constexpr std::size_t kMaxStatSize = 4 * 1024 * 1024;

// Counters can step back: idle time on NO_HZ kernels is known to, briefly. A step back
// counts as no time rather than wrapping around to an absurd delta.
std::uint64_t forward(std::uint64_t now, std::uint64_t before) {
  return now >= before ? now - before : 0;
}

}  // namespace

Result<CpuSensor> CpuSensor::open(const std::string& procRoot) {
  CpuSensor s;
  const std::string statPath = procRoot + "/stat";
  auto whole = sys::readWholeFile(statPath, kMaxStatSize);
  if (!whole) return whole.error();
  s.statCapacity_ = std::max(kMinStatCapacity, 2 * whole->size() + 4096);
  auto stat = sys::KeptOpenFile::open(statPath, s.statCapacity_);
  if (!stat) return stat.error();
  s.stat_ = std::move(*stat);
  // Validate once so that an unusable /proc/stat is reported at start. Not a base: the
  // first sample() gives interval 0.
  auto text = s.stat_.read();
  if (!text) return text.error();
  if (text->size() >= s.statCapacity_)
    return Error::make(EFBIG, "%s: grew past its buffer", statPath.c_str());
  auto parsed = parse::parseProcStatCpu(*text);
  if (!parsed) return Error::make(0, "%s: %s", statPath.c_str(), parsed.error().what);

  // PSI is optional: kernels before 4.20, or booted with psi=0, have none (or a file
  // that cannot be read). Without it the rule falls back to runnable tasks vs CPUs.
  auto psi = sys::KeptOpenFile::open(procRoot + "/pressure/cpu", 512);
  if (psi) {
    auto psiText = psi->read();
    if (psiText && parse::parsePsi(*psiText)) s.psi_ = std::move(*psi);
  }
  return s;
}

Result<CpuSample> CpuSensor::sample(TimePoint now) {
  auto text = stat_.read();
  if (!text) return text.error();
  if (text->size() >= statCapacity_) {
    // Cut off: procs_running, near the end, may be missing or cut mid-number.
    return Error::make(EFBIG, "%s: larger than %zu bytes", stat_.path().c_str(), statCapacity_);
  }
  auto cpu = parse::parseProcStatCpu(*text);
  if (!cpu) return Error::make(0, "%s: %s", stat_.path().c_str(), cpu.error().what);

  bool psiOk = false;
  std::uint64_t psiUs = 0;
  if (psi_.valid()) {
    auto psiText = psi_.read();
    if (psiText) {
      auto psi = parse::parsePsi(*psiText);
      if (psi) {
        psiOk = true;
        psiUs = psi->some.totalUs;
      }
    }
  }

  CpuSample s;
  s.at = now;
  s.cpus = cpu->cpus;
  s.runnable = std::max(0, cpu->procsRunning - 1);
  const std::uint64_t idle = cpu->idle + cpu->iowait;

  const std::uint64_t dBusy = haveBase_ ? forward(cpu->busy, baseBusy_) : 0;
  const std::uint64_t dIdle = haveBase_ ? forward(idle, baseIdle_) : 0;
  if (haveBase_ && (dBusy + dIdle == 0 || now <= baseAt_)) {
    // Not one tick since the base: no rate can be told. Keep the base.
    return s;
  }
  if (haveBase_) {
    s.interval = now - baseAt_;
    s.busy = static_cast<double>(dBusy) / static_cast<double>(dBusy + dIdle);
    if (psiOk && haveBasePsi_) {
      const double waitedUs = static_cast<double>(forward(psiUs, basePsiUs_));
      const double intervalUs = static_cast<double>(s.interval.count()) / 1e3;
      s.pressure = std::clamp(waitedUs / intervalUs, 0.0, 1.0);
    }
  }
  haveBase_ = true;
  baseAt_ = now;
  baseBusy_ = cpu->busy;
  baseIdle_ = idle;
  haveBasePsi_ = psiOk;
  basePsiUs_ = psiUs;
  return s;
}

}  // namespace ork::sense
