# vsmr-xen-statecopy: keeps a running backup domain in step with a primary
# on the same host (the device-state groundwork of issue 7, item 4).
PROGRAMS += vsmr-xen-statecopy
vsmr-xen-statecopy_DIR := tools/xen-statecopy
