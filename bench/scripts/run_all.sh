#!/usr/bin/env bash
# Every measurement docs/benchmarks.md reports, in one run, then the document's
# generated part rewritten from it (bench/scripts/report.py).
#
#   bench/scripts/run_all.sh [--quick] [--no-build] [--no-report]
#
# Builds the targets in build-bench/ (RelWithDebInfo), empties build-bench/results/ and
# writes there the raw output of every part (Google Benchmark JSON and text, the
# scripts' text with their `summary key=value` lines) and context.txt: date, commit,
# machine, compiler, the load before the run and after each part, and each part's
# command, duration and exit status. At the end report.py rewrites the part of
# docs/benchmarks.md between its markers from these files, so that no figure of an
# older commit is left standing.
#
# --quick: a check of the plumbing only (short windows, a few hundred processes, one
# repetition, loop_gap.sh without burners), in build-bench/results-quick/; the report
# goes to results-quick/report.md and docs/benchmarks.md is not touched. Its figures
# mean nothing. About 4 minutes.
# --no-build: use the binaries already in build-bench/.
# --no-report: do not run report.py (it can be run later on the same results).
#
# The full run takes about 20-25 minutes on a 2-CPU machine (each part's duration is
# in context.txt). Run it on a quiet machine: the load is recorded, not corrected for.
# Needs root (cgroups, namespaces). Every part cleans up after itself: ORK runs only
# with --dry-run or scoped (--cgroup) to cgroups the scripts create; earlyoom only
# with --dryrun, inside a namespace of the script's or beside ORK with a 1 % threshold.
set -euo pipefail
quick=0
build=1
report=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --no-build) build=0; shift ;;
    --no-report) report=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run_all.sh needs root (cgroups, namespaces)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bb=build-bench
targets=(ork ork_bench_micro ork_bench_procs ork_bench_sleepers ork_bench_disk ork_bench_io ork_bench_fakevm
  arpsend cpuburn memhog)
if (( build )); then
  # RelWithDebInfo (-O2 -g), as scripts/run.sh and scripts/test.sh build ORK.
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$bb" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  cmake --build "$bb" -j"$(nproc)" --target "${targets[@]}"
fi

if (( quick )); then out=$bb/results-quick; else out=$bb/results; fi
# Nothing of an earlier run may be read as this one's.
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d /tmp/ork-runall.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# Every ladder on (the network ladder is off by default), the recorder in a directory
# of each part's own (the default /var/lib/ork may be another ORK's; a fresh ring for
# each part). Metrics stay off but in footprint-metrics, which measures them.
port=$(( 20000 + $$ % 20000 ))
config() {  # config NAME [metrics]: print the path of a configuration written for part NAME
  local f="$work/$1.toml"
  cat >"$f" <<EOF
[cpu]
enabled = true
[disk]
enabled = true
[io]
enabled = true
[vm]
enabled = true
[network]
enabled = true
[recorder]
enabled = true
dir = "$work/recorder-$1"
EOF
  if [[ ${2:-} == metrics ]]; then
    mkdir -p "$work/metrics"
    printf '[metrics]\nlisten = "127.0.0.1:%d"\ntextfile = "%s"\n' "$port" "$work/metrics/ork.prom" >>"$f"
  fi
  cp "$f" "$out/$1.toml"
  echo "$f"
}

# Sizes: the full run, or the plumbing check.
if (( quick )); then
  reps=1; gb_extra=(--benchmark_min_time=0.05)
  n_big=300; n_small=100; large=(--large=2 --large-mib=8); mounts=5
  fp_warm=5; fp_secs=10; cpm_idle=10; cpm_secs=5
  net=(--seconds 3 --rate 2000); gap=(--procs 300 --runs 1 --limit-mib 256 --control 3)
else
  reps=3; gb_extra=()
  n_big=10000; n_small=1000; large=(); mounts=50
  fp_warm=20; fp_secs=60; cpm_idle=60; cpm_secs=20
  net=(--seconds 20); gap=(--runs 2 --protect)
fi
micro_reps=$(( quick ? 1 : 5 ))
gb=(--benchmark_report_aggregates_only=true --benchmark_out_format=json "${gb_extra[@]}")

context() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "mode: $( (( quick )) && echo 'quick (plumbing check: the figures mean nothing)' || echo full)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench CMakeLists.txt || echo ' (+ uncommitted changes)')"
  echo "commit_subject: $(git log -1 --format=%s)"
  echo "machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "compiler: $(g++ --version | head -1), RelWithDebInfo"
  echo "earlyoom: $(earlyoom -v 2>&1 | head -1 || echo none)"
  echo "benchmark_library: Google Benchmark $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo '(version unknown)')"
  echo "processes: $(find /proc -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l || true)"
  echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
}
context | tee "$out/context.txt"
t_run=$SECONDS

failed=()
part() {  # part NAME OUTFILE COMMAND...: run it, its output to OUTFILE; duration and status to context.txt
  local name=$1 file=$2; shift 2
  echo "== part $name: $*" | tee -a "$out/parts.log"
  local t0=$SECONDS rc=0
  "$@" 2>"$out/$name.err" | tee "$out/$file" || rc=$?
  [[ -s "$out/$name.err" ]] && sed 's/^/  stderr: /' "$out/$name.err"
  local line
  line="part: name=$name seconds=$(( SECONDS - t0 )) rc=$rc file=$file load_after=$(cut -d' ' -f1 /proc/loadavg)"
  echo "$line" | tee -a "$out/context.txt"
  echo "part_cmd: name=$name cmd=$*" >>"$out/context.txt"
  # loop_gap.sh exits 1 when the target is missed: a result, not a failure.
  if (( rc != 0 )) && ! [[ $name == loop-gap && $rc == 1 ]]; then failed+=("$name (exit $rc, see $out/$name.err)"); fi
}

part micro micro.txt "$bb/bench/ork_bench_micro" --benchmark_repetitions=$micro_reps "${gb[@]}" \
  --benchmark_out="$out/micro.json"
part procs procs.txt "$bb/bench/ork_bench_procs" --sleepers=$n_big "${large[@]}" --benchmark_repetitions=$reps "${gb[@]}" \
  --benchmark_out="$out/procs.json"
part disk disk.txt "$bb/bench/ork_bench_disk" --sleepers=$n_big --mounts=$mounts --benchmark_repetitions=$reps "${gb[@]}" \
  --benchmark_out="$out/disk.json"
part io io.txt "$bb/bench/ork_bench_io" --sleepers=$n_big --benchmark_repetitions=$reps "${gb[@]}" \
  --benchmark_out="$out/io.json"
part footprint footprint.txt bench/scripts/footprint_ns.sh --build "$bb" --procs $n_small --warm $fp_warm \
  --seconds $fp_secs --config "$(config footprint)"
part footprint-metrics footprint-metrics.txt bench/scripts/footprint_ns.sh --build "$bb" --procs $n_small \
  --warm $fp_warm --seconds $fp_secs --config "$(config footprint-metrics metrics)" --scrape "http://127.0.0.1:$port/metrics"
part host-earlyoom host-earlyoom.txt bench/scripts/daemon_footprint.sh --build "$bb" --procs $n_small \
  --seconds $fp_secs --earlyoom --config "$(config host-earlyoom)"
part cpm-small cpm-small.txt bench/scripts/cost_per_minute.sh --build "$bb" --procs $n_small \
  --idle-seconds $cpm_idle --seconds $cpm_secs --config "$(config cpm-small)"
part cpm-big cpm-big.txt bench/scripts/cost_per_minute.sh --build "$bb" --procs $n_big \
  --idle-seconds $cpm_idle --seconds $cpm_secs --config "$(config cpm-big)"
part network network.txt env ORK_NETBENCH_FIXED=1 bench/scripts/network_load.sh --build "$bb" "${net[@]}"
part loop-gap loop-gap.txt bench/scripts/loop_gap.sh --build "$bb" "${gap[@]}"

echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/context.txt"
echo "run_seconds: $(( SECONDS - t_run ))" | tee -a "$out/context.txt"
if (( ${#failed[@]} )); then
  printf 'failed: %s\n' "${failed[@]}" | tee -a "$out/context.txt" >&2
fi

if (( report )); then
  if (( quick )); then
    python3 bench/scripts/report.py --results "$out" --out "$out/report.md"
    echo "quick run: report in $out/report.md (docs/benchmarks.md untouched)"
  else
    python3 bench/scripts/report.py --results "$out" --doc docs/benchmarks.md
    echo "docs/benchmarks.md rewritten from $out (check git diff, then commit it)"
  fi
fi
(( ${#failed[@]} == 0 ))
