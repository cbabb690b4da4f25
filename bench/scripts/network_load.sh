#!/usr/bin/env bash
# ORK's CPU while unrelated broadcast frames cross a bridge at RATE frames/s (the
# network ladder, issue 11).
#
#   bench/scripts/network_load.sh [--rate R] [--seconds S] [--build DIR]
#
# Builds, in network namespaces of its own: A (ORK's node) with a bridge br0 and two
# ports x1, x2 (veths to B and C, "other nodes"); B sends R broadcast frames/s through
# br0 to C for S seconds (tests/tools/arpsend, in bursts of 10 every ms). ORK runs in A
# (nsenter --net, armed for its network scope, --cgroup on an empty cgroup this script
# creates, CPU, disk and VM ladders off), and its CPU time (utime + stime of
# /proc/PID/stat) is taken over the S seconds, in three runs:
#   off: network.enabled = false (the baseline: the memory ladder alone);
#   udp: the ladder on, IPv4 UDP broadcasts: the BPF filter drops them in the kernel;
#   arp: the ladder on, ARP requests from random MACs: every one wakes ORK, is parsed
#        and found not ours (and the bridge learns a new MAC per frame);
#   arp1 (with ORK_NETBENCH_FIXED=1): the same from one stranger's MAC.
# Everything it creates (namespaces, veths, bridge, cgroup, temp dir) is removed at the
# end, also on failure. Each run ends with one `summary run=... key=value` line. Needs
# root. Measures; asserts nothing.
set -euo pipefail

rate=10000
seconds=20
build=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
[[ "$build" = /* ]] || build="$root/$build"
ork="$build/ork"
send="$build/tests/arpsend"
[[ -x "$ork" && -x "$send" ]] || { echo "build the targets ork and arpsend in $build first" >&2; exit 1; }

tag="orkb$$"
A=${tag}a B=${tag}b C=${tag}c
cg="/sys/fs/cgroup/memory/$tag"
tmp=$(mktemp -d /tmp/ork-netbench.XXXXXX)
ork_pid=""

cleanup() {
  if [[ -n "$ork_pid" ]]; then kill -TERM "$ork_pid" 2>/dev/null || true; wait "$ork_pid" 2>/dev/null || true; fi
  for ns in "$A" "$B" "$C"; do ip netns del "$ns" 2>/dev/null || true; done
  rmdir "$cg" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

for ns in "$A" "$B" "$C"; do ip netns add "$ns"; done
ip link add x1 netns "$A" type veth peer name y1 netns "$B"
ip link add x2 netns "$A" type veth peer name y2 netns "$C"
ip -n "$A" link add br0 type bridge
ip -n "$A" link set x1 master br0
ip -n "$A" link set x2 master br0
for d in lo x1 x2 br0; do ip -n "$A" link set "$d" up; done
ip -n "$B" link set y1 up
ip -n "$C" link set y2 up
mkdir "$cg"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
burst=10
interval=$(( 1000000 * burst / rate ))
count=$(( rate * seconds ))

run() {  # run NAME ENABLED SENDER_ARGS...
  local name=$1 enabled=$2; shift 2
  # Each run from an empty FDB (random sources fill it: an entry per frame).
  ip -n "$A" link set br0 type bridge fdb_flush
  printf '[network]\nenabled = %s\n[cpu]\nenabled = false\n[disk]\nenabled = false\n[vm]\nenabled = false\n[recorder]\ndir = "%s"\n' \
    "$enabled" "$tmp/recorder" > "$tmp/ork.toml"
  nsenter --net="/run/netns/$A" "$ork" daemon --cgroup "$cg" --config "$tmp/ork.toml" --kmsg "$tmp/journal-$name.log" \
    --quiet --state-dir "$tmp/state" &
  ork_pid=$!
  for _ in $(seq 100); do grep -q 'event=start' "$tmp/journal-$name.log" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  local before; before=$(ticks "$ork_pid")
  local out; out=$(nsenter --net="/run/netns/$B" "$send" y1 --count "$count" --interval-us "$interval" --burst "$burst" "$@")
  local after; after=$(ticks "$ork_pid")
  local rx; rx=$(ip -n "$C" -s -o link show y2 | sed 's/.*RX: *[a-z ]*\\ *[0-9]* *\([0-9]*\).*/\1/')
  kill -TERM "$ork_pid"; wait "$ork_pid" || true; ork_pid=""
  local sent elapsed
  sent=$(awk '{print $2}' <<<"$out"); elapsed=$(awk '{print $6}' <<<"$out")
  local cpu_ms=$(( (after - before) * 1000 / hz ))
  awk -v n="$name" -v sent="$sent" -v ms="$elapsed" -v cpu="$cpu_ms" -v rx="$rx" \
      -v dup="$(grep -c 'event=mac_duplicate' "$tmp/journal-$name.log" || true)" \
      'BEGIN { printf "%-4s frames=%d over %d ms (%.0f/s), ORK CPU %d ms = %.2f %% of one CPU; C rx counter %s; duplicates said: %d\n", n, sent, ms, sent * 1000 / ms, cpu, cpu * 100 / ms, rx, dup
              printf "summary run=%s frames=%d elapsed_ms=%d rate=%.0f ork_cpu_ms=%d ork_cpu_pct=%.3f rx=%s duplicates=%d\n", n, sent, ms, sent * 1000 / ms, cpu, cpu * 100 / ms, rx, dup }'
}

echo "# $(date -u +%FT%TZ) $(git -C "$root" rev-parse --short HEAD) $(uname -r) nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"
run off false --random-src
run udp true --random-src --udp
run arp true --random-src
if [[ -n "${ORK_NETBENCH_FIXED:-}" ]]; then run arp1 true --src 02:99:99:99:99:99; fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
