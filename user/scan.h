/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Scanning the connection table every interval: per-slot deltas, flows
 * merged by key, and per-direction rates.
 *
 * A scanner reads the whole mmapped table without a system call per entry.
 * It keeps one shadow entry per slot (the slot's identity and the counters
 * read last time) and one flow entry per key, so the connections one key
 * has over time (a new one after a timeout, in another slot) are one flow,
 * and so would two entries two CPUs made for one key at once if the bucket
 * lock timed out. Flows persist from one scan to the next while some slot
 * holds their key; the others leave.
 */
#ifndef FT_SCAN_H
#define FT_SCAN_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

struct ft_scan;

/*
 * One flow, as ft_scan_read() and ft_scan_view() give it: every live slot
 * holding its key, summed. Direction d counts packets whose source is
 * key.addr[d], as in struct ft_dir.
 *
 * The scanner keeps per flow only what the table cannot give back (rates,
 * totals, where its slots are); the rest of this view is read from the
 * flow's slots when asked for. A slot the datapath recycled since the scan
 * is left out, and a flow none of whose slots still holds its connection
 * is gone (ft_scan_read() says -ESTALE, ft_scan_view() NULL).
 */
struct ft_flow {
	/* Smoothed rates, 0 until an interval was seen; kept as floats. */
	double pps[2];
	double bps[2];
	/*
	 * Every packet and byte the scanner has attributed to the key since the
	 * flow entered its state, what its connections had counted before
	 * included. Unlike packets and bytes, these survive a reused slot and a
	 * connection that moved to another slot.
	 */
	__u64 total_packets[2];
	__u64 total_bytes[2];
	/* The datapath's counters at the last scan, summed over the flow's slots. */
	__u64 packets[2];
	__u64 bytes[2];
	/* The rest from the flow's slots now; the earliest creation, in FT_TICK_SHIFT units. */
	__u64 last_ns; /* the latest dir last_ns over the flow's slots */
	__u32 created_tick;
	__u32 id; /* the flow's entry: 0 .. ft_scan_entries() - 1 */
	/* From the slot with the latest last_ns. */
	__u8 state;   /* enum ft_state */
	__u8 verdict; /* enum ft_verdict */
	__u8 hw;      /* FT_HW_* */
	__u8 flags;   /* FT_CONN_* */
	__u32 redirect_ifindex;
	__u16 in_ifindex[2];
	struct ft_key key;
};

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

/* Flow entries: a flow's id is below this. */
size_t ft_scan_entries(const struct ft_scan *s);

/*
 * Entry id's flow into *f, read from the table the last ft_scan_run() was
 * given (which must stay mapped). Returns 0, -ENOENT when the entry is no
 * flow, or -ESTALE when every slot of the flow was recycled since the scan.
 */
int ft_scan_read(const struct ft_scan *s, size_t id, struct ft_flow *f);

/*
 * The same, kept by the scanner until the next ft_scan_run(): asking twice
 * gives the same pointer, so callers may compare flows by pointer. NULL for
 * no flow, a gone flow, or no memory. Only for flows a caller singles out:
 * each costs sizeof(struct ft_flow) until the next scan.
 */
const struct ft_flow *ft_scan_view(const struct ft_scan *s, size_t id);

/*
 * Entry id's smoothed rates as floats (what ranking reads): pps at
 * [0..1], bps at [2..3]; 0 for entries that are no flow. stride: bytes
 * from one entry's to the next. total_packets: entry id's two totals.
 */
const float *ft_scan_rates(const struct ft_scan *s, size_t *stride);
const __u64 *ft_scan_totals(const struct ft_scan *s, size_t id);

/*
 * Every entry's counters at the last scan, summed over its slots: packets
 * (bytes = 0) or bytes (bytes = 1) into out[2 * id + d], out having
 * ft_scan_entries() pairs. For ranking by counters.
 */
void ft_scan_counters(const struct ft_scan *s, int bytes, __u64 *out);

/* The entry of key's flow, or -ENOENT. No view is made. */
long ft_scan_lookup(const struct ft_scan *s, const struct ft_key *key);

/* The flow of key, as ft_scan_view() gives it, or NULL. */
const struct ft_flow *ft_scan_find(const struct ft_scan *s, const struct ft_key *key);

/* A flow's key. */
static inline const struct ft_key *ft_flow_key(const struct ft_scan *s, const struct ft_flow *f)
{
	(void)s;
	return &f->key;
}

/* ft_scan_mark()'s marks, per flow. */
#define FT_MARK_HW    (1u << 0) /* the flow is in hardware: its slots' hw = FT_HW_OFFLOADED */
#define FT_MARK_TOUCH (1u << 1) /* its packets go through the NIC: keep it from timing out */

/*
 * Writes the controller's part of the table for every flow: marks[i] is
 * for entry i (ft_scan_entries() of them). A slot's hw byte follows
 * FT_MARK_HW; FT_MARK_TOUCH sets its last_tick to now_tick, as a packet
 * would. Only slots that still hold the connection the last scan saw are
 * written, and only slots of flows marked or in hardware are written.
 */
void ft_scan_mark(const struct ft_scan *s, struct ft_bucket *buckets, const __u8 *marks,
		  __u32 now_tick);

/* Bytes the scanner has allocated (shadow, flows, index, views), touched or not. */
size_t ft_scan_memory(const struct ft_scan *s);

#endif
