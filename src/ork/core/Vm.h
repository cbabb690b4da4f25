// What ORK knows of a QEMU/KVM guest from its qemu command line (parse::parseQemuCmdline).
// Read once per qemu process: a running qemu cannot change its command line.
#pragma once

#include <string>

#include "ork/core/Units.h"

namespace ork {

struct QemuCommand {
  // -name guest=NAME,debug-threads=on or -name NAME, with libvirt's ",," unescaped.
  // Bytes as given (not validated as UTF-8): escape before printing.
  std::string name;
  // -uuid, lower-cased; "" when absent or not 8-4-4-4-12 hex.
  std::string uuid;
  // Boot memory: -m (MiB when suffix-less), else the size of the -machine
  // memory-backend= object. 0 when unknown (qemu then uses its machine's default,
  // 128 MiB on x86). Hot-plugged DIMMs (pc-dimm, virtio-mem) are not counted.
  Bytes memory;
  // vCPUs at start: -smp cpus, else maxcpus, else the product of the topology. 0 when
  // there is no -smp (qemu then starts the machine's default, 1 on x86).
  int vcpus = 0;
  // -machine / -M type ("pc-q35-7.2"), "" when absent. "none" is no guest: libvirt
  // starts such qemu processes to probe a binary's capabilities (at its own start and
  // whenever qemu changes), and they are not VMs.
  std::string machine;
};

}  // namespace ork
