// libFuzzer: parseNeighborFrame (Neighbor.h), the network ladder's frames. Input: the
// frame's bytes as an AF_PACKET socket returns them.
#include <cstring>

#include "fuzz/FuzzCheck.h"
#include "ork/parse/Neighbor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const auto f = parse::parseNeighborFrame({data, size});
  if (!f.ok()) return 0;
  fuzz::check(size >= 14 + 28 || f->family == 6);
  fuzz::check(f->vlanCount >= 0 && f->vlanCount <= 2);
  fuzz::check(f->family == 4 || f->family == 6);
  fuzz::check(std::memcmp(f->ethSource.b.data(), data + 6, 6) == 0);
  if (f->kind == parse::NeighborFrame::Kind::Arp) fuzz::check(f->hasSenderHw && f->family == 4);
  for (int i = 0; i < f->vlanCount; ++i) fuzz::check(f->vlan[i] <= 0x0fff);
  char ip[46];
  f->formatIp(ip);
  fuzz::check(ip[0] != '\0' && std::strlen(ip) < sizeof ip);
  fuzz::check(f->kindName() != nullptr);
  return 0;
}
