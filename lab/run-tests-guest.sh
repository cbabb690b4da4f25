#!/usr/bin/env bash
# The integration tests on a pure cgroup v2 kernel: lab/testguest.py in the lab's QEMU
# guest (docs/lab.md). Needs root and the test binaries built in the build directory.
#
#   lab/run-tests-guest.sh --build-dir DIR [--only memory,cpu,freezer,cli] [--filter F]
#                          [--mem MIB] [--smp N] [--kvm]
#
# Installs missing packages (scripts/deps.sh lab). Exit codes: 0 ok, 1 failure, 77 it
# cannot run here and CI is not "true" (with CI=true that is a failure).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

unavailable() {
  if [ "${CI:-}" = "true" ]; then
    echo "cgroup2-guest: FAIL: $*" >&2
    exit 1
  fi
  echo "cgroup2-guest: SKIP: $*" >&2
  exit 77
}

[ "$(id -u)" -eq 0 ] || unavailable "needs root (a memory cgroup for QEMU)"
need=0
for t in qemu-system-x86_64 busybox cpio gzip dpkg-deb python3; do
  command -v "$t" >/dev/null 2>&1 || need=1
done
if [ $need = 1 ]; then
  "$top/scripts/deps.sh" lab >&2 || unavailable "installing the lab's packages failed"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || unavailable "qemu-system-x86_64 is missing"
exec python3 "$here/testguest.py" "$@"
