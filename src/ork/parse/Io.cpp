#include "ork/parse/Io.h"

#include <cstring>

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::LineReader;
using detail::nextToken;
using detail::parseInt;

namespace {

Error bad(const char* what) { return Error::make(detail::kParseErrorCode, "%s", what); }

bool parseDevice(std::string_view tok, unsigned& major, unsigned& minor) {
  const std::size_t colon = tok.find(':');
  if (colon == std::string_view::npos) return false;
  return parseInt(tok.substr(0, colon), major) && parseInt(tok.substr(colon + 1), minor);
}

CgroupIoDev& entryFor(std::vector<CgroupIoDev>& out, std::size_t from, unsigned major, unsigned minor) {
  for (std::size_t i = from; i < out.size(); ++i)
    if (out[i].major == major && out[i].minor == minor) return out[i];
  out.push_back(CgroupIoDev{major, minor});
  return out.back();
}

}  // namespace

Result<void> parseDiskstats(std::string_view text, std::vector<DiskStat>& out) {
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    std::string_view majorTok = nextToken(rest);
    if (majorTok.empty()) continue;  // a blank line
    DiskStat d;
    if (!parseInt(majorTok, d.major) || !parseInt(nextToken(rest), d.minor))
      return bad("diskstats: a line without major and minor numbers");
    std::string_view name = nextToken(rest);
    if (name.empty() || name.size() >= sizeof d.name) return bad("diskstats: a device name missing or too long");
    for (char c : name)
      if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return bad("diskstats: a control byte in a device name");
    std::memcpy(d.name, name.data(), name.size());
    std::uint64_t f[17] = {};
    int n = 0;
    for (std::string_view tok = nextToken(rest); !tok.empty(); tok = nextToken(rest)) {
      std::uint64_t v = 0;
      if (!parseInt(tok, v)) return bad("diskstats: a field that is not a number");
      if (n < 17) f[n] = v;
      ++n;
    }
    if (n < 11) return bad("diskstats: a line cut short");
    d.reads = f[0];
    d.readSectors = f[2];
    d.readMs = f[3];
    d.writes = f[4];
    d.writeSectors = f[6];
    d.writeMs = f[7];
    d.inFlight = f[8];
    d.ioTicksMs = f[9];
    d.weightedMs = f[10];
    d.discards = f[11];
    d.discardMs = f[14];
    d.flushes = f[15];
    d.flushMs = f[16];
    out.push_back(d);
  }
  return success();
}

Result<void> parseCgroupIoStat(std::string_view text, std::vector<CgroupIoDev>& out) {
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    std::string_view dev = nextToken(rest);
    if (dev.empty()) continue;
    CgroupIoDev e;
    if (!parseDevice(dev, e.major, e.minor)) return bad("io.stat: a line without MAJ:MIN");
    for (std::string_view tok = nextToken(rest); !tok.empty(); tok = nextToken(rest)) {
      const std::size_t eq = tok.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = tok.substr(0, eq), value = tok.substr(eq + 1);
      std::uint64_t* slot = key == "rbytes" ? &e.rbytes
                            : key == "wbytes" ? &e.wbytes
                            : key == "rios"   ? &e.rios
                            : key == "wios"   ? &e.wios
                                              : nullptr;
      if (slot != nullptr && !parseInt(value, *slot)) return bad("io.stat: a value that is not a number");
    }
    out.push_back(e);
  }
  return success();
}

Result<void> parseBlkioThrottle(std::string_view text, bool ios, std::vector<CgroupIoDev>& out) {
  const std::size_t from = 0;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view rest = line;
    std::string_view dev = nextToken(rest);
    if (dev.empty() || dev == "Total") continue;
    unsigned major = 0, minor = 0;
    if (!parseDevice(dev, major, minor)) return bad("blkio: a line without MAJ:MIN");
    std::string_view op = nextToken(rest);
    std::uint64_t v = 0;
    if (!parseInt(nextToken(rest), v)) return bad("blkio: a value that is not a number");
    if (op != "Read" && op != "Write") continue;
    CgroupIoDev& e = entryFor(out, from, major, minor);
    if (op == "Read")
      (ios ? e.rios : e.rbytes) = v;
    else
      (ios ? e.wios : e.wbytes) = v;
  }
  return success();
}

}  // namespace ork::parse
