#!/bin/sh
# Runs every benchmark program; each prints its own table with ratios
# against a baseline measured in the same run. No pass or fail on speed.
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bin"; VSMR_BIN=$(cd "$BUILD/bin" && pwd)
export VSMR_BIN
for b in "$@"; do
  echo "== $b"
  "$b" || exit 1
done
for s in $(ls bench/bench_*.sh 2>/dev/null | sort); do
  echo "== $s"
  sh "$s" || exit 1
done
