#!/usr/bin/env bash
# Builds the benchmarks in build-bench/ and runs every one of them, writing the results
# to build-bench/results/ (context.txt: date, commit, machine, load before and after).
# Needs root (cgroups, namespaces). Takes about 15 minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# RelWithDebInfo (-O2 -g), as scripts/run.sh and scripts/test.sh build ORK.
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-bench -j2 --target ork ork_bench_micro ork_bench_procs ork_bench_sleepers
out=build-bench/results
mkdir -p "$out"
context() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench CMakeLists.txt || echo ' (+ uncommitted changes)')"
  echo "machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "compiler: $(g++ --version | head -1), RelWithDebInfo"
  echo "earlyoom: $(earlyoom -v 2>&1 | head -1 || echo none)"
  echo "load: $(cat /proc/loadavg)"
}
context | tee "$out/context.txt"
build-bench/bench/ork_bench_micro --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/micro.json" --benchmark_out_format=json | tee "$out/micro.txt"
echo "load after micro: $(cat /proc/loadavg)" | tee -a "$out/context.txt"
build-bench/bench/ork_bench_procs --sleepers=10000 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/procs-10000.json" --benchmark_out_format=json | tee "$out/procs-10000.txt"
echo "load after procs: $(cat /proc/loadavg)" | tee -a "$out/context.txt"
bench/scripts/daemon_footprint.sh --procs 1000 --seconds 60 --earlyoom | tee "$out/footprint-1000.txt"
bench/scripts/cost_per_minute.sh --procs 1000 | tee "$out/cost-per-minute-1000.txt"
bench/scripts/cost_per_minute.sh --procs 10000 | tee "$out/cost-per-minute-10000.txt"
echo "load at the end: $(cat /proc/loadavg)" | tee -a "$out/context.txt"
