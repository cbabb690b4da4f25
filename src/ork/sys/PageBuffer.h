// A short-lived buffer of whole pages of its own (mmap), given back to the kernel when
// it goes (munmap). ORK's memory is locked (mlockall): a block freed inside the heap
// stays resident for good, and a large one allocated at the heap's top pins the top
// until everything above it is freed. A buffer used for a moment now and then (a
// netlink dump once a minute) is mapped for that moment instead: only the pages the
// kernel wrote to are ever resident, and none once it is gone.
#pragma once

#include <sys/mman.h>

#include <cstddef>

namespace ork::sys {

class PageBuffer {
 public:
  // bytes rounded up to whole pages by the kernel; empty (data() == nullptr) when the
  // mapping failed: the caller reports ENOMEM.
  explicit PageBuffer(std::size_t bytes) : size_(bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
    if (data_ == nullptr) size_ = 0;
  }
  ~PageBuffer() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ork::sys
