PROGRAMS += vsmr-simguest
vsmr-simguest_DIR := tools/sim-guest
