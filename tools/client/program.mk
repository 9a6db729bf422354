PROGRAMS += vsmr-client
vsmr-client_DIR := tools/client
