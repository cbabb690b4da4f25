// libFuzzer: parseProcStatCpu (/proc/stat, Cpu.h).
#include "ork/parse/Cpu.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseProcStatCpu(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(r->cpus > 0 && r->procsRunning >= 0 && r->procsBlocked >= 0);
    fuzz::check(r->total == r->user + r->nice + r->system + r->idle + r->iowait + r->irq +
                                r->softirq + r->steal);
    fuzz::check(r->busy == r->total - r->idle - r->iowait);
  }
  return 0;
}
