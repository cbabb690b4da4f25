// Lists the numeric entries of a /proc directory with getdents64 on a kept-open dirfd,
// in the order the kernel gives them (ascending PID for /proc), in chunks, so that a
// scan of 10,000 processes can be spread over several turns of the loop.
#pragma once

#include <cstddef>
#include <memory>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class ProcDir {
 public:
  static Result<ProcDir> open(const char* procRoot);
  // Starts a new pass from the first entry.
  void rewind();
  // Fills out with up to cap PIDs; returns how many; 0 means the pass is over.
  Result<std::size_t> next(int* out, std::size_t cap);
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::unique_ptr<char[]> buf_;
  std::size_t len_ = 0;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace ork::sys
