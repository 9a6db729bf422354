#!/bin/sh
# test_netio_errors.sh - bad input gets a clear error and a non-zero exit:
# a vif that does not exist, a bad name, commands before setup, a vif with
# a foreign ingress qdisc, a kernel without sch_plug, a corrupt frame file.
. tests/integration/lib_netio.sh
require_root_netns
require_kernel veth ifb clsact
make_topology

expect_err "no network device vif9.9" netbuf setup vif9.9
expect_err "not a network interface name" netbuf setup "bad/name"
expect_err "not a network interface name" netbuf setup "much-too-long-name0"
expect_err "does not exist" netbuf plug vif1.0
expect_err "does not exist" netbuf release vif9.9
expect_err "capture device vsi-vif1.0" netbuf capture vif1.0 "$WORK/x.bin" --timeout 10
expect_err "usage" netbuf
expect_err "unknown command" netbuf frobnicate vif1.0
netbuf status vif9.9 > "$WORK/st.out"; [ $? = 3 ] || fail "status of a missing vif must exit 3"
grep -q vif_exists=0 "$WORK/st.out" || fail "status does not say the vif is missing"
ok "status of a missing vif: exit 3, vif_exists=0"

# A Remus-style ingress qdisc already on the vif.
tc -n "$D" qdisc add dev vif1.0 ingress
expect_err "not clsact" netbuf setup vif1.0 --input-only
tc -n "$D" qdisc del dev vif1.0 ingress
no_leftovers || fail "failed setup left something behind"

# A missing kernel module: real here when sch_plug is absent.
if ! kernel_has plug; then
  expect_err "sch_plug" netbuf setup vif1.0 --output-only
  no_leftovers || fail "setup without sch_plug left something behind"
else
  note "sch_plug is present here: the missing-module error is covered where it is absent"
fi

# A corrupt frame entry is rejected before anything is injected.
printf 'VN\001\000\001\000\000\000garbage' > "$WORK/bad.bin"
expect_err "frame 0 of 1" netbuf inject vif1.0 "$WORK/bad.bin"
expect_err "No such file" netbuf inject vif1.0 "$WORK/none.bin"
echo "PASS: test_netio_errors"
