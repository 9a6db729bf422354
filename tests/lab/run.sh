#!/bin/bash
# run.sh - boots one emulated Xen host (QEMU TCG) from the lab image, runs a
# test script in its dom0 non-interactively (9p share), collects the logs
# and exits with the test's status. Every wait is gated on a marker (console or share file)
# with a timeout; on a timeout QEMU is killed and the log tail is shown.
#   usage: run.sh [--out DIR] [--name NAME] [--env 'K=V ...'] [--file F]... TEST_SCRIPT [-- QEMU_ARGS...]
#   (each --file F is copied into the share, as /vsmrlab/<basename>)
#   env: VSMR_LAB_IMAGE (default: the image for this source tree),
#        BOOT_TIMEOUT (s, 300), TEST_TIMEOUT (s, 900), MEM (MiB, 2048),
#        QEMU_CPU (max,-rdtscp,-avx,-avx2,-xsave,-xsaveopt,-xsavec,-xsaves), QEMU_TCG_THREAD (multi or single), QEMU_SMP (vCPUs, 1: see docs/lab.md, "Flakes"), VSMR_LAB_XEN (hypervisor ELF), DOM0_MEM (1024M), DOM0_IP (dom0's address on xenbr0, default 10.10.0.1/24), NETDEV (qemu -netdev spec; default: no NIC), MAC
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OUT=""; NAME=host1; TENV=""; TEST=""; FILES=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2;;
    --name) NAME=$2; shift 2;;
    --env) TENV=$2; shift 2;;
    --file) FILES+=("$2"); shift 2;;
    --) shift; break;;
    *) [ -z "${TEST:-}" ] && TEST=$1 && shift || break;;
  esac
done
[ "${1:-}" = "--" ] && shift
[ -n "${TEST:-}" ] && [ -f "$TEST" ] || die "usage: run.sh [--out DIR] [--name NAME] TEST_SCRIPT"
OUT=${OUT:-$REPO_DIR/build/lab/$NAME}
IMAGE=${VSMR_LAB_IMAGE:-$CACHE/image-$(image_key)}
[ -f "$IMAGE/done" ] || die "no lab image at $IMAGE: run 'make lab' first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed (make lab installs it)"

rm -rf "$OUT"; mkdir -p "$OUT/share/out"
cp "$TEST" "$OUT/share/test.sh"; chmod +x "$OUT/share/test.sh"
cp "$LAB_DIR/dom0-lib.sh" "$OUT/share/lib.sh"   # the tests' helpers
for f in "${FILES[@]}"; do cp "$f" "$OUT/share/"; done   # more helpers, by name
printf '%s\n' $TENV > "$OUT/share/env"
qemu-img create -q -f qcow2 -F raw -b "$IMAGE/dom0.img" "$OUT/overlay.qcow2" || die "qemu-img failed"
if [ -n "${NETDEV:-}" ]; then
  NET=(-netdev "$NETDEV" -device "virtio-net-pci,netdev=n0,mac=${MAC:-52:54:00:12:34:56}")
else
  NET=(-nic none)
fi
SERIAL=$OUT/serial.log
T0=$(date +%s)
log "$NAME: booting Xen in QEMU (log: $SERIAL)"
qemu-system-x86_64 -accel "tcg,thread=${QEMU_TCG_THREAD:-multi}" -cpu "${QEMU_CPU:-max,-rdtscp,-avx,-avx2,-xsave,-xsaveopt,-xsavec,-xsaves}" -smp "${QEMU_SMP:-1}" -m "${MEM:-2048}" \
  -nographic -no-reboot -serial mon:stdio -pidfile "$OUT/qemu.pid" \
  -kernel "${VSMR_LAB_XEN:-$IMAGE/xen}" \
  -append "console=com1 com1=115200,8n1 smap=0 dom0_mem=${DOM0_MEM:-1024M},max:${DOM0_MEM:-1024M} dom0_max_vcpus=${QEMU_SMP:-1} loglvl=all guest_loglvl=all noreboot" \
  -initrd "$IMAGE/vmlinuz root=/dev/vda rw console=hvc0 loglevel=4 init=/sbin/vsmr-lab-init vsmrlab.host=$NAME${DOM0_IP:+ vsmrlab.ip=$DOM0_IP},$IMAGE/dom0-initrd.img" \
  -drive file="$OUT/overlay.qcow2",if=virtio,format=qcow2 \
  -virtfs local,path="$OUT/share",mount_tag=vsmrlab,security_model=none,id=vsmrlab \
  "${NET[@]}" "$@" > "$SERIAL" 2>&1 < /dev/null &
QPID=$!

# wait_marker TEXT TIMEOUT [FILE]: 0 when TEXT shows in the console (or
# FILE exists), 1 when QEMU exited first, 2 on timeout.
wait_marker() {
  local end=$(( $(date +%s) + $2 ))
  seen() { grep -q -- "$1" "$SERIAL" 2>/dev/null || { [ -n "${2:-}" ] && [ -s "$2" ]; }; }
  while [ "$(date +%s)" -lt "$end" ]; do
    seen "$1" "${3:-}" && return 0
    kill -0 $QPID 2>/dev/null || { seen "$1" "${3:-}" && return 0; return 1; }
    sleep 1
  done
  return 2
}
fail_run() {
  log "$NAME: $1"
  kill $QPID 2>/dev/null; sleep 2; kill -9 $QPID 2>/dev/null; wait $QPID 2>/dev/null
  echo "--- last 30 console lines ($SERIAL):" >&2; tail -30 "$SERIAL" >&2
  [ -f "$OUT/share/out/$NAME.log" ] && { echo "--- last 30 lines of the test's output:" >&2
    tail -30 "$OUT/share/out/$NAME.log" >&2; cp "$OUT/share/out/$NAME.log" "$OUT/"; }
  echo "$NAME: FAIL ($1) after $(( $(date +%s) - T0 ))s" > "$OUT/result.txt"
  exit "${2:-1}"
}
wait_marker "VSMR-LAB: dom0 ready" "${BOOT_TIMEOUT:-300}"; rc=$?
[ $rc = 0 ] || fail_run "dom0 did not come up (rc $rc: 1 = QEMU exited, 2 = timeout ${BOOT_TIMEOUT:-300}s)" 124
log "$NAME: dom0 ready after $(( $(date +%s) - T0 ))s; running $(basename "$TEST")"
# The test's output and status arrive in the share (the console can stall)
wait_marker "VSMR-LAB: test exit status" "${TEST_TIMEOUT:-900}" "$OUT/share/out/status"; rc=$?
[ $rc = 0 ] || fail_run "test did not finish (rc $rc: 1 = QEMU exited, 2 = timeout ${TEST_TIMEOUT:-900}s)" 124
# dom0 powers off by itself; give it a bounded time
for _ in $(seq 1 60); do kill -0 $QPID 2>/dev/null || break; sleep 1; done
kill $QPID 2>/dev/null && log "$NAME: QEMU did not power off; killed"
wait $QPID 2>/dev/null
status=$(cat "$OUT/share/out/status" 2>/dev/null)
[ -n "$status" ] || status=$(sed -n 's/.*VSMR-LAB: test exit status \([0-9]*\).*/\1/p' "$SERIAL" | tail -1)
cp -r "$OUT/share/out/." "$OUT/" 2>/dev/null
echo "$NAME: test status $status after $(( $(date +%s) - T0 ))s" | tee "$OUT/result.txt" >&2
exit "${status:-1}"
