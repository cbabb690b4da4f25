#include "ork/metrics/Activity.h"

#include <algorithm>
#include <cstring>

#include "ork/metrics/Writer.h"

namespace ork::metrics {

namespace {
// The events that are actions (ORK changed something, or in dry-run would have).
constexpr std::string_view kActionEvents[] = {"kill",      "would_kill", "hibernate", "freeze",         "thaw",
                                              "disk_clean", "disk_stop", "link_down", "would_link_down"};
constexpr std::string_view kResources[] = {"memory", "cpu", "disk", "io", "net", "network"};
}  // namespace

template <std::size_t N>
void Activity::Word<N>::set(std::string_view v) {
  len = static_cast<std::uint8_t>(std::min(v.size(), N));
  if (len > 0) std::memcpy(text, v.data(), len);  // an absent field is {} (data() null)
}

bool Activity::isAction(std::string_view event) {
  return std::find(std::begin(kActionEvents), std::end(kActionEvents), event) != std::end(kActionEvents);
}

std::string_view Activity::resourceOf(std::string_view event, std::string_view reason) {
  for (std::string_view r : kResources)
    if (reason.starts_with(r) && (reason.size() == r.size() || reason[r.size()] == '_')) return r;
  if (reason == "cooled_down") return "cpu";
  if (reason == "duplicate_mac") return "network";
  if (event == "kill" || event == "would_kill" || event == "hibernate") return "memory";
  if (event.starts_with("disk_")) return "disk";
  return "other";
}

std::string_view Activity::field(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t at = text.find(key, pos);
    if (at == std::string_view::npos) return {};
    const bool start = at == 0 || text[at - 1] == ' ';
    const std::size_t eq = at + key.size();
    if (start && eq < text.size() && text[eq] == '=') {
      const std::size_t end = text.find(' ', eq + 1);
      std::string_view v = text.substr(eq + 1, end == std::string_view::npos ? std::string_view::npos : end - eq - 1);
      if (!v.empty() && v.front() == '"') return {};  // a quoted value is not a word
      return v;
    }
    pos = at + 1;
  }
  return {};
}

void Activity::onLine(const journal::Line& line) {
  const std::string_view event = line.event();
  const std::string_view text = line.text();
  // Lines by event.
  {
    std::size_t i = 0;
    while (i < eventCount_ && events_[i].event.view() != event) ++i;
    if (i == eventCount_ && eventCount_ < kEvents) {
      events_[eventCount_].event.set(event);
      events_[eventCount_++].count = 0;
    }
    if (i < eventCount_) ++events_[i].count;
  }
  if (isAction(event)) {
    const std::string_view reason = field(text, "reason");
    const std::string_view result = field(text, "result");
    const std::string_view resource = resourceOf(event, reason);
    std::size_t i = 0;
    for (; i < actionCount_; ++i) {
      const auto& a = actions_[i];
      if (a.action.view() == event && a.reason.view() == reason.substr(0, 24) && a.result.view() == result.substr(0, 24) &&
          a.resource.view() == resource)
        break;
    }
    if (i == actionCount_ && actionCount_ < kActions) {
      auto& a = actions_[actionCount_++];
      a.action.set(event);
      a.reason.set(reason);
      a.result.set(result);
      a.resource.set(resource);
      a.count = 0;
    }
    if (i < actionCount_) ++actions_[i].count;
  }
  // The recent lines, for `ork status`: all but the periodic state line.
  if (event == "state") return;
  Recent& r = ring_[ringNext_];
  r.when = std::time(nullptr);
  r.len = std::min({text.size(), journal::Line::kMax, kRingBytes});
  // A line that would cross the end of the text starts over at its beginning.
  if (textEnd_ % kRingBytes + r.len > kRingBytes) textEnd_ += kRingBytes - textEnd_ % kRingBytes;
  r.at = textEnd_;
  std::memcpy(text_.data() + r.at % kRingBytes, text.data(), r.len);
  textEnd_ += r.len;
  ringNext_ = (ringNext_ + 1) % kRing;
  ++ringCount_;
}

void Activity::metrics(Writer& w) const {
  static constexpr const char* kActionsHelp =
      "Actions ORK took (in dry-run: would have taken), by resource, action (the journal event), reason and result";
  // Before the first action, one unlabelled zero: the family is there (sum() of it is
  // 0, not empty), and an alert on it sees the first action as an increase.
  if (actionCount_ == 0) w.add("ork_actions_total", kActionsHelp, Type::Counter, 0, std::initializer_list<Label>{});
  for (std::size_t i = 0; i < actionCount_; ++i) {
    const auto& a = actions_[i];
    Label labels[] = {{"resource", a.resource.view()}, {"action", a.action.view()}, {"reason", a.reason.view()},
                      {"result", a.result.view()}};
    w.add("ork_actions_total", kActionsHelp, Type::Counter, static_cast<double>(a.count), labels);
  }
  for (std::size_t i = 0; i < eventCount_; ++i) {
    Label labels[] = {{"event", events_[i].event.view()}};
    w.add("ork_journal_lines_total", "Journal lines ORK wrote (or its bound counted instead), by event", Type::Counter,
          static_cast<double>(events_[i].count), labels);
  }
}

}  // namespace ork::metrics
