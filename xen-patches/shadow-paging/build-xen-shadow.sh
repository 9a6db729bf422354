#!/bin/bash
# build-xen-shadow.sh OUTDIR - rebuilds only the Xen 4.17 hypervisor from
# Debian's source package with CONFIG_SHADOW_PAGING=y (PV log-dirty); writes
# OUTDIR/xen (the ELF QEMU's multiboot loader wants). Host apt config is not
# modified: a private sources list and state directory are used.
set -euo pipefail
OUT=${1:?usage: build-xen-shadow.sh OUTDIR}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
S=$OUT/apt; mkdir -p "$S/lists/partial" "$OUT/src"
apt-get install -y -q dpkg-dev build-essential flex bison python3 >/dev/null
cat > "$S/sources.list" <<X
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
X
APT=(-o "Dir::Etc::SourceList=$S/sources.list" -o Dir::Etc::SourceParts=- -o "Dir::State::Lists=$S/lists")
apt-get "${APT[@]}" update -q
cd "$OUT/src"
if ! ls -d xen-4.17*/ >/dev/null 2>&1; then
  apt-get "${APT[@]}" source xen || {
    v=$(apt-cache "${APT[@]}" showsrc xen | sed -n 's/^Version: //p' | grep '^4\.17' | head -1)
    apt-get "${APT[@]}" source "xen=$v"; }
fi
SRC=$(ls -d "$OUT"/src/xen-4.17*/ | head -1)
# Debian's own hypervisor config, plus shadow paging.
(cd "$OUT" && apt-get download -q xen-hypervisor-4.17-amd64 && rm -rf xh && dpkg-deb -x xen-hypervisor-4.17-amd64_*.deb xh)
cp "$OUT"/xh/boot/xen-4.17-amd64.config "$SRC/xen/.config"
echo CONFIG_SHADOW_PAGING=y >> "$SRC/xen/.config"
make -C "$SRC/xen" olddefconfig
grep -q '^CONFIG_SHADOW_PAGING=y' "$SRC/xen/.config" || { echo "shadow paging did not stick" >&2; exit 1; }
make -C "$SRC/xen" -j"$(nproc)" XEN_VENDORVERSION=-shadow
cp "$SRC/xen/xen" "$OUT/xen"
ls -la "$OUT/xen"
