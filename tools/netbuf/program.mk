PROGRAMS += vsmr-netbuf
vsmr-netbuf_DIR := tools/netbuf
