#!/bin/bash
# test_netio.sh - runs in the lab's dom0: the netio integration tests
# (tests/integration/test_netio_*.sh: capture, injection, output buffering
# with sch_plug, teardown, hotplug, errors) on Debian's dom0 kernel, which
# has sch_plug and ifb — the build machine's kernel may not, and there
# test_netio_buffer.sh skips. A skip here is a failure.
. /vsmrlab/lib.sh
cd /usr/share/vsmr-lab/tests || { echo "no netio tests in the image"; exit 1; }
export VSMR_BIN=/usr/sbin
modprobe -a veth ifb sch_plug act_mirred cls_u32 sch_ingress 2>/dev/null
for t in tests/integration/test_netio_*.sh; do
  n=$(basename "$t" .sh)
  out=$(timeout 300 sh "$t" 2>&1); rc=$?
  echo "$out" | tail -15
  echo "$out" | grep -E '^(FAIL|SKIP):' | head -3   # the cause, if above the tail
  if [ $rc = 0 ] && ! echo "$out" | grep -q '^SKIP'; then
    echo "LAB-CHECK $n PASS"
  else
    echo "LAB-CHECK $n FAIL (exit $rc)"; fails=$((fails + 1))
  fi
done
[ "$fails" = 0 ]
