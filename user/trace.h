/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow-rate traces `flowtier simulate` replays: generated from a Zipf
 * law, or read from a file.
 *
 * A trace is a set of slots, one flow in each at a time, stepped one
 * second at a time: each step says which flows left (their slot then
 * holds a new flow or none), which are live, and how many packets each
 * live flow sent during that second.
 *
 * Recorded trace file, text, one line per flow and second it sent in:
 *
 *     # flowtier trace v1
 *     SECOND FLOW_ID PACKETS
 *
 * SECOND counts from 1 and never goes down from one line to the next;
 * FLOW_ID is any non-zero 64-bit number; '#' starts a comment line. A
 * flow is live from its first line's second to its last line's; in a
 * second without a line it sent nothing.
 *
 * `flowtier record` writes this format (record.h): SECOND is the number
 * of its interval, FLOW_ID ft_flow_id() of the direction, the lines of an
 * interval by ascending id, and a comment line `# interval X s` says how
 * long an interval was (1 s by default). simulate replays one line-second
 * per simulated second whatever the interval.
 */
#ifndef FT_TRACE_H
#define FT_TRACE_H

#include <stddef.h>
#include <linux/types.h>

struct ft_trace_rec {
	__u32 sec, slot;
	__u64 packets;
};

struct ft_trace {
	__u32 n;	/* slots */
	__u32 seconds;	/* a recorded trace's last second */
	__u64 *id;	/* per slot: its flow now */
	__u64 *old_id;	/* the flow that left, when departed */
	__u64 *born_ms; /* when the flow now in the slot arrived */
	__u64 *pk;	/* packets in the last step */
	__u8 *departed; /* the slot's flow left at the start of the last step */
	__u8 *live;
	__u64 packets; /* so far, all flows */
	/* generated */
	double alpha, total_pps, turnover;
	__u64 rng, next_id;
	double *rate; /* per rank */
	__u32 *rank;  /* per slot */
	/* recorded */
	struct ft_trace_rec *recs;
	size_t nrec, pos;
	__u32 *first, *last; /* per slot, seconds */
};

/* n flows, Zipf alpha over total_pps packets a second, a share turnover replaced each second. */
int ft_trace_generate(struct ft_trace *t, __u32 n, double alpha, double total_pps, double turnover,
		      __u64 seed);

/* Reads a recorded trace; a malformed file is -EINVAL after an error naming its line. */
int ft_trace_load(struct ft_trace *t, const char *path);

/* Second sec (from 1), ending at sec * 1000 ms; shift deals a generated trace's ranks again. */
void ft_trace_step(struct ft_trace *t, __u32 sec, int shift);

void ft_trace_free(struct ft_trace *t);

#endif
