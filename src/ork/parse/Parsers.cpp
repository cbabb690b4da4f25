// Pure parsers for /proc, /sys/fs/cgroup, ZFS kstat and /etc/passwd text. No I/O, no
// heap allocation, no exceptions: hostile or truncated input yields an Error, never a
// crash or an out-of-bounds read. Numbers that do not fit their type are errors; kB
// values that do not fit in Bytes saturate.
#include "ork/parse/Parsers.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <string_view>

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::bytesFromKib;
using detail::bytesFromU64;
using detail::dropNewline;
using detail::kParseErrorCode;
using detail::LineReader;
using detail::nextToken;
using detail::parseDecimal;
using detail::parseInt;
using detail::trimBlanks;

Bytes bytesFromPages(std::int64_t pages, long pageSize) {
  if (pages <= 0 || pageSize <= 0) return Bytes{0};
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(pages, static_cast<std::int64_t>(pageSize), &bytes) ||
      bytes > kMaxProcessMemory)
    return Bytes{kMaxProcessMemory};
  return Bytes{bytes};
}

namespace {

// Splits "Key:<value>" at the first ':'. The key must start the line, so text that
// merely contains "VmSwap:" (e.g. in a process name) is never taken for that key.
bool splitKeyValue(std::string_view line, std::string_view& key, std::string_view& value) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = line.substr(0, colon);
  value = line.substr(colon + 1);
  return true;
}

// "<blanks>123 kB" (the unit is optional) -> Bytes. Anything else is rejected.
bool parseKibValue(std::string_view value, Bytes& out) {
  std::string_view rest = value;
  const std::string_view number = nextToken(rest);
  const std::string_view unit = nextToken(rest);
  if (!trimBlanks(rest).empty()) return false;
  if (!unit.empty() && unit != "kB") return false;
  std::uint64_t kib = 0;
  if (!parseInt(number, kib)) return false;
  out = bytesFromKib(kib);
  return true;
}

// "name<blanks>value" for flat "key value" files. value is the whole (trimmed) rest of
// the line, so trailing junk makes the value, not the line, invalid.
bool splitNameValue(std::string_view line, std::string_view& name, std::string_view& value) {
  std::string_view rest = line;
  name = nextToken(rest);
  value = trimBlanks(rest);
  return !name.empty();
}

}  // namespace

// ---- /proc/meminfo -------------------------------------------------------------

Result<MemInfo> parseMeminfo(std::string_view text) {
  MemInfo info;
  Bytes buffers;
  Bytes cached;
  bool hasTotal = false;
  bool hasFree = false;
  bool ignored = false;

  // The seven keys ORK needs are in the first 16 lines of a real meminfo: stop as soon
  // as all were seen rather than walk the ~40 others (this runs on every sample).
  constexpr unsigned kAllKeys = (1u << 7) - 1;
  unsigned found = 0;
  LineReader lines(text);
  std::string_view line;
  while (found != kAllKeys && lines.next(line)) {
    std::string_view key;
    std::string_view value;
    if (!splitKeyValue(line, key, value)) continue;
    Bytes* dst = nullptr;
    bool* seen = &ignored;
    unsigned bit = 0;
    if (key == "MemTotal") {
      dst = &info.total;
      seen = &hasTotal;
      bit = 1u << 0;
    } else if (key == "MemFree") {
      dst = &info.free;
      seen = &hasFree;
      bit = 1u << 1;
    } else if (key == "MemAvailable") {
      dst = &info.available;
      seen = &info.hasAvailable;
      bit = 1u << 2;
    } else if (key == "Buffers") {
      dst = &buffers;
      bit = 1u << 3;
    } else if (key == "Cached") {
      dst = &cached;
      bit = 1u << 4;
    } else if (key == "SwapTotal") {
      dst = &info.swapTotal;
      bit = 1u << 5;
    } else if (key == "SwapFree") {
      dst = &info.swapFree;
      bit = 1u << 6;
    } else {
      continue;  // one of the ~50 keys we do not need; its value is not even looked at
    }
    if (!parseKibValue(value, *dst)) {
      return Error::make(kParseErrorCode, "meminfo: bad value for %.*s",
                         static_cast<int>(key.size()), key.data());
    }
    *seen = true;
    found |= bit;
  }
  if (!hasTotal) return Error::make(kParseErrorCode, "meminfo: missing MemTotal");
  if (!hasFree) return Error::make(kParseErrorCode, "meminfo: missing MemFree");
  // A zero total is not a real machine and would make every ratio divide by zero.
  if (info.total.value == 0) return Error::make(kParseErrorCode, "meminfo: MemTotal is 0");
  if (!info.hasAvailable) {
    // Kernels before 3.14 lack MemAvailable: the classic free + page cache estimate.
    info.available = saturatingAdd(saturatingAdd(info.free, cached), buffers);
  }
  return info;
}

// ---- /proc/PID/stat ------------------------------------------------------------

namespace {
// The fields of /proc/PID/stat that parseProcStat reads.
constexpr int kStatFieldsRead[] = {3, 4, 6, 7, 9, 14, 15, 20, 22, 24, 26, 27, 28, 48, 49, 50, 51};
}  // namespace

Result<ProcStat> parseProcStat(std::string_view text) {
  constexpr int kLastField = 24;        // rss, the last field we need
  constexpr int kLastLayoutField = 51;  // env_end: the layout fields are optional
  ProcStat st;

  // "PID (comm) S ...": comm runs from the FIRST '(' to the LAST ')' so that a name
  // such as "x) R 1 2 3" cannot shift the fields after it. (memrchr: the table reads
  // every process's stat on every pass, and a byte-by-byte search back from the end
  // was a third of this parse.)
  const std::size_t open = text.find('(');
  const void* const lastClose = text.empty() ? nullptr : ::memrchr(text.data(), ')', text.size());
  const std::size_t close = lastClose == nullptr
                                ? std::string_view::npos
                                : static_cast<std::size_t>(static_cast<const char*>(lastClose) - text.data());
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Error::make(kParseErrorCode, "stat: no (comm)");
  }
  if (open < 2 || text[open - 1] != ' ' || !parseInt(text.substr(0, open - 1), st.pid) ||
      st.pid <= 0) {
    return Error::make(kParseErrorCode, "stat: bad pid");
  }
  const std::string_view comm = text.substr(open + 1, close - open - 1);
  const std::size_t keep = comm.size() < sizeof st.comm - 1 ? comm.size() : sizeof st.comm - 1;
  std::memcpy(st.comm, comm.data(), keep);
  st.comm[keep] = '\0';

  // Fields 3.. follow ") ". Count the blank-separated tokens up to field 51, keeping
  // only the ones read below (an array of all 51 was zeroed on every call: the table
  // parses every process's stat on every pass).
  std::string_view rest = dropNewline(text.substr(close + 1));
  if (rest.empty() || rest.front() != ' ') {
    return Error::make(kParseErrorCode, "stat: truncated after comm");
  }
  // Field number -> slot in kept[] (-1: not read).
  static constexpr auto kSlot = [] {
    std::array<signed char, kLastLayoutField + 1> slot{};
    for (auto& s : slot) s = -1;
    signed char next = 0;
    for (int f : kStatFieldsRead) slot[static_cast<std::size_t>(f)] = next++;
    return slot;
  }();
  std::string_view kept[std::size(kStatFieldsRead)];
  const auto field = [&kept](int f) { return kept[kSlot[static_cast<std::size_t>(f)]]; };
  int count = 2;  // pid and comm
  {
    const char* p = rest.data();
    const char* const end = p + rest.size();
    while (count < kLastLayoutField) {
      while (p < end && detail::isBlank(*p)) ++p;
      if (p == end) break;
      const char* const start = p;
      while (p < end && !detail::isBlank(*p)) ++p;
      const signed char slot = kSlot[static_cast<std::size_t>(++count)];
      if (slot >= 0) kept[slot] = std::string_view(start, static_cast<std::size_t>(p - start));
    }
  }
  if (count < kLastField) {
    return Error::make(kParseErrorCode, "stat: truncated, %d of %d fields", count, kLastField);
  }

  const std::string_view state = field(3);
  if (state.size() != 1 ||
      !((state[0] >= 'A' && state[0] <= 'Z') || (state[0] >= 'a' && state[0] <= 'z'))) {
    return Error::make(kParseErrorCode, "stat: bad state (field 3)");
  }
  st.state = state[0];
  if (!parseInt(field(4), st.ppid) || st.ppid < 0) {
    return Error::make(kParseErrorCode, "stat: bad ppid (field 4)");
  }
  if (!parseInt(field(6), st.session) || st.session < 0) {
    return Error::make(kParseErrorCode, "stat: bad session (field 6)");
  }
  if (!parseInt(field(7), st.ttyNr)) {
    return Error::make(kParseErrorCode, "stat: bad tty_nr (field 7)");
  }
  if (!parseInt(field(9), st.flags)) {
    return Error::make(kParseErrorCode, "stat: bad flags (field 9)");
  }
  if (!parseInt(field(14), st.utimeTicks)) {
    return Error::make(kParseErrorCode, "stat: bad utime (field 14)");
  }
  if (!parseInt(field(15), st.stimeTicks)) {
    return Error::make(kParseErrorCode, "stat: bad stime (field 15)");
  }
  if (!parseInt(field(20), st.numThreads)) {
    return Error::make(kParseErrorCode, "stat: bad num_threads (field 20)");
  }
  if (!parseInt(field(22), st.startTimeTicks)) {
    return Error::make(kParseErrorCode, "stat: bad starttime (field 22)");
  }
  // The kernel prints rss unsigned: a sign is garbage; more than kMaxRssPages is
  // impossible and saturates.
  std::uint64_t rssPages = 0;
  if (!parseInt(field(24), rssPages)) {
    return Error::make(kParseErrorCode, "stat: bad rss (field 24)");
  }
  st.rssPages = static_cast<std::int64_t>(rssPages < kMaxRssPages ? rssPages : kMaxRssPages);
  // The layout fields: optional, and any garbage there only makes the key unknown.
  if (count >= 28) {
    std::uint64_t v[7] = {};
    const int which[7] = {26, 27, 28, 48, 49, 50, 51};
    bool ok = true;
    for (int i = 0; i < 7 && ok; ++i) {
      if (which[i] > count) break;  // a kernel without fields 45-51: code and stack only
      ok = parseInt(field(which[i]), v[i]);
    }
    // Hidden or absent: no stack start and no argv address.
    if (ok && (v[2] != 0 || v[3] != 0)) {
      std::uint64_t h = 1469598103934665603ULL;
      for (std::uint64_t x : v) {
        h ^= x;
        h *= 1099511628211ULL;
      }
      const auto folded = static_cast<std::uint32_t>(h ^ (h >> 32));
      st.layoutKey = folded == 0 ? 1 : folded;
    }
  }
  return st;
}

// ---- /proc/PID/status ----------------------------------------------------------

Result<ProcStatus> parseProcStatus(std::string_view text) {
  ProcStatus st;
  bool hasName = false;
  bool hasVmSize = false;
  int kthread = -1;  // -1: no "Kthread:" line (kernels before 6.x)

  // Only keys at the start of a line count. A later line with the same key overrides an
  // earlier one: the kernel prints Name: first, so even a name holding a raw newline
  // and a fake "VmRSS:" line is overridden by the real VmRSS line that follows.
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view key;
    std::string_view value;
    if (!splitKeyValue(line, key, value)) continue;
    Bytes* dst = nullptr;
    if (key == "Name") {
      hasName = true;
      continue;
    } else if (key == "Uid") {
      std::string_view rest = value;
      if (!parseInt(nextToken(rest), st.uid)) {
        return Error::make(kParseErrorCode, "status: bad Uid");
      }
      st.hasUid = true;
      continue;
    } else if (key == "Tgid") {
      std::string_view rest = value;
      // A thread group id is a PID: never negative (0 reads as absent).
      if (!parseInt(nextToken(rest), st.tgid) || st.tgid < 0) {
        return Error::make(kParseErrorCode, "status: bad Tgid");
      }
      continue;
    } else if (key == "Kthread") {
      const std::string_view v = trimBlanks(value);
      if (v != "0" && v != "1") return Error::make(kParseErrorCode, "status: bad Kthread");
      kthread = v == "1" ? 1 : 0;
      continue;
    } else if (key == "VmSize") {
      hasVmSize = true;
      Bytes unused;
      if (!parseKibValue(value, unused)) {
        return Error::make(kParseErrorCode, "status: bad value for VmSize");
      }
      continue;
    } else if (key == "VmRSS") {
      dst = &st.vmRss;
    } else if (key == "RssAnon") {
      dst = &st.rssAnon;
    } else if (key == "RssFile") {
      dst = &st.rssFile;
    } else if (key == "RssShmem") {
      dst = &st.rssShmem;
    } else if (key == "VmSwap") {
      dst = &st.vmSwap;
    } else {
      continue;
    }
    if (!parseKibValue(value, *dst)) {
      return Error::make(kParseErrorCode, "status: bad value for %.*s",
                         static_cast<int>(key.size()), key.data());
    }
    if (dst->value > kMaxProcessMemory) *dst = Bytes{kMaxProcessMemory};
  }
  if (!hasName) return Error::make(kParseErrorCode, "status: missing Name");
  // Kernel threads have no mm, hence no Vm* lines. Note that before 6.x (no Kthread:
  // line) a zombie also lacks them and is reported as a kernel thread.
  st.kernelThread = kthread >= 0 ? kthread == 1 : !hasVmSize;
  return st;
}

// ---- /proc/uptime ----------------------------------------------------------------

Result<double> parseUptime(std::string_view text) {
  std::string_view rest = dropNewline(text);
  double seconds = 0;
  if (!parseDecimal(nextToken(rest), seconds)) {
    return Error::make(kParseErrorCode, "uptime: not a number of seconds");
  }
  return seconds;
}

// ---- /proc/PID/oom_score_adj ----------------------------------------------------

Result<int> parseOomScoreAdj(std::string_view text) {
  int v = 0;
  if (!parseInt(dropNewline(text), v) || v < -1000 || v > 1000) {
    return Error::make(kParseErrorCode, "oom_score_adj: not an integer in [-1000, 1000]");
  }
  return v;
}

// ---- /proc/PID/cmdline ---------------------------------------------------------

std::size_t formatCmdline(std::string_view raw, char* out, std::size_t cap) {
  if (cap == 0 || out == nullptr) return 0;
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::size_t n = 0;
  for (std::size_t i = 0; i < raw.size() && n < cap - 1; ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c == 0) {
      out[n++] = ' ';  // argument separator
    } else if (c < 0x20 || c == 0x7f) {
      out[n++] = '?';  // keep log lines single-line and terminal-safe
    } else {
      out[n++] = static_cast<char>(c);
    }
  }
  out[n] = '\0';
  return n;
}

// ---- /proc/PID/cgroup -----------------------------------------------------------

std::string_view cgroupPathFromProc(std::string_view text) {
  std::string_view memoryV1;
  std::string_view v2;
  bool hasMemoryV1 = false;
  bool hasV2 = false;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    // "hierarchy-ID:controller-list:path"; the path itself may hold ':'.
    const std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view hierarchy = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string_view path = line.substr(c2 + 1);
    if (hierarchy == "0" && controllers.empty()) {
      if (!hasV2) v2 = path;
      hasV2 = true;
      continue;
    }
    if (hasMemoryV1) continue;
    while (!controllers.empty()) {
      const std::size_t comma = controllers.find(',');
      const std::string_view name = controllers.substr(0, comma);
      if (name == "memory") {
        memoryV1 = path;
        hasMemoryV1 = true;
        break;
      }
      if (comma == std::string_view::npos) break;
      controllers.remove_prefix(comma + 1);
    }
  }
  // The memory controller's hierarchy wins: on hybrid hosts (v1 memory controller,
  // controller-less v2) the v2 path says nothing about memory.
  return hasMemoryV1 ? memoryV1 : v2;
}

// ---- /proc/pressure/* and cgroup *.pressure --------------------------------------

namespace {

// "avg10=0.00 avg60=0.00 avg300=0.00 total=0" (after the "some"/"full" word).
bool parsePsiFields(std::string_view rest, PsiLine& out) {
  bool has10 = false, has60 = false, has300 = false, hasTotal = false;
  for (std::string_view token = nextToken(rest); !token.empty(); token = nextToken(rest)) {
    const std::size_t eq = token.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = token.substr(0, eq);
    const std::string_view value = token.substr(eq + 1);
    if (key == "avg10") {
      if (!parseDecimal(value, out.avg10)) return false;
      has10 = true;
    } else if (key == "avg60") {
      if (!parseDecimal(value, out.avg60)) return false;
      has60 = true;
    } else if (key == "avg300") {
      if (!parseDecimal(value, out.avg300)) return false;
      has300 = true;
    } else if (key == "total") {
      if (!parseInt(value, out.totalUs)) return false;
      hasTotal = true;
    }  // an unknown key=value from a future kernel is skipped
  }
  return has10 && has60 && has300 && hasTotal;
}

}  // namespace

Result<Psi> parsePsi(std::string_view text) {
  Psi psi;
  bool hasSome = false;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    const std::string_view kind = nextToken(rest);
    if (kind == "some") {
      if (!parsePsiFields(rest, psi.some)) {
        return Error::make(kParseErrorCode, "psi: bad \"some\" line");
      }
      hasSome = true;
    } else if (kind == "full") {
      if (!parsePsiFields(rest, psi.full)) {
        return Error::make(kParseErrorCode, "psi: bad \"full\" line");
      }
      psi.hasFull = true;
    }
  }
  if (!hasSome) return Error::make(kParseErrorCode, "psi: missing \"some\" line");
  return psi;
}

// ---- cgroup memory files ---------------------------------------------------------

Result<std::uint64_t> parseUint(std::string_view text) {
  std::uint64_t v = 0;
  if (!parseInt(dropNewline(text), v)) {
    return Error::make(kParseErrorCode, "not an unsigned 64-bit integer");
  }
  return v;
}

Result<std::optional<std::uint64_t>> parseCgroupLimit(std::string_view text) {
  // v1 reports "no limit" as PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712 with
  // 4 KiB pages, other values with larger pages); everything from 2^62 up is unlimited.
  constexpr std::uint64_t kUnlimitedFrom = std::uint64_t{1} << 62;
  const std::string_view s = dropNewline(text);
  if (s == "max") return std::optional<std::uint64_t>{};
  std::uint64_t v = 0;
  if (!parseInt(s, v)) return Error::make(kParseErrorCode, "cgroup limit: not \"max\" or a number");
  if (v >= kUnlimitedFrom) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>{v};
}

Result<CgroupMemStat> parseCgroupMemStat(std::string_view text) {
  // One slot per output field; the v1 hierarchical "total_" value wins over the local
  // value whatever the order of the lines.
  struct Slot {
    Bytes local;
    Bytes total;
    bool hasLocal = false;
    bool hasTotal = false;
  };
  enum Field { kAnon, kFile, kActiveFile, kInactiveFile, kSlabReclaimable, kShmem, kCount };
  struct Key {
    std::string_view name;
    Field field;
    bool hierarchical;
  };
  static constexpr Key kKeys[] = {
      // cgroup v2
      {"anon", kAnon, false},
      {"file", kFile, false},
      {"active_file", kActiveFile, false},      // v1 too
      {"inactive_file", kInactiveFile, false},  // v1 too
      {"slab_reclaimable", kSlabReclaimable, false},
      {"shmem", kShmem, false},  // v1 too
      // cgroup v1
      {"rss", kAnon, false},
      {"cache", kFile, false},
      {"total_rss", kAnon, true},
      {"total_cache", kFile, true},
      {"total_active_file", kActiveFile, true},
      {"total_inactive_file", kInactiveFile, true},
      {"total_shmem", kShmem, true},
  };

  Slot slots[kCount];
  bool any = false;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view name;
    std::string_view value;
    if (!splitNameValue(line, name, value)) continue;
    for (const Key& key : kKeys) {
      if (key.name != name) continue;
      std::uint64_t v = 0;
      if (!parseInt(value, v)) {
        return Error::make(kParseErrorCode, "memory.stat: bad value for %.*s",
                           static_cast<int>(key.name.size()), key.name.data());
      }
      Slot& slot = slots[key.field];
      (key.hierarchical ? slot.total : slot.local) = bytesFromU64(v);
      (key.hierarchical ? slot.hasTotal : slot.hasLocal) = true;
      any = true;
      break;
    }
  }
  if (!any) return Error::make(kParseErrorCode, "memory.stat: no known key");

  const auto pick = [&](Field f) { return slots[f].hasTotal ? slots[f].total : slots[f].local; };
  CgroupMemStat st;
  st.anon = pick(kAnon);
  st.file = pick(kFile);
  st.activeFile = pick(kActiveFile);
  st.inactiveFile = pick(kInactiveFile);
  st.slabReclaimable = pick(kSlabReclaimable);
  st.shmem = pick(kShmem);
  return st;
}

Result<std::uint64_t> parseOomKillCount(std::string_view text) {
  // Whole-token match: "oom_kill_disable 0" and "oom_group_kill 0" are other keys.
  std::optional<std::uint64_t> count;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view name;
    std::string_view value;
    if (!splitNameValue(line, name, value) || name != "oom_kill") continue;
    std::uint64_t v = 0;
    if (!parseInt(value, v)) return Error::make(kParseErrorCode, "oom_kill: bad value");
    count = v;
  }
  if (!count) return Error::make(kParseErrorCode, "oom_kill: key absent");
  return *count;
}

// ---- ZFS: /proc/spl/kstat/zfs/arcstats -------------------------------------------

Result<ArcStats> parseArcstats(std::string_view text) {
  // The two header lines ("13 1 0x01 ..." and "name type data") never start with
  // "size" or "c_min", so every line can be scanned alike.
  ArcStats arc;
  bool hasSize = false;
  bool hasCMin = false;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    const std::string_view name = nextToken(rest);
    if (name != "size" && name != "c_min") continue;
    const std::string_view type = nextToken(rest);
    const std::string_view data = nextToken(rest);
    std::uint64_t v = 0;
    if (type.empty() || !trimBlanks(rest).empty() || !parseInt(data, v)) {
      return Error::make(kParseErrorCode, "arcstats: bad %.*s row", static_cast<int>(name.size()),
                         name.data());
    }
    if (name == "size") {
      arc.size = bytesFromU64(v);
      hasSize = true;
    } else {
      arc.cMin = bytesFromU64(v);
      hasCMin = true;
    }
  }
  if (!hasSize) return Error::make(kParseErrorCode, "arcstats: missing size");
  if (!hasCMin) return Error::make(kParseErrorCode, "arcstats: missing c_min");
  return arc;
}

// ---- /etc/passwd -------------------------------------------------------------------

std::string_view userNameFromPasswd(std::string_view passwd, std::uint32_t uid) {
  LineReader lines(passwd);
  std::string_view line;
  while (lines.next(line)) {
    // "name:password:uid:gid:gecos:home:shell". Like glibc, skip "#" comment lines;
    // also skip NIS "+"/"-" compat entries, which name no local user.
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    const std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos || c1 == 0) continue;
    const std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::size_t c3 = line.find(':', c2 + 1);
    const std::string_view uidField =
        c3 == std::string_view::npos ? line.substr(c2 + 1) : line.substr(c2 + 1, c3 - c2 - 1);
    std::uint32_t v = 0;
    if (parseInt(uidField, v) && v == uid) return line.substr(0, c1);
  }
  return {};
}

}  // namespace ork::parse
