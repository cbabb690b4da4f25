#include "ork/journal/LineBudget.h"

#include <algorithm>
#include <cstring>

namespace ork::journal {

LineClass classify(std::string_view event) {
  static constexpr std::string_view kAlways[] = {"start", "stop", "suppressed"};
  static constexpr std::string_view kEvidence[] = {
      "pressure", "kill",         "would_kill",    "abort",      "exited",
      "deadline", "recovered",    "hibernate",     "hibernated", "freeze",
      "thaw",     "cpu_overload", "cpu_recovered", "vm_found",   "vm_gone",
      // The network ladder's: once per duplicate MAC and per interface acted on.
      "mac_duplicate", "link_down", "would_link_down", "link_protected"};
  for (auto e : kAlways)
    if (e == event) return LineClass::Always;
  for (auto e : kEvidence)
    if (e == event) return LineClass::Evidence;
  return LineClass::Routine;
}

LineBudget::LineBudget(Limits routine, Limits evidence)
    : routineLimits_(routine), evidenceLimits_(evidence) {}

void LineBudget::refill(Bucket& b, const Limits& l, TimePoint now) {
  if (!b.started) {
    b.started = true;
    b.tokens = l.burst;
    b.refilled = now;
    return;
  }
  if (now <= b.refilled) return;  // a caller's clock never goes back; if it did, no gift
  if (b.tokens >= l.burst) {
    b.refilled = now;
    return;
  }
  const auto n = (now - b.refilled) / l.every;
  if (n <= 0) return;
  const auto add = static_cast<int>(std::min<std::int64_t>(n, l.burst));
  b.tokens = std::min(l.burst, b.tokens + add);
  b.refilled = b.tokens >= l.burst ? now : b.refilled + l.every * n;
}

LineBudget::Slot& LineBudget::slotFor(std::string_view key, LineClass cls) {
  key = key.substr(0, kKeyMax);
  for (std::size_t i = 0; i + 1 < kKeys; ++i) {
    Slot& s = (*slots_)[i];
    if (!s.used) {
      s.used = true;
      s.cls = cls;
      std::memcpy(s.key.data(), key.data(), key.size());
      s.keyLen = key.size();
      return s;
    }
    if (std::string_view(s.key.data(), s.keyLen) == key) return s;
  }
  // The table is full (it holds far more keys than ORK has events): the rest share one
  // routine slot.
  Slot& other = (*slots_)[kKeys - 1];
  if (!other.used) {
    other.used = true;
    other.cls = LineClass::Routine;
    constexpr std::string_view kOther = "other";
    std::memcpy(other.key.data(), kOther.data(), kOther.size());
    other.keyLen = kOther.size();
  }
  return other;
}

bool LineBudget::admit(std::string_view key, LineClass cls, TimePoint now) {
  if (cls == LineClass::Always) return true;
  Slot& s = slotFor(key, cls);
  Bucket& b = bucketOf(s);
  refill(b, limitsOf(s), now);
  if (b.tokens > 0) {
    --b.tokens;
    return true;
  }
  if (s.dropped == 0) {
    s.firstDropped = now;
    ++pendingKeys_;
  }
  ++s.dropped;
  return false;
}

bool LineBudget::takeReport(TimePoint now, bool force, Report& out) {
  if (pendingKeys_ == 0) return false;
  for (Slot& s : *slots_) {
    if (!s.used || s.dropped == 0) continue;
    Bucket& b = bucketOf(s);
    refill(b, limitsOf(s), now);
    if (!force && b.tokens <= 0) continue;
    out.key = std::string_view(s.key.data(), s.keyLen);
    out.count = s.dropped;
    out.firstDropped = s.firstDropped;
    s.dropped = 0;
    --pendingKeys_;
    return true;
  }
  return false;
}

}  // namespace ork::journal
