// Reading what the journal wrote, for `ork log`: /dev/kmsg records from the oldest the
// kernel keeps, then (following) each new one as it comes; or a journal file's lines
// (`ork daemon --kmsg FILE`), then those appended to it. KmsgReader allocates its buffer
// once (the daemon's flight recorder reads the kernel's OOM lines with it); FileFollower
// allocates as it goes: not for the daemon.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class KmsgReader {
 public:
  // Reading /dev/kmsg needs root or CAP_SYSLOG where kernel.dmesg_restrict is set.
  static Result<KmsgReader> open(const std::string& path = "/dev/kmsg");
  // The next record, as one read returns it ("PRI,SEQ,USEC,FLAGS;message\n..."): valid
  // until the next call. Empty when none is there now and !wait; with wait, blocks
  // until one comes. Records the kernel overwrote before they were read are skipped.
  Result<std::string_view> next(bool wait);
  // The wall-clock time of the records' time 0, in ns since the epoch: CLOCK_REALTIME
  // less CLOCK_MONOTONIC now. The kernel's record clock, like CLOCK_MONOTONIC, stops
  // while the host is suspended; a wall clock set since then shifts it (as dmesg -T).
  static std::int64_t bootWallClockNs();
  // The fd (non-blocking), for a poller: readable when a record is there.
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::unique_ptr<char[]> buf_;
};

class FileFollower {
 public:
  static Result<FileFollower> open(const std::string& path);
  // The next complete line, without its '\n', into line: true. false at the end of the
  // file when !wait; with wait, looks again every 200 ms (a file cut shorter, e.g.
  // rotated, is read again from its start). A last line without '\n' is given at the
  // end when !wait, and waited for when following.
  Result<bool> next(bool wait, std::string& line);

 private:
  UniqueFd fd_;
  std::string path_;
  std::string pending_;       // read, not yet given
  std::size_t used_ = 0;      // of pending_
  std::uint64_t offset_ = 0;  // of the file, read up to
};

}  // namespace ork::sys
