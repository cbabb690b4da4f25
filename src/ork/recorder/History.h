// What `ork events` makes of the recorder's file: the records read back, one entry per
// action (ORK's and the kernel's) with the victim resolved to its VM, the memory
// around it (a sparkline), and a plot (SVG) of the sensed resources with the events
// marked. Pure; allocates (a command's, never the daemon's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ork/recorder/Fields.h"
#include "ork/recorder/Format.h"

namespace ork::recorder {

struct Record {
  std::int64_t timeNs = 0;
  std::uint64_t seq = 0;
  Fields f;
};

struct History {
  std::vector<Sample> samples;
  std::vector<Minute> minutes;
  std::vector<Disk> disks;
  std::vector<Record> events;
  std::vector<Record> identities;
  std::uint64_t corrupt = 0;  // torn or corrupt slots skipped
  // Adds one valid slot.
  void add(const SlotView& v);
  // In time order (then by sequence number), each kind.
  void sort();
  // Memory available just before t (the last sample, else the minute's average): -1
  // when nothing is recorded then (within 2 minutes).
  long long availAt(std::int64_t t) const;
  // ... at or after t (within 2 minutes), -1 when none.
  long long availAfter(std::int64_t t) const;
};

struct Entry {
  std::int64_t timeNs = 0;
  std::string who;     // "ork" or "kernel"
  std::string action;  // kill, hibernate, freeze, thaw, clean, stop (disk), link_down
  std::string result;  // ok, dry_run, failed, ...
  bool dryRun = false;
  long long pid = -1;
  std::string name, user, vm, uuid, instance, instanceName, project, flavor;
  std::string reason, cgroup, detail;
  std::string vmSource;  // how the VM was known: event, identity, cgroup, ""
  long long freedKib = -1, availBeforeKib = -1, availAfterKib = -1;
};

// Entries at or after sinceNs, in time order.
std::vector<Entry> buildEntries(const History& h, std::int64_t sinceNs);

// libvirt's scope in a cgroup path ("/machine.slice/machine-qemu\x2d3\x2dweb01.scope/
// libvirt/emulator", or "/machine/qemu-3-web01.libvirt-qemu/emulator" on a host without
// systemd): the domain's id and its name as libvirt put it in the machine
// name "qemu-ID-NAME" (hostname characters only, leading dots dropped, the whole machine
// name cut at 64 characters, trailing '-' and '.' trimmed). False when the path is no
// libvirt machine's.
struct ScopeName {
  int id = -1;
  std::string name;
};
bool vmNameFromCgroup(std::string_view cgroup, ScopeName& out);
// A domain name as libvirt puts it in its machine name, for a domain of this id: what
// vmNameFromCgroup gives back for it.
std::string scopeFormOfName(std::string_view name, int id);

// Memory available from t0 to t1 in `width` characters (▁..█, ' ' where nothing was
// recorded); min/max: the range shown, in KiB.
std::string sparkline(const History& h, std::int64_t t0, std::int64_t t1, int width, long long& minKib,
                      long long& maxKib);

// One entry as a JSON object (one line).
std::string entryJson(const Entry& e, const std::string& spark);

// The plot: available memory and swap (GiB), PSI and CPU busy (%), each filesystem's
// free space (%), from t0 to t1, the entries marked (kernel red, ORK orange) with their
// labels. A self-contained SVG document.
std::string renderSvg(const History& h, const std::vector<Entry>& entries, std::int64_t t0, std::int64_t t1);

}  // namespace ork::recorder
