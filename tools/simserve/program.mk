PROGRAMS += vsmr-simserve
vsmr-simserve_DIR := tools/simserve
