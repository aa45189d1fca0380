/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Recording a trace from the live table: what every flow direction sent
 * in each interval, in the format `flowtier simulate --trace` reads
 * (trace.h). A flow direction's id is ft_flow_id(key, dir), the id the
 * offload manager gives it, so a recording names flows as the daemon does.
 *
 * Packets are the software tier's: a direction whose packets the NIC
 * handles counts only what still reached the datapath. A flow that ends
 * during an interval loses the packets it sent after the scan before
 * (the scanner no longer sees its counters).
 */
#ifndef FT_RECORD_H
#define FT_RECORD_H

#include <stdio.h>
#include <linux/types.h>
#include "flowtier/abi.h"

struct ft_record;

/* A recorder for a table of nr_slots slots (nr_buckets * FT_SLOTS). */
int ft_record_new(struct ft_record **r, __u32 nr_slots);
void ft_record_free(struct ft_record *r);

/* The file's first lines: the format's name and the interval. */
void ft_record_header(FILE *out, double interval_s);

/*
 * Scans the table at now_ms. The first call learns every counter and
 * writes nothing: what was sent before the recording started is not in
 * it. Each later call writes interval sec's lines, one per direction that
 * sent packets since the call before, by ascending id. Returns the lines
 * written or -errno.
 */
int ft_record_step(struct ft_record *r, const struct ft_bucket *buckets, __u32 nr_buckets,
		   __u64 now_ms, __u32 sec, FILE *out);

#endif
