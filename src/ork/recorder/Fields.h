// The key=value text of a recorded event or identity (the journal's format: values
// quoted when not plain words, with '"', '\\', control and non-ASCII bytes as \xHH).
// Pure; allocates (for `ork events`, and the recorder's start-up scan).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ork::recorder {

struct Fields {
  std::vector<std::pair<std::string, std::string>> items;  // values unescaped
  // The value of key, or "" when absent.
  std::string_view get(std::string_view key) const;
  bool has(std::string_view key) const;
  // The value as a number, or fallback when absent or not a number.
  long long num(std::string_view key, long long fallback = -1) const;
};

// Splits "event=kill pid=12 name=\"a b\" ..." into its fields, in order. A malformed
// tail (an unterminated quote) ends the list; nothing before it is lost.
Fields parseFields(std::string_view text);

}  // namespace ork::recorder
