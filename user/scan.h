/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Scanning the connection table every interval: per-slot deltas, flows
 * merged by key over the CPU parts, and per-direction rates.
 *
 * A scanner reads the whole mmapped table without a system call per entry.
 * It keeps one shadow entry per slot (the slot's identity and the counters
 * read last time) and one flow per key, so a connection that appears in
 * several CPU parts (asymmetric RSS) is one flow. Flows persist from one
 * scan to the next while some slot holds their key; the others leave.
 */
#ifndef FT_SCAN_H
#define FT_SCAN_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

struct ft_scan;

/*
 * One flow: every live slot holding its key, summed. Direction d counts
 * packets whose source is key.addr[d], as in struct ft_dir; the key is
 * ft_flow_key()'s. It is kept apart, and a flow is two cache lines, so that
 * a scan, which has no need to read the key of a connection it has seen
 * before, touches two lines per flow and ranking one. Valid until the next
 * ft_scan_run().
 */
struct ft_flow {
	/* First line, what ranking reads. Smoothed rates, 0 until an interval was seen. */
	double pps[2];
	double bps[2];
	/*
	 * Every packet and byte the scanner has attributed to the key since the
	 * flow entered its state, what its connections had counted before
	 * included. Unlike packets and bytes, these survive a reused slot and a
	 * connection that moved to another slot.
	 */
	__u64 total_packets[2];
	__u16 nslots; /* bookkeeping: shadow entries referring to it; 0: not a flow */
	__u16 gen;    /* bookkeeping: the scan that last added a slot's counters */
	/* The earliest creation over the flow's slots, in FT_TICK_SHIFT units of the datapath's
	 * clock. */
	__u32 created_tick;
	__u64 last_ns; /* the latest dir last_ns over the flow's slots */
	/* Second line. */
	__u64 total_bytes[2];
	/* The datapath's counters now, summed over the flow's slots. */
	__u64 packets[2];
	__u64 bytes[2];
	/* From the slot with the latest last_ns. */
	__u8 state;   /* enum ft_state */
	__u8 verdict; /* enum ft_verdict */
	__u8 hw;      /* FT_HW_* */
	__u8 flags;   /* FT_CONN_* */
	/* The scanner's own bookkeeping, as are nslots and gen. */
	__u8 rated; /* the rates have been set once */
	__u8 fresh; /* this scan sets the rates instead of smoothing them */
	__u8 dying; /* on the list of flows that lost their last slot */
	__u8 pad;
	/* From the slot with the latest last_ns, as state is: where the offload manager puts rules.
	 */
	__u32 redirect_ifindex;
	__u16 in_ifindex[2];
};

_Static_assert(sizeof(struct ft_flow) == 128, "a flow is two cache lines");

/* What the last ft_scan_run() saw. */
struct ft_scan_stats {
	__u64 dt_ms;	  /* since the scan before; 0 on the first scan */
	__u32 slots;	  /* live slots read */
	__u32 flows;	  /* flows after the scan */
	__u32 new_slots;  /* slots with a connection not seen there before */
	__u32 new_flows;  /* keys that entered the state */
	__u32 gone_flows; /* keys that left: no slot holds them any more */
	__u32 torn;	  /* slots skipped because they kept changing while read */
};

/*
 * A scanner for a table of nr_slots slots (nr_buckets * FT_SLOTS). Rates
 * are smoothed by an exponentially weighted moving average whose half-life
 * is half_life_ms: a step change in traffic shows half of its size after
 * one half-life. 0 does not smooth. Returns 0 or -errno.
 */
int ft_scan_new(struct ft_scan **s, __u32 nr_slots, __u32 half_life_ms);
void ft_scan_free(struct ft_scan *s);

/*
 * Reads every slot of the table once, at now_ms (milliseconds on any clock
 * that only moves forward; each scan must be later than the one before).
 * The first scan only learns the counters: rates need an interval.
 * Returns 0, -EINVAL for a table of another size or a time that did not
 * advance, or -ENOMEM when a new flow could not be stored (its slot then
 * counts as new at the next scan; everything else is up to date).
 */
int ft_scan_run(struct ft_scan *s, const struct ft_bucket *buckets, __u32 nr_buckets, __u64 now_ms);

const struct ft_scan_stats *ft_scan_stats(const struct ft_scan *s);

/* Flows after the last scan. */
size_t ft_scan_count(const struct ft_scan *s);

/*
 * The flow array: *n entries, the flows among them in no particular order
 * (ft_flow_live tells which; the others have every counter and rate 0).
 * For iteration without a call per flow.
 */
const struct ft_flow *ft_scan_flows(const struct ft_scan *s, size_t *n);

static inline int ft_flow_live(const struct ft_flow *f)
{
	return f->nslots != 0;
}

/*
 * The pps of every entry of ft_scan_flows(), packed and rounded to float:
 * entry i's direction d at [2 * i + d]. What ranking by pps reads, 8 bytes
 * a flow; rounding keeps the order (x <= y gives (float)x <= (float)y).
 */
const float *ft_scan_pps(const struct ft_scan *s);

/* The flow of key, or NULL. */
const struct ft_flow *ft_scan_find(const struct ft_scan *s, const struct ft_key *key);

/* A flow's key (f from ft_scan_flows, ft_scan_find or a ranking). */
const struct ft_key *ft_flow_key(const struct ft_scan *s, const struct ft_flow *f);

/* ft_scan_mark()'s marks, per flow. */
#define FT_MARK_HW    (1u << 0) /* the flow is in hardware: its slots' hw = FT_HW_OFFLOADED */
#define FT_MARK_TOUCH (1u << 1) /* its packets go through the NIC: keep it from timing out */

/*
 * Writes the controller's part of the table for every flow: marks[i] is
 * for entry i of ft_scan_flows() (*n of them). A slot's hw byte follows
 * FT_MARK_HW; FT_MARK_TOUCH sets its last_tick to now_tick, as a packet
 * would. Only slots that still hold the connection the last scan saw are
 * written, and only lines of flows marked or in hardware are read.
 */
void ft_scan_mark(const struct ft_scan *s, struct ft_bucket *buckets, const __u8 *marks,
		  __u32 now_tick);

/* Bytes the scanner has allocated (shadow, flows, index), touched or not. */
size_t ft_scan_memory(const struct ft_scan *s);

#endif
