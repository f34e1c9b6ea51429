# shardquake - one non-recursive Makefile; objects under $(B).
#
#   make            build build/shardquake
#   make run        install missing packages, build, run the quick demo
#   make check      install missing packages, build, run every test
#   make bench      speed against redis-cli / redis-benchmark, as ratios
#   make fuzz       libFuzzer on the parsers of outside input (needs clang)
#   make install    copy the binary to $(DESTDIR)$(PREFIX)/bin
#
# Missing packages are installed by ci/deps.sh, which `run`, `check` and
# `bench` call first and then re-enter make, so that pkg-config is asked
# only once the libraries are there.

PKGS      := hiredis libnl-3.0 libnl-route-3.0 libseccomp jansson inih
TEST_PKGS := check
PREFIX    ?= /usr/local
B         ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
WERROR    ?= 1
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla \
             -Wno-format-truncation
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CHECK_LIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(if $(filter 1,$(WERROR)),-Werror) \
             -I. -I$(B)/gen $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = -pthread $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

MODULES   := common cluster verifier repair injectors
# harness/ has one folder per concern: cli/ scenario/ reshard/ local/ run/ workload/
# report/ incident/
HARNESS   := cli scenario reshard local run workload report incident
LIB_SRC   := $(filter-out harness/cli/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)) \
             $(foreach h,$(HARNESS),$(wildcard harness/$(h)/*.c)))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
SUPPORT_SRC := $(wildcard tests/support/*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c) $(SUPPORT_SRC)
IT_SRC    := $(wildcard tests/integration/*.c) $(SUPPORT_SRC)
UNIT_SUITES := $(patsubst tests/unit/check_%.c,%,$(wildcard tests/unit/check_*.c))
IT_SUITES   := $(patsubst tests/integration/it_%.c,%,$(wildcard tests/integration/it_*.c))

.PHONY: all run check bench deps deps-check install clean unit integration asan-unit \
        format format-check layers fuzz fuzz-run
all: $(B)/shardquake

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libsq.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/shardquake: $(B)/harness/cli/main.o $(B)/libsq.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Each tests/unit/check_X.c exports X_suite(); the list is generated so
# that a new suite is one new file.
$(B)/gen/unit_suites.h: $(wildcard tests/unit/check_*.c) Makefile
	@mkdir -p $(@D)
	$(Q)printf 'SUITE(%s)\n' $(UNIT_SUITES) > $@
$(B)/gen/it_suites.h: $(wildcard tests/integration/it_*.c) Makefile
	@mkdir -p $(@D)
	$(Q)printf 'SUITE(%s)\n' $(IT_SUITES) > $@
# Suites are found by name, not declared in a header.
$(B)/tests/%.o: ALL_CFLAGS += -Wno-missing-prototypes
$(B)/tests/unit/main.o: $(B)/gen/unit_suites.h
$(B)/tests/integration/main.o: $(B)/gen/it_suites.h

$(B)/tests/unit/run: $(UNIT_SRC:%.c=$(B)/%.o) $(B)/libsq.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
$(B)/tests/integration/run: $(IT_SRC:%.c=$(B)/%.o) $(B)/libsq.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

deps:
	$(Q)sh ci/deps.sh
# check also renders report.html in a real headless Chromium
deps-check:
	$(Q)sh ci/deps.sh --with-browser

run: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)sh ci/quick.sh $(B)/shardquake

# The whole test suite: unit tests, the same under ASan+UBSan, then the
# integration tests on real redis-server processes; one summary line.
# The builds use every core (JOBS): one file at a time, the two builds
# took about 50 s of a clean clone's 12 minutes, 25 s on 2 cores.
check: deps-check
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all $(B)/tests/unit/run \
	    $(B)/tests/integration/run
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) B=build-asan \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/tests/unit/run
	$(Q)sh ci/check.sh $(B) build-asan

unit: $(B)/tests/unit/run
	$<
integration: $(B)/shardquake $(B)/tests/integration/run
	$(B)/tests/integration/run

bench: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all $(B)/bench/disk_overhead $(B)/bench/count_floor
	$(Q)sh bench/run.sh $(B)/shardquake
	$(Q)$(B)/bench/disk_overhead 500000

# what the disk fault's seccomp filter costs a node before it fires
$(B)/bench/disk_overhead: $(B)/bench/disk_overhead.o $(B)/libsq.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# verify's per-slot counts sent by a bare client: the floor under them
$(B)/bench/count_floor: $(B)/bench/count_floor.o $(B)/libsq.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Parsers of outside input under libFuzzer, ASan and UBSan: scenario files
# and CLUSTER NODES answers must parse or be refused with a message.
# tests/fuzz/fuzz_NAME.c, seeded from the directory after the colon.
# Needs clang and its runtime (Debian: clang, libclang-rt-14-dev); not
# part of check.  Each target runs for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := scenario:scenarios topology:tests/fixtures/cluster-nodes
FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) \
               -fsanitize=address,undefined -MMD -MP
FUZZ_OBJ    := $(LIB_SRC:%.c=build-fuzz/%.o)
build-fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -pthread
fuzz: deps
	$(Q)command -v clang >/dev/null || { echo "make fuzz: needs clang and libclang-rt-14-dev"; exit 2; }
	$(Q)$(MAKE) --no-print-directory fuzz-run
fuzz-run: $(foreach t,$(FUZZ_TARGETS),build-fuzz/fuzz_$(firstword $(subst :, ,$(t))))
	$(Q)set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; seeds=$${t#*:}; mkdir -p build-fuzz/corpus-$$name; \
		echo "== fuzz $$name for $(FUZZ_SECONDS) s"; \
		if ! build-fuzz/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=build-fuzz/ \
			build-fuzz/corpus-$$name $$seeds >build-fuzz/$$name.log 2>&1; then \
			tail -n 40 build-fuzz/$$name.log; \
			echo "make fuzz: $$name failed; the input is in build-fuzz/ (crash-*)"; exit 1; \
		fi; \
		grep "^Done" build-fuzz/$$name.log; \
	done

install: $(B)/shardquake
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/shardquake $(DESTDIR)$(PREFIX)/bin/shardquake

layers:
	$(Q)sh ci/check-layers.sh

format:
	clang-format -i $(LIB_SRC) harness/cli/main.c $(wildcard */*.h */*/*.h tests/*/*.[ch])
format-check:
	clang-format --dry-run -Werror $(LIB_SRC) harness/cli/main.c $(wildcard */*.h */*/*.h tests/*/*.[ch])

clean:
	rm -rf build build-asan build-fuzz

.SECONDARY:
.DELETE_ON_ERROR:
-include $(shell find $(B) build-fuzz -name '*.d' 2>/dev/null)
