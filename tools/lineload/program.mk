PROGRAMS += vsmr-lineload
vsmr-lineload_DIR := tools/lineload
