// Lists the numeric entries of a /proc directory with getdents64 on a kept-open dirfd,
// in the order the kernel gives them (ascending PID for /proc), in chunks, so that a
// scan of 10,000 processes can be spread over several turns of the loop.
//
// getdents64 fills a buffer the caller owns (the process table's read buffer, which
// is free while it lists): a listing allocates nothing, so it can be made on the kill
// path (a newcomer's listing when the PID counter cannot be read).
#pragma once

#include <cstddef>
#include <span>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class ProcDir {
 public:
  // buf: at least a few hundred bytes (one entry); it must outlive the ProcDir and not
  // be used for anything else between next() calls.
  static Result<ProcDir> open(const char* procRoot, std::span<char> buf);
  // Starts a new pass from the first entry.
  void rewind();
  // Fills out with up to cap PIDs; returns how many; 0 means the pass is over.
  Result<std::size_t> next(int* out, std::size_t cap);
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::span<char> buf_;
  std::size_t len_ = 0;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace ork::sys
