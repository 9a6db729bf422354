# VSMR for Xen: the one entry point.
#
#   make            build the library, daemons, tools (into build/)
#   make check      unit tests, again under ASan+UBSan, then integration tests
#   make bench      benchmarks (figures as ratios against same-run baselines)
#   make demo       the main job (see README.md): two emulated Xen hosts, failover
#   make demo-sim   the same story on simulated guests, on loopback
#   make fuzz       run every fuzz target for FUZZ_SECONDS each
#   make lab        build the Xen-in-QEMU lab images;  make lab-check  runs it
#   make lab-bench  per-sync pause in the lab: VSMR (1, 2 threads) vs xl remus
#   make compare    unprotected vs xl remus vs VSMR on one guest (lab)
#   make lab-rdma   the RDMA transport on soft-RoCE: two QEMU guests as hosts
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       install the Debian packages everything needs
#
# Sources are discovered by folder: every .c under tools/libvsmr/ goes into
# the library, every tests/unit/test_*.c is one Check test program, every
# tests/fuzz/fuzz_*.c one libFuzzer target, every bench/bench_*.c one
# benchmark. Programs are listed in PROGRAMS below.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?= 0
CC      ?= cc
FUZZ_SECONDS ?= 30

VERSION := 0.1.0

PKGS    := libxxhash libzstd libsodium libnl-route-3.0 libnl-3.0 check
XENLIBS := -lxenctrl -lxenforeignmemory -lxenstore -lxenlight -lxentoollog \
           -lxenguest -lxenevtchn -lxencall -lxengnttab
RDMALIBS := -libverbs -lrdmacm

CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wno-unused-parameter -fPIC -g \
               -D_GNU_SOURCE -Itools/libvsmr/include -Itools/libvsmr \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ifeq ($(SAN),1)
  OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
         -fno-sanitize-recover=undefined
else
  OPT := -O2
endif
CFLAGS  ?=
ALL_CFLAGS := $(CFLAGS_BASE) $(OPT) $(CFLAGS)
LDLIBS  := $(shell pkg-config --libs libxxhash libzstd libsodium libnl-route-3.0 libnl-3.0 2>/dev/null) \
           $(XENLIBS) $(RDMALIBS) -lpthread -lm
CHECKLIBS := $(shell pkg-config --libs check 2>/dev/null)

LIB_SRCS := $(sort $(shell find tools/libvsmr -name '*.c'))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBA     := $(BUILD)/libvsmr.a
LIBSO    := $(BUILD)/libvsmr.so.0

# Programs: each tools/<dir>/program.mk adds itself, e.g.
#   PROGRAMS += vsmrd
#   vsmrd_DIR := tools/vsmrd
# and every .c in that folder is linked with libvsmr.a into build/bin/vsmrd.
PROGRAMS :=
-include $(sort $(wildcard tools/*/program.mk))

PROG_BINS := $(PROGRAMS:%=$(BUILD)/bin/%)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps check unit integration bench demo demo-sim fuzz fuzz-build lab lab-check lab-bench compare \
        lab-rdma install clean
.DEFAULT_GOAL := all

all: deps-ok $(LIBA) $(LIBSO) $(PROG_BINS) $(BUILD)/libvsmr.pc

deps:
	@sh scripts/deps.sh
# Again whenever scripts/deps.sh changed (a package was added).
deps-ok:
	@test $(BUILD)/.deps-ok -nt scripts/deps.sh || { sh scripts/deps.sh && mkdir -p $(BUILD) && touch $(BUILD)/.deps-ok; }

# XXH3 with a wide vector unit; hash.c checks the CPU at run time.
$(BUILD)/tools/libvsmr/hash/xxh3_wide.o: ALL_CFLAGS += -mavx2
$(BUILD)/tools/libvsmr/hash/xxh3_avx512.o: ALL_CFLAGS += -mavx512f

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	$(Q)$(CC) -shared -Wl,-soname,libvsmr.so.0 $(OPT) -o $@ $^ $(LDLIBS)

$(BUILD)/libvsmr.pc: tools/libvsmr/libvsmr.pc.in Makefile
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

define program_rule
$(BUILD)/bin/$(1): $$(patsubst %.c,$(BUILD)/%.o,$$(wildcard $$($(1)_DIR)/*.c)) $(LIBA)
	@mkdir -p $$(dir $$@)
	@$(if $(Q),echo "  LINK    $$@")
	$(Q)$$(CC) $(OPT) -o $$@ $$^ $(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELPERS:%.c=$(BUILD)/%.o) $(LIBA) $(PROG_BINS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(UNIT_HELPERS:%.c=$(BUILD)/%.o) $(LIBA) $(CHECKLIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# --- tests -----------------------------------------------------------------

# Unit tests run with VSMR_BIN pointing at this build's programs.
unit: all $(UNIT_BINS)
	@BUILD=$(BUILD) sh tests/run-unit.sh $(UNIT_BINS)

check: deps-ok
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory fuzz-build

integration: all
	@BUILD=$(BUILD) sh tests/run-integration.sh

bench: all $(BENCH_BINS)
	@BUILD=$(BUILD) sh bench/run.sh $(BENCH_BINS)

# The main job: two emulated Xen hosts and a witness; `xl vsmr` protects a
# guest, the primary host is killed, the guest carries on (docs/lab.md).
demo: lab
	@bash tests/lab/test_pair_failover.sh $(BUILD)/lab/demo

# VSMR end to end on simulated guests, on loopback (under a minute).
demo-sim: all
	@BUILD=$(BUILD) sh scripts/demo.sh

# --- fuzzing (clang + libFuzzer) -------------------------------------------

FUZZ_BUILD := build/fuzz
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CFLAGS := $(CFLAGS_BASE) -DVSMR_HASH_PORTABLE -O1 -g -fsanitize=address,undefined
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
# The library goes in as an archive, so a target links only the objects it
# needs.
FUZZ_LIBA  := $(FUZZ_BUILD)/libvsmr-fuzz.a
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC-FUZZ $<")
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_LIBA): $(FUZZ_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIBA)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBA) $(LDLIBS)

.SECONDARY: $(FUZZ_OBJS)
fuzz-build: $(FUZZ_BINS)
fuzz: deps-ok $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BINS)

# --- the Xen lab -----------------------------------------------------------

lab: all
	@VSMR_DEPS_LAB=1 sh scripts/deps.sh
	@bash tests/lab/build.sh

lab-check: lab
	@bash tests/lab/check.sh

# Per-sync pause of VSMR (1 and 2 hashing threads) against xl remus -F -n,
# emulated figures (docs/benchmarks.md). RATES=0,1024 picks working sets.
# The same guest and workload unprotected, under xl remus -F -n and under
# VSMR, in one lab boot; the table and the VSMR/Remus ratios
# (docs/benchmarks.md). CONNS=, SECONDS_RUN=, INTERVAL_MS=, RATE= tune it.
compare: lab
	@bash tests/lab/run.sh --name compare --env "$(strip $(if $(CONNS),CONNS=$(CONNS)) $(if $(SECONDS_RUN),SECONDS_RUN=$(SECONDS_RUN)) $(if $(INTERVAL_MS),INTERVAL_MS=$(INTERVAL_MS)) $(if $(RATE),RATE=$(RATE)) $(if $(PHASES),PHASES=$(PHASES)) $(if $(DEPTH),DEPTH=$(DEPTH)) $(if $(BACKUP_WAIT_MS),BACKUP_WAIT_MS=$(BACKUP_WAIT_MS)))" \
	  tests/lab/compare.sh; rc=$$?; sh tests/lab/compare-table.sh build/lab/compare/compare.log; exit $$rc

lab-bench: lab   # two vCPUs: the figures compare 1 and 2 hashing threads
	@QEMU_SMP=2 bash tests/lab/run.sh --name pause --env "$(if $(RATES),RATES=$(RATES))" \
	  tests/lab/bench_pause.sh; rc=$$?; \
	  grep -h '^PAUSE-BENCH' build/lab/pause/pause.log | cut -d' ' -f2- | \
	  awk '{ for (i = 1; i <= NF; i++) printf "%-13s ", $$i; print "" }'; exit $$rc

# --- the RDMA lab (soft-RoCE, two QEMU guests) -----------------------------

$(BUILD)/lab/%: tests/lab/rdma/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

lab-rdma: all $(BUILD)/lab/rdma_xfer $(BUILD)/lab/rdma_sync
	@VSMR_DEPS_LAB=1 sh scripts/deps.sh
	@BUILD=$(BUILD) bash tests/lab/rdma/run.sh

# --- install ---------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/include/vsmr $(DESTDIR)$(PREFIX)/sbin
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libvsmr.so.0 $(DESTDIR)$(PREFIX)/lib/libvsmr.so
	install -m 644 tools/libvsmr/include/vsmr/*.h $(DESTDIR)$(PREFIX)/include/vsmr/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    tools/libvsmr/libvsmr.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libvsmr.pc
	install -m 755 $(PROG_BINS) $(DESTDIR)$(PREFIX)/sbin/
	ln -sf xl-vsmr $(DESTDIR)$(PREFIX)/sbin/vsmr-xl

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
