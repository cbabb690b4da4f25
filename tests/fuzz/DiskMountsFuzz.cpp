// libFuzzer: the disk ladder's parsers (parse/Mounts.h): parseMountinfo,
// unescapeMountField, parseProcIo, parseFdinfoFlags. Input: a steer byte (0 mountinfo,
// 1 /proc/PID/io, 2 fdinfo, 3 one escaped mountinfo field), then the text.
#include "fuzz/FuzzCheck.h"
#include "ork/parse/Mounts.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  switch (fuzz::takeSteer(text) % 4) {
    case 0: {
      auto mounts = parse::parseMountinfo(text);
      std::size_t lines = 0;
      for (char c : text) lines += c == '\n' ? 1 : 0;
      fuzz::check(mounts.size() <= lines + 1);
      for (const auto& m : mounts) {
        // Unescaping never lengthens a field; every field came from the input.
        fuzz::check(m.mountPoint.size() <= text.size() && m.source.size() <= text.size());
        fuzz::check(m.root.size() <= text.size() && m.fsType.size() <= text.size());
        fuzz::check(m.fsType.find(' ') == std::string::npos);
      }
      break;
    }
    case 1:
      if (auto io = parse::parseProcIo(text))
        fuzz::check(text.find("write_bytes") != std::string_view::npos);
      break;
    case 2:
      if (auto f = parse::parseFdinfoFlags(text))
        fuzz::check(text.find("flags:") != std::string_view::npos);
      break;
    default: {
      auto u = parse::unescapeMountField(text);
      fuzz::check(u.size() <= text.size());
      break;
    }
  }
  return 0;
}
