// libFuzzer: parseQemuCmdline (/proc/PID/cmdline of a qemu) and the qemu program tests
// (Qemu.h). A command line that parses must have a qemu argv[0].
#include "ork/parse/Qemu.h"
#include "fuzz/FuzzCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ork;
  const std::string_view raw = fuzz::asText(data, size);
  const std::string_view argv0 = raw.substr(0, raw.find('\0'));
  const bool qemuPath = parse::isQemuProgramPath(argv0);
  if (const auto r = parse::parseQemuCmdline(raw); r.ok()) {
    fuzz::check(qemuPath);
    fuzz::check(r->memory.value >= 0 && r->vcpus >= 0);
    fuzz::check(r->uuid.empty() || r->uuid.size() == 36);
  }
  // comm and exe: the input split at its first NUL.
  const std::string_view rest = argv0.size() < raw.size() ? raw.substr(argv0.size() + 1) : "";
  fuzz::check(parse::isQemuProgram(argv0, rest) == (rest.empty() ? parse::isQemuComm(argv0)
                                                                  : parse::isQemuProgramPath(rest)));
  return 0;
}
