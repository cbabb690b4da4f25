#!/usr/bin/env bash
# Builds ORK and runs its main job, `ork daemon`, on the compiled-in defaults, in the
# foreground. In dry-run unless ORK_ARMED=1: it decides and writes its journal
# (/dev/kmsg, mirrored here) but kills nothing. Extra arguments go to `ork daemon`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
build=${ORK_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORK_BUILD_TESTS=OFF -DORK_BUILD_BENCH=OFF >/dev/null
# ork, and ork-virt (the libvirt helper ORK starts when the host has VMs) when libvirt
# was found.
targets=(ork)
grep -q '^LIBVIRT_FOUND:INTERNAL=1' "$build/CMakeCache.txt" && targets+=(ork-virt)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

args=()
if [ "${ORK_ARMED:-0}" = "1" ]; then
  echo "ork: ARMED: ORK will kill processes on this host when memory runs out." >&2
else
  args+=(--dry-run)
  echo "ork: dry-run: ORK decides and logs but kills nothing (ORK_ARMED=1 to arm it)." >&2
fi
exec "$build/ork" daemon "${args[@]}" "$@"
