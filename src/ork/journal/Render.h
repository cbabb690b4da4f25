// How `ork log` shows a journal line to a person: the event first, then the fields in
// their order, sizes and durations in units a person reads. The journal itself stays
// key=value in KiB and plain units (docs/journal.md), for grep and scripts. Pure;
// allocates (a command's, never the daemon's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ork::journal {

// KiB as a person reads it: "512KiB", "96.0MiB", "1.76GiB" (three significant digits).
std::string humanKib(std::int64_t kib);

// Nanoseconds as a person reads them: "412us", "4.12ms", "2.87s", "4m12s", "1h02m",
// "3d04h".
std::string humanDuration(std::int64_t ns);

// The body of one of ORK's lines ("event=kill pid=1 freed_kib=2048 took_ms=12 ...") as
// a person reads it: "kill" padded to a column, then each field, with the values of
// keys ending in _kib as sizes, in _us, _ms or _s as durations, in _pct with '%', and
// such a key without its unit ("freed=2.00MiB took=12ms"). Quoted values and the rest
// are as written (quotes included: the journal's \xHH escapes keep control bytes out
// of the terminal).
std::string renderBody(std::string_view body);

}  // namespace ork::journal
