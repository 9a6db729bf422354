# vsmr-xen-conformance: the guest-backend conformance checks against a real
# domain (run inside the lab's dom0 by tests/lab/test_conformance.sh).
PROGRAMS += vsmr-xen-conformance
vsmr-xen-conformance_DIR := tools/xen-conformance
