/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading a pinned connection table through mmap, without a system call per entry. */
#ifndef FT_TABLE_H
#define FT_TABLE_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

/*
 * A connection as read from the table: its state from the meta word, each
 * direction's packets and bytes its owner's plus those other CPUs counted.
 */
struct ft_ct_dir {
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;	      /* the latest, whichever CPU counted it */
	__u64 shared_packets; /* of packets, those counted by CPUs not owning the direction */
	__u16 in_ifindex;
	__s32 owner_cpu; /* -1: no owner yet */
};

struct ft_ct {
	struct ft_key key;
	__u64 first_ns;
	__u32 meta;
	__u32 redirect_ifindex;
	__u16 rule_gen;
	__u8 state; /* enum ft_state */
	__u8 verdict;
	__u8 hw;
	__u8 flags; /* FT_CONN_* */
	__u8 tcp_flags[2];
	struct ft_ct_dir dir[2];
};

/*
 * Reads slot i of b, which the datapath may be writing, into *c. The meta
 * word carries the slot's reuse sequence, so the same meta word before and
 * after the copy means one connection throughout (its counters are each
 * read whole). 1: live, 0: free, -EAGAIN: it kept changing.
 */
int ft_ct_read(const struct ft_bucket *b, int i, struct ft_ct *c);

/* Converts a copy of a live slot and its meta word. */
void ft_ct_from(const struct ft_conn *s, __u32 meta, struct ft_ct *c);

struct ft_table {
	const struct ft_bucket *buckets;
	size_t map_len;
	__u32 nr_buckets;
	struct ft_config cfg;
};

/* Maps dir's ft_conns read-only and reads ft_config. */
int ft_table_open(struct ft_table *t, const char *dir);
void ft_table_close(struct ft_table *t);

/* Calls fn for every live connection; stops early when fn returns non-zero. */
int ft_table_for_each(const struct ft_table *t,
		      int (*fn)(const struct ft_ct *c, __u32 bucket, void *arg), void *arg);

/* hist[k]: buckets with k live slots, k = 0..FT_SLOTS. */
void ft_table_histogram(const struct ft_table *t, __u64 hist[FT_SLOTS + 1]);

#endif
