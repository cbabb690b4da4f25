// libFuzzer: the kernel OOM killer's lines (parse/Oom.h), as the flight recorder reads
// them from /dev/kmsg (after unescaping). Input: the message text.
#include "fuzz/FuzzCheck.h"
#include "ork/parse/Oom.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view text = fuzz::asText(data, size);
  if (const auto l = parse::parseOomLine(text); l.ok()) {
    fuzz::check(l->pid > 0);
    fuzz::check(fuzz::within(l->name, text));
    fuzz::check(l->taskMemcg.empty() || fuzz::within(l->taskMemcg, text));
    fuzz::check(l->oomMemcg.empty() || fuzz::within(l->oomMemcg, text));
    fuzz::check(l->constraint.empty() || fuzz::within(l->constraint, text));
    fuzz::check(l->kind != parse::OomLineKind::Summary || l->uid >= 0);
  }
  return 0;
}
