# xl-vsmr: `xl vsmr`, protects a running Xen domain (tools/xl-vsmr/);
# installed also as vsmr-xl (a symlink).
PROGRAMS += xl-vsmr
xl-vsmr_DIR := tools/xl-vsmr
all: $(BUILD)/bin/vsmr-xl
$(BUILD)/bin/vsmr-xl: $(BUILD)/bin/xl-vsmr
	$(Q)ln -sf xl-vsmr $@
