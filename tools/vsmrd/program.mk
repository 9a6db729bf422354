PROGRAMS += vsmrd
vsmrd_DIR := tools/vsmrd
