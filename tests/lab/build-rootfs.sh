#!/bin/bash
# build-rootfs.sh - stage 1 of the lab: a Debian bookworm dom0 root filesystem
# (debootstrap minbase + Xen 4.17 tools + the current Debian 6.1 kernel + the
# -dev packages the project builds against) into $1, plus the hypervisor ELF.
# Run by build.sh into a temporary directory; it never touches the repository.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUT=$1                       # e.g. $CACHE/rootfs-<key>.tmp
R=$OUT/rootfs
mkdir -p "$OUT"
log "debootstrap $SUITE into $R"
debootstrap --variant=minbase \
  --include=iproute2,bridge-utils,busybox-static,kmod,procps,iputils-ping,tcpdump,netcat-openbsd,cpio,ca-certificates,bash \
  "$SUITE" "$R" "$MIRROR" > "$OUT/debootstrap.log" 2>&1 || { tail -30 "$OUT/debootstrap.log"; die "debootstrap failed"; }
cat > "$R/etc/apt/sources.list" <<S
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
S
mount -t proc proc "$R/proc"
trap 'umount "$R/proc" 2>/dev/null || true' EXIT
in_root() { DEBIAN_FRONTEND=noninteractive chroot "$R" "$@"; }
# Package scripts must not start services (sshd) inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
in_root apt-get update -q > "$OUT/apt.log" 2>&1 || { tail "$OUT/apt.log"; die "apt-get update in rootfs failed"; }
# The kernel package name changes with security updates: take what the
# linux-image-amd64 metapackage points at today, and pin that one.
KPKG=$(in_root apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-6[^ ]*-amd64\)$/\1/p' | head -1)
[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a kernel package"
KVER=${KPKG#linux-image-}
log "kernel $KPKG"
in_root apt-get install -y -q --no-install-recommends \
  "$KPKG" xen-utils-4.17 xen-utils-common libxen-dev \
  gcc libc6-dev make pkg-config libxxhash-dev libzstd-dev libsodium-dev libnl-route-3-dev libnl-3-dev \
  libibverbs-dev librdmacm-dev check iptables ethtool strace \
  openssh-server openssh-client >> "$OUT/apt.log" 2>&1 \
  || { tail -30 "$OUT/apt.log"; die "apt-get install in rootfs failed"; }
# The hypervisor: Debian's xen-hypervisor package, unpacked (not installed:
# its scripts want a bootloader). QEMU's multiboot loader wants the ELF.
(cd "$R/tmp" && in_root sh -c 'cd /tmp && apt-get download -q xen-hypervisor-4.17-amd64' >> "$OUT/apt.log" 2>&1) \
  || die "apt-get download xen-hypervisor-4.17-amd64 failed"
mkdir -p "$OUT/xh"
dpkg-deb -x "$R"/tmp/xen-hypervisor-4.17-amd64_*.deb "$OUT/xh"
gunzip -c "$OUT"/xh/boot/xen-4.17-amd64.gz > "$OUT/xen"
ls "$R"/tmp/xen-hypervisor-4.17-amd64_*.deb | sed 's/.*_\(.*\)_amd64.deb/\1/' > "$OUT/xen.version"
rm -rf "$OUT/xh" "$R"/tmp/*.deb
# dom0 initramfs: only what mounting the ext4 root on virtio-blk needs.
echo 'MODULES=list' > "$R/etc/initramfs-tools/conf.d/vsmr-lab"
printf '%s\n' virtio_pci virtio_blk ext4 > "$R/etc/initramfs-tools/modules"
in_root update-initramfs -c -k "$KVER" > "$OUT/initramfs.log" 2>&1 || in_root update-initramfs -u -k "$KVER" >> "$OUT/initramfs.log" 2>&1
cp "$R/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$OUT/dom0-initrd.img"
echo "$KVER" > "$OUT/kver"
in_root apt-get clean
rm -f "$R/usr/sbin/policy-rc.d"
in_root dpkg-query -W > "$OUT/packages.txt"
umount "$R/proc"; trap - EXIT
log "rootfs done: kernel $KVER, xen $(cat "$OUT/xen.version"), $(du -sh "$R" | cut -f1)"
