// libFuzzer: the I/O ladder's parsers (parse/Io.h): parseDiskstats, parseCgroupIoStat,
// parseBlkioThrottle. Input: a steer byte (0 diskstats, 1 io.stat, 2 blkio bytes,
// 3 blkio ios), then the text.
#include <cstring>
#include <vector>

#include "fuzz/FuzzCheck.h"
#include "ork/parse/Io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  std::string_view text = fuzz::asText(data, size);
  std::size_t lines = 1;
  switch (fuzz::takeSteer(text) % 4) {
    case 0: {
      std::vector<parse::DiskStat> out;
      for (char c : text) lines += c == '\n' ? 1 : 0;
      if (parse::parseDiskstats(text, out)) {
        fuzz::check(out.size() <= lines);
        for (const auto& d : out) fuzz::check(std::strlen(d.name) > 0 && std::strlen(d.name) < sizeof d.name);
      }
      break;
    }
    case 1: {
      std::vector<parse::CgroupIoDev> out;
      for (char c : text) lines += c == '\n' ? 1 : 0;
      if (parse::parseCgroupIoStat(text, out)) fuzz::check(out.size() <= lines);
      break;
    }
    default: {
      std::vector<parse::CgroupIoDev> out;
      for (char c : text) lines += c == '\n' ? 1 : 0;
      if (parse::parseBlkioThrottle(text, (data[0] % 4) == 3, out)) fuzz::check(out.size() <= lines);
      break;
    }
  }
  return 0;
}
