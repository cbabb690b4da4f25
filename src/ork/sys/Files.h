// Reading kernel files. Two ways: a KeptOpenFile re-read with pread into a buffer
// allocated once (the hot path: meminfo, cgroup counters), and readFileAt() for
// one-shot reads of small files relative to a directory fd (/proc/PID/...).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class KeptOpenFile {
 public:
  KeptOpenFile() = default;
  // Opens path read-only; the buffer holds up to capacity bytes (longer content is
  // truncated, which the parsers treat as garbage at worst).
  static Result<KeptOpenFile> open(const std::string& path, std::size_t capacity = 8192);

  // Re-reads the whole file from offset 0. The view points into the internal buffer
  // and is valid until the next read(). Never allocates.
  Result<std::string_view> read();
  bool valid() const { return fd_.valid(); }
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string path_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
};

// Reads at most cap bytes of dirfd/relpath into buf. ENOENT/ESRCH mean the process
// vanished, which callers treat as normal. Never allocates. oneRead: the file is
// generated whole by one read (a one-line /proc file such as PID/stat): skip the
// read that would only confirm the end of file.
Result<std::string_view> readFileAt(int dirfd, const char* relpath, char* buf, std::size_t cap,
                                    bool oneRead = false);

// Reads the target of the symbolic link dirfd/relpath (/proc/PID/exe) into buf.
// Never allocates. A target that fills cap bytes is reported as ENAMETOOLONG, not cut.
Result<std::string_view> readLinkAt(int dirfd, const char* relpath, char* buf, std::size_t cap);

// Appends the names of the subdirectories of dir (cgroup children; "." and ".." and
// hidden entries excluded) to out. Allocates; not for the hot path.
Result<void> listSubdirectories(const std::string& dir, std::vector<std::string>& out);

// Reads a whole small file (configuration, passwd) into a string. Allocates; not for
// the hot path.
Result<std::string> readWholeFile(const std::string& path, std::size_t limit = 1 << 20);

// Reads a whole small file that an operator names (configuration, passwd), only if it is
// a regular file: opened non-blocking (a FIFO would otherwise block the open until a
// writer comes, for ever), then checked with fstat. A directory, FIFO, socket or device
// is an error (EINVAL) that says what it is. Allocates; not for the hot path.
Result<std::string> readRegularFile(const std::string& path, std::size_t limit = 1 << 20);

// Writes text to path (cgroup control files, oom_score_adj).
Result<void> writeFile(const std::string& path, std::string_view text);

// Replaces path with text atomically (a temporary file beside it, then rename), for
// ORK's own small state files; creates the directory (one level, mode 0700) if missing.
// Empty text removes the file. No fsync: the file must outlive ORK, not the host (what
// it records, frozen VMs, does not outlive a reboot either).
Result<void> replaceFile(const std::string& dir, const std::string& name, std::string_view text);

// Free space of the filesystem holding path, as an unprivileged writer sees it
// (statvfs f_bavail: blocks reserved for root are not counted, since the writer of a
// managed save may not be root), and its total size.
struct FsSpace {
  Bytes available;
  Bytes total;
  std::uint64_t freeInodes = 0;   // f_favail
  std::uint64_t totalInodes = 0;  // f_files
};
Result<FsSpace> fsSpace(const std::string& path);

// Opens a directory for use as dirfd.
Result<UniqueFd> openDir(const std::string& path);

}  // namespace ork::sys
