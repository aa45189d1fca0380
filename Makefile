# flowtier: everything is built into $(OUT).
OUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc

WARN := -Wall -Wextra -Werror
INCLUDES := -Iinclude -I$(OUT)
CFLAGS ?= -O2 -g
SAN ?= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g $(WARN) -D__TARGET_ARCH_x86 $(INCLUDES)
LIBS := -lxdp -lbpf -lmnl -lmicrohttpd -lelf -lz -lm

BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/flowtier/*.h)
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_HDRS := $(wildcard user/*.h)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(OUT)/tests/%,$(TEST_SRCS))

.PHONY: all deps test demo bench bench-build bench-policy clean fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUT)/flowtier $(OUT)/emu-nic

deps:
	@sh tools/deps.sh

$(OUT) $(OUT)/tests:
	mkdir -p $@

$(OUT)/vmlinux.h: vmlinux.h.gen | $(OUT)
	BPFTOOL=$(BPFTOOL) sh vmlinux.h.gen > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(OUT)/flowtier: user/main.c $(USER_SRCS) $(USER_HDRS) $(OUT)/flowtier.skel.h
	$(CC) $(CFLAGS) $(WARN) $(INCLUDES) user/main.c $(USER_SRCS) -o $@ $(LIBS)

# The testbed's emulated NIC: its own object and skeleton, and its loader (not product).
EMU_NIC_SRCS := $(wildcard tools/emu-nic/*.c)

$(OUT)/emu-nic: $(EMU_NIC_SRCS) user/bpffs.c user/log.c user/hw_emu.c user/pinned.c tools/emu-nic/nic.h $(USER_HDRS) $(OUT)/emu_nic.skel.h $(OUT)/flowtier.skel.h
	$(CC) $(CFLAGS) $(WARN) $(INCLUDES) -Iuser -Itools/emu-nic $(EMU_NIC_SRCS) user/bpffs.c user/log.c user/hw_emu.c user/pinned.c -o $@ $(LIBS)

# Tests are built with AddressSanitizer and UndefinedBehaviorSanitizer. The
# controller's code and the test harness are compiled once, into $(OUT)/san,
# and linked into every test.
SAN_OBJS := $(patsubst user/%.c,$(OUT)/san/%.o,$(USER_SRCS)) $(OUT)/san/ft_test.o

$(OUT)/san:
	mkdir -p $@

$(OUT)/san/%.o: user/%.c $(USER_HDRS) $(OUT)/flowtier.skel.h | $(OUT)/san
	$(CC) $(CFLAGS) $(SAN) $(WARN) $(INCLUDES) -Iuser -c $< -o $@

$(OUT)/san/ft_test.o: tests/ft_test.c tests/ft_test.h $(USER_HDRS) $(OUT)/flowtier.skel.h | $(OUT)/san
	$(CC) $(CFLAGS) $(SAN) $(WARN) $(INCLUDES) -Iuser -Itests -c $< -o $@

$(OUT)/san/emu_nic_loader.o: tools/emu-nic/nic.c tools/emu-nic/nic.h $(USER_HDRS) $(OUT)/emu_nic.skel.h | $(OUT)/san
	$(CC) $(CFLAGS) $(SAN) $(WARN) $(INCLUDES) -Iuser -Itools/emu-nic -c $< -o $@

# Its test loads the NIC with the loader's code.
$(OUT)/tests/test_emu_nic: tests/test_emu_nic.c tests/ft_test.h tools/emu-nic/nic.h $(SAN_OBJS) $(OUT)/san/emu_nic_loader.o | $(OUT)/tests
	$(CC) $(CFLAGS) $(SAN) $(WARN) $(INCLUDES) -Iuser -Itests -Itools/emu-nic $< $(SAN_OBJS) $(OUT)/san/emu_nic_loader.o -o $@ $(LIBS) -lcriterion

$(OUT)/tests/%: tests/%.c tests/ft_test.h $(SAN_OBJS) | $(OUT)/tests
	$(CC) $(CFLAGS) $(SAN) $(WARN) $(INCLUDES) -Iuser -Itests $< $(SAN_OBJS) -o $@ $(LIBS) -lcriterion

# The tc flower backend's check inside the VM (tests/vm/run.sh).
TC_CHECK_SRCS := user/hw_tc.c user/tc_flower.c user/tc_cap.c user/hw.c user/grow.c
$(OUT)/ft-tc-check: tests/vm/tc_check.c tests/rule_fixture.h $(TC_CHECK_SRCS) $(USER_HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(WARN) $(INCLUDES) -Iuser -Itests $< $(TC_CHECK_SRCS) -o $@ -lmnl

# libFuzzer targets for the parsers of outside input (tests/fuzz), with the
# sanitizers; tests/fuzz/run.sh runs each for a bounded time.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(OUT)/fuzz/fuzz_ctl $(OUT)/fuzz/fuzz_config $(OUT)/fuzz/fuzz_netlink \
	$(OUT)/fuzz/fuzz_http
$(OUT)/fuzz:
	mkdir -p $@
$(OUT)/fuzz/fuzz_ctl: tests/fuzz/fuzz_ctl.c user/ctl.c user/loop.c user/log.c $(USER_HDRS) | $(OUT)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(WARN) $(INCLUDES) -Iuser $(filter %.c,$^) -o $@ -lbpf
$(OUT)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c user/config.c user/log.c $(USER_HDRS) | $(OUT)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(WARN) $(INCLUDES) -Iuser $(filter %.c,$^) -o $@ -lbpf
$(OUT)/fuzz/fuzz_netlink: tests/fuzz/fuzz_netlink.c user/tc_flower.c user/log.c $(USER_HDRS) | $(OUT)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(WARN) $(INCLUDES) -Iuser $(filter %.c,$^) -o $@ -lbpf -lmnl
$(OUT)/fuzz/fuzz_http: tests/fuzz/fuzz_http.c user/http.c user/textbuf.c user/log.c $(USER_HDRS) | $(OUT)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(WARN) $(INCLUDES) -Iuser $(filter %.c,$^) -o $@ -lbpf -lmicrohttpd
fuzz: $(FUZZ_BINS)

# Both work on a fresh machine: dependencies first, then the build.
test: deps
	$(MAKE) -j$$(nproc) $(OUT)/flowtier $(OUT)/emu-nic $(OUT)/ft-tc-check gen $(TEST_BINS) \
		$(FUZZ_BINS)
	@FT_BIN=$(OUT)/flowtier FT_EMU_BIN=$(OUT)/emu-nic FT_VM_CACHE=$(OUT)/vm FT_FUZZ_DIR=$(OUT)/fuzz \
		sh tests/run.sh $(TEST_BINS) tests/fuzz/run.sh tests/prometheus.sh tests/demo.sh \
		tests/vm/run.sh

demo: deps
	$(MAKE) $(OUT)/flowtier $(OUT)/emu-nic gen
	@bash tools/demo.sh $(OUT)

# Every benchmark (datapath per packet, the controller's scan interval, the offload policies,
# end to end when the testbed is there), then one table of them (~4 minutes).
bench: bench-build $(OUT)/flowtier $(OUT)/emu-nic gen
	@FT_BENCH_ARGS='$(BENCH_ARGS)' sh tools/bench/all.sh $(OUT)

# CI builds the benchmarks without running them, so that they cannot rot.
bench-build: $(OUT)/flowtier.skel.h
	$(MAKE) -C tools/bench OUT=$(abspath $(OUT))/bench TOP=$(abspath .) all scan

# Offload policies on Zipf traces (alpha 0.8 to 1.2, 1,000 and 4,000 rules): 100k flows, one shift of the hot set (~1 minute).
bench-policy: $(OUT)/flowtier
	@for a in 0.8 1.0 1.2; do for c in 1000 4000; do \
		echo "zipf $$a, capacity $$c"; \
		$(OUT)/flowtier simulate --zipf $$a --flows 100000 --capacity $$c --duration 120 --shift 60; \
	done; done

clean:
	rm -rf $(OUT)

# The testbed's traffic generator and sink (tools/gen; tools/testbed.sh uses them).
.PHONY: gen
all: gen
gen: $(OUT)/vmlinux.h
	$(MAKE) -C tools/gen OUT=$(abspath $(OUT)) TOP=$(abspath .)
$(OUT)/tests/test_gen: | gen
