#!/usr/bin/env bash
# The real-kernel lab (docs/lab.md): ORK, earlyoom and the bare kernel in QEMU guests.
#
#   lab/run.sh [--smoke] [--scenarios 1,2,7] [--defenders kernel,earlyoom,ork]
#              [--build-dir DIR] [--no-build] [--threshold PCT] [--results FILE]
#
# Needs root. Installs missing packages (scripts/deps.sh lab), builds ork and the lab's
# programs into the build directory (default build-lab/) unless --no-build, then runs
# lab/lab.py. A full run (no --smoke/--scenarios/--defenders) writes docs/lab-results.md.
# Exit codes: 0 ok, 1 failure, 77 the lab cannot run here and CI is not "true".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build="$top/build-lab"
do_build=1
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    *) pass+=("$1"); shift ;;
  esac
done

unavailable() {
  if [ "${CI:-}" = "true" ]; then
    echo "lab: FAIL: $*" >&2
    exit 1
  fi
  echo "lab: SKIP: $*" >&2
  exit 77
}

[ "$(id -u)" -eq 0 ] || unavailable "the lab needs root (cgroups for QEMU)"
need=0
for t in qemu-system-x86_64 busybox earlyoom cpio gzip dpkg-deb python3 modinfo; do
  command -v "$t" >/dev/null 2>&1 || need=1
done
if [ $need = 1 ]; then
  "$top/scripts/deps.sh" lab >&2 || unavailable "installing the lab's packages failed"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || unavailable "qemu-system-x86_64 is missing"

if [ $do_build = 1 ]; then
  cmake -S "$top" -B "$build" -DORK_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target labkit >&2
  if ! cmake --build "$build" -j"$(nproc)" --target ork >&2; then
    echo "lab: warning: ork does not build; only the kernel and earlyoom columns can run" >&2
  fi
fi
exec python3 "$here/lab.py" --build-dir "$build" "${pass[@]}"
