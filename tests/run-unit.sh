#!/bin/sh
# Runs each unit-test program given as an argument; Check prints one
# summary line per program. Exits non-zero if any failed. VSMR_BIN points
# the tests at this build's programs (e.g. vsmr-simguest).
BUILD=${BUILD:-build}
VSMR_BIN=$(cd "$BUILD/bin" 2>/dev/null && pwd)
export VSMR_BIN
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
case "$BUILD" in *asan*) export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;; esac
passed=0; failed=0
for t in "$@"; do
  echo "== $t"
  if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done
echo "unit ($BUILD): $passed passed, $failed failed"
[ "$failed" = 0 ]
