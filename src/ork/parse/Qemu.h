// Recognising QEMU/KVM guests: which programs are qemu, and what a qemu command line
// says about its guest (name, UUID, memory, vCPUs). Pure: bytes in, values out.
//
// The command line is parsed the way qemu itself parses the few options that matter
// (checked against qemu 7.2): QemuOpts "key=value,..." lists whose first item may be
// an implied key, ",," for a literal comma, "--opt" as "-opt", the LAST occurrence of
// an option winning key by key (-m 2G -m maxmem=4G keeps 2G), and -object values in
// either key=value or JSON form (libvirt >= 7 writes JSON).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ork/core/Result.h"
#include "ork/core/Vm.h"

namespace ork::parse {

// True for qemu-system-* (any arch), qemu-kvm and kvm (Debian's /usr/bin/kvm is a
// symlink: its processes have comm "kvm" and exe qemu-system-x86_64). exe is the
// /proc/PID/exe target ("" if unreadable); when known it decides alone, because any
// process can set its own comm (prctl) but not its exe. A " (deleted)" exe, which every
// running VM shows after qemu is upgraded, still counts. comm is the 15-byte comm
// (e.g. "qemu-system-x86") and decides only when exe is "".
bool isQemuProgram(std::string_view comm, std::string_view exe);
// The same test for one name: a path or argv[0] (basename taken, " (deleted)" dropped).
bool isQemuProgramPath(std::string_view path);
// The test on a comm alone (exact, no basename: comms may hold '/').
bool isQemuComm(std::string_view comm);

// raw = /proc/PID/cmdline bytes (NUL-separated argv). Error (code 0) if it is not a
// qemu command line at all (argv[0] is not qemu-system-*, qemu-kvm or kvm); a missing
// -name is fine (name ""). A last argument without its NUL was cut by the reader's
// size cap and is ignored, so that a truncated "-m 2048" never reads as "-m 20":
// every field of a truncated command line is either right or unknown.
Result<QemuCommand> parseQemuCmdline(std::string_view raw);

// A qemu size ("512", "524288k", "1.5G", "0x100"): a decimal number (with an optional
// fraction) or a hex one, then an optional suffix B/K/M/G/T/P/E (any case, powers of
// 1024). A bare number is in units of defaultUnit (1 MiB for -m, 1 byte for -object
// sizes). nullopt when malformed or above 2^63-1 bytes.
std::optional<std::uint64_t> parseQemuSize(std::string_view text, std::uint64_t defaultUnit);

// A UUID in qemu's 8-4-4-4-12 hex form, lower-cased; "" when invalid. Writes into out
// (37 bytes with the NUL) and returns the view of it.
std::string_view normalizeUuid(std::string_view text, char (&out)[37]);

}  // namespace ork::parse
