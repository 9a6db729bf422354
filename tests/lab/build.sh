#!/bin/bash
# build.sh - builds (or finds in the cache) everything the lab boots:
#   stage 1  $CACHE/rootfs-<key>/  dom0 rootfs, kernel, dom0 initrd, xen ELF
#   stage 2  $CACHE/image-<key>/   dom0.img with the project built inside,
#                                  the test domU's kernel + initramfs
# Keys hash the inputs (scripts, Debian candidate versions, project sources),
# so a second run is a no-op and a changed input rebuilds only what it feeds.
# Prints the image directory on its last line (also: $CACHE/current-image).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "the lab build needs root (debootstrap, chroot, mount)"
mkdir -p "$CACHE"
exec 9> "$CACHE/.build.lock"
flock 9
T0=$(date +%s)

RK=$(rootfs_key)
ROOTFS=$CACHE/rootfs-$RK
if [ -f "$ROOTFS/done" ]; then
  log "stage 1 cached: $ROOTFS"
else
  log "stage 1: building dom0 rootfs (key $RK), log in $ROOTFS.tmp"
  rm -rf "$ROOTFS.tmp"
  s=$(date +%s)
  "$LAB_DIR/build-rootfs.sh" "$ROOTFS.tmp"
  echo "$(( $(date +%s) - s ))" > "$ROOTFS.tmp/build-seconds"
  touch "$ROOTFS.tmp/done"
  rm -rf "$ROOTFS"; mv "$ROOTFS.tmp" "$ROOTFS"
  log "stage 1 built in $(cat "$ROOTFS/build-seconds")s"
fi

IK=$(image_key)
IMAGE=$CACHE/image-$IK
if [ -f "$IMAGE/done" ]; then
  log "stage 2 cached: $IMAGE"
else
  log "stage 2: building dom0 image (key $IK)"
  rm -rf "$IMAGE.tmp"
  s=$(date +%s)
  "$LAB_DIR/build-image.sh" "$ROOTFS" "$IMAGE.tmp"
  echo "$(( $(date +%s) - s ))" > "$IMAGE.tmp/build-seconds"
  echo "$ROOTFS" > "$IMAGE.tmp/rootfs"
  touch "$IMAGE.tmp/done"
  rm -rf "$IMAGE"; mv "$IMAGE.tmp" "$IMAGE"
  log "stage 2 built in $(cat "$IMAGE/build-seconds")s"
fi
ln -sfn "$IMAGE" "$CACHE/current-image"
# Old images (other source trees) are small to rebuild: keep the newest 3.
# Old rootfs trees (older package versions or scripts) are dropped.
for d in $(ls -dt "$CACHE"/image-* 2>/dev/null | grep -v '\.tmp$' | tail -n +4); do rm -rf "$d"; done
for d in "$CACHE"/rootfs-*; do
  case $d in "$ROOTFS"|*.tmp|*'*') ;; *) rm -rf "$d";; esac
done
log "lab build ready in $(( $(date +%s) - T0 ))s: $IMAGE"
echo "$IMAGE"
