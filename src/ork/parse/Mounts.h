// The disk ladder's parsers: the mount table (/proc/self/mountinfo), a process's I/O
// counters (/proc/PID/io) and an open file's flags (/proc/PID/fdinfo/N). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ork::parse {

struct MountEntry {
  int id = 0;
  unsigned major = 0;
  unsigned minor = 0;
  std::string root;        // the mounted subtree of the filesystem ("/" for all of it)
  std::string mountPoint;  // unescaped
  std::string fsType;
  std::string source;      // unescaped
  bool readOnly = false;   // the mount's own options (field 6) or the superblock's say ro
};

// Every well-formed line of mountinfo, in order (a malformed line is skipped).
std::vector<MountEntry> parseMountinfo(std::string_view text);

// The kernel escapes ' ', '\t', '\n' and '\\' in mountinfo paths as \ooo (octal).
// The kernel escapes ' ', '\t', '\n' and '\\' in mountinfo fields as \ooo (octal).
// The one unescape of mountinfo fields (Mountinfo.cpp uses it too).
std::string unescapeMountField(std::string_view s);

struct ProcIo {
  std::uint64_t wchar = 0;       // bytes passed to write(2) and the like
  std::uint64_t syscw = 0;       // write system calls
  std::uint64_t writeBytes = 0;  // bytes caused to be sent to storage
  // The I/O ladder's fields (0 when absent).
  std::uint64_t rchar = 0;
  std::uint64_t syscr = 0;
  std::uint64_t readBytes = 0;            // bytes fetched from storage
  std::uint64_t cancelledWriteBytes = 0;  // written, then truncated before writeback
};
// /proc/PID/io; nullopt when write_bytes is missing (the file is unreadable or cut).
std::optional<ProcIo> parseProcIo(std::string_view text);

// The "flags:" field of /proc/PID/fdinfo/N (octal open flags); nullopt when absent.
std::optional<unsigned> parseFdinfoFlags(std::string_view text);

}  // namespace ork::parse
