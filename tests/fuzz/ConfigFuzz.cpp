// libFuzzer: Config::parse (TOML, through toml++ 3.3.0 behind ORK's guard: no byte
// beyond ASCII reaches it, and its assertions are neither aborts nor assumptions) and
// the round trip through toToml(). Every error is on a line (>= 1) and printable; a
// text that parses without error renders to one that parses again, without error, to
// the same configuration, and renders the same. The library is built for this target
// without NDEBUG (tests/fuzz/CMakeLists.txt), so that an assertion the guard lets
// through aborts here instead of becoming an assumption.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/FuzzCheck.h"
#include "ork/config/Config.h"

namespace {

using namespace ork;
using ork::config::Config;
using ork::config::ConfigError;
using ork::config::Pattern;

bool samePatterns(const std::vector<Pattern>& a, const std::vector<Pattern>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].field != b[i].field || a[i].glob != b[i].glob || a[i].text != b[i].text) return false;
  return true;
}

bool sameConfig(const Config& a, const Config& b) {
  for (const auto& s : config::kSettings) {
    const double x = a.get(s.key), y = b.get(s.key);
    if (std::memcmp(&x, &y, sizeof x) != 0) return false;
  }
  return samePatterns(a.prefer, b.prefer) && samePatterns(a.avoid, b.avoid) &&
         samePatterns(a.protect, b.protect) && a.libvirtUri == b.libvirtUri &&
         a.saveDir == b.saveDir;
}

void checkErrors(const std::vector<ConfigError>& errors) {
  for (const auto& e : errors) {
    fuzz::check(e.line >= 1 && !e.message.empty());
    for (char c : e.message) fuzz::check(c >= 0x20 && c < 0x7f);
  }
  for (std::size_t i = 1; i < errors.size(); ++i) fuzz::check(errors[i - 1].line <= errors[i].line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::asText(data, size);
  std::vector<ConfigError> errors;
  const Config cfg = Config::parse(text, "fuzz.toml", errors);
  checkErrors(errors);
  if (!errors.empty()) return 0;
  const std::string rendered = cfg.toToml();
  for (char c : rendered) fuzz::check(static_cast<unsigned char>(c) < 0x80);
  std::vector<ConfigError> again;
  const Config back = Config::parse(rendered, "again.toml", again);
  fuzz::check(again.empty());
  fuzz::check(sameConfig(cfg, back));
  fuzz::check(back.toToml() == rendered);
  return 0;
}
