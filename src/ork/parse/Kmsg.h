// What `ork log` reads: /dev/kmsg records, ORK's journal lines in them, and the lines
// of a journal file (`ork daemon --kmsg FILE`). Pure; views point into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ork/core/Result.h"

namespace ork::parse {

// One record as one read(2) of /dev/kmsg returns it:
//   "PRI,SEQ,USEC,FLAGS[,more];MESSAGE\n" then optional lines " KEY=VALUE\n"
// PRI is facility * 8 + level; USEC the kernel's clock at the record, in microseconds
// since boot. The kernel writes '\\', control and non-ASCII bytes of MESSAGE as \xHH
// (unescapeKmsg undoes it). Errors (code 0): no ';', a header that is not numbers.
struct KmsgRecord {
  int level = 0;
  int facility = 0;
  std::uint64_t seq = 0;
  std::uint64_t usec = 0;
  std::string_view message;  // escaped by the kernel, without its newline
};
Result<KmsgRecord> parseKmsgRecord(std::string_view record);

// Undoes the kernel's \xHH escapes of escaped into out (cap bytes), and returns the
// text, cut at cap. A '\\' not followed by 'x' and two hex digits is kept as it is.
std::string_view unescapeKmsg(std::string_view escaped, char* out, std::size_t cap);

// One of ORK's journal lines: "ork[PID]: event=..." (or "ork: event=...", the form of
// ORK before the tag carried its PID). Errors (code 0): any other message, e.g. a
// kernel line, or "ork[x]: ..." without a number or without "event=".
struct OrkLine {
  int pid = 0;            // 0 with the "ork: " form
  std::string_view body;  // "event=<event> key=value ..."
};
Result<OrkLine> parseOrkLine(std::string_view message);

// A line of a journal file: the local time (RFC 3339, "2026-12-01T09:24:33.123456+01:00")
// and a space, then an ORK line. A file written before lines carried the time has
// bare ORK lines: stamp is then empty. Errors (code 0): not an ORK line.
struct StampedOrkLine {
  std::string_view stamp;  // "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)", or empty
  OrkLine line;
};
Result<StampedOrkLine> parseJournalFileLine(std::string_view line);

}  // namespace ork::parse
