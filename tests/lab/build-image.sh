#!/bin/bash
# build-image.sh - stage 2 of the lab: from a stage-1 rootfs ($1), a dom0
# disk image with the project built and installed inside (make, make install
# PREFIX=/usr, in the chroot), the lab's dom0 init and domain configs, and
# the test domU (Debian kernel + busybox initramfs + vsmr-guestd) in $2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROOTFS=$1; OUT=$2
KVER=$(cat "$ROOTFS/kver")
mkdir -p "$OUT"
W=$OUT/work
log "copying the rootfs"
cp -a "$ROOTFS/rootfs" "$W"
mount -t proc proc "$W/proc"
trap 'umount "$W/proc" 2>/dev/null || true' EXIT

log "building the project inside the rootfs"
SRC=$W/root/vsmr-src
mkdir -p "$SRC"
(cd "$REPO_DIR" && project_files | sed "s|^$REPO_DIR/||" | tar -cf - -T - tests/lab/guest) | tar -xf - -C "$SRC"
mkdir -p "$SRC/build" && touch "$SRC/build/.deps-ok"   # packages come from stage 1
chroot "$W" sh -c 'cd /root/vsmr-src && make -j2 all && make install PREFIX=/usr' > "$OUT/project-build.log" 2>&1 \
  || { tail -40 "$OUT/project-build.log"; die "building the project in the rootfs failed (log: $OUT/project-build.log)"; }
chroot "$W" sh -c 'cd /root/vsmr-src && gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -pthread -Itools/xen-conformance -o /tmp/vsmr-guestd tests/lab/guest/vsmr-guestd.c' \
  >> "$OUT/project-build.log" 2>&1 || die "building vsmr-guestd failed (log: $OUT/project-build.log)"
# The netio tests run again on dom0's kernel (test_netio.sh): keep them,
# with the hotplug script they exercise, laid out as in the repository.
T=$W/usr/share/vsmr-lab/tests; mkdir -p "$T/tests"
cp -a "$SRC/tests/integration" "$T/tests/"; cp -a "$SRC/netback-hooks" "$T/"
rm -rf "$SRC"

log "test domU initramfs"
D=$OUT/domu; mkdir -p "$D"/{bin,proc,sys,dev,tmp}
cp "$W/bin/busybox" "$D/bin/busybox"
mv "$W/tmp/vsmr-guestd" "$D/bin/vsmr-guestd"
install -m755 "$LAB_DIR/guest/domu-init" "$D/init"
cp "$W/lib/modules/$KVER/kernel/drivers/net/xen-netfront.ko" "$D/"
mkdir -p "$W/var/lib/vsmr-lab"
(cd "$D" && find . | cpio -o -H newc --quiet | gzip -6) > "$W/var/lib/vsmr-lab/domu-initrd.gz"
# Domains boot the kernel's uncompressed ELF: xl's own XZ decompression of
# the bzImage failed sporadically under TCG ("unable to XZ decompress
# kernel: Invalid kernel"), so it is done once here, on the build host.
extract_vmlinux "$W/boot/vmlinuz-$KVER" "$W/var/lib/vsmr-lab/vmlinux" \
  || die "cannot extract the ELF kernel from vmlinuz-$KVER"
rm -rf "$D"

log "dom0 customisation"
install -m755 "$LAB_DIR/image/dom0-init" "$W/sbin/vsmr-lab-init"
install -m644 "$LAB_DIR"/image/*.cfg "$W/etc/xen/"
# Two-host tests: `xl vsmr` reaches the other host's dom0 by ssh as root.
# One key for every host of this image (a lab, not a deployment).
mkdir -p -m 700 "$W/root/.ssh"
rm -f "$W/root/.ssh/id_ed25519"*
chroot "$W" ssh-keygen -q -t ed25519 -N "" -C vsmr-lab -f /root/.ssh/id_ed25519
cp "$W/root/.ssh/id_ed25519.pub" "$W/root/.ssh/authorized_keys"
printf 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n' > "$W/root/.ssh/config"
chmod 600 "$W/root/.ssh/"*
echo xenhost > "$W/etc/hostname"
printf '127.0.0.1 localhost\n10.10.0.1 dom0\n10.10.0.2 guest1\n10.10.0.11 hosta\n10.10.0.12 hostb\n10.10.0.100 witness\n' > "$W/etc/hosts"
umount "$W/proc"; trap - EXIT

log "dom0.img"
cp "$ROOTFS/vmlinuz" "$ROOTFS/dom0-initrd.img" "$ROOTFS/xen" "$OUT/"
truncate -s 3G "$OUT/dom0.img"
mkfs.ext4 -q -F -L vsmrroot -d "$W" "$OUT/dom0.img"
rm -rf "$W"
log "image done: $(du -sh --apparent-size "$OUT/dom0.img" | cut -f1) sparse, $(du -sh "$OUT/dom0.img" | cut -f1) used"
