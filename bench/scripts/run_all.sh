#!/usr/bin/env bash
# Builds the benchmarks in build-bench/ and runs every one of them, writing the results
# to build-bench/results/. Needs root (cgroups, namespaces). Takes about 8 minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-bench -j2 --target ork ork_bench_micro ork_bench_procs ork_bench_sleepers
out=build-bench/results
mkdir -p "$out"
build-bench/bench/ork_bench_micro --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/micro.json" --benchmark_out_format=json | tee "$out/micro.txt"
build-bench/bench/ork_bench_procs --sleepers=10000 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/procs-10000.json" --benchmark_out_format=json | tee "$out/procs-10000.txt"
bench/scripts/daemon_footprint.sh --procs 1000 --seconds 60 --earlyoom | tee "$out/footprint-1000.txt"
bench/scripts/earlyoom_search.sh --procs 10000 --seconds 20 | tee "$out/earlyoom-search-10000.txt"
