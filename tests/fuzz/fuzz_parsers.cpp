// libFuzzer target for every parser in ork/parse/Parsers.h. Not part of the CMake
// build; build and run by hand:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     tests/fuzz/fuzz_parsers.cpp src/ork/parse/Parsers.cpp -o /tmp/fuzz_parsers
//   /tmp/fuzz_parsers -max_total_time=60 -max_len=4096
// Crashes, sanitizer reports and violated invariants (trap) are findings.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ork/parse/Parsers.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool within(std::string_view inner, std::string_view outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork::parse;
  // The first byte steers the few non-text parameters; the whole input is the text.
  const std::size_t cap = size > 0 ? data[0] % 40 : 0;
  const std::uint32_t uid = size > 0 ? data[0] % 8 : 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto r = parseMeminfo(text); r.ok()) {
    check(r->total.value > 0 && r->free.value >= 0 && r->available.value >= 0);
  }
  if (const auto r = parseProcStat(text); r.ok()) {
    check(r->pid > 0 && r->ppid >= 0 && r->comm[16] == '\0');
  }
  if (const auto r = parseProcStatus(text); r.ok()) {
    check(r->vmRss.value >= 0 && r->vmSwap.value >= 0);
  }
  if (const auto r = parseOomScoreAdj(text); r.ok()) check(*r >= -1000 && *r <= 1000);

  char out[48];
  std::memset(out, 'X', sizeof out);
  const std::size_t n = formatCmdline(text, out, cap);
  if (cap == 0) {
    check(n == 0 && out[0] == 'X');
  } else {
    check(n < cap && out[n] == '\0' && std::strlen(out) == n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(out[i]);
      check(c >= 0x20 && c != 0x7f);
    }
  }
  for (std::size_t i = cap; i < sizeof out; ++i) check(out[i] == 'X');

  check(within(cgroupPathFromProc(text), text));
  if (const auto r = parsePsi(text); r.ok()) {
    check(r->some.avg10 >= 0 && r->some.avg60 >= 0 && r->some.avg300 >= 0);
  }
  (void)parseUint(text);
  if (const auto r = parseCgroupLimit(text); r.ok() && r->has_value()) {
    check(**r < (std::uint64_t{1} << 62));
  }
  if (const auto r = parseCgroupMemStat(text); r.ok()) {
    check(r->anon.value >= 0 && r->file.value >= 0 && r->shmem.value >= 0);
  }
  (void)parseOomKillCount(text);
  if (const auto r = parseArcstats(text); r.ok()) check(r->size.value >= 0);
  check(within(userNameFromPasswd(text, uid), text));
  return 0;
}
