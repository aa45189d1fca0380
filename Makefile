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
LIBS := -lxdp -lbpf -lmnl -lmicrohttpd -lelf -lz

BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/flowtier/*.h)
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_HDRS := $(wildcard user/*.h)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(OUT)/tests/%,$(TEST_SRCS))

.PHONY: all deps test demo bench bench-build clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUT)/flowtier

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

# Tests are built with AddressSanitizer and UndefinedBehaviorSanitizer.
$(OUT)/tests/%: tests/%.c tests/ft_test.h $(wildcard tests/*.c) $(USER_SRCS) $(USER_HDRS) $(OUT)/flowtier.skel.h | $(OUT)/tests
	$(CC) $(CFLAGS) $(SAN) $(WARN) $(INCLUDES) -Iuser -Itests $< tests/ft_test.c $(USER_SRCS) -o $@ $(LIBS) -lcriterion

# Both work on a fresh machine: dependencies first, then the build.
test: deps
	$(MAKE) $(OUT)/flowtier $(TEST_BINS)
	@FT_BIN=$(OUT)/flowtier FT_VM_CACHE=$(OUT)/vm sh tests/run.sh $(TEST_BINS) tests/vm/run.sh

demo: deps
	$(MAKE) $(OUT)/flowtier
	@bash tools/demo.sh $(OUT)/flowtier

# The datapath per packet, then the controller's scan interval.
bench: bench-build
	$(OUT)/bench/ft-bench $(BENCH_ARGS)
	$(OUT)/bench/ft-scan-bench

# CI builds the benchmarks without running them, so that they cannot rot.
bench-build: $(OUT)/flowtier.skel.h
	$(MAKE) -C tools/bench OUT=$(abspath $(OUT))/bench TOP=$(abspath .) all scan

clean:
	rm -rf $(OUT)

# The testbed's traffic generator and sink (tools/gen; tools/testbed.sh uses them).
.PHONY: gen
all: gen
gen: $(OUT)/vmlinux.h
	$(MAKE) -C tools/gen OUT=$(abspath $(OUT)) TOP=$(abspath .)
$(OUT)/tests/test_gen: | gen
