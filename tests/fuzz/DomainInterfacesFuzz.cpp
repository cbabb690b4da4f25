// libFuzzer: parseDomainInterfaces (a domain's live XML, VirtProtocol.h) and the nics
// field (formatNics / parseNics): every NIC read has a valid MAC, and the field reads
// back as written.
#include "fuzz/FuzzCheck.h"
#include "ork/core/Mac.h"
#include "ork/parse/VirtProtocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view xml = fuzz::asText(data, size);
  const auto nics = parse::parseDomainInterfaces(xml);
  for (const auto& n : nics) {
    fuzz::check(Mac::parse(n.mac).has_value());
    fuzz::check(n.target.size() <= xml.size());
  }
  const std::string field = parse::formatNics(nics);
  const auto back = parse::parseNics(field);
  fuzz::check(back.size() == nics.size());
  fuzz::check(parse::formatNics(back) == field);
  (void)parse::parseNics(xml);
  return 0;
}
