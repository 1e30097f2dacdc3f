#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root): installs
# what it needs, builds reaper four ways and runs every suite.
#
#   1. glibc, fully static: unit, integration, e2e (a private containerd),
#      packaging (install.sh, the .deb, manifests) and lint suites
#   2. clang, ASan+UBSan (dynamic, sanitizers need it), with the libFuzzer
#      targets: unit, integration and e2e suites (monitors and the shim are
#      started from the same binary, so they run sanitized too; e2e's fault
#      cycles: 50 instead of 200), then the fuzz suite (each target for
#      10 s, REAPER_FUZZ_SECONDS overrides), then clang-tidy over src/ with
#      its compile database. One build serves all three.
#   3. musl, fully static (Zig 0.11 from npm, packaging/musl/build.sh):
#      unit, integration and e2e suites
#
# Ends with one line `N passed, N failed[, N skipped]` counted over all runs;
# exits non-zero when anything failed.
#
# Environment: REAPER_TEST_SKIP_MUSL=1 skips step 3 (for quick local runs;
# CI never sets it). REAPER_TEST_SUITES limits step 1 (e.g. "unit integration").
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
out=build-ci
mkdir -p "$out"

[ "$(id -u)" = 0 ] || { echo "run-all: run as root (mount namespaces, containerd)" >&2; exit 2; }

started=$SECONDS
step() { printf '\n=== %s (at %d s) ===\n' "$*" $((SECONDS - started)); }
passed=0 failed=0 skipped=0

# Adds one `meson test` run's summary to the totals. A doctest binary is one
# meson test but many test cases: its cases are counted instead of it (from
# the doctest summary line meson keeps in testlog.txt).
count() {
  local log=$1 testlog=${2:-} ok fail skip xfail xpass timeout
  ok=$(sed -n 's/^Ok: *\([0-9]*\)[[:space:]]*$/\1/p' "$log" | tail -1)
  xfail=$(sed -n 's/^Expected Fail: *\([0-9]*\)[[:space:]]*$/\1/p' "$log" | tail -1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\)[[:space:]]*$/\1/p' "$log" | tail -1)
  xpass=$(sed -n 's/^Unexpected Pass: *\([0-9]*\)[[:space:]]*$/\1/p' "$log" | tail -1)
  timeout=$(sed -n 's/^Timeout: *\([0-9]*\)[[:space:]]*$/\1/p' "$log" | tail -1)
  skip=$(sed -n 's/^Skipped: *\([0-9]*\)[[:space:]]*$/\1/p' "$log" | tail -1)
  ok=$((${ok:-0} + ${xfail:-0}))
  fail=$((${fail:-0} + ${xpass:-0} + ${timeout:-0}))
  if [ -n "$testlog" ] && [ -f "$testlog" ]; then
    local cases case_ok case_fail
    while read -r case_ok case_fail; do
      if [ "$case_fail" -eq 0 ]; then ok=$((ok - 1)); else fail=$((fail - 1)); fi
      ok=$((ok + case_ok))
      fail=$((fail + case_fail))
    done < <(sed -n 's/^\[doctest\] test cases: *[0-9]* | *\([0-9]*\) passed | *\([0-9]*\) failed.*/\1 \2/p' "$testlog")
  fi
  passed=$((passed + ok))
  failed=$((failed + fail))
  skipped=$((skipped + ${skip:-0}))
}

# A step that produces no test summary (a build) counts as one failure if it fails.
must() {
  if ! "$@"; then
    echo "run-all: step failed: $*" >&2
    failed=$((failed + 1))
    return 1
  fi
}

run_suites() {  # run_suites BUILDDIR LOG SUITE...
  local dir=$1 log=$2; shift 2
  local args=()
  for s in "$@"; do args+=(--suite "$s"); done
  meson test -C "$dir" --print-errorlogs --no-rebuild "${args[@]}" 2>&1 | tee "$log"
  count "$log" "$dir/meson-logs/testlog.txt"
}

step "dependencies"
must packaging/deps.sh && must subprojects/fetch-sources.sh simdjson || {
  echo "$passed passed, $((failed)) failed"; exit 1; }

step "glibc static build"
if [ ! -f "$out/glibc/build.ninja" ]; then
  must meson setup "$out/glibc" -Dstatic=true --buildtype=debugoptimized >/dev/null
fi
if must ninja -C "$out/glibc"; then
  file "$out/glibc/src/reaper"
  step "glibc: all suites"
  # shellcheck disable=SC2086
  run_suites "$out/glibc" "$out/glibc.log" ${REAPER_TEST_SUITES:-unit integration e2e packaging lint}
fi

# One clang build with ASan+UBSan and libFuzzer's coverage instrumentation
# serves the sanitized suites and the libFuzzer targets (test/fuzz): the
# library is compiled once for both. -O0 halves the build for slower but
# adequate runs; the fuzz targets run REAPER_FUZZ_SECONDS each (here 10 s,
# half the fuzz_seconds option's 20; long runs are done by hand, see
# security.md) on a copy of their seeds, two at a time.
step "ASan+UBSan build (clang, with the fuzz targets)"
if [ ! -f "$out/asan/build.ninja" ]; then
  must env CXX=clang++ meson setup "$out/asan" -Dstatic=false -Dfuzz=true -Doptimization=0 \
    -Db_lundef=false >/dev/null
fi
if must ninja -C "$out/asan"; then
  step "ASan+UBSan: unit, integration and e2e suites"
  # Monitors are daemons with their stdio on /dev/null, some of them inside
  # an overlay view, and the e2e suite's shims are started by containerd
  # (which passes its environment on) with stderr on its log: sanitizer
  # reports go to files on the host's /run (which every view shares), and
  # any report is a failure. Fewer fault cycles: LeakSanitizer checks every
  # process that exits anyway, and a sanitized cycle is several times slower.
  reports=$(mktemp -d /run/reaper-ci-sanitizers.XXXXXX)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan \
    REAPER_FAULT_CYCLES=50 \
    run_suites "$out/asan" "$out/asan.log" unit integration e2e
  if [ -n "$(ls -A "$reports")" ]; then
    echo "run-all: sanitizer reports:" >&2
    tail -n +1 "$reports"/* >&2
    failed=$((failed + 1))
  fi
  rm -rf "$reports"
  step "ASan+UBSan: fuzz suite"
  REAPER_FUZZ_SECONDS=${REAPER_FUZZ_SECONDS:-10} run_suites "$out/asan" "$out/fuzz.log" fuzz
  # .clang-tidy over src/, with this clang build's compile database.
  step "clang-tidy"
  run_suites "$out/asan" "$out/tidy.log" tidy
fi

if [ "${REAPER_TEST_SKIP_MUSL:-0}" != 1 ]; then
  step "musl static build"
  if must packaging/musl/build.sh "$out/musl"; then
    step "musl: unit, integration and e2e suites"
    run_suites "$out/musl" "$out/musl.log" unit integration e2e
  fi
fi

echo
echo "run-all: $((SECONDS - started)) s in all"
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
