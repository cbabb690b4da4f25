// The I/O ladder's parsers (docs/scoring.md, "I/O"): the block devices' counters
// (/proc/diskstats) and a cgroup's I/O per device (cgroup v2 io.stat, cgroup v1
// blkio.throttle.io_service_bytes / io_serviced). /proc/PID/io is parse::parseProcIo
// (Mounts.h), PSI io is parse::parsePsi (Parsers.h). Pure: no I/O, no exceptions; they
// append to a vector the caller keeps (no allocation once it has the capacity).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ork/core/Result.h"

namespace ork::parse {

// One line of /proc/diskstats (Documentation/admin-guide/iostats.rst). Every counter
// is cumulative since boot and may wrap (the sensor takes a step back as no time).
struct DiskStat {
  unsigned major = 0;
  unsigned minor = 0;
  char name[32] = {};  // NUL-terminated; a longer name is an error
  std::uint64_t reads = 0;         // field 1: reads completed
  std::uint64_t readSectors = 0;   // field 3 (512-byte sectors whatever the device)
  std::uint64_t readMs = 0;        // field 4: time spent reading
  std::uint64_t writes = 0;        // field 5: writes completed
  std::uint64_t writeSectors = 0;  // field 7
  std::uint64_t writeMs = 0;       // field 8
  std::uint64_t inFlight = 0;      // field 9: I/Os in progress now (not cumulative)
  std::uint64_t ioTicksMs = 0;     // field 10: time the device had I/O in flight
  std::uint64_t weightedMs = 0;    // field 11: time in queue x I/Os in flight
  // Fields 12-15 (kernel >= 4.18) discards, 16-17 (>= 5.5) flushes: 0 when absent.
  std::uint64_t discards = 0;
  std::uint64_t discardMs = 0;
  std::uint64_t flushes = 0;
  std::uint64_t flushMs = 0;
};

// Appends every line to out (out is not cleared). A line needs major, minor, name and
// the 11 fields of kernels before 4.18; a line cut short, with a field that is not a
// number, or with a name of 32 bytes or more or holding a control byte (NUL included)
// is an error for the whole text (the file
// is generated in one piece: one bad line means it is not diskstats).
Result<void> parseDiskstats(std::string_view text, std::vector<DiskStat>& out);

// One device in a cgroup's I/O accounting.
struct CgroupIoDev {
  unsigned major = 0;
  unsigned minor = 0;
  std::uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
  std::uint64_t bytes() const { return rbytes + wbytes; }
  std::uint64_t ios() const { return rios + wios; }
};

// cgroup v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" with
// other keys (cost.*, the io.latency controller's) ignored and missing ones 0. Appends
// one entry per line; an empty file is no device. A line without MAJ:MIN, or a known
// key whose value is not a number, is an error.
Result<void> parseCgroupIoStat(std::string_view text, std::vector<CgroupIoDev>& out);

// cgroup v1 blkio.throttle.io_service_bytes (bytes) or .io_serviced (I/Os): lines
// "MAJ:MIN Read|Write|Sync|Async|Discard|Total N" and a last "Total N". Read and
// Write of each device are added to out (into rbytes/wbytes, or rios/wios with
// ios = true), merging with an entry of the same device already there, so one call
// per file fills both. Old kernels count only throttled bios there (empty without a
// limit); 6.18 here counts every bio (docs/scoring.md).
Result<void> parseBlkioThrottle(std::string_view text, bool ios, std::vector<CgroupIoDev>& out);

}  // namespace ork::parse
