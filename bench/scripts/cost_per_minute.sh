#!/usr/bin/env bash
# ORK's and earlyoom's CPU per minute, side by side, with N processes, in three memory
# states: idle (the host's own /proc/meminfo), near (15 % available: ORK refreshes its
# table every scan.near_interval_ms = 1 s; earlyoom, above its -m 10, polls faster but
# does not scan) and below (4 %: under earlyoom's 10 % and ORK's hard 5 %: earlyoom
# searches /proc for a victim at every poll, ORK decides at every sample; both dry runs).
#
#   bench/scripts/cost_per_minute.sh [--procs N] [--idle-seconds S] [--seconds S] [--build DIR] [--config FILE]
#
# Both daemons cannot be pointed at another /proc, so the script runs in a new PID +
# mount namespace (unshare) holding only N sleepers of ours (ork_bench_sleepers, in v1
# memory + pids cgroups this script creates); for near and below, a file saying so is
# bind-mounted over /proc/meminfo. Both run at the same time, each restarted for each
# state (they keep /proc/meminfo open): `ork daemon --dry-run --kmsg FILE` (every ladder
# at its default: memory, CPU, disk, VMs) and `earlyoom --dryrun -m 10 -s 100 -r 0`.
# After a 5 s warm-up (ORK's first pass not counted) the CPU each used (schedstat) over
# the window is scaled to one minute (ORK: all its threads). The idle window (default
# 60 s) holds two of ORK's 30 s refreshes. --config FILE is passed to ORK. Each state
# ends with one `summary state=... key=value` line. Needs root. Measures; asserts nothing.
set -euo pipefail

procs=10000
idle_seconds=60
seconds=20
build=build-bench
config=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --procs) procs=$2; shift 2 ;;
    --idle-seconds) idle_seconds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --inner) inner=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ "$build" = /* ]] || build="$root/$build"
[[ -z "$config" || "$config" = /* ]] || config="$PWD/$config"
helper="$build/bench/ork_bench_sleepers"
ork="$build/ork"
# shellcheck source=bench/scripts/sleepers_ns.sh
. "$root/bench/scripts/sleepers_ns.sh"

if [[ -z "${inner:-}" ]]; then
  command -v earlyoom >/dev/null || { echo "earlyoom is not installed (apt-get install earlyoom)" >&2; exit 1; }
  [[ -x "$helper" && -x "$ork" ]] || { echo "build $ork and $helper first (docs/benchmarks.md)" >&2; exit 1; }
  sleepers_ns_enter "ork-bench-cpm-$$" --procs "$procs" --idle-seconds "$idle_seconds" --seconds "$seconds" --build "$build" \
    ${config:+--config "$config"}
fi

# --- inside the namespace: we are PID 1 here ---
tmp=$(mktemp -d /tmp/ork-cpm.XXXXXX)
ork_pid=""
eo_pid=""
stop_both() {
  for p in $ork_pid $eo_pid; do
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  ork_pid=""
  eo_pid=""
}
finish() {
  stop_both
  sleepers_ns_stop
  rm -rf "$tmp"
}
trap finish EXIT

sleepers_ns_start
fake_meminfo 15 "$tmp/meminfo.near"
fake_meminfo 4 "$tmp/meminfo.below"

# ns on CPU, summed over the process's threads (ORK's recorder, watchdog and workers too).
runns() { cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
nproc_ns=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
echo "== CPU per minute, $nproc_ns processes in the PID namespace ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %-6s %8s  %14s %14s  %10s %14s\n' state window "ORK ms/min" "ORK %core" "eo searches" "earlyoom ms/min"
for state in idle near below; do
  umount /proc/meminfo 2>/dev/null || true
  [[ "$state" != idle ]] && mount --bind "$tmp/meminfo.$state" /proc/meminfo
  win=$seconds
  [[ "$state" == idle ]] && win=$idle_seconds
  : >"$tmp/eo.$state"
  "$ork" daemon --dry-run --quiet --kmsg "$tmp/ork.$state.log" --status-socket "$tmp/status.sock" \
    ${config:+--config "$config"} 2>"$tmp/ork.$state.err" &
  ork_pid=$!
  earlyoom --dryrun -m 10 -s 100 -r 0 >"$tmp/eo.$state" 2>&1 &
  eo_pid=$!
  sleep 5
  o0=$(runns "$ork_pid"); e0=$(runns "$eo_pid"); s0=$(grep -c 'dryrun' "$tmp/eo.$state" || true)
  sleep "$win"
  o1=$(runns "$ork_pid"); e1=$(runns "$eo_pid"); s1=$(grep -c 'dryrun' "$tmp/eo.$state" || true)
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$ork_pid/status")
  stop_both
  awk -v st="$state" -v w="$win" -v o0="$o0" -v o1="$o1" -v e0="$e0" -v e1="$e1" -v k=$(( s1 - s0 )) 'BEGIN {
    om = (o1 - o0) / 1e6 * 60 / w; em = (e1 - e0) / 1e6 * 60 / w
    printf "  %-6s %6d s  %14.1f %13.3f%%  %10d %14.1f", st, w, om, om / 600, k, em
    if (k > 0) printf "  (earlyoom %.2f ms per search)", (e1 - e0) / 1e6 / k
    printf "\n" }'
  wk=$(grep -cE 'would_kill' "$tmp/ork.$state.log" || true)
  echo "         ORK: $wk would_kill lines, VmRSS ${rss} kB"
  awk -v st="$state" -v n="$nproc_ns" -v w="$win" -v o0="$o0" -v o1="$o1" -v e0="$e0" -v e1="$e1" -v k=$(( s1 - s0 )) \
      -v wk="$wk" -v rss="$rss" 'BEGIN {
    printf "summary state=%s procs=%d window_s=%d ork_ms_per_min=%.2f earlyoom_ms_per_min=%.2f earlyoom_searches=%d earlyoom_ms_per_search=%s ork_would_kill=%d ork_vmrss_kib=%d\n",
      st, n, w, (o1 - o0) / 1e6 * 60 / w, (e1 - e0) / 1e6 * 60 / w, k, (k > 0 ? sprintf("%.3f", (e1 - e0) / 1e6 / k) : "-"), wk, rss }'
done
exit 0
