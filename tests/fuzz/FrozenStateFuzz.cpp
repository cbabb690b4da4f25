// libFuzzer: parseFrozenRecord (ORK's --state-dir/frozen-vms lines), and the round
// trip through formatFrozenRecord.
#include "ork/parse/FrozenState.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view text = fuzz::asText(data, size);
  if (const auto r = parse::parseFrozenRecord(text); r.ok()) {
    fuzz::check(r->pid > 0);
    fuzz::check(fuzz::within(r->uuid, text) && fuzz::within(r->dir, text));
    std::string line = parse::formatFrozenRecord(r->method, r->pid, r->startTimeTicks, r->uuid, r->dir);
    line.pop_back();
    const auto again = parse::parseFrozenRecord(line);
    fuzz::check(again.ok() && again->method == r->method && again->pid == r->pid &&
                again->startTimeTicks == r->startTimeTicks && again->uuid == r->uuid && again->dir == r->dir);
  }
  return 0;
}
