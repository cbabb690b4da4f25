// libFuzzer: parseNovaMetadata (OpenStack nova's domain metadata XML, VirtProtocol.h).
#include "ork/parse/VirtProtocol.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view xml = fuzz::asText(data, size);
  const parse::NovaMetadata m = parse::parseNovaMetadata(xml);
  // Decoding entities never lengthens a value past the input (&#x10FFFF; is 10 bytes
  // for 4 of UTF-8).
  fuzz::check(m.name.size() <= xml.size() && m.project.size() <= xml.size() &&
              m.flavor.size() <= xml.size());
  return 0;
}
