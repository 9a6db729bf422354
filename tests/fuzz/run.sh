#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS seconds, starting from the
# seed corpus in tests/fuzz/corpus/<target>/ when it exists. Any crash
# fails the run and leaves the reproducer in build/fuzz/.
set -e
secs=${FUZZ_SECONDS:-30}
for f in "$@"; do
  name=$(basename "$f")
  work=build/fuzz/corpus-$name
  mkdir -p "$work"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  echo "== fuzzing $name for ${secs}s"
  "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/ \
       "$work" $seeds 2>&1 | tail -n 12
done
echo "fuzz: all targets ran ${secs}s without a crash"
