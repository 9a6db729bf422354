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
  # Not piped: a pipe would hide the target's exit status (a crash).
  rc=0
  "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/ \
       "$work" $seeds > "build/fuzz/$name.log" 2>&1 || rc=$?
  tail -n 12 "build/fuzz/$name.log"
  if [ "$rc" != 0 ]; then
    echo "fuzz: $name FAILED (exit $rc; log build/fuzz/$name.log, reproducer build/fuzz/crash-* or leak-*)"
    failed="$failed $name"
  fi
done
[ -z "${failed:-}" ] || { echo "fuzz: crashes in:$failed"; exit 1; }
echo "fuzz: all targets ran ${secs}s without a crash"
