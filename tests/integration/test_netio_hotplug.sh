#!/bin/sh
# test_netio_hotplug.sh - netback-hooks/vif-vsmr as libxl runs it: with a
# protected domain, online sets up the hooks and offline removes them; an
# unprotected domain's vif is left alone; bad calls exit non-zero.
. tests/integration/lib_netio.sh
require_root_netns
require_kernel veth ifb clsact u32-mirred bpf
make_topology

mkdir -p "$WORK/state"
opts=; kernel_has plug || opts=--input-only   # no sch_plug on this kernel
hotplug() {
  in_d env vif="$1" XENBUS_PATH="/local/domain/0/backend/vif/${2:-1}/0" \
    VSMR_VIF_BASE=true VSMR_NETBUF="$VSMR_BIN/vsmr-netbuf" \
    VSMR_STATE_DIR="$WORK/state" sh netback-hooks/vif-vsmr "$3"
}

hotplug vif1.0 1 online 2> "$WORK/h0.out" || fail "online of an unprotected domain"
[ "$(status_val input)" = 0 ] || fail "hooks set up on an unprotected domain"
ok "unprotected domain: vif left alone"

echo "$opts" > "$WORK/state/1.protected"
hotplug vif1.0 1 online 2> "$WORK/h1.out" || fail "online: $(cat "$WORK/h1.out")"
[ "$(status_val input)" = 1 ] || fail "online did not set up the input hook"
[ -n "$opts" ] || [ "$(status_val output)" = 1 ] || fail "online did not set up the output hook"
ok "protected domain: online set up the hooks"
hotplug vif1.0 1 offline 2> "$WORK/h2.out" || fail "offline"
no_leftovers || fail "offline left hooks behind"
ok "offline removed them"

hotplug vif1.0 1 bogus 2>/dev/null && fail "unknown command accepted"
in_d env -u vif sh netback-hooks/vif-vsmr online 2>/dev/null && fail "missing \$vif accepted"
echo "$opts" > "$WORK/state/7.protected"
hotplug vif7.0 7 online 2> "$WORK/h3.out" && fail "online of a missing vif succeeded"
grep -q "no network device vif7.0" "$WORK/h3.out" || fail "unclear: $(cat "$WORK/h3.out")"
ok "bad calls fail with a reason"
echo "PASS: test_netio_hotplug"
