#!/bin/bash
# run.sh - `make lab-rdma`: builds (or reuses) the cached base image, packs
# this build's programs (vsmrd, vsmrctl, sim guest, client), rdma_xfer,
# their libraries and the
# integration scripts into an overlay cpio, boots one QEMU TCG guest, and exits 0 only
# if the guest printed VSMRLAB-PASS. Env: BUILD=build LABTESTS=xfer,log,sync,counts
# TIMEOUT=1800 OUT=build/lab-rdma
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$ROOT/tests/lab/rdma
BUILD=${BUILD:-build}; OUT=${OUT:-$ROOT/$BUILD/lab-rdma}
TIMEOUT=${TIMEOUT:-1800}
t0=$(date +%s)
mkdir -p "$OUT"
if pgrep -f "qemu-system-x86_64.*vsmr-lab-rdma" >/dev/null; then
  echo "lab-rdma: another RDMA lab guest is running; not starting a second"; exit 1
fi
CACHE=$("$HERE/build-image.sh") || { echo "lab-rdma: image build failed"; exit 1; }
echo "lab-rdma: base image $CACHE"

# --- overlay: the project's binaries, their libraries, the test scripts ----
O=$OUT/overlay; rm -rf "$O"; mkdir -p "$O/opt/vsmr/bin" "$O/opt/vsmr/lib" "$O/lab"
cp "$ROOT/$BUILD"/bin/* "$O/opt/vsmr/bin/"
cp "$ROOT/$BUILD/lab/rdma_xfer" "$ROOT/$BUILD/lab/rdma_sync" "$O/opt/vsmr/bin/"
# libraries the base image lacks (libc, verbs and rdmacm come from the image
# so they match its providers)
for b in "$O"/opt/vsmr/bin/*; do ldd "$b" | awk '/=> \//{print $3}'; done | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libibverbs|librdmacm|libnl-3|libnl-route-3)\.so' |
  while read -r l; do cp -L "$l" "$O/opt/vsmr/lib/"; done
cp "$HERE/guest-test.sh" "$HERE/topology_rxe.sh" "$O/lab/"
mkdir -p "$O/lab/tests/integration"
cp "$ROOT"/tests/integration/*.sh "$O/lab/tests/integration/"
( cd "$O" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$OUT/overlay.cpio.gz"
cat "$CACHE/base.cpio.gz" "$OUT/overlay.cpio.gz" > "$OUT/initrd.gz"

# --- boot ------------------------------------------------------------------
LOG=$OUT/guest.serial.log; rm -f "$LOG"
echo "lab-rdma: booting (serial log $LOG)"
timeout "$TIMEOUT" qemu-system-x86_64 -name vsmr-lab-rdma -accel tcg,thread=multi \
  -cpu max -smp 2 -m 1024 -no-reboot -vga none -display none -monitor none \
  -kernel "$CACHE/vmlinuz" -initrd "$OUT/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet LABTESTS=${LABTESTS:-xfer,log,sync,counts}" \
  -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
  -serial file:"$LOG" </dev/null >"$OUT/qemu.log" 2>&1
qrc=$?
grep -aE '^(LAB |PASS|FAIL|COUNTS|  +[0-9]|  per MiB|EMULATED|EPOCH|SYNC|-- )' "$LOG" | sed 's/^/  /'
secs=$(( $(date +%s) - t0 ))
if grep -aq VSMRLAB-PASS "$LOG"; then
  echo "lab-rdma: PASS in ${secs}s"; exit 0
fi
echo "lab-rdma: FAIL in ${secs}s (qemu exit $qrc); see $LOG"; exit 1
