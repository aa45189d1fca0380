// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Top-K by a bounded min-heap: the root is the worst of the k kept, so
 * most directions cost one comparison with it and only a better one pays
 * the O(log k) sift. Sorting every flow would cost O(n log n) per interval
 * for the few lines anyone reads.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"

/*
 * Flows ahead whose value is prefetched: the loop does so little per flow
 * that it waits on memory unless the lines are asked for early.
 */
#define FT_RANK_AHEAD 64

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

/*
 * Every sort key read as an unsigned 64-bit value that orders the same
 * way: counters as they are, rates by their bits, since the bits of a
 * non-negative double order as the number does (rates are never
 * negative). The loop over every flow then does one load and one compare,
 * whatever the key.
 */
static const size_t ft_sort_field[FT_SORT_MAX] = {
	[FT_SORT_PPS] = offsetof(struct ft_flow, pps),
	[FT_SORT_BPS] = offsetof(struct ft_flow, bps),
	[FT_SORT_PACKETS] = offsetof(struct ft_flow, packets),
	[FT_SORT_BYTES] = offsetof(struct ft_flow, bytes),
};

_Static_assert(sizeof(double) == sizeof(__u64), "rates compare as 64-bit words");

static inline __u64 ft_rank_value(const struct ft_flow *f, int dir, size_t field)
{
	__u64 v;

	memcpy(&v, (const char *)f + field + dir * sizeof(v), sizeof(v));
	return v;
}

static inline int ft_before(const struct ft_ranked *a, const struct ft_ranked *b, size_t field)
{
	__u64 va = ft_rank_value(a->flow, a->dir, field),
	      vb = ft_rank_value(b->flow, b->dir, field);
	int c;

	if (va != vb)
		return va > vb;
	if (a->flow != b->flow) {
		c = memcmp(a->key, b->key, sizeof(*a->key));
		if (c)
			return c < 0;
	}
	return a->dir < b->dir;
}

int ft_rank_before(const struct ft_ranked *a, const struct ft_ranked *b, enum ft_sort sort)
{
	return ft_before(a, b, ft_sort_field[sort]);
}

static void ft_swap(struct ft_ranked *a, struct ft_ranked *b)
{
	struct ft_ranked t = *a;

	*a = *b;
	*b = t;
}

/* Heap order: every parent ranks after its children; the root ranks last. */
static void ft_heap_down(struct ft_ranked *h, size_t n, size_t i, size_t field)
{
	for (;;) {
		size_t w = 2 * i + 1;

		if (w >= n)
			return;
		if (w + 1 < n && ft_before(&h[w], &h[w + 1], field))
			w++; /* the child that ranks later */
		if (ft_before(&h[w], &h[i], field))
			return;
		ft_swap(&h[w], &h[i]);
		i = w;
	}
}

static void ft_heap_up(struct ft_ranked *h, size_t i, size_t field)
{
	while (i) {
		size_t p = (i - 1) / 2;

		if (ft_before(&h[i], &h[p], field))
			return;
		ft_swap(&h[i], &h[p]);
		i = p;
	}
}

static size_t ft_heap_offer(struct ft_ranked *h, size_t n, size_t k, const struct ft_ranked *c,
			    size_t field)
{
	if (n < k) {
		h[n] = *c;
		ft_heap_up(h, n, field);
		return n + 1;
	}
	if (ft_before(c, &h[0], field)) {
		h[0] = *c;
		ft_heap_down(h, n, 0, field);
	}
	return n;
}

/*
 * Where the loop over every flow reads values: rates from the scanner's
 * flow entries (floats, one cache line a flow), counters from an array
 * summed from the scanner's shadow for this ranking (64-bit words).
 */
struct ft_rank_vals {
	const char *base;
	size_t stride;	 /* bytes from one flow's values to the next */
	int narrow;	 /* 32-bit floats, else 64-bit words */
	__u64 *counters; /* allocated for packets and bytes */
	/*
	 * Candidates are read into k + 1 views of the ranking's own, one per
	 * heap entry and a spare, and only the k winners become the scanner's
	 * views: ties (a first scan, idle flows) offer every flow.
	 */
	struct ft_flow *views;
	struct ft_flow **spare; /* views no heap entry holds; the last is the next candidate's */
	size_t nspare;
};

static int ft_rank_values(const struct ft_scan *s, enum ft_sort sort, struct ft_rank_vals *v)
{
	size_t n = ft_scan_entries(s);

	v->narrow = sort == FT_SORT_PPS || sort == FT_SORT_BPS;
	v->counters = NULL;
	v->views = NULL;
	v->spare = NULL;
	if (v->narrow) {
		v->base = (const char *)ft_scan_rates(s, &v->stride);
		if (sort == FT_SORT_BPS)
			v->base += 2 * sizeof(float);
		return 0;
	}
	v->counters = malloc((n ? n : 1) * 2 * sizeof(__u64));
	if (!v->counters)
		return -ENOMEM;
	ft_scan_counters(s, sort == FT_SORT_BYTES, v->counters);
	v->base = (const char *)v->counters;
	v->stride = 2 * sizeof(__u64);
	return 0;
}

_Static_assert(sizeof(float) == sizeof(__u32), "packed rates compare as 32-bit words");

/*
 * Flow i's direction d, as a word that orders as the value does (the bits
 * of a non-negative float order as the number).
 */
static inline __u64 ft_rank_load(const struct ft_rank_vals *v, int narrow, size_t i, int d)
{
	const char *p = v->base + i * v->stride;
	__u32 w;
	__u64 q;

	if (narrow) {
		memcpy(&w, p + d * sizeof(w), sizeof(w));
		return w;
	}
	memcpy(&q, p + d * sizeof(q), sizeof(q));
	return q;
}

/*
 * The loop over every flow, inlined once per width (narrow is a constant
 * at each call) so that the loop itself does not test it.
 */
static int ft_rank_read(const struct ft_scan *s, const struct ft_rank_vals *v, size_t i, int d,
			struct ft_ranked *c)
{
	struct ft_flow *f = v->spare[v->nspare - 1];

	if (ft_scan_read(s, i, f))
		return -ENOENT;
	c->flow = f;
	c->key = &f->key;
	c->dir = d;
	return 0;
}

/* The winners as the scanner's views, which last until the next scan; gone ones leave. */
static size_t ft_rank_keep(const struct ft_scan *s, struct ft_ranked *out, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ft_flow *f = ft_scan_view(s, out[i].flow->id);

		if (!f)
			continue;
		out[m] = out[i];
		out[m].flow = f;
		out[m++].key = &f->key;
	}
	return m;
}

static int ft_rank_scratch(struct ft_rank_vals *v, size_t k)
{
	v->views = malloc((k + 1) * sizeof(*v->views));
	v->spare = malloc((k + 1) * sizeof(*v->spare));
	if (!v->views || !v->spare)
		return -ENOMEM;
	for (size_t i = 0; i <= k; i++)
		v->spare[i] = &v->views[i];
	v->nspare = k + 1;
	return 0;
}

static inline __attribute__((always_inline)) size_t
ft_rank_pass(const struct ft_scan *s, struct ft_rank_vals *vals, int narrow, size_t k,
	     struct ft_ranked *out, size_t field)
{
	size_t nflows = ft_scan_entries(s), n = 0;
	__u64 worst = 0; /* the root's value in vals, once the heap is full */
	struct ft_ranked c;

	for (size_t i = 0; i < nflows; i++) {
		if (i + FT_RANK_AHEAD < nflows)
			__builtin_prefetch(vals->base + (i + FT_RANK_AHEAD) * vals->stride);
		for (int d = 0; d < 2; d++) {
			/*
			 * Once the heap is full most directions lose to its root on
			 * value alone, so the value is read first (free entries
			 * have values of 0) and the flow, from the table, only then.
			 */
			if (n == k && ft_rank_load(vals, narrow, i, d) < worst)
				continue;
			if (!ft_scan_totals(s, i)[d])
				continue;
			if (ft_rank_read(s, vals, i, d, &c))
				continue; /* no flow, or its slots were all recycled */
			if (n < k) {
				vals->nspare--;
				n = ft_heap_offer(out, n, k, &c, field);
			} else if (ft_before(&c, &out[0], field)) {
				vals->spare[vals->nspare - 1] = (struct ft_flow *)out[0].flow;
				out[0] = c;
				ft_heap_down(out, n, 0, field);
			}
			if (n == k)
				worst = ft_rank_load(vals, narrow, out[0].flow->id, out[0].dir);
		}
	}
	return n;
}

size_t ft_rank_top(const struct ft_scan *s, enum ft_sort sort, size_t k, struct ft_ranked *out)
{
	struct ft_rank_vals vals;
	size_t n, field;

	if (!k || (unsigned int)sort >= FT_SORT_MAX)
		return 0;
	field = ft_sort_field[sort];
	n = 0;
	if (ft_rank_values(s, sort, &vals) || ft_rank_scratch(&vals, k))
		goto out;
	if (vals.narrow)
		n = ft_rank_pass(s, &vals, 1, k, out, field);
	else
		n = ft_rank_pass(s, &vals, 0, k, out, field);
	/* Heapsort: the root, the worst left, goes to the end each time. */
	for (size_t m = n; m > 1; m--) {
		ft_swap(&out[0], &out[m - 1]);
		ft_heap_down(out, m - 1, 0, field);
	}
	n = ft_rank_keep(s, out, n);
out:
	free(vals.counters);
	free(vals.views);
	free(vals.spare);
	return n;
}
