#!/usr/bin/env bash
# Builds ORK and runs every test: unit, CLI, integration (root, real cgroups) and the
# lab smoke (root, QEMU guest). With CI=true nothing may skip: a test that needs root,
# a cgroup or QEMU and cannot have it fails. Also runs the unit tests under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
build=${ORK_BUILD_DIR:-build}
jobs=$(nproc)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs"

# The sanitizer build: the pure code (parsers, policy, config, journal, sensors on
# fixtures) under AddressSanitizer and UndefinedBehaviorSanitizer.
if [ "${ORK_SKIP_SANITIZERS:-0}" != "1" ]; then
  cmake -S . -B "$build-asan" -DORK_SANITIZE=ON -DORK_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build-asan" -j"$jobs" --target test_unit_parse test_unit_policy test_unit_config test_unit_journal test_unit_sense \
    test_unit_cpu test_unit_vm test_unit_virtproto test_unit_virt
  (cd "$build-asan" && ctest -L unit --output-on-failure)
fi

cd "$build"
ctest --output-on-failure --timeout 900 ${CTEST_ARGS:-}
