#!/usr/bin/env bash
# Idle footprint of `ork daemon --dry-run` in a PID namespace of its own with exactly
# PROCS sleeping processes: RSS, anonymous and file memory, the anonymous memory of each
# mapping, and ORK's CPU over a window after a warm-up.
#
#   bench/scripts/footprint_ns.sh [--procs N] [--warm S] [--seconds S] [--build DIR] [--config FILE]
#                                 [--scrape URL]
#
# Unlike daemon_footprint.sh (which measures on the host as it is, beside earlyoom), ORK
# here sees only the namespace's processes (its own /proc): the figure does not move
# with what else runs on the machine. The sleepers are identical (`sleep`), the best
# case for identities shared between processes. Memory and CPU are still sensed
# host-wide (/proc/meminfo, /proc/stat): on a loaded machine the CPU ladder may be in an
# overload episode. Needs root (unshare). Dry-run: nothing is ever killed; the sleepers
# die with the namespace. --scrape URL: with [metrics] listen in --config, GET URL every
# 5 s of the window (ORK is in the host's network namespace). Ends with one
# `summary key=value` line and one `mapping name=... key=value` line per mapped file or
# kind of anonymous mapping (its VMAs summed). Measures; asserts nothing.
set -euo pipefail

procs=1000
warm=15
seconds=60
build=build
config=""
scrape=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --procs) procs=$2; shift 2 ;;
    --warm) warm=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --scrape) scrape=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ "$build" = /* ]] || build="$root/$build"
ork="$build/ork"
[[ -x "$ork" ]] || { echo "build $ork first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ork-fpns.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
extra=()
[[ -n "$config" ]] && extra=(--config "$config")

# shellcheck disable=SC2016
unshare --pid --fork --mount-proc env ORK="$ork" PROCS="$procs" WARM="$warm" SECS="$seconds" TMPD="$tmp" SCRAPE="$scrape" \
  bash -c '
  for _ in $(seq "$PROCS"); do sleep 1000000 & done
  "$ORK" daemon --dry-run --quiet --kmsg "$TMPD/kmsg.log" --status-socket "$TMPD/status.sock" "$@" 2>"$TMPD/err.log" &
  p=$!
  sleep "$WARM"
  kill -0 "$p" 2>/dev/null || { echo "ork exited: $(cat "$TMPD/err.log")" >&2; exit 1; }
  # All threads: utime+stime (ticks) of the process, run time (ns) summed over its tasks.
  runns() { cat /proc/$p/task/*/schedstat 2>/dev/null | awk "{s+=\$1} END{print s}"; }
  a=$(awk "{print \$14+\$15}" /proc/$p/stat); ra=$(runns)
  if [ -n "$SCRAPE" ]; then
    scrapes=0
    for _ in $(seq $((SECS / 5))); do
      curl -sf -o /dev/null "$SCRAPE" && scrapes=$((scrapes + 1))
      sleep 5
    done
    sleep $((SECS % 5))
    echo "== $scrapes scrapes of $SCRAPE in the window"
  else
    sleep "$SECS"
  fi
  b=$(awk "{print \$14+\$15}" /proc/$p/stat); rb=$(runns)
  hz=$(getconf CLK_TCK)
  echo "== ork daemon --dry-run, $(ls -d /proc/[0-9]* | wc -l) processes in its PID namespace, ${SECS} s after ${WARM} s"
  grep -E "^(VmRSS|RssAnon|RssFile|VmHWM|Threads)" /proc/$p/status | sed "s/^/  /"
  awk -v t=$((b - a)) -v r=$((rb - ra)) -v hz="$hz" -v s="$SECS" \
    "BEGIN{printf \"  CPU: %d ticks = %.3f %% of one core; run time (schedstat, all threads) %.1f ms = %.3f %%\n\", t, 100*t/hz/s, r/1e6, 100*r/1e9/s}"
  printf "  anonymous KiB by mapping:"
  awk "/^[0-9a-f]+-/{name=\$6} /^Anonymous:/{ if (\$2>0) printf \" %s:%s\", (name==\"\"?\"[anon]\":name), \$2}" /proc/$p/smaps
  echo
  n=$(ls -d /proc/[0-9]* | wc -l)
  awk -v procs="$n" -v w="$WARM" -v s="$SECS" -v t=$((b - a)) -v r=$((rb - ra)) -v hz="$hz" -v sc="${scrapes:--}" "
    /^VmRSS:/ { rss = \$2 } /^RssAnon:/ { an = \$2 } /^RssFile:/ { fi = \$2 } /^VmHWM:/ { hwm = \$2 } /^Threads:/ { th = \$2 }
    END { printf \"summary procs=%d warm_s=%d seconds=%d vmrss_kib=%d rssanon_kib=%d rssfile_kib=%d vmhwm_kib=%d threads=%d cpu_ticks=%d cpu_ms=%.3f cpu_pct=%.4f scrapes=%s\\n\",
          procs, w, s, rss, an, fi, hwm, th, t, r / 1e6, 100 * r / 1e9 / s, sc }" /proc/$p/status
  awk "/^[0-9a-f]+-/ { name = (\$6 == \"\" ? \"[anon]\" : \$6); v[name]++ }
       /^Size:/ { sz[name] += \$2 } /^Rss:/ { rs[name] += \$2 } /^Anonymous:/ { an[name] += \$2 } /^Locked:/ { lk[name] += \$2 }
       END { for (k in v) if (rs[k] > 0) printf \"mapping name=%s vmas=%d size_kib=%d rss_kib=%d anon_kib=%d locked_kib=%d\\n\", k, v[k], sz[k], rs[k], an[k], lk[k] }" /proc/$p/smaps
  kill "$p"; wait "$p" 2>/dev/null
  kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
  exit 0' bash "${extra[@]}"
