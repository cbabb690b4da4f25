// The flight recorder's file (recorder/Format.h): opened, allocated whole, locked, and
// read or written a slot at a time. The daemon uses it from its job thread only (never
// on the loop: a disk may stall); `ork events` reads it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "ork/core/Result.h"
#include "ork/recorder/Format.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

class RecorderFile {
 public:
  static constexpr const char* kFileName = "recorder.ring";

  // DIR/recorder.ring for writing: DIR is created (mode 0750) when missing, the file
  // (0640) allocated to its whole size (posix_fallocate: a disk that fills later
  // cannot stop the recorder) and locked (flock, exclusive: a second ORK on the same
  // directory gets EWOULDBLOCK). A file whose header is not this geometry (another
  // size, another version, garbage) is made afresh: `fresh` says so.
  static Result<RecorderFile> openForWriting(const std::string& dir, std::uint64_t size, bool& fresh);
  // For reading (`ork events`): the geometry from the header. A file shorter than its
  // geometry (truncated) is read as far as it goes.
  static Result<RecorderFile> openForReading(const std::string& path);

  const recorder::Geometry& geometry() const { return g_; }
  Result<void> writeSlot(recorder::Region r, std::uint64_t index, const char* data, std::size_t len);
  // Calls fn for every valid slot, region by region; returns the count of slots that
  // were written but are torn or corrupt (skipped).
  using SlotFn = std::function<void(recorder::Region, std::uint64_t index, const recorder::SlotView&)>;
  Result<std::uint64_t> scan(const SlotFn& fn) const;

 private:
  UniqueFd fd_;
  recorder::Geometry g_;
};

}  // namespace ork::sys
