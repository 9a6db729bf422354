PROGRAMS += vsmr-simdemo
vsmr-simdemo_DIR := tools/simdemo
