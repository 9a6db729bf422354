#!/bin/sh
# test_netio_teardown.sh - teardown leaves no IFB, qdisc or filter behind:
# after a full setup, after a failed setup, when the vif has already gone,
# twice in a row; and it never deletes a device that is not netio's.
. tests/integration/lib_netio.sh
require_root_netns
require_kernel veth ifb clsact u32-mirred bpf
make_topology

if kernel_has plug; then
  netbuf setup vif1.0 || fail "full setup"
  [ "$(status_val output)" = 1 ] && [ "$(status_val input)" = 1 ] || fail "status after setup"
  netbuf setup vif1.0 || fail "setup again is not idempotent"
  [ "$(tc -n "$D" filter show dev vif1.0 egress | grep -c 'u32 chain 0 fh 800::')" = 1 ] || fail "second setup duplicated a filter"
  ok "full setup, twice"
else
  # This kernel has no sch_plug: setup of both fails and must undo itself.
  netbuf setup vif1.0 > "$WORK/setup.out" 2>&1 && fail "setup succeeded without sch_plug"
  grep -q sch_plug "$WORK/setup.out" || fail "error does not name sch_plug: $(cat "$WORK/setup.out")"
  no_leftovers || fail "failed setup left something behind"
  ok "failed setup (no sch_plug) removed what it had created"
  netbuf setup vif1.0 --input-only || fail "input setup"
fi
# Someone else's filter and qdisc on the vif must survive our teardown.
tc -n "$D" filter add dev vif1.0 ingress prio 7 protocol all u32 match u32 0 0 2>/dev/null
netbuf teardown vif1.0 || fail "teardown"
ip -n "$D" -o link show | grep -q -E 'vs[io]-' && fail "IFB left behind"
tc -n "$D" filter show dev vif1.0 ingress | grep -q 'pref 7 ' || fail "teardown removed a foreign filter"
tc -n "$D" filter show dev vif1.0 egress | grep -q . && fail "netio's egress filter left"
tc -n "$D" qdisc del dev vif1.0 clsact
no_leftovers || fail "teardown left something behind"
netbuf teardown vif1.0 || fail "second teardown"
ok "teardown removes exactly netio's pieces; twice is fine"

# The vif disappears first (domain destroyed), then teardown runs.
netbuf setup vif1.0 --input-only || fail "setup"
ip -n "$D" link del vif1.0
netbuf teardown vif1.0 || fail "teardown after the vif vanished"
ip -n "$D" -o link show | grep -q -E 'vs[io]-' && fail "IFB left after the vif vanished"
ok "teardown after the vif is gone removes the IFBs"

# A foreign device with netio's name is never deleted.
ip -n "$D" link add vsi-vif2.0 type veth peer name x2
ip -n "$D" link add vif2.0 type veth peer name y2
netbuf setup vif2.0 --input-only > "$WORK/foreign.out" 2>&1 && fail "setup took over a foreign vsi-vif2.0"
grep -q "not one of vsmr's" "$WORK/foreign.out" || fail "unclear error: $(cat "$WORK/foreign.out")"
netbuf teardown vif2.0 || fail "teardown vif2.0"
ip -n "$D" link show vsi-vif2.0 >/dev/null 2>&1 || fail "teardown deleted a foreign device"
ok "a foreign device with netio's name is refused and left alone"
echo "PASS: test_netio_teardown"
