# Sourced (not run) by the benchmarks that run earlyoom, and ORK beside it, in a PID +
# mount namespace of their own holding only N sleeping processes of ours:
# cost_per_minute.sh and earlyoom_search.sh. Needs root and cgroup v1 memory + pids.
#
# sleepers_ns_enter NAME ARGS...   (outside the namespace)
#   Makes the cgroups /sys/fs/cgroup/{memory,pids}/NAME (exported to the inner half as
#   ORK_BENCH_MEM and ORK_BENCH_PIDS: 3 GiB, $procs + 64 tasks; removed at exit), then
#   runs "$0" --inner ARGS... in a new PID + mount namespace (private propagation, a
#   /proc of its own) and exits with its status. Everything in the namespace dies with
#   its init, the inner half.
# sleepers_ns_start   (inside)
#   Starts "$helper" (ork_bench_sleepers) with $procs sleepers in those cgroups and
#   waits until they are ready (exits 1 if they never are); sets helper_pid; writes
#   $tmp/helper.out and $tmp/meminfo.real (the namespace's /proc/meminfo as it is).
# sleepers_ns_stop    (inside, in the EXIT trap)
#   Stops the sleepers by PID (TERM, then KILL after 30 s) and takes back a
#   /proc/meminfo bind mount.
# fake_meminfo PERCENT FILE   (inside)
#   Writes FILE: $tmp/meminfo.real with MemFree and MemAvailable at PERCENT % of
#   MemTotal, to bind-mount over /proc/meminfo.

sleepers_ns_enter() {
  local name=$1
  shift
  export ORK_BENCH_MEM="/sys/fs/cgroup/memory/$name" ORK_BENCH_PIDS="/sys/fs/cgroup/pids/$name"
  sleepers_ns_cleanup() {
    for cg in "$ORK_BENCH_MEM" "$ORK_BENCH_PIDS"; do
      [[ -d "$cg" ]] || continue
      for _ in $(seq 100); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    done
  }
  trap sleepers_ns_cleanup EXIT
  mkdir "$ORK_BENCH_MEM" "$ORK_BENCH_PIDS"
  echo $(( 3 * 1024 * 1024 * 1024 )) > "$ORK_BENCH_MEM/memory.limit_in_bytes"
  echo $(( procs + 64 )) > "$ORK_BENCH_PIDS/pids.max"
  unshare --pid --mount --fork --mount-proc --propagation private "$0" --inner "$@"
  exit $?
}

helper_pid=""
sleepers_ns_start() {
  "$helper" "$procs" "$ORK_BENCH_MEM" "$ORK_BENCH_PIDS" </dev/null >"$tmp/helper.out" 2>&1 &
  helper_pid=$!
  for _ in $(seq 1200); do grep -q '^ready' "$tmp/helper.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$tmp/helper.out" || { echo "sleepers did not start: $(cat "$tmp/helper.out")" >&2; exit 1; }
  cat /proc/meminfo >"$tmp/meminfo.real"
}

sleepers_ns_stop() {
  if [[ -n "$helper_pid" ]]; then
    kill -TERM "$helper_pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$helper_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$helper_pid" 2>/dev/null || true
    wait "$helper_pid" 2>/dev/null || true
  fi
  umount /proc/meminfo 2>/dev/null || true
}

fake_meminfo() {
  local total
  total=$(awk '/^MemTotal:/ { print $2 }' "$tmp/meminfo.real")
  awk -v a=$(( total * $1 / 100 )) '
    /^MemFree:/      { printf "MemFree:        %8d kB\n", a; next }
    /^MemAvailable:/ { printf "MemAvailable:   %8d kB\n", a; next }
    { print }' "$tmp/meminfo.real" >"$2"
}
