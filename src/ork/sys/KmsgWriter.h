// Writes journal lines to /dev/kmsg (or a plain file given with --kmsg).
//
// The kernel rate-limits /dev/kmsg writers per open file (printk_devkmsg=ratelimit:
// a burst of 10 lines per 5 s) and silently drops what exceeds it. ORK therefore keeps
// a small pool of open fds, counts what it wrote on each within the kernel's window,
// and writes on an fd that still has budget, opening a fresh one when all are spent,
// so that no decision line is lost. A plain file has no limit and uses one fd; it has
// no kernel timestamp either, so each of its lines starts with the local time (RFC
// 3339, microseconds: "2026-12-01T09:24:33.123456+01:00 ").
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class KmsgWriter {
 public:
  static constexpr int kBurst = 10;                 // kernel: DEFAULT_RATELIMIT_BURST
  static constexpr Nanos kWindow = Seconds{5};      // kernel: DEFAULT_RATELIMIT_INTERVAL
  static constexpr std::size_t kPool = 4;

  // path "/dev/kmsg" or any file (created if missing, appended to).
  static Result<KmsgWriter> open(const std::string& path);

  // Writes one line and a newline (the caller includes the "<N>" priority prefix for
  // /dev/kmsg, and no newline); in a plain file, after the local time. In /dev/kmsg
  // the newline ends the record: without it the kernel holds the record back as one
  // that may be continued, and no reader (dmesg, journald) sees it until another
  // message arrives. `now` drives the rate-limit bookkeeping. Never allocates.
  Result<void> write(std::string_view line, TimePoint now);
  bool isKmsg() const { return isKmsg_; }
  int fdsOpen() const;

  // The local time as a plain file's lines start: "YYYY-MM-DDTHH:MM:SS.uuuuuu+HH:MM ".
  static constexpr std::size_t kStampLen = 33;
  // Writes the stamp of the wall-clock time (seconds and nanoseconds since the epoch)
  // into out (kStampLen + 1 bytes, NUL-terminated); returns kStampLen, 0 on failure.
  static std::size_t stamp(long long sec, long nsec, char* out);

 private:
  struct Slot {
    UniqueFd fd;
    TimePoint windowStart;
    int used = 0;
  };
  Result<void> reopen(Slot& slot, TimePoint now);

  std::string path_;
  bool isKmsg_ = false;
  std::array<Slot, kPool> slots_;
};

}  // namespace ork::sys
