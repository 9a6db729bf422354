# lib.sh - shared helpers for the lab scripts (sourced, not run): cache
# location, input hashing for cache keys, logging with timestamps.
# Everything big lives under $VSMR_LAB_CACHE, never in the repository.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
CACHE=${VSMR_LAB_CACHE:-/var/cache/vsmr-lab}
SUITE=bookworm
MIRROR=${VSMR_LAB_MIRROR:-http://deb.debian.org/debian}

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# hash_files FILE... : one sha256 over the names and contents of the files.
hash_files() {
  local f
  for f in "$@"; do printf '%s\n' "${f#"$REPO_DIR"/}"; cat "$f"; done | sha256sum | cut -c1-16
}

# apt_candidates PKG... : the versions the host's apt would pick today; part
# of the rootfs key so a security update of Xen or the kernel rebuilds it.
apt_candidates() {
  local p
  for p in "$@"; do
    printf '%s=%s\n' "$p" "$(apt-cache policy "$p" 2>/dev/null | sed -n 's/ *Candidate: //p')"
  done
}

# rootfs_key: inputs of stage 1 (debootstrap + packages).
rootfs_key() {
  { hash_files "$LAB_DIR/build-rootfs.sh"; echo "$SUITE $MIRROR"
    apt_candidates linux-image-amd64 xen-utils-4.17 xen-hypervisor-4.17-amd64 \
      busybox-static libxen-dev; } | sha256sum | cut -c1-16
}

# project_files: the project's sources that go into the dom0 image.
project_files() {
  (cd "$REPO_DIR" && git ls-files -co --exclude-standard -- Makefile tools scripts netback-hooks tests/integration \
     | while read -r f; do [ -f "$f" ] && echo "$REPO_DIR/$f"; done | sort)
}

# image_key: stage 2 = rootfs key + project sources (with the netio tests
# the image carries) + image files.
image_key() {
  { rootfs_key
    hash_files "$LAB_DIR/build-image.sh" "$LAB_DIR/lib.sh" $(find "$LAB_DIR/image" "$LAB_DIR/guest" -type f | sort) \
      $(project_files); } | sha256sum | cut -c1-16
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF inside an x86 bzImage
# whose payload is XZ (Debian's kernels). xz stops at the stream's end and
# complains about the bytes after it; the ELF is checked instead.
extract_vmlinux() {
  local off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | head -n1 | cut -d: -f1)
  [ -n "$off" ] || { log "no XZ payload in $1"; return 1; }
  tail -c +$((off + 1)) "$1" | xz -dc > "$2" 2>/dev/null
  [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] \
    || { log "$2 is not an ELF file"; return 1; }
}
