#!/bin/bash
# build-image.sh - the cached base image of the RDMA lab: a Debian 6.1 kernel
# and a busybox initramfs with the soft-RoCE modules and rdma-core's
# userspace. Output goes to $CACHE (default /var/cache/vsmr-lab/rdma-<hash
# of this script, the kernel package and the package list>); prints its path.
# The project's binaries are not in it: run.sh appends them as a second cpio.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KPKG=${KPKG:-linux-image-6.1.0-56-amd64}
PKGS="libibverbs1 librdmacm1 ibverbs-providers rdmacm-utils ibverbs-utils
      iproute2 libmnl0 libelf1 libbpf1 libcap2 libnl-3-200 libnl-route-3-200
      libdb5.3 libtirpc3 libbsd0 libmd0 libxtables12 zlib1g libc6 libgcc-s1
      libselinux1 libpcre2-8-0 libgssapi-krb5-2 libkrb5-3 libk5crypto3
      libcom-err2 libkrb5support0 libkeyutils1 libssl3 libudev1 busybox-static"
MODS="rdma_rxe ib_uverbs rdma_ucm rdma_cm ib_cm iw_cm ib_core crc32_generic
      virtio_net virtio_pci veth bridge"
KEY=$(cat "$HERE/build-image.sh" "$HERE/guest-init.sh" | sha256sum | cut -c1-8)
KEY=$KEY$(echo "$KPKG $PKGS $MODS" | sha256sum | cut -c1-8)
ROOT=${VSMR_LAB_CACHE:-/var/cache/vsmr-lab}
CACHE=${CACHE:-$ROOT/rdma-$KEY}
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
mkdir -p "$CACHE" "$ROOT/rdma-debs"
t0=$(date +%s)
DEBS=$ROOT/rdma-debs
( cd "$DEBS" && for p in $KPKG $PKGS; do ls "${p}"_*.deb >/dev/null 2>&1 || echo "$p"; done |
    xargs -r apt-get download -q ) >&2
W=$CACHE/work; rm -rf "$W"; mkdir -p "$W/kernel"
dpkg-deb -x "$DEBS/${KPKG}"_*.deb "$W/kernel"
KVER=$(ls "$W/kernel/lib/modules" | head -1)
cp "$W/kernel/boot/vmlinuz-$KVER" "$CACHE/vmlinuz"
depmod -b "$W/kernel" "$KVER"

R=$W/initramfs; mkdir -p "$R"
for p in $PKGS; do dpkg-deb -x "$DEBS/${p}"_*.deb "$R"; done
rm -rf "$R"/usr/share/{doc,man,locale,lintian,info}
mkdir -p "$R"/{proc,sys,dev,tmp,run,etc,lib64,sbin,root,var/tmp}
ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
for a in $("$R/bin/busybox" --list-full); do
  [ -e "$R/$a" ] || [ -L "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
for m in $MODS; do
  modprobe -d "$W/kernel" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
done | sort -u | while read -r ko; do
  rel=${ko#"$W"/kernel/}; mkdir -p "$R/$(dirname "$rel")"; cp "$ko" "$R/$rel"
done
cp "$W/kernel/lib/modules/$KVER"/modules.{builtin,builtin.modinfo,order} "$R/lib/modules/$KVER/"
depmod -b "$R" "$KVER"
cp "$HERE/guest-init.sh" "$R/init"; chmod 755 "$R/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
echo "root:x:0:" > "$R/etc/group"
printf '127.0.0.1 localhost\n' > "$R/etc/hosts"
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/opt/vsmr/lib\n' > "$R/etc/ld.so.conf"
ldconfig -r "$R"
( cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 > "$CACHE/base.cpio.gz" )
rm -rf "$W"
echo "$(( $(date +%s) - t0 ))" > "$CACHE/build-seconds"
touch "$CACHE/done"
echo "built $CACHE in $(cat "$CACHE/build-seconds")s" >&2
echo "$CACHE"
