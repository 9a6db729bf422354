PROGRAMS += vsmrctl
vsmrctl_DIR := tools/vsmrctl
