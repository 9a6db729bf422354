#!/bin/bash
# test_conformance.sh - runs in the lab's dom0: the guest-backend
# conformance checks (vsmr-xen-conformance) against a real PVH domU, then
# the bad-input checks: no such domain, dom0, a PV domain, a shut-down
# domain; each must fail with a clear error and leave the domain as it was.
. /vsmrlab/lib.sh
not_paused() { [ "$(vsmr-xen-conformance paused "$1")" = 0 ]; }

echo "$(el) xl info: $(xl info | grep -E '^(xen_version|free_memory)' | tr '\n' ' ')"
lab_check guest-created timeout 120 xl create /etc/xen/guest1.cfg
lab_check guest-service-up wait_console guest1 "VSMR-GUESTD listening" 240
lab_check guest-ping ping -c 2 -W 5 10.10.0.2
D=$(xl domid guest1)
echo "$(el) guest1 is domain $D"; xl list

echo "$(el) ===== conformance checks"
timeout 300 vsmr-xen-conformance run "$D" 10.10.0.2:7777; rc=$?
lab_check conformance-suite [ $rc = 0 ]
lab_check guest-unpaused-after-suite not_paused "$D"

echo "$(el) ===== bad inputs"
lab_check open-by-name-bad timeout 30 vsmr-xen-conformance expect-error VSMR_ENOENT nosuchguest "no domain is named"
lab_check open-missing-domid timeout 30 vsmr-xen-conformance expect-error VSMR_ENOENT 4242 "does not exist"
lab_check open-dom0 timeout 30 vsmr-xen-conformance expect-error VSMR_EINVAL 0 "dom0"
if timeout 120 xl create -p /etc/xen/pvguest.cfg; then
  P=$(xl domid pvguest)
  lab_check open-pv-domain timeout 30 vsmr-xen-conformance expect-error VSMR_ENOTSUP pvguest "is PV"
  lab_check pv-domain-untouched [ "$(vsmr-xen-conformance paused "$P")" = 1 ]
  xl destroy pvguest
  for _ in $(seq 1 30); do xl list pvguest >/dev/null 2>&1 || break; sleep 0.5; done
else
  echo "LAB-CHECK open-pv-domain FAIL (xl create -p of a PV domain failed)"; fails=$((fails + 1))
fi
if timeout 120 xl create -p /etc/xen/deadguest.cfg; then
  S=$(xl domid deadguest)
  vsmr-xen-conformance force-shutdown "$S"
  for _ in $(seq 1 20); do xl list | awk '$1=="deadguest"{print $5}' | grep -q s && break; sleep 0.5; done
  xl list
  lab_check open-shutdown-domain timeout 30 vsmr-xen-conformance expect-error VSMR_ESTATE deadguest "shut down"
  xl destroy deadguest
else
  echo "LAB-CHECK open-shutdown-domain FAIL (xl create -p failed)"; fails=$((fails + 1))
fi
lab_check guest-still-running not_paused "$D"
lab_check guest-still-answers sh -c 'echo INC | timeout 10 nc -q 2 10.10.0.2 7777 | grep -q "^[0-9]"'
echo "$(el) ===== guest1 console (tail)"; tail -8 "$CON/guest-guest1.log"
xl list
echo "$(el) conformance test done: $fails failure(s)"
[ $fails = 0 ]
