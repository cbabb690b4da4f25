// The disk ladder's pure decisions: which mounts are watched, the class of each
// filesystem and its thresholds, the level (ok / below soft / below hard), the fill
// rate and the next sample, what step 1 cleans, and who step 2 stops. No I/O: every
// input is handed in (tests build them by hand). docs/scoring.md, "Disks", tells the
// rules.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ork/config/Config.h"
#include "ork/core/Units.h"
#include "ork/parse/Mounts.h"
#include "ork/policy/VictimScorer.h"

namespace ork::policy {

enum class DiskClass : std::uint8_t { Root, Log, Images, Cache, Other };
const char* toString(DiskClass c);
std::optional<DiskClass> diskClassFromString(std::string_view s);

// The compiled-in thresholds of one class: a percentage of the filesystem, capped (so
// that a big disk is not held 10 % empty), for bytes and for inodes.
struct DiskClassDefaults {
  double softPercent;
  std::int64_t softCapMib;
  double hardPercent;
  std::int64_t hardCapMib;
  double inodesSoftPercent;
  std::int64_t inodesSoftCap;
  double inodesHardPercent;
  std::int64_t inodesHardCap;
};
const DiskClassDefaults& classDefaults(DiskClass c);

// The places step 1 knows VM images live in (a filesystem holding one is an image store).
inline constexpr const char* kImageStores[] = {"/var/lib/libvirt/images", "/var/lib/nova/instances"};

// Pseudo and virtual filesystems: never watched (nothing there fills a disk).
bool isPseudoFs(std::string_view fsType);
// Network and FUSE filesystems: their statvfs may hang; watched only when listed.
bool isNetworkFs(std::string_view fsType);

// The class of a filesystem mounted at mountPoint: the configured one when set
// ([disk.mount."X"] class), else "/" is root; a mount holding an image store (or below
// one) is images; /var/log or below is log; a non-rotational device mounted with a
// cache role (a path component containing "cache": /srv/cache, /var/cache, /mnt/ssd-cache)
// is cache; everything else other. rotational: nullopt when unknown.
DiskClass classify(std::string_view mountPoint, std::optional<bool> rotational, std::string_view configured);

struct WatchedFs {
  std::string mountPoint;
  std::string fsType;
  std::string source;
  unsigned major = 0;
  unsigned minor = 0;
  DiskClass diskClass = DiskClass::Other;
  bool network = false;
};
// The filesystems to watch: real (not pseudo), writable, network/FUSE ones only when in
// watch, only those in watch when it is not empty; one per device (the mount with the
// shortest mountpoint, the whole filesystem preferred to a bind of a subtree); a mount
// hidden by a later one on the same mountpoint does not count. rotational(major, minor)
// says whether the device spins (nullopt: unknown).
std::vector<WatchedFs> selectFilesystems(std::span<const parse::MountEntry> mounts, const config::DiskSettings& cfg,
                                         const std::function<std::optional<bool>(unsigned, unsigned)>& rotational);

// One statvfs answer.
struct FsSample {
  Bytes available;  // f_bavail * f_frsize
  Bytes total;      // f_blocks * f_frsize
  std::uint64_t freeInodes = 0;   // f_favail
  std::uint64_t totalInodes = 0;  // f_files (0: the filesystem has no inode limit, e.g. btrfs)
  TimePoint at;
};

struct DiskThresholds {
  Bytes softBytes;  // free bytes below this: step 1
  Bytes hardBytes;  // ... below this: step 2
  std::uint64_t softInodes = 0;
  std::uint64_t hardInodes = 0;
};
// For a filesystem of this class and size: the class's defaults, then [disk]'s
// overrides (a percentage with no cap), then [disk.mount."<mountPoint>"]'s.
DiskThresholds diskThresholds(DiskClass c, std::string_view mountPoint, Bytes total, std::uint64_t totalInodes,
                              const config::Config& cfg);

enum class DiskLevel : std::uint8_t { Ok, BelowSoft, BelowHard };
const char* toString(DiskLevel l);

struct DiskVerdict {
  DiskLevel level = DiskLevel::Ok;
  bool bytes = false;   // free bytes below soft
  bool inodes = false;  // free inodes below soft
  bool hardBytes = false;
  bool hardInodes = false;
  Bytes needBytes;              // to get back to soft + margin
  std::uint64_t needInodes = 0;  // ... idem for inodes
};
// margin: cfg disk.margin_percent of the filesystem, capped at 1 GiB (and of inodes,
// capped at 100,000).
DiskVerdict judgeDisk(const FsSample& s, const DiskThresholds& t, const config::Config& cfg);

// Fill rates between two samples (bytes/s and inodes/s used; negative when freed),
// smoothed: the newest rate counts half.
class DiskFill {
 public:
  void update(const FsSample& s);
  double bytesPerSecond() const { return bytesRate_; }
  double inodesPerSecond() const { return inodesRate_; }
  bool known() const { return samples_ >= 2; }
  // Still filling: the last interval used space (or inodes, for inodes).
  bool filling(bool inodes) const { return inodes ? lastInodes_ > 0 : lastBytes_ > 0; }
  // Seconds until no free byte / inode is left at the current rate (nullopt: not filling).
  std::optional<double> secondsToFull(const FsSample& s) const;

 private:
  FsSample last_;
  int samples_ = 0;
  double bytesRate_ = 0, inodesRate_ = 0;
  double lastBytes_ = 0, lastInodes_ = 0;
};

// When to sample this filesystem again: every interval_s, sooner when the fill rate
// would take it across its next threshold before then (half the time it would take,
// at least 200 ms).
Nanos nextDiskInterval(const FsSample& s, const DiskThresholds& t, const DiskFill& fill, const config::Config& cfg);

// The soft threshold (bytes) of the filesystem holding path, given the mount table and
// that filesystem's size: what a managed save must leave free (memory step 1). Zero when
// the disk ladder is disabled.
Bytes softBytesFor(std::string_view path, std::span<const parse::MountEntry> mounts, Bytes total, std::uint64_t totalInodes,
                   const config::Config& cfg);

// Step 1's cleaning. A file found in a place:
struct CleanFile {
  enum class Kind : std::uint8_t { Rotated, DeletedOpen, Active };
  std::string path;  // shown in the journal
  Bytes size;        // what deleting or truncating it frees (allocated blocks)
  std::int64_t mtimeSec = 0;
  Kind kind = Kind::Active;
};
struct CleanStep {
  int index;       // into the files
  bool truncate;   // false: delete
};
// What to clean: rotated and compressed files first, oldest first (they also give
// inodes back); then files deleted but held open (truncated through the holder's fd);
// then the active files, largest first, only truncated. Stops as soon as needBytes and
// needInodes are met. Empty files are never touched.
std::vector<CleanStep> planCleaning(std::span<const CleanFile> files, Bytes needBytes, std::uint64_t needInodes);

// Whether a file name is a rotated (or compressed) sibling: "<base>.<N>", "<base>.<N>.gz"
// (.xz .bz2 .zst .lz4), "<base>-YYYYMMDD[...]", "<base>.old", or any name ending in a
// compression suffix. base empty: any base (a directory place).
bool isRotatedName(std::string_view name, std::string_view base);

// Step 2: a process seen writing to the filesystem under pressure.
struct WriterCandidate {
  int pid = 0;
  double bytesPerSecond = 0;  // written while holding files open for writing there
  double opsPerSecond = 0;    // write calls and CPU ticks per second (file creation)
  bool isVm = false;          // a VM whose disk image is there: suspended, not killed
  bool eligible = true;       // false: protected, outside --cgroup, ORK itself, PID 1, a kernel thread
};
// The one to stop: the fastest eligible writer (by bytes when the bytes are short, by
// operations when inodes are), -1 when nobody writes there.
int chooseWriter(std::span<const WriterCandidate> ws, bool forInodes);

// Whether step 2 may stop p (as the writer or with its group): the memory candidates'
// exclusions (PID 1, kernel threads, vital, oom_score_adj -1000, zombies, a VM being
// acted on) except "no memory": a writer may be small.
bool writerEligible(const ProcessInfo& p);

// What step 2 kills with the chosen writer (docs/scoring.md, "Disks"), members written
// to out (at most cap), the head first; returns how many and sets *group:
//  - Pool: the writer's parent runs the same program (exe) and the edge between them is
//    not a boundary: the pool's root (up an unbroken chain of that program) and its
//    descendants running the program. Killing one worker of a pool makes its master
//    start another.
//  - Burst: the writer and its siblings that also write there (writing), born within
//    kBurstGap of one another, under a parent that is not PID 1: a shell's
//    `for i in ...; do writer & done`.
//  - Process: the writer alone.
// Boundaries as for memory: a session leader, a process in another cgroup than its
// parent, a parent started after the child, a parent that is not eligible or PID 1;
// an interactive session leader never goes with a group. entries sorted by PID;
// writer and writing are indices into entries.
int writerGroup(std::span<const ProcessInfo> entries, int writer, std::span<const int> writing, long ticksPerSecond,
                int* out, int cap, Group* group);

}  // namespace ork::policy
