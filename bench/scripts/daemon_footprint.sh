#!/usr/bin/env bash
# Idle footprint of `ork daemon` (RSS, CPU) with about PROCS processes on the host, and
# optionally of earlyoom beside it under the same conditions.
#
#   bench/scripts/daemon_footprint.sh [--procs N] [--seconds S] [--build DIR] [--earlyoom] [--config FILE]
#                                     [--scrape URL]
#
# --scrape URL: with [metrics] on in --config, GET URL (its /metrics) every 5 s during
# the measured window, so that the figures include serving it. ORK's `ork status` socket
# is put in the script's temporary directory (not /run/ork, where another ORK may be).
#
# Both run host-wide but never act: ork with --dry-run, earlyoom with --dryrun and a
# 1 % threshold (the host has far more available). Extra sleeping processes, when the
# host has fewer than N, are spawned by ork_bench_sleepers into v1 memory + pids cgroups
# this script creates, and killed (by their parent, by PID) and removed at the end.
# Prints VmRSS/RssAnon/RssFile/VmHWM and the CPU used over S seconds after a 5 s warm-up
# (schedstat, all threads), then one `summary daemon=... key=value` line per daemon.
# Needs root (cgroups). Measures; asserts nothing.
set -euo pipefail

procs=1000
seconds=60
build=build-bench
with_earlyoom=0
config=""
scrape=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --procs) procs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --earlyoom) with_earlyoom=1; shift ;;
    --config) config=$2; shift 2 ;;
    --scrape) scrape=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
[[ "$build" = /* ]] || build="$root/$build"
ork="$build/ork"
helper="$build/bench/ork_bench_sleepers"
[[ -x "$ork" && -x "$helper" ]] || { echo "build $ork and $helper first (docs/benchmarks.md)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/ork-footprint.XXXXXX)
name="ork-bench-fp-$$"
mem_cg="/sys/fs/cgroup/memory/$name"
pids_cg="/sys/fs/cgroup/pids/$name"
helper_pid=""
ork_pid=""
eo_pid=""

stop_pid() {  # stop_pid PID: SIGTERM a child of this script, SIGKILL after 10 s
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    kill -TERM "$pid" 2>/dev/null || true
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_pid "$ork_pid"
  stop_pid "$eo_pid"
  stop_pid "$helper_pid"  # it SIGKILLs and reaps its own children
  for cg in "$mem_cg" "$pids_cg"; do
    [[ -d "$cg" ]] || continue
    for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

count_procs() { find /proc -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l || true; }  # processes come and go while it lists

have=$(count_procs)
extra=$(( procs - have ))
if (( extra > 0 )); then
  mkdir "$mem_cg" "$pids_cg"
  echo $(( 512 * 1024 * 1024 )) > "$mem_cg/memory.limit_in_bytes"
  echo $(( extra + 8 )) > "$pids_cg/pids.max"
  "$helper" "$extra" "$mem_cg" "$pids_cg" </dev/null >"$tmp/helper.out" 2>&1 &
  helper_pid=$!
  for _ in $(seq 600); do grep -q '^ready' "$tmp/helper.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$tmp/helper.out" || { echo "sleepers did not start: $(cat "$tmp/helper.out")" >&2; exit 1; }
fi

"$ork" daemon --dry-run --quiet --kmsg "$tmp/kmsg.log" --status-socket "$tmp/run/status.sock" \
  ${config:+--config "$config"} 2>"$tmp/ork.err" &
ork_pid=$!
if (( with_earlyoom )); then
  command -v earlyoom >/dev/null || { echo "earlyoom is not installed (apt-get install earlyoom)" >&2; exit 1; }
  # -r 3600: the report interval of Debian's /etc/default/earlyoom.
  earlyoom -m 1 -s 1 -r 3600 --dryrun >"$tmp/earlyoom.out" 2>&1 &
  eo_pid=$!
fi

sleep 5
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# ns on CPU, summed over the process's threads (ORK's recorder, watchdog and workers too).
runns() { cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
for p in $ork_pid $eo_pid; do kill -0 "$p" 2>/dev/null || { echo "PID $p exited early" >&2; cat "$tmp"/*.err "$tmp"/*.out >&2 || true; exit 1; }; done
ork_t0=$(ticks "$ork_pid"); ork_n0=$(runns "$ork_pid")
[[ -n "$eo_pid" ]] && { eo_t0=$(ticks "$eo_pid"); eo_n0=$(runns "$eo_pid"); }
if [[ -n "$scrape" ]]; then
  scrapes=0
  for _ in $(seq $(( seconds / 5 ))); do
    curl -sf -o /dev/null "$scrape" && scrapes=$(( scrapes + 1 ))
    sleep 5
  done
  sleep $(( seconds % 5 ))
  echo "== $scrapes scrapes of $scrape in the window"
else
  sleep "$seconds"
fi
ork_t1=$(ticks "$ork_pid"); ork_n1=$(runns "$ork_pid")
[[ -n "$eo_pid" ]] && { eo_t1=$(ticks "$eo_pid"); eo_n1=$(runns "$eo_pid"); }
hz=$(getconf CLK_TCK)
seen=$(count_procs)

report() {  # report NAME TAG PID T0 T1 N0 N1
  local name=$1 tag=$2 pid=$3 t0=$4 t1=$5 n0=$6 n1=$7
  local total
  total=$(ticks "$pid")
  echo "== $name (PID $pid), $seen processes on the host, ${seconds} s measured after 5 s warm-up"
  grep -E '^(VmRSS|RssAnon|RssFile|RssShmem|VmHWM|VmLck|VmSize|Threads):' "/proc/$pid/status" | sed 's/^/  /'
  # Where the resident memory is, per mapping (smaps): size, Rss, Anonymous, Locked.
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6) " " $2 }
       /^Size:/ { sz = $2 } /^Rss:/ { rss = $2 } /^Anonymous:/ { an = $2 }
       /^Locked:/ { if (rss > 0) printf "    %-36s size %6d KiB  Rss %5d  Anon %5d  Locked %5d\n", substr(name, length(name) > 36 ? length(name) - 35 : 1), sz, rss, an, $2 }' \
    "/proc/$pid/smaps" 2>/dev/null || true
  awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$seconds" -v tot="$total" -v n0="$n0" -v n1="$n1" 'BEGIN {
    printf "  utime+stime over the window: %d ticks (CLK_TCK %d) = %.4f %% of one core\n", b - a, hz, (b - a) / hz / s * 100
    printf "  schedstat run time over the window: %.3f ms = %.4f %% of one core\n", (n1 - n0) / 1e6, (n1 - n0) / 1e9 / s * 100
    printf "  cpu_total_since_start: %.2f s\n", tot / hz }'
  # One machine-readable line (bench/scripts/report.py reads it).
  awk -v d="$tag" -v procs="$seen" -v s="$seconds" -v a="$t0" -v b="$t1" -v n0="$n0" -v n1="$n1" '
    /^VmRSS:/ { rss = $2 } /^RssAnon:/ { an = $2 } /^RssFile:/ { fi = $2 } /^VmHWM:/ { hwm = $2 } /^Threads:/ { th = $2 }
    END { printf "summary daemon=%s procs=%d seconds=%d vmrss_kib=%d rssanon_kib=%d rssfile_kib=%d vmhwm_kib=%d threads=%d cpu_ticks=%d cpu_ms=%.3f cpu_pct=%.4f\n",
          d, procs, s, rss, an, fi, hwm, th, b - a, (n1 - n0) / 1e6, (n1 - n0) / 1e9 / s * 100 }' "/proc/$pid/status"
}
report "ork daemon --dry-run" ork "$ork_pid" "$ork_t0" "$ork_t1" "$ork_n0" "$ork_n1"
[[ -n "$eo_pid" ]] && report "earlyoom --dryrun" earlyoom "$eo_pid" "$eo_t0" "$eo_t1" "$eo_n0" "$eo_n1"
echo "== ork journal lines: $(wc -l <"$tmp/kmsg.log" 2>/dev/null || echo 0)"
exit 0
