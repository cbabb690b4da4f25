// libFuzzer: parseProcStatus (/proc/PID/status).
#include "ork/parse/Parsers.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  if (const auto r = parse::parseProcStatus(fuzz::asText(data, size)); r.ok()) {
    fuzz::check(r->vmRss.value >= 0 && r->rssAnon.value >= 0 && r->rssFile.value >= 0);
    fuzz::check(r->rssShmem.value >= 0 && r->vmSwap.value >= 0 && r->tgid >= 0);
    // At most what a process can hold: resident + swapped cannot overflow.
    for (const Bytes b : {r->vmRss, r->rssAnon, r->rssFile, r->rssShmem, r->vmSwap})
      fuzz::check(b.value <= parse::kMaxProcessMemory);
  }
  return 0;
}
