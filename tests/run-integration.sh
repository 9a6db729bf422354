#!/bin/sh
# Runs every tests/integration/test_*.sh (multi-process tests, most of them
# in network namespaces, which need root). Each script exits 0 on pass,
# 77 on skip (with the reason on its last line), anything else on failure.
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bin"; VSMR_BIN=$(cd "$BUILD/bin" && pwd)
export VSMR_BIN
passed=0; failed=0; skipped=0
for t in $(ls tests/integration/test_*.sh 2>/dev/null | sort); do
  echo "== $t"
  # A hung test fails on its own instead of stalling the whole suite.
  timeout -k 10 "${VSMR_TEST_TIMEOUT:-600}" sh "$t"; rc=$?
  case $rc in
    0) passed=$((passed + 1));;
    77) skipped=$((skipped + 1)); echo "SKIPPED: $t";;
    *) failed=$((failed + 1)); echo "FAILED: $t (exit $rc)";;
  esac
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
