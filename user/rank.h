/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The busiest flow directions of a scan, by a bounded top-K selection. */
#ifndef FT_RANK_H
#define FT_RANK_H

#include <stddef.h>
#include "scan.h"

enum ft_sort {
	FT_SORT_PPS = 0, /* smoothed packets per second */
	FT_SORT_BPS,	 /* smoothed bytes per second */
	FT_SORT_PACKETS, /* the datapath's packet counter */
	FT_SORT_BYTES,	 /* the datapath's byte counter */
	FT_SORT_MAX,
};

/* One direction of a flow: packets whose source is key->addr[dir]. */
struct ft_ranked {
	const struct ft_flow *flow;
	const struct ft_key *key; /* the flow's */
	int dir;
};

/* "pps", "bps", "packets", "bytes"; -EINVAL for anything else. */
int ft_sort_parse(const char *name, enum ft_sort *sort);
const char *ft_sort_name(enum ft_sort sort);

/*
 * 1 when a ranks before b: the larger value of sort first; on a tie the
 * smaller key (bytewise), then direction 0. A total order, so a ranking
 * never depends on the order flows are stored in.
 */
int ft_rank_before(const struct ft_ranked *a, const struct ft_ranked *b, enum ft_sort sort);

/*
 * The best k directions of the scan's flows into out, best first; returns
 * how many (fewer when there are fewer directions). A direction that never
 * carried a packet is not ranked, nor a flow gone from the table since the
 * scan (ft_scan_read). Costs O(n log k) for n flows, with a
 * min-heap of the k best so far; valid until the next ft_scan_run().
 */
size_t ft_rank_top(const struct ft_scan *s, enum ft_sort sort, size_t k, struct ft_ranked *out);

#endif
