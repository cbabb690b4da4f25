#!/usr/bin/env bash
# The longest gap between two memory samples of an ARMED `ork daemon` while its CPU
# ladder freezes and thaws a VM, with 10,000 processes in its table and its memory
# domain near the threshold (above soft): the loop must keep sampling memory on time
# while the other ladders act.
#
#   bench/scripts/loop_gap.sh [--build DIR] [--procs N] [--runs R] [--burners K]
#                             [--limit-mib M] [--tolerance-us T] [--keep-journals DIR]
#                             [--protect] [--control S] [--extra-config FILE]
#
# What it sets up (all its own, all removed at the end, also on failure):
# - a memory cgroup SCOPE: v1 /sys/fs/cgroup/memory/ork-loopgap-PID on a hybrid host,
#   v2 /sys/fs/cgroup/ork-loopgap-PID where cgroup2 has the memory controller. Leaves:
#   SCOPE/work (sleepers, burners, the memory hog) and SCOPE/vm (the fake VM);
# - N sleeping processes (ork_bench_sleepers, default 10,000) in SCOPE/work;
# - a fake VM: bench/fakevm/qemu-system-x86_64 -name guest=benchvm -uuid U -m 128,
#   burning one CPU, alone in SCOPE/vm and (hybrid host) alone in its own v2 cgroup
#   /sys/fs/cgroup/unified/ork-loopgap-PID-vm, so that ORK's cgroup freezer takes it
#   (sys::freezerFor accepts only a cgroup dedicated to that pid);
# - the limit: usage after the above + M MiB (default 1024), then a memhog holding
#   what leaves ORK's "available" at 1.5x the soft threshold (soft = 10 % of the limit,
#   hard = 5 %): near the threshold, above soft, so ORK samples at its adaptive
#   interval, (available - hard) / 1 GiB/s clamped to [2 ms, 1 s], and refreshes its
#   table every second (scan.near_interval_ms);
# Each run: `ork daemon --cgroup SCOPE` ARMED (scope-limited; [cpu] kill_after_s =
# 3600 so the CPU ladder never kills; [vm] libvirt = false: the VM is frozen through its
# cgroup), then K burners (cpuburn, default nproc+1) in SCOPE/work overload the host;
# once ORK says `freeze ... result=ok` the burners are stopped (by PID); once it says
# `thaw ... result=ok` (after cool_down_s = 5 of calm) ORK is stopped with SIGTERM and
# its `stop` line gives longest_sample_gap_us and latest_sample_late_us.
#
# --protect runs ORK without --no-protect (mlockall, nice -20, oom_score_adj): the way
# it runs in production; without it ORK competes for the CPU at nice 0 like the burners.
#
# --control S: the same set-up, but no burners and the CPU ladder off ([cpu] enabled =
# false; the host's own load could overload it): each run lets ORK sample for S seconds
# with only the memory ladder and the table at work, then stops it. Same target check.
#
# --extra-config FILE: appended to ORK's configuration (e.g. "[scan]\nchunk = 32").
#
# Besides ORK's own figures it prints, from /proc/ORK/schedstat, the time ORK spent
# runnable but waiting for a CPU over its run (run_delay) and its number of time slices:
# their ratio is the mean scheduling delay per wake-up (a lateness ORK cannot help).
#
# Target: the longest gap stays under the planned interval (+ T µs, default 0). The
# table at the end is followed by one `summary run=... key=value` line per run.
# Exit 0 when every run meets it, 1 when one does not, 2 on a setup failure or when
# ORK did not freeze/thaw. Needs root. Other work on the host shows in the figures:
# the script prints the load average before and after.
set -euo pipefail

build=build
procs=10000
runs=3
burners=$(( $(nproc) + 1 ))
limit_mib=1024
tolerance_us=0
keep=""
protect=--no-protect
control=0
extra=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --procs) procs=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --burners) burners=$2; shift 2 ;;
    --limit-mib) limit_mib=$2; shift 2 ;;
    --tolerance-us) tolerance_us=$2; shift 2 ;;
    --keep-journals) keep=$2; shift 2 ;;
    --protect) protect=""; shift ;;
    --control) control=$2; shift 2 ;;
    --extra-config) extra=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || { echo "needs root (cgroups)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ "$build" = /* ]] || build="$root/$build"
ork="$build/ork"
sleepers="$build/bench/ork_bench_sleepers"
fakevm="$build/bench/fakevm/qemu-system-x86_64"
cpuburn="$build/tests/cpuburn"
memhog="$build/tests/memhog"
for b in "$ork" "$sleepers" "$fakevm" "$cpuburn" "$memhog"; do
  [[ -x "$b" ]] || { echo "missing $b: build ork ork_bench_sleepers ork_bench_fakevm cpuburn memhog in $build" >&2; exit 2; }
done

name="ork-loopgap-$$"
tmp=$(mktemp -d /tmp/ork-loopgap.XXXXXX)
v2root=""
if [[ "$(stat -fc %T /sys/fs/cgroup)" == cgroup2fs ]]; then v2root=/sys/fs/cgroup
elif [[ -d /sys/fs/cgroup/unified ]]; then v2root=/sys/fs/cgroup/unified; fi
if [[ -n "$v2root" ]] && grep -qw memory "$v2root/cgroup.controllers" 2>/dev/null; then
  mode=v2
  scope="$v2root/$name"
  vm_v2=""  # SCOPE/vm is the VM's own v2 cgroup
else
  mode=v1
  scope="/sys/fs/cgroup/memory/$name"
  [[ -n "$v2root" ]] || { echo "no cgroup2 mount: ORK could only freeze through v1" >&2; exit 2; }
  vm_v2="$v2root/$name-vm"
fi
work="$scope/work"
vmcg="$scope/vm"

sleepers_pid=""
vm_pid=""
hog_pid=""
burn_pid=""
ork_pid=""

stop_pid() {  # stop_pid PID [SIG]: a child of this script; SIGKILL after 10 s
  local pid=$1 sig=${2:-TERM}
  [[ -n "$pid" ]] || return 0
  kill -"$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  set +e
  stop_pid "$ork_pid"; ork_pid=""
  stop_pid "$burn_pid" KILL; burn_pid=""   # its children have PDEATHSIG=SIGKILL
  stop_pid "$vm_pid" KILL; vm_pid=""
  stop_pid "$hog_pid" KILL; hog_pid=""
  stop_pid "$sleepers_pid"; sleepers_pid=""  # it SIGKILLs and reaps its own children
  # A cgroup empties a moment after its last process is reaped.
  for cg in "$vm_v2" "$vmcg" "$work" "$scope"; do
    [[ -n "$cg" && -d "$cg" ]] || continue
    [[ -f "$cg/cgroup.freeze" ]] && echo 0 >"$cg/cgroup.freeze" 2>/dev/null
    for _ in $(seq 100); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    [[ -d "$cg" ]] && echo "warning: could not remove $cg" >&2
  done
  if [[ -n "$keep" ]]; then mkdir -p "$keep" && cp "$tmp"/journal-*.log "$keep"/ 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_line() {  # wait_line FILE PATTERN SECONDS: print the first matching line
  local file=$1 pat=$2 secs=$3 line
  for _ in $(seq $(( secs * 10 ))); do
    line=$(grep -E -m1 -- "$pat" "$file" 2>/dev/null || true)
    [[ -n "$line" ]] && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}
field() { sed -nE "s/(^|.* )$2=([^ ]*).*/\2/p" <<<"$1" | head -1 | tr -d '"'; }
usage_bytes() {
  if [[ $mode == v2 ]]; then cat "$scope/memory.current"; else cat "$scope/memory.usage_in_bytes"; fi
}
set_limit() {
  if [[ $mode == v2 ]]; then echo "$1" >"$scope/memory.max"; else echo "$1" >"$scope/memory.limit_in_bytes"; fi
}

echo "== loop_gap: $procs processes, $runs runs, $burners burners, mode $mode, load: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir "$scope"
[[ $mode == v2 ]] && echo "+memory" >"$scope/cgroup.subtree_control"
mkdir "$work" "$vmcg"
[[ -n "$vm_v2" ]] && mkdir "$vm_v2"
set_limit $(( 16 * 1024 * 1024 * 1024 ))  # room for the sleepers; the real limit comes below

# The sleepers.
"$sleepers" "$procs" "$work" </dev/null >"$tmp/sleepers.out" 2>&1 &
sleepers_pid=$!
for _ in $(seq 1200); do grep -q '^ready' "$tmp/sleepers.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^ready $procs\$" "$tmp/sleepers.out" || { echo "sleepers did not start: $(cat "$tmp/sleepers.out")" >&2; exit 2; }

# The fake VM: in its cgroups before it execs.
uuid=$(cat /proc/sys/kernel/random/uuid)
# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" && { [ -z "$2" ] || echo $$ >"$2/cgroup.procs"; } && shift 3 && exec "$@"' \
  sh "$vmcg" "$vm_v2" "$fakevm" "$fakevm" -name guest=benchvm,debug-threads=on -uuid "$uuid" -m 128 \
  -smp 1 -nodefaults </dev/null >"$tmp/vm.out" 2>&1 &
vm_pid=$!
wait_line "$tmp/vm.out" '^ready' 10 >/dev/null || { echo "the fake VM did not start: $(cat "$tmp/vm.out")" >&2; exit 2; }

# The limit and the hog: available = 1.5 x soft = 15 % of the limit.
used=$(usage_bytes)
mib=$(( 1024 * 1024 ))
limit=$(( (used + mib - 1) / mib * mib + limit_mib * mib ))
set_limit "$limit"
hog_mib=$(( (limit * 85 / 100 - used) / mib ))
"$memhog" --cgroup "$work" hold "$hog_mib" </dev/null >"$tmp/hog.out" 2>&1 &
hog_pid=$!
wait_line "$tmp/hog.out" '^ready' 60 >/dev/null || { echo "memhog did not start: $(cat "$tmp/hog.out")" >&2; exit 2; }
echo "   scope $scope: $procs sleepers + VM used $(( used / mib )) MiB; limit $(( limit / mib )) MiB; memhog holds $hog_mib MiB; usage now $(( $(usage_bytes) / mib )) MiB"

cat >"$tmp/ork.toml" <<'EOF'
[cpu]
sustain_s = 4
kill_after_s = 3600
cool_down_s = 5
vm_min_percent = 5
[vm]
libvirt = false
EOF
if [[ -n "$extra" ]]; then cat "$extra" >>"$tmp/ork.toml"; fi
if (( control > 0 )); then sed -i 's/^\[cpu\]$/[cpu]\nenabled = false/' "$tmp/ork.toml"; fi

declare -a rows=()
declare -a summaries=()
worst=0
fail=0
for r in $(seq "$runs"); do
  journal="$tmp/journal-$r.log"
  state="$tmp/state-$r"
  mkdir "$state"
  : >"$journal"
  # shellcheck disable=SC2086
  "$ork" daemon --cgroup "$scope" --kmsg "$journal" $protect --quiet --config "$tmp/ork.toml" \
    --state-dir "$state" </dev/null 2>"${ORK_LOOPGAP_STDERR:-$tmp/ork-$r.err}" &
  ork_pid=$!
  t_start=$(date +%s.%N)
  start=$(wait_line "$journal" 'event=start' 30) || { echo "run $r: ORK did not start: $(cat "$tmp/ork-$r.err")" >&2; exit 2; }
  avail=$(field "$start" avail_kib); hard=$(field "$start" hard_kib); soft=$(field "$start" soft_kib)
  # (available - hard) / 1 GiB/s, clamped to [2 ms, 1 s], in µs.
  planned=$(awk -v a="$avail" -v h="$hard" 'BEGIN { x = (a - h) * 1024 / (1024 * 1024 * 1024) * 1e6;
    if (x < 2000) x = 2000; if (x > 1000000) x = 1000000; printf "%d", x }')
  (( avail > soft )) || echo "   run $r: warning: available ${avail} KiB is not above soft ${soft} KiB" >&2
  echo "   run $r: start avail=${avail} KiB soft=${soft} KiB hard=${hard} KiB -> planned interval ${planned} µs; load $(cut -d' ' -f1 /proc/loadavg)"
  # Let the first table pass end and the VM be found before the overload.
  wait_line "$journal" "event=vm_found" 30 >/dev/null || { echo "run $r: ORK did not find the VM" >&2; cat "$journal" >&2; exit 2; }
  sleep 2

  t0=$(date +%s.%N)
  if (( control > 0 )); then
    sleep "$control"
    t1=$t0 freeze="" thaw=""
  else
    "$cpuburn" --cgroup "$work" --children "$burners" </dev/null >"$tmp/burn.out" 2>&1 &
    burn_pid=$!
    freeze=$(wait_line "$journal" "event=freeze .*result=" 90) || { echo "run $r: no freeze line in 90 s" >&2; cat "$journal" >&2; exit 2; }
    t1=$(date +%s.%N)
    stop_pid "$burn_pid" KILL; burn_pid=""
    [[ $(field "$freeze" result) == ok ]] || { echo "run $r: freeze failed: $freeze" >&2; cat "$journal" >&2; exit 2; }
    thaw=$(wait_line "$journal" "event=thaw .*result=" 600) || { echo "run $r: no thaw line in 600 s" >&2; cat "$journal" >&2; exit 2; }
    [[ $(field "$thaw" result) == ok ]] || { echo "run $r: thaw failed: $thaw" >&2; cat "$journal" >&2; exit 2; }
  fi
  t2=$(date +%s.%N)
  read -r oncpu delay slices <"/proc/$ork_pid/schedstat"
  t_ork=$(awk -v a="$t_start" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
  stop_pid "$ork_pid"; ork_pid=""
  stopl=$(grep -m1 'event=stop' "$journal" || true)
  [[ -n "$stopl" ]] || { echo "run $r: no stop line" >&2; cat "$journal" >&2; exit 2; }
  gap=$(field "$stopl" longest_sample_gap_us); late=$(field "$stopl" latest_sample_late_us)
  over=$(( gap - planned ))
  verdict=met
  if (( gap > planned + tolerance_us )); then verdict="NOT met"; fail=1; fi
  rows+=("$(printf '%3d | %8d | %8d | %+9d | %8d | %6s | %6s | %6s | %6s | %8.1f | %8.0f | %7.1f / %6s | %s' "$r" "$planned" "$gap" \
    "$over" "$late" "$(field "$freeze" took_ms)" "$(field "$thaw" took_ms)" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')" \
    "$(awk -v d="$delay" 'BEGIN { print d / 1e6 }')" "$(awk -v d="$delay" -v n="$slices" 'BEGIN { print (n > 0 ? d / n / 1e3 : 0) }')" \
    "$(awk -v d="$oncpu" 'BEGIN { print d / 1e9 }')" "$t_ork" "$verdict")")
  summaries+=("$(printf 'summary run=%d procs=%d control=%d planned_us=%d gap_us=%d over_us=%d late_us=%s freeze_ms=%s thaw_ms=%s run_delay_ms=%s ork_cpu_s=%s run_s=%s verdict=%s' \
    "$r" "$procs" "$control" "$planned" "$gap" "$over" "${late:--}" "$(field "$freeze" took_ms)" "$(field "$thaw" took_ms)" \
    "$(awk -v d="$delay" 'BEGIN { printf "%.1f", d / 1e6 }')" "$(awk -v d="$oncpu" 'BEGIN { printf "%.2f", d / 1e9 }')" \
    "$t_ork" "${verdict// /_}")")
  [[ -n "$freeze" ]] && echo "   run $r: $freeze"
  [[ -n "$thaw" ]] && echo "   run $r: $thaw"
  echo "   run $r: $stopl"
  (( gap > worst )) && worst=$gap
done

echo
echo "run | planned µs | longest gap µs | gap - planned µs | worst late µs | freeze took_ms | thaw took_ms | s to freeze | s to thaw | ORK run_delay ms | µs per slice | ORK CPU s / run s | target"
for row in "${rows[@]}"; do echo "$row"; done
for line in "${summaries[@]}"; do echo "$line"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$fail"
