/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the benchmark's BPF programs and its runner agree on. */
#ifndef FT_BENCH_H
#define FT_BENCH_H

/* The programs under test, in table order; also the driver's counter index. */
enum bench_target {
	BENCH_EMPTY = 0,
	BENCH_PERCPU_BARE,
	BENCH_PERCPU_HASH,
	BENCH_LRU_HASH,
	BENCH_LRU_CT,
	BENCH_KERNEL_CT,
	BENCH_FLOWTIER,
	BENCH_NR_MEASURED, /* the programs the targets are about */
	/* -p: what the table's memory costs without the work around it */
	BENCH_PROBE_DIRECT = BENCH_NR_MEASURED,
	BENCH_PROBE_2WAY,
	BENCH_NR_TARGETS,
};

/* The probes' tables: 1M flows' worth, 64 bytes each. */
#define BENCH_PROBE_LINES   (1u << 20)
#define BENCH_PROBE_BUCKETS (BENCH_PROBE_LINES / 8)

/* Entries of each baseline map: the "1M" of every scenario. */
#define BENCH_TABLE_ENTRIES (1u << 20)

/*
 * Flow i is 198.18.0.(1 + i / 65536):(i % 65536) -> 198.19.0.1:7777,
 * UDP: 4M flows fit, and every address stays in 198.18.0.0/15.
 */
#define BENCH_SRC_NET	0xc6120001u /* 198.18.0.1 */
#define BENCH_DST_ADDR	0xc6130001u /* 198.19.0.1 */
#define BENCH_DST_PORT	7777
#define BENCH_MAX_FLOWS (1u << 22)

/*
 * Odd, so n * BENCH_STRIDE mod 2^k visits every flow once per 2^k
 * packets; large, so consecutive packets hit unrelated entries.
 */
#define BENCH_STRIDE 2654435761u

#endif
