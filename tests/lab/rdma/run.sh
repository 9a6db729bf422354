#!/bin/bash
# run.sh - `make lab-rdma`: builds (or reuses) the cached base image, packs
# this build's programs (vsmrd, vsmrctl, sim guest, client), rdma_xfer,
# rdma_sync, their libraries and the test scripts into an overlay cpio,
# then boots two QEMU TCG guests joined by a QEMU socket network (host A
# listens, host B connects; soft-RoCE on each NIC). Host A runs the tests
# (guest-test.sh), host B serves it. Exits 0 only if host A printed
# VSMRLAB-PASS. Env: BUILD=build TIMEOUT=900 OUT=build/lab-rdma
# LABTESTS=xfer,sync,counts,log2,sync2,auto2 MEM_A=256 MEM_B=256 SMP_A=2
# SMP_B=2 PORT=<free tcp port on 127.0.0.1>
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$ROOT/tests/lab/rdma
BUILD=${BUILD:-build}; OUT=${OUT:-$ROOT/$BUILD/lab-rdma}
TIMEOUT=${TIMEOUT:-900}
TESTS=${LABTESTS:-xfer,sync,counts,log2,sync2,auto2}
PORT=${PORT:-$(( 20000 + $$ % 20000 ))}
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
cp "$HERE"/guest-test.sh "$HERE"/topology_rxe.sh "$HERE"/topology_2host.sh \
   "$HERE"/lab_remote.sh "$HERE"/rexec.sh "$HERE"/hostb.sh "$HERE"/twohost_*.sh "$O/lab/"
mkdir -p "$O/lab/tests/integration"
cp "$ROOT"/tests/integration/*.sh "$O/lab/tests/integration/"
( cd "$O" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$OUT/overlay.cpio.gz"
cat "$CACHE/base.cpio.gz" "$OUT/overlay.cpio.gz" > "$OUT/initrd.gz"

# --- boot ------------------------------------------------------------------
# guest NAME MEM SMP NETDEV APPEND: one guest in the background, serial
# console to $OUT/NAME.serial.log; sets GPID.
guest() {
  rm -f "$OUT/$1.serial.log"
  timeout "$TIMEOUT" qemu-system-x86_64 -name "vsmr-lab-rdma-$1" \
    -accel tcg,thread=multi -cpu max -smp "$3" -m "$2" -no-reboot -vga none \
    -display none -monitor none -kernel "$CACHE/vmlinuz" -initrd "$OUT/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet $5" -netdev "$4" \
    -device "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:0${1#host}" \
    -serial file:"$OUT/$1.serial.log" </dev/null >"$OUT/$1.qemu.log" 2>&1 &
  GPID=$!
}
listening() { ss -ltnH "sport = :$PORT" | grep -q .; }
# wait_for SECONDS CMD...: polls every 0.2 s; false on timeout
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2; done
}

echo "lab-rdma: booting host A and host B (serial logs $OUT/host{A,B}.serial.log)"
guest hostA "${MEM_A:-256}" "${SMP_A:-2}" "socket,id=n0,listen=127.0.0.1:$PORT" \
  "LABHOST=a LABTESTS=$TESTS"
APID=$GPID BPID=
case ",$TESTS," in *,log2,*|*,sync2,*|*,auto2,*)
  if wait_for 30 listening; then
    guest hostB "${MEM_B:-256}" "${SMP_B:-2}" "socket,id=n0,connect=127.0.0.1:$PORT" \
      "LABHOST=b LABTIMEOUT=$TIMEOUT"
    BPID=$GPID
  else
    echo "lab-rdma: host A's QEMU never listened on 127.0.0.1:$PORT"
  fi ;;
esac
wait "$APID"; qrc=$?
# host B powers off once host A touched its stop marker; bounded
if [ -n "$BPID" ]; then
  wait_for 60 sh -c "! kill -0 $BPID 2>/dev/null" || kill "$BPID" 2>/dev/null
  wait "$BPID" 2>/dev/null
fi
LOG=$OUT/hostA.serial.log
grep -aE '^(LAB |PASS|FAIL|COUNTS|  +[0-9]|  per MiB|EMULATED|EPOCH|SYNC|-- |   node)' "$LOG" | sed 's/^/  /'
[ -n "$BPID" ] && grep -aE '^LAB ' "$OUT/hostB.serial.log" | sed 's/^/  B: /'
secs=$(( $(date +%s) - t0 ))
if grep -aq VSMRLAB-PASS "$LOG"; then
  echo "lab-rdma: PASS in ${secs}s"; exit 0
fi
echo "lab-rdma: FAIL in ${secs}s (qemu exit $qrc); see $LOG"; exit 1
