#!/bin/sh
# Installs, with apt-get, the Debian 12 packages the build and the tests need.
# Idempotent: does nothing when everything is already there. Run as root
# (or via sudo); `make deps` calls it and every other top-level target
# depends on it through build/.deps-ok.
set -eu

# Build and unit tests.
PKGS="build-essential pkg-config clang libclang-rt-14-dev llvm
libxen-dev libxxhash-dev libzstd-dev check libsodium-dev
libibverbs-dev librdmacm-dev libnl-route-3-dev libnl-3-dev
iproute2 procps python3 bc kmod busybox-static"
# (busybox: the netio integration tests' ping, ping6 and arping in
# namespaces; kmod: modprobe of ifb, sch_plug, veth.)
# The lab (real Xen inside QEMU) adds these; `make lab` asks for them.
if [ "${VSMR_DEPS_LAB:-0}" = 1 ]; then
  PKGS="$PKGS qemu-system-x86 qemu-utils debootstrap e2fsprogs cpio dpkg-dev
  flex bison xz-utils"
fi

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
