// The journal: one line per decision and one per action, key=value pairs after the tag
// "ork[PID]: " (the form syslog and journald read as identifier and PID, so that two
// instances are told apart), to /dev/kmsg (a pre-allocated ring that can always be
// written) or the file given with --kmsg, and mirrored on stderr. The format is
// documented in docs/journal.md. Lines are built in a fixed buffer: writing one never
// allocates.
// What is written is bounded (LineBudget.h): ORK never floods the kernel log. A mirror
// that cannot be written is dropped, and the kernel log keeps every line.
#pragma once

#include <cstdint>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Units.h"
#include "ork/journal/LineBudget.h"
#include "ork/sys/KmsgWriter.h"
#include "ork/sys/MirrorWriter.h"

namespace ork::journal {

// Builds one line: "event=<event>" and the fields, without the tag (the journal adds
// it). Values that are not plain words are quoted, with '"', '\\', control and
// non-ASCII bytes written as \xHH, so a hostile process name can neither forge a field
// nor break the line. Too long a line is cut at kMax bytes.
class Line {
 public:
  // With the priority and the tag, a record stays within 976 bytes: the smallest
  // /dev/kmsg write some kernels accept (longer ones fail with EINVAL).
  static constexpr std::size_t kMax = 950;
  explicit Line(std::string_view event);
  Line& num(std::string_view key, std::int64_t value);
  Line& word(std::string_view key, std::string_view value);  // closed-set values
  Line& str(std::string_view key, std::string_view value);   // anything: quoted
  Line& flag(std::string_view key, bool value) { return num(key, value ? 1 : 0); }
  Line& kib(std::string_view key, Bytes b) { return num(key, b.toKib()); }
  std::string_view text() const { return {buf_, len_}; }
  // The event name.
  std::string_view event() const { return {buf_ + kPrefix, eventLen_}; }
  // What the journal's bound counts by: the event, and when the first field is `what`,
  // that too ("warning what=scan_failed").
  std::string_view key() const;

 private:
  static constexpr std::size_t kPrefix = 6;  // "event="
  std::size_t eventLen_ = 0;
  void append(std::string_view s);
  void appendChar(char c);
  char buf_[kMax];
  std::size_t len_ = 0;
};

enum class Priority { Error = 3, Warning = 4, Notice = 5, Info = 6 };

// Sees every line written (the flight recorder keeps ORK's actions): called on the
// writer's thread, before the bound; must not block.
class LineTap {
 public:
  virtual ~LineTap() = default;
  virtual void onLine(const Line& line, TimePoint now) = 0;
};

class Journal {
 public:
  // kmsgPath: "/dev/kmsg" or a file. mirrorStderr: also print each line on stderr.
  // pid: the PID in the tag, 0 for this process's.
  static Result<Journal> open(const std::string& kmsgPath, bool mirrorStderr, int pid = 0);
  // A journal on stderr alone, for hosts where /dev/kmsg cannot be opened (a container
  // without it): ORK keeps working and says so.
  static Journal stderrOnly(int pid = 0);
  // Writes one line, unless the bound (LineBudget.h) counts it instead; lines counted
  // earlier are first reported with one `suppressed` line per key, when their bucket
  // allows again. Before `stop` every count is reported. A failure to write to the
  // kernel log is reported on stderr once and otherwise ignored: the journal never
  // stops the daemon. A mirror (stderr) that cannot be written (EPIPE, EBADF, any error
  // but a full socket buffer, which only skips the line on the mirror) is dropped for
  // good, and a `warning what=mirror_dropped` line says so in the kernel log.
  // `now` is the caller's clock, which the bound follows (a file's time stamp alone is
  // the wall clock, read by sys::KmsgWriter).
  void write(const Line& line, Priority prio, TimePoint now);
  // Reports the counts of suppressed lines whose bucket allows again. Cheap when none
  // is pending: the daemon calls it once per loop turn, so that a count is told even
  // when the event that was bounded never comes back.
  void flush(TimePoint now);
  bool isKmsg() const { return hasWriter_ && writer_.isKmsg(); }
  int fdsOpen() const { return hasWriter_ ? writer_.fdsOpen() : 0; }
  bool mirroring() const { return mirror_; }
  // The mirror's fd (stderr by default); for tests.
  void setMirrorFd(int fd) { mirrorWriter_ = sys::MirrorWriter(fd); }
  // Sees every line written, before the bound (metrics/Activity.h counts them): called
  // on the loop's thread, on the kill path too, so it must not block nor allocate.
  using Tap = void (*)(void* ctx, const Line& line);
  void setTap(Tap tap, void* ctx) {
    tap_ = tap;
    tapCtx_ = ctx;
  }
  // The flight recorder's tap (nullptr: none), which also sees the line's time; the
  // caller keeps it alive while set.
  void setLineTap(LineTap* tap) { lineTap_ = tap; }

 private:
  // The tag and the tagged line.
  static constexpr std::size_t kTagMax = 24;
  static constexpr std::size_t kTaggedMax = kTagMax + Line::kMax;
  void setTag(int pid);
  std::size_t tagged(std::string_view text, char (&out)[kTaggedMax]) const;
  void emit(std::string_view text, Priority prio, TimePoint now);
  void writeKmsg(std::string_view tagged, Priority prio, TimePoint now);
  void reportSuppressed(TimePoint now, bool force);

  char tag_[kTagMax] = {};
  std::size_t tagLen_ = 0;
  sys::KmsgWriter writer_;
  sys::MirrorWriter mirrorWriter_;
  LineBudget budget_;
  bool hasWriter_ = false;
  bool mirror_ = true;
  bool reportedFailure_ = false;
  Tap tap_ = nullptr;
  void* tapCtx_ = nullptr;
  LineTap* lineTap_ = nullptr;
};

}  // namespace ork::journal
