// The journal's own bound on what it writes, so that ORK never floods the kernel log
// and pushes the evidence out of dmesg (a repeated failure once wrote ~140,000 lines a
// second). Token buckets: a burst, then a steady rate; a line beyond its bucket is
// counted, not written, and the count is handed back (takeReport) once its bucket has a
// token again, for one `suppressed` line. Pure: the time is the caller's, no I/O, no
// allocation (a fixed table of keys).
//
// Three classes of line (classify()):
//  - Always: start, stop, suppressed (and the mirror_dropped warning, which the journal
//    writes as Always itself): once per run, or bounded by the budget itself.
//  - Evidence: the decisions and actions (pressure, kill, would_kill, abort, exited,
//    deadline, recovered, hibernate, hibernated, freeze, thaw, cpu_overload, cpu_recovered,
//    vm_found, vm_gone, mac_duplicate, link_down, would_link_down, link_protected).
//    They are paced by the actions themselves (one victim at a time, VMs counted in
//    tens, one line per duplicated MAC); they share one bucket far above any real rate,
//    a safety net against a bug that would loop on one of them.
//  - Routine: the rest (warnings, no_candidate, hibernate_skipped, libvirt_connected,
//    any new event), one bucket per key: the event, and for a warning its `what`.
#pragma once

#include <array>
#include <memory>
#include <cstdint>
#include <string_view>

#include "ork/core/Units.h"

namespace ork::journal {

enum class LineClass { Always, Evidence, Routine };

// By event name (the word after "event=").
LineClass classify(std::string_view event);

class LineBudget {
 public:
  struct Limits {
    int burst;    // tokens when full: lines that may be written at once
    Nanos every;  // one token back per `every`
  };
  // Per routine key: 10 at once, then one every 6 s (10 a minute).
  static constexpr Limits kRoutine{10, Seconds{6}};
  // All evidence lines together: 1000 at once, then 100 a second.
  static constexpr Limits kEvidence{1000, Millis{10}};
  static constexpr std::size_t kKeys = 48;    // distinct keys tracked; the last is "other"
  static constexpr std::size_t kKeyMax = 80;  // bytes of a key kept

  LineBudget() : LineBudget(kRoutine, kEvidence) {}
  LineBudget(Limits routine, Limits evidence);

  // May a line with this key and class be written at `now`? true: written (a token was
  // taken); false: counted for a later report.
  bool admit(std::string_view key, LineClass cls, TimePoint now);

  struct Report {
    std::string_view key;  // valid until the next call on this budget
    std::uint64_t count = 0;
    TimePoint firstDropped;
  };
  // A key whose dropped lines may be reported now: its bucket has a token again (the
  // report itself takes none), or `force` (ORK is stopping). Resets that key's count.
  // Call until it returns false.
  bool takeReport(TimePoint now, bool force, Report& out);
  // Any dropped line not reported yet.
  bool pending() const { return pendingKeys_ > 0; }

 private:
  struct Bucket {
    int tokens = 0;
    TimePoint refilled{};
    bool started = false;
  };
  struct Slot {
    std::array<char, kKeyMax> key{};
    std::size_t keyLen = 0;
    bool used = false;
    LineClass cls = LineClass::Routine;
    Bucket bucket;  // routine keys only
    std::uint64_t dropped = 0;
    TimePoint firstDropped{};
  };
  static void refill(Bucket& b, const Limits& l, TimePoint now);
  Slot& slotFor(std::string_view key, LineClass cls);
  Bucket& bucketOf(Slot& s) { return s.cls == LineClass::Evidence ? evidence_ : s.bucket; }
  const Limits& limitsOf(const Slot& s) const {
    return s.cls == LineClass::Evidence ? evidenceLimits_ : routineLimits_;
  }

  Limits routineLimits_;
  Limits evidenceLimits_;
  Bucket evidence_;
  // On the heap (4.8 KiB): the journal is built and moved through Result at start, on
  // the loop thread's stack, which stays as deep as it once was (ORK locks its memory).
  std::unique_ptr<std::array<Slot, kKeys>> slots_ = std::make_unique<std::array<Slot, kKeys>>();
  int pendingKeys_ = 0;
};

}  // namespace ork::journal
