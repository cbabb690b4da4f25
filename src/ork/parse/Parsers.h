// Pure parsers: bytes in, structs out. No I/O, no allocation, no exceptions.
// Every parser accepts truncated, garbage and hostile input and returns an Error
// (code 0, EINVAL-free) rather than crashing or guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Units.h"

namespace ork::parse {

// ---- amounts of memory -----------------------------------------------------------
// No amount of memory a process holds can exceed 2^52 bytes (4 PiB: the physical
// address space of x86-64 with 5-level paging, more than any machine has). Beyond it a
// number is impossible (a corrupt or hostile fixture): the per-process parsers saturate
// there, so that ORK's arithmetic on those amounts (pages to bytes, resident plus
// swapped, sums over a worker pool) cannot overflow.
inline constexpr std::int64_t kMaxProcessMemory = std::int64_t{1} << 52;
// ... in pages of the smallest size (4 KiB).
inline constexpr std::uint64_t kMaxRssPages = static_cast<std::uint64_t>(kMaxProcessMemory) / 4096;
// pages x pageSize, saturated at kMaxProcessMemory; 0 when either is not positive.
Bytes bytesFromPages(std::int64_t pages, long pageSize);

// ---- /proc/meminfo -------------------------------------------------------------
struct MemInfo {
  Bytes total;
  Bytes free;
  Bytes available;  // MemAvailable; when absent (kernel < 3.14) estimated as
                    // MemFree + Cached + Buffers, and hasAvailable is false
  bool hasAvailable = false;
  Bytes swapTotal;
  Bytes swapFree;
};
// Needs at least MemTotal and MemFree; the rest default to 0. Values are in kB.
Result<MemInfo> parseMeminfo(std::string_view text);

// ---- /proc/PID/stat ------------------------------------------------------------
// comm is taken between the FIRST '(' and the LAST ')', so names holding spaces,
// parentheses, newlines or fake fields cannot shift the fields that follow.
struct ProcStat {
  int pid = 0;
  char comm[17] = {};  // NUL-terminated, at most 16 bytes kept
  char state = '?';
  int ppid = 0;
  int session = 0;               // field 6: the session ID (== pid for a session leader)
  int ttyNr = 0;                 // field 7: the controlling terminal (0: none)
  std::uint32_t flags = 0;       // field 9; PF_KTHREAD = 0x00200000
  std::uint64_t utimeTicks = 0;  // field 14
  std::uint64_t stimeTicks = 0;  // field 15
  std::int64_t numThreads = 0;   // field 20
  std::uint64_t startTimeTicks = 0;  // field 22, clock ticks since boot
  std::int64_t rssPages = 0;     // field 24: never negative, at most kMaxRssPages
  // A hash of the address space that exec lays out: start/end of code and start of
  // stack (fields 26-28), where argv and the environment sit (fields 48-51). Every
  // exec changes it (ASLR moves the stack; another binary moves the code), nothing
  // else does short of prctl(PR_SET_MM). 0 when unknown: the fields are missing
  // (old kernel, truncated line), zero (kernel thread, zombie) or hidden (a reader
  // without ptrace access to the process sees 1, 1, 0 and zeros). 32 bits (the 64-bit
  // hash folded): it is kept once per process (ProcessInfo).
  std::uint32_t layoutKey = 0;
};
inline constexpr std::uint32_t kPfKthread = 0x00200000;
Result<ProcStat> parseProcStat(std::string_view text);

// ---- /proc/PID/status ----------------------------------------------------------
struct ProcStatus {
  std::uint32_t uid = 0;  // real uid (first field of "Uid:")
  bool hasUid = false;
  int tgid = 0;  // "Tgid:" (0 when absent): differs from the PID for a thread
  // Each at most kMaxProcessMemory.
  Bytes vmRss;
  Bytes rssAnon;
  Bytes rssFile;
  Bytes rssShmem;
  Bytes vmSwap;
  bool kernelThread = false;  // "Kthread:\t1" (kernels >= 6.x) or no VmSize line
};
// The Name: line may hold anything (it is escaped by the kernel, but do not rely on it).
Result<ProcStatus> parseProcStatus(std::string_view text);

// ---- /proc/uptime ----------------------------------------------------------------
// The first field, seconds since boot ("12345.67 ..."): a finite, non-negative number
// of at most 9 integer digits (31 years); anything else (NaN, inf, a sign, an exponent,
// garbage) is an error, never a number that cannot be converted to a duration.
Result<double> parseUptime(std::string_view text);

// ---- /proc/PID/oom_score_adj ----------------------------------------------------
// An integer in [-1000, 1000]; anything else is an error.
Result<int> parseOomScoreAdj(std::string_view text);

// ---- /proc/PID/cmdline ---------------------------------------------------------
// Copies the NUL-separated argv into out (capacity cap, always NUL-terminated),
// joining arguments with single spaces and replacing control bytes with '?'.
// Returns the number of bytes written (excluding the NUL).
std::size_t formatCmdline(std::string_view raw, char* out, std::size_t cap);

// ---- /proc/PID/cgroup -----------------------------------------------------------
// Returns the path of the v1 line whose controller list contains "memory" if there is
// one (hybrid hosts mount the memory controller on v1), else the path of the v2 ("0::")
// line; empty view when neither. The view points
// into text.
std::string_view cgroupPathFromProc(std::string_view text);

// ---- /proc/pressure/* and cgroup *.pressure --------------------------------------
struct PsiLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  std::uint64_t totalUs = 0;
};
struct Psi {
  PsiLine some;
  PsiLine full;
  bool hasFull = false;
};
Result<Psi> parsePsi(std::string_view text);

// ---- cgroup memory files ---------------------------------------------------------
// A single unsigned integer (memory.current, memory.usage_in_bytes, ...), trailing
// newline allowed.
Result<std::uint64_t> parseUint(std::string_view text);
// memory.max (v2: "max" or a number) and memory.limit_in_bytes (v1: a number, where a
// value >= 2^62 means unlimited). Returns nullopt for unlimited.
Result<std::optional<std::uint64_t>> parseCgroupLimit(std::string_view text);

// memory.stat, v2 keys (file, active_file, inactive_file, slab_reclaimable, anon,
// shmem) or v1 keys (total_cache, total_active_file, total_inactive_file, total_rss,
// total_shmem; the hierarchical "total_" values win over the local ones).
struct CgroupMemStat {
  Bytes anon;
  Bytes file;
  Bytes activeFile;
  Bytes inactiveFile;
  Bytes slabReclaimable;
  Bytes shmem;
};
Result<CgroupMemStat> parseCgroupMemStat(std::string_view text);

// memory.oom_control (v1) "oom_kill N" / memory.events (v2) "oom_kill N".
// Returns the oom_kill counter, or an error if the key is absent.
Result<std::uint64_t> parseOomKillCount(std::string_view text);

// ---- ZFS: /proc/spl/kstat/zfs/arcstats -------------------------------------------
// Lines "name type data" after two header lines; we need size and c_min.
struct ArcStats {
  Bytes size;
  Bytes cMin;
};
Result<ArcStats> parseArcstats(std::string_view text);

// ---- /proc/self/status of ORK, /etc/passwd -----------------------------------------
// Finds uid in passwd-format text; returns the user name as a view into text, or an
// empty view when absent.
std::string_view userNameFromPasswd(std::string_view passwd, std::uint32_t uid);

}  // namespace ork::parse
