// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Top-K by a bounded min-heap: the root is the worst of the k kept, so
 * most directions cost one comparison with it and only a better one pays
 * the O(log k) sift. Sorting every flow would cost O(n log n) per interval
 * for the few lines anyone reads.
 */
#include <errno.h>
#include <string.h>

#include "rank.h"

static const char *const ft_sort_names[FT_SORT_MAX] = {
	[FT_SORT_PPS] = "pps",
	[FT_SORT_BPS] = "bps",
	[FT_SORT_PACKETS] = "packets",
	[FT_SORT_BYTES] = "bytes",
};

int ft_sort_parse(const char *name, enum ft_sort *sort)
{
	for (int i = 0; i < FT_SORT_MAX; i++) {
		if (!strcmp(name, ft_sort_names[i])) {
			*sort = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *ft_sort_name(enum ft_sort sort)
{
	return (unsigned int)sort < FT_SORT_MAX ? ft_sort_names[sort] : "?";
}

#define FT_CMP(x, y) (((x) > (y)) - ((x) < (y)))

/* Compares the values only: > 0 when a's is larger. */
static inline int ft_rank_value_cmp(const struct ft_ranked *a, const struct ft_ranked *b,
				    enum ft_sort sort)
{
	const struct ft_flow *fa = a->flow, *fb = b->flow;

	switch (sort) {
	case FT_SORT_PPS:
		return FT_CMP(fa->pps[a->dir], fb->pps[b->dir]);
	case FT_SORT_BPS:
		return FT_CMP(fa->bps[a->dir], fb->bps[b->dir]);
	case FT_SORT_PACKETS:
		return FT_CMP(fa->packets[a->dir], fb->packets[b->dir]);
	case FT_SORT_BYTES:
	default:
		return FT_CMP(fa->bytes[a->dir], fb->bytes[b->dir]);
	}
}

static inline int ft_before(const struct ft_ranked *a, const struct ft_ranked *b, enum ft_sort sort)
{
	int c = ft_rank_value_cmp(a, b, sort);

	if (c)
		return c > 0;
	if (a->flow != b->flow) {
		c = memcmp(&a->flow->key, &b->flow->key, sizeof(a->flow->key));
		if (c)
			return c < 0;
	}
	return a->dir < b->dir;
}

int ft_rank_before(const struct ft_ranked *a, const struct ft_ranked *b, enum ft_sort sort)
{
	return ft_before(a, b, sort);
}

static void ft_swap(struct ft_ranked *a, struct ft_ranked *b)
{
	struct ft_ranked t = *a;

	*a = *b;
	*b = t;
}

/* Heap order: every parent ranks after its children; the root ranks last. */
static void ft_heap_down(struct ft_ranked *h, size_t n, size_t i, enum ft_sort sort)
{
	for (;;) {
		size_t w = 2 * i + 1;

		if (w >= n)
			return;
		if (w + 1 < n && ft_before(&h[w], &h[w + 1], sort))
			w++; /* the child that ranks later */
		if (ft_before(&h[w], &h[i], sort))
			return;
		ft_swap(&h[w], &h[i]);
		i = w;
	}
}

static void ft_heap_up(struct ft_ranked *h, size_t i, enum ft_sort sort)
{
	while (i) {
		size_t p = (i - 1) / 2;

		if (ft_before(&h[i], &h[p], sort))
			return;
		ft_swap(&h[i], &h[p]);
		i = p;
	}
}

static size_t ft_heap_offer(struct ft_ranked *h, size_t n, size_t k, const struct ft_ranked *c,
			    enum ft_sort sort)
{
	if (n < k) {
		h[n] = *c;
		ft_heap_up(h, n, sort);
		return n + 1;
	}
	if (ft_before(c, &h[0], sort)) {
		h[0] = *c;
		ft_heap_down(h, n, 0, sort);
	}
	return n;
}

size_t ft_rank_top(const struct ft_scan *s, enum ft_sort sort, size_t k, struct ft_ranked *out)
{
	size_t nflows, n = 0;
	const struct ft_flow *flows = ft_scan_flows(s, &nflows);

	if (!k)
		return 0;
	for (size_t i = 0; i < nflows; i++) {
		if (!ft_flow_live(&flows[i]))
			continue;
		for (int d = 0; d < 2; d++) {
			struct ft_ranked c = { &flows[i], d };

			if (flows[i].total_packets[d])
				n = ft_heap_offer(out, n, k, &c, sort);
		}
	}
	/* Heapsort: the root, the worst left, goes to the end each time. */
	for (size_t m = n; m > 1; m--) {
		ft_swap(&out[0], &out[m - 1]);
		ft_heap_down(out, m - 1, 0, sort);
	}
	return n;
}
