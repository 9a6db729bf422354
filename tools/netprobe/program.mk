PROGRAMS += vsmr-netprobe
vsmr-netprobe_DIR := tools/netprobe
