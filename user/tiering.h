/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Between the two tiers, every interval: the software tier's flows (a
 * scan) become the offload manager's candidate directions, and what the
 * manager decided comes back into the table (the hw mark, and keeping
 * alive the connections whose packets now go through the NIC).
 */
#ifndef FT_TIERING_H
#define FT_TIERING_H

#include <linux/types.h>
#include "offload.h"
#include "rank.h"
#include "scan.h"

struct ft_tiering;

/* m: the manager the tiering feeds; it stays the caller's. */
int ft_tiering_new(struct ft_tiering **t, struct ft_offload *m);
void ft_tiering_free(struct ft_tiering *t);

/*
 * After ft_scan_run(): hands the manager this interval's directions (the
 * first call adopts the rules found in the NIC instead of installing),
 * then marks the table. now_ms is the scan's clock, now_tick the
 * datapath's (CLOCK_MONOTONIC_COARSE >> FT_TICK_SHIFT).
 */
int ft_tiering_tick(struct ft_tiering *t, const struct ft_scan *s, struct ft_bucket *buckets,
		    __u64 now_ms, __u32 now_tick);

/*
 * Directions handed to the manager at the last tick: those at or above
 * its min_pps, and those it holds whatever their rate.
 */
size_t ft_tiering_listed(const struct ft_tiering *t);

/*
 * The devices the manager puts rules on, for adoption: every device a
 * candidate arrives on is found from the table; these are added to them.
 */
int ft_tiering_add_device(struct ft_tiering *t, __u32 ifindex);

/* The stable id of one direction of a connection: the rule's cookie. */
__u64 ft_flow_id(const struct ft_key *k, int dir);

/*
 * A direction's tier, and the packets and bytes the NIC handled for it
 * (0 without a manager).
 */
enum ft_tier ft_tiering_tier(const struct ft_tiering *t, const struct ft_key *k, int dir,
			     __u64 *hw_packets, __u64 *hw_bytes);

const char *ft_tier_name(enum ft_tier tier);

/*
 * A direction's value for sort with the NIC's part added: packets and
 * bytes are the software tier's plus the hardware's, rates add the rate
 * the rule's counters show. t NULL: the software tier's alone.
 */
double ft_tiering_value(const struct ft_tiering *t, const struct ft_ranked *r, enum ft_sort sort);

/*
 * The best k directions by ft_tiering_value(): the software tier's top k
 * merged with every direction in hardware (whose software counters hardly
 * move), so a flow the NIC carries ranks by what it carries. out holds
 * k entries; returns how many. Valid until the next scan.
 */
size_t ft_tiering_rank(const struct ft_tiering *t, const struct ft_scan *s, enum ft_sort sort,
		       size_t k, struct ft_ranked *out);

#endif
