#!/bin/sh
# guest-init.sh - PID 1 of the RDMA lab guest: mounts, loads the soft-RoCE
# and NIC modules, then runs /lab/guest-test.sh (from the project overlay
# cpio) and powers off. Prints VSMRLAB-DONE after the test script returns.
export PATH=/opt/vsmr/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
exec </dev/console >/dev/console 2>&1
for m in virtio_pci virtio_net crc32_generic rdma_rxe ib_uverbs rdma_ucm veth bridge; do
  modprobe "$m" || echo "[lab] modprobe $m failed"
done
ulimit -l unlimited
if [ -x /lab/guest-test.sh ]; then /lab/guest-test.sh; else echo "[lab] no /lab/guest-test.sh"; fi
echo "VSMRLAB-DONE"
sync
poweroff -f
