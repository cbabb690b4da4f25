#!/usr/bin/env bash
# earlyoom's cost per victim search with N processes, for comparison with ORK's
# kill-time decision (docs/benchmarks.md).
#
#   bench/scripts/earlyoom_search.sh [--procs N] [--seconds S] [--build DIR]
#
# earlyoom cannot be pointed at another /proc, so it runs in a new PID + mount
# namespace (unshare) where /proc/meminfo is a file bind-mounted over the real one that
# says only 1 % is available, together with N sleeping processes spawned there by
# ork_bench_sleepers (inside v1 memory + pids cgroups this script creates). It runs with
# --dryrun, so each turn of its loop searches for a victim and kills nothing; and inside
# the namespace it could not even see another process. The CPU it used over S seconds
# divided by the searches it logged is its cost per search. Needs root.
set -euo pipefail

procs=10000
seconds=20
build=build-bench
while [[ $# -gt 0 ]]; do
  case "$1" in
    --procs) procs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --inner) inner=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ "$build" = /* ]] || build="$root/$build"
helper="$build/bench/ork_bench_sleepers"
# shellcheck source=bench/scripts/sleepers_ns.sh
. "$root/bench/scripts/sleepers_ns.sh"

if [[ -z "${inner:-}" ]]; then
  command -v earlyoom >/dev/null || { echo "earlyoom is not installed (apt-get install earlyoom)" >&2; exit 1; }
  [[ -x "$helper" ]] || { echo "build $helper first (docs/benchmarks.md)" >&2; exit 1; }
  sleepers_ns_enter "ork-bench-eo-$$" --procs "$procs" --seconds "$seconds" --build "$build"
fi

# --- inside the namespace: we are PID 1 here ---
tmp=$(mktemp -d /tmp/ork-eo.XXXXXX)
eo_pid=""
finish() {
  [[ -n "$eo_pid" ]] && { kill -KILL "$eo_pid" 2>/dev/null || true; wait "$eo_pid" 2>/dev/null || true; }
  sleepers_ns_stop
  rm -rf "$tmp"
}
trap finish EXIT

sleepers_ns_start
# A meminfo that says 1 % is available (and nothing free), everything else as is.
fake_meminfo 1 "$tmp/meminfo"
mount --bind "$tmp/meminfo" /proc/meminfo

nproc_ns=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
earlyoom --dryrun -m 10 -s 100 -r 0 >"$tmp/eo.out" 2>&1 &
eo_pid=$!
sleep 1
runns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
n0=$(runns "$eo_pid"); t0=$(ticks "$eo_pid"); s0=$(grep -c 'dryrun' "$tmp/eo.out" || true)
sleep "$seconds"
n1=$(runns "$eo_pid"); t1=$(ticks "$eo_pid"); s1=$(grep -c 'dryrun' "$tmp/eo.out" || true)
echo "== earlyoom --dryrun, $nproc_ns processes in its PID namespace, /proc/meminfo says 1 % available"
echo "  first lines of its output:"; head -12 "$tmp/eo.out" | sed 's/^/    /'
awk -v n0="$n0" -v n1="$n1" -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v s="$seconds" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  k = s1 - s0
  printf "  searches (dryrun lines) in %d s: %d\n", s, k
  printf "  CPU over the window: %.1f ms (schedstat), %d ticks of %d Hz\n", (n1 - n0) / 1e6, t1 - t0, hz
  if (k > 0) printf "  CPU per search: %.2f ms\n", (n1 - n0) / 1e6 / k
}'
grep -E '^VmRSS|^VmHWM' "/proc/$eo_pid/status" | sed 's/^/  /'
exit 0
