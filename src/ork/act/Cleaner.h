// Step 1 of the disk ladder: frees space in the known places of one filesystem.
//
// Blocking (directory listings, unlink, truncate on a filesystem under pressure): it
// runs on the disk ladder's worker thread (sys::JobThread), never on the loop.
//
// Safety, for every file: reached with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_XDEV) from the place's own directory (itself opened from "/" with
// RESOLVE_NO_SYMLINKS: a place that is a symlink, or under one, is refused), so no
// symlink in any component is followed and neither the place nor its filesystem is
// left; first as O_PATH (nothing is opened for reading or writing before it is known
// to be a regular file); regular files only, st_nlink == 1 only (truncating a hard
// link would empty a file outside the place), on the filesystem under pressure only.
// A deletion is unlinkat(place dir, name) after checking the name still names the
// inode checked; a truncation reopens that very inode through /proc/self/fd (never
// the path again) and checks it once more. Files deleted but still held open whose
// path was in a place are truncated through the holder's /proc/PID/fd/N (st_nlink 0).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "ork/core/Units.h"

namespace ork::act {

struct CleanJob {
  std::vector<std::string> places;  // absolute: directories, or files (with their rotated siblings)
  dev_t device = 0;                 // the filesystem under pressure (st_dev)
  Bytes needBytes;
  std::uint64_t needInodes = 0;
  bool dryRun = false;
  std::string procRoot = "/proc";
};

struct CleanResult {
  std::string path;
  Bytes bytes;
  // deleted, truncated, would_delete, would_truncate (dry-run), refused (a symlink, a
  // hard link, a place that is a symlink: nothing done), failed.
  std::string action;
  std::string detail;  // why refused or failed; "deleted_open pid=N fd=M" for a held file
  int err = 0;
};

struct CleanReport {
  std::vector<CleanResult> files;  // one per file acted on or refused
  Bytes freed;                     // what the actions done should have freed
  int candidates = 0;              // files found in the places on that filesystem
};

// Blocking: call on a worker thread.
CleanReport cleanPlaces(const CleanJob& job);

// Whether the kernel supports openat2 with the RESOLVE_* flags the cleaner needs
// (Linux >= 5.6; glibc has no wrapper before 2.40, the syscall is used directly).
bool openat2Supported();

}  // namespace ork::act
