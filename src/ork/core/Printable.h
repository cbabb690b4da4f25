// Text that ORK did not write (process names and command lines, VM names, libvirt's
// answers, a configuration file's keys and patterns), made safe to print on a terminal
// or in a one-line message: printable ASCII is kept, and every other byte (control
// characters such as ESC and newline, DEL, bytes >= 0x80) is written \xHH, as the
// journal writes them; '\' itself is written \x5c, so that the result is unambiguous.
#pragma once

#include <string>
#include <string_view>

namespace ork {

inline void appendPrintable(std::string& out, std::string_view text) {
  constexpr char kHex[] = "0123456789abcdef";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
}

inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  appendPrintable(out, text);
  return out;
}

}  // namespace ork
