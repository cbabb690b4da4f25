// What ORK did, seen from its journal: every line goes through Activity::onLine (the
// journal's tap, journal/Journal.h), which counts the actions by resource, action,
// reason and result (ork_actions_total), the lines by event (ork_journal_lines_total),
// and keeps the last kRing lines for `ork status`. Fixed tables: onLine never
// allocates, never fails, and runs on the kill path (the kill line is written through
// it, after the signal).
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "ork/journal/Journal.h"

namespace ork::metrics {

class Writer;

class Activity {
 public:
  static constexpr std::size_t kRing = 16;
  // The recent lines' text, back to back (a line never wraps): 16 lines of up to 512
  // bytes, 8 of the longest (journal::Line::kMax), in half the memory 16 slots of kMax
  // took.
  static constexpr std::size_t kRingBytes = 8192;
  static constexpr std::size_t kActions = 64;
  static constexpr std::size_t kEvents = 64;

  // Nothing zeroed: a slot is written before it is read (the counts say which), so the
  // ~17 KiB of tables become resident only as lines fill them.
  Activity() {}  // NOLINT: user-provided on purpose (no value-initialisation)

  // The journal's tap (Journal::setTap): ctx is an Activity.
  static void tap(void* ctx, const journal::Line& line) { static_cast<Activity*>(ctx)->onLine(line); }
  void onLine(const journal::Line& line);

  // Is this event an action (ork_actions_total)? The ladders' action lines: kill,
  // would_kill, hibernate, freeze, thaw, disk_clean, disk_stop (a new ladder adds its
  // own to kActionEvents in Activity.cpp).
  static bool isAction(std::string_view event);
  // memory, cpu, disk... from the line's reason (memory_below_hard: memory), else from
  // the event; "other" when neither says.
  static std::string_view resourceOf(std::string_view event, std::string_view reason);
  // The value of key=word in a journal line's text ("" when absent or quoted).
  static std::string_view field(std::string_view text, std::string_view key);

  void metrics(Writer& w) const;

  // The last lines, oldest first: f(unix_seconds, text).
  // At most kRing, and only those whose text is still in the kRingBytes of text (the
  // last 16 lines of a usual length; fewer when they were long).
  template <class F>
  void forEachRecent(F&& f) const {
    const std::size_t n = ringCount_ < kRing ? ringCount_ : kRing;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& e = ring_[(ringNext_ + kRing - n + i) % kRing];
      if (textEnd_ - e.at > kRingBytes) continue;  // overwritten by later lines
      f(e.when, std::string_view(text_.data() + e.at % kRingBytes, e.len));
    }
  }
  std::uint64_t lines() const { return ringCount_; }

 private:
  template <std::size_t N>
  struct Word {
    char text[N];
    std::uint8_t len;
    void set(std::string_view v);
    std::string_view view() const { return {text, len}; }
  };
  struct ActionCount {
    Word<24> resource, action, reason, result;
    std::uint64_t count;
  };
  struct EventCount {
    Word<32> event;
    std::uint64_t count;
  };
  struct Recent {
    std::time_t when;
    std::uint64_t at;  // where its text starts in the stream of recent text (text_[at % kRingBytes])
    std::size_t len;
  };
  std::array<ActionCount, kActions> actions_;
  std::size_t actionCount_ = 0;
  std::array<EventCount, kEvents> events_;
  std::size_t eventCount_ = 0;
  std::array<Recent, kRing> ring_;
  std::array<char, kRingBytes> text_;
  std::uint64_t textEnd_ = 0;  // bytes of the stream written (a multiple of kRingBytes skipped to at a wrap)
  std::size_t ringNext_ = 0;
  std::uint64_t ringCount_ = 0;
};

}  // namespace ork::metrics
