#include "ork/parse/Cpu.h"

#include <cstddef>
#include <cstdint>

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::isDigit;
using detail::kParseErrorCode;
using detail::LineReader;
using detail::nextToken;
using detail::parseInt;
using detail::trimBlanks;

namespace {

// The columns of the "cpu" line, in the kernel's order.
constexpr std::size_t kColumns = 10;
constexpr std::size_t kMinColumns = 4;  // user nice system idle: every kernel has them

bool parseCpuColumns(std::string_view rest, ProcStatCpu& out) {
  std::uint64_t* const columns[kColumns] = {&out.user,   &out.nice,     &out.system,  &out.idle,
                                            &out.iowait, &out.irq,      &out.softirq, &out.steal,
                                            &out.guest,  &out.guestNice};
  std::size_t n = 0;
  for (std::string_view token = nextToken(rest); !token.empty(); token = nextToken(rest), ++n) {
    std::uint64_t v = 0;
    if (!parseInt(token, v)) return false;
    if (n < kColumns) *columns[n] = v;
  }
  if (n < kMinColumns) return false;
  // guest and guest_nice are left out: they are already counted in user and nice.
  const std::uint64_t parts[] = {out.user,   out.nice, out.system,  out.idle,
                                 out.iowait, out.irq,  out.softirq, out.steal};
  std::uint64_t total = 0;
  for (std::uint64_t p : parts) {
    if (__builtin_add_overflow(total, p, &total)) return false;
  }
  out.total = total;
  // Cannot underflow: idle and iowait are parts of the total.
  out.busy = total - out.idle - out.iowait;
  return true;
}

// "cpu" followed by one or more digits, nothing else.
bool isPerCpuKey(std::string_view key) {
  if (key.size() <= 3 || key.substr(0, 3) != "cpu") return false;
  for (std::size_t i = 3; i < key.size(); ++i)
    if (!isDigit(key[i])) return false;
  return true;
}

bool parseCount(std::string_view rest, int& out) {
  const std::string_view value = trimBlanks(rest);
  return parseInt(value, out) && out >= 0;
}

}  // namespace

Result<ProcStatCpu> parseProcStatCpu(std::string_view text) {
  ProcStatCpu out;
  bool hasCpu = false, hasRunning = false, hasBlocked = false;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    const std::string_view key = nextToken(rest);
    if (key == "cpu") {
      if (hasCpu) return Error::make(kParseErrorCode, "stat: repeated \"cpu\" line");
      if (!parseCpuColumns(rest, out))
        return Error::make(kParseErrorCode, "stat: bad \"cpu\" line");
      hasCpu = true;
    } else if (isPerCpuKey(key)) {
      // Only counted: the per-CPU figures are not needed, and a CPU that goes offline
      // between two readings simply stops being listed.
      ++out.cpus;
    } else if (key == "procs_running") {
      if (hasRunning) return Error::make(kParseErrorCode, "stat: repeated procs_running");
      if (!parseCount(rest, out.procsRunning))
        return Error::make(kParseErrorCode, "stat: bad procs_running");
      hasRunning = true;
    } else if (key == "procs_blocked") {
      if (hasBlocked) return Error::make(kParseErrorCode, "stat: repeated procs_blocked");
      if (!parseCount(rest, out.procsBlocked))
        return Error::make(kParseErrorCode, "stat: bad procs_blocked");
      hasBlocked = true;
    }  // intr, ctxt, btime, processes, softirq and future lines are not needed
  }
  if (!hasCpu) return Error::make(kParseErrorCode, "stat: missing \"cpu\" line");
  if (out.cpus == 0) return Error::make(kParseErrorCode, "stat: no \"cpuN\" line");
  if (!hasRunning) return Error::make(kParseErrorCode, "stat: missing procs_running");
  return out;
}

}  // namespace ork::parse
