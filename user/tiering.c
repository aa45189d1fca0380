// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The software tier's flows as offload candidates, and the manager's answer back into the table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "tiering.h"

#define FT_TIERING_MAX_DEVS 64

struct ft_tiering {
	struct ft_offload *m;
	struct ft_offload_flow *cand;
	__u32 *cand_flow; /* cand[i]'s flow entry (ft_scan_entries()) */
	size_t ncand, cand_cap, cand_flow_cap;
	__u8 *marks; /* per flow entry */
	size_t marks_cap;
	__u8 *keep; /* per flow entry: the manager holds it, so it is listed whatever its rate */
	size_t keep_cap, nkeep;
	struct ft_ranked *hw; /* the directions in hardware after the last tick */
	size_t nhw, hw_cap;
	__u32 devs[FT_TIERING_MAX_DEVS];
	size_t ndevs;
	int adopted;
};

int ft_tiering_new(struct ft_tiering **out, struct ft_offload *m)
{
	struct ft_tiering *t = calloc(1, sizeof(*t));

	*out = t;
	if (!t)
		return -ENOMEM;
	t->m = m;
	return 0;
}

void ft_tiering_free(struct ft_tiering *t)
{
	if (!t)
		return;
	free(t->cand);
	free(t->cand_flow);
	free(t->marks);
	free(t->keep);
	free(t->hw);
	free(t);
}

int ft_tiering_add_device(struct ft_tiering *t, __u32 ifindex)
{
	for (size_t i = 0; i < t->ndevs; i++)
		if (t->devs[i] == ifindex)
			return 0;
	if (t->ndevs == FT_TIERING_MAX_DEVS)
		return -E2BIG;
	t->devs[t->ndevs++] = ifindex;
	return 0;
}

/*
 * splitmix64 over the key's words: the same id in every controller that
 * ever runs, so a restarted one recognises its rules by their cookies.
 */
static __u64 ft_mix(__u64 h, __u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

__u64 ft_flow_id(const struct ft_key *k, int dir)
{
	__u64 w[sizeof(*k) / 8], h = (__u64)dir + 1;

	memcpy(w, k, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		h = ft_mix(h, w[i]);
	return h;
}

/* Drop applies to both directions; redirect to the one that opened the connection. */
static int ft_nic_can(const struct ft_flow *f, int dir)
{
	int orig = f->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;

	if (!f->in_ifindex[dir])
		return 0;
	if (f->verdict == FT_VERDICT_DROP)
		return 1;
	return f->verdict == FT_VERDICT_REDIRECT && dir == orig && f->redirect_ifindex;
}

static __u64 ft_age_ms(const struct ft_flow *f, __u32 now_tick)
{
	__s32 ticks = (__s32)(now_tick - f->created_tick);

	return ticks > 0 ? ((__u64)ticks << FT_TICK_SHIFT) / 1000000 : 0;
}

static void ft_candidate(struct ft_offload_flow *c, const struct ft_scan *s,
			 const struct ft_flow *f, int d, __u32 now_tick)
{
	memset(c, 0, sizeof(*c));
	c->rule.key = *ft_flow_key(s, f);
	c->rule.dir = d;
	c->rule.verdict = f->verdict;
	c->rule.ifindex = f->in_ifindex[d];
	c->rule.redirect_ifindex = f->verdict == FT_VERDICT_REDIRECT ? f->redirect_ifindex : 0;
	c->id = ft_flow_id(&c->rule.key, d);
	c->rule.cookie = c->id;
	c->sw_pps = f->pps[d];
	c->sw_packets = f->total_packets[d];
	c->sw_bytes = f->total_bytes[d];
	c->age_ms = ft_age_ms(f, now_tick);
	c->state = f->state;
}

/*
 * Whether entry i is worth reading back from the table: the manager
 * takes a direction only from min_pps up, or when it holds counters of
 * it. Most flows of a big table are below, and reading one back costs a
 * cache miss: ~60 ms a tick at 1M flows when every one was read.
 * Adoption lists everything: a flow whose rule the NIC carries shows
 * no software rate.
 */
static int ft_tiering_wants(const struct ft_tiering *t, const float *rates, size_t stride,
			    double min, size_t i)
{
	const float *r = (const float *)((const char *)rates + i * stride);

	if (!t->adopted || (i < t->nkeep && t->keep[i]))
		return 1;
	return (double)r[0] >= min || (double)r[1] >= min;
}

/* Every direction the NIC could carry; the manager applies the rest of the rules. */
static int ft_tiering_collect(struct ft_tiering *t, const struct ft_scan *s, __u32 now_tick)
{
	size_t n = ft_scan_entries(s), stride;
	const float *rates = ft_scan_rates(s, &stride);
	double min = ft_offload_min_pps(t->m);
	struct ft_flow v;
	const struct ft_flow *f = &v;

	t->ncand = 0;
	if (ft_grow((void **)&t->marks, &t->marks_cap, n ? n : 1, 1))
		return -ENOMEM;
	memset(t->marks, 0, n);
	for (size_t i = 0; i < n; i++) {
		if (!ft_tiering_wants(t, rates, stride, min, i) || ft_scan_read(s, i, &v))
			continue; /* cold, no flow, or gone since the scan */
		for (int d = 0; d < 2; d++) {
			if (!ft_nic_can(f, d))
				continue;
			if (ft_grow((void **)&t->cand, &t->cand_cap, t->ncand + 1 + t->cand_cap / 2,
				    sizeof(*t->cand)) ||
			    ft_grow((void **)&t->cand_flow, &t->cand_flow_cap, t->cand_cap,
				    sizeof(*t->cand_flow)))
				return -ENOMEM;
			t->cand_flow[t->ncand] = i;
			ft_candidate(&t->cand[t->ncand++], s, f, d, now_tick);
			/* Only adoption reads the devices: after it, searching is waste. */
			if (!t->adopted && t->ndevs < FT_TIERING_MAX_DEVS)
				ft_tiering_add_device(t, f->in_ifindex[d]);
		}
	}
	return 0;
}

static int ft_id_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void ft_tiering_note_hw(struct ft_tiering *t, const struct ft_scan *s,
			       const struct ft_flow *f, int dir)
{
	if (ft_grow((void **)&t->hw, &t->hw_cap, t->nhw + 1 + t->hw_cap / 2, sizeof(*t->hw)))
		return; /* ranking then sees this direction by its software counters only */
	t->hw[t->nhw++] = (struct ft_ranked){ .flow = f, .key = ft_flow_key(s, f), .dir = dir };
}

/*
 * Marks each flow with a direction in hardware, and those whose rule
 * counted packets; and keeps listing, whatever their rate, the flows the
 * manager holds (a rule, a pending place, or counters of rules past).
 * Without memory for that, only rates decide.
 */
static void ft_tiering_marks(struct ft_tiering *t, const struct ft_scan *s)
{
	size_t nmoved;
	const __u64 *moved_ids;
	__u64 *moved = NULL;

	t->nhw = 0;
	nmoved = ft_offload_moved(t->m, &moved_ids);
	if (nmoved) {
		moved = malloc(nmoved * sizeof(*moved));
		if (moved) {
			memcpy(moved, moved_ids, nmoved * sizeof(*moved));
			qsort(moved, nmoved, sizeof(*moved), ft_id_cmp);
		}
	}
	t->nkeep = 0;
	if (!ft_grow((void **)&t->keep, &t->keep_cap, ft_scan_entries(s) + 1, 1)) {
		t->nkeep = ft_scan_entries(s);
		memset(t->keep, 0, t->nkeep);
	}
	for (size_t i = 0; i < t->ncand; i++) {
		const struct ft_offload_flow *c = &t->cand[i];
		/* By entry: a view for every candidate would keep one per flow. */
		__u32 idx = t->cand_flow[i];
		enum ft_tier tier;
		const struct ft_flow *f;
		__u64 hp;

		tier = ft_offload_tier(t->m, c->id, &hp, NULL);
		if (idx < t->nkeep && (tier != FT_TIER_SOFTWARE || hp))
			t->keep[idx] = 1;
		if (tier == FT_TIER_HARDWARE) {
			t->marks[idx] |= FT_MARK_HW;
			f = ft_scan_view(s, idx);
			if (f)
				ft_tiering_note_hw(t, s, f, c->rule.dir);
		}
		if (moved && bsearch(&c->id, moved, nmoved, sizeof(*moved), ft_id_cmp))
			t->marks[idx] |= FT_MARK_TOUCH;
	}
	free(moved);
}

int ft_tiering_tick(struct ft_tiering *t, const struct ft_scan *s, struct ft_bucket *buckets,
		    __u64 now_ms, __u32 now_tick)
{
	int err = ft_tiering_collect(t, s, now_tick);

	if (err)
		return err;
	if (!t->adopted) {
		err = ft_offload_adopt(t->m, t->devs, t->ndevs, t->cand, t->ncand, now_ms);
		if (err)
			pr_warn("offload: cannot list the rules already in the NIC: %s\n",
				strerror(-err));
		t->adopted = 1;
	} else {
		err = ft_offload_tick(t->m, t->cand, t->ncand, now_ms);
	}
	ft_tiering_marks(t, s);
	ft_scan_mark(s, buckets, t->marks, now_tick);
	return err;
}

size_t ft_tiering_listed(const struct ft_tiering *t)
{
	return t->ncand;
}

enum ft_tier ft_tiering_tier(const struct ft_tiering *t, const struct ft_key *k, int dir,
			     __u64 *hw_packets, __u64 *hw_bytes)
{
	if (hw_packets)
		*hw_packets = 0;
	if (hw_bytes)
		*hw_bytes = 0;
	if (!t)
		return FT_TIER_SOFTWARE;
	return ft_offload_tier(t->m, ft_flow_id(k, dir), hw_packets, hw_bytes);
}

const char *ft_tier_name(enum ft_tier tier)
{
	switch (tier) {
	case FT_TIER_HARDWARE:
		return "hardware";
	case FT_TIER_PENDING:
		return "pending";
	default:
		return "software";
	}
}

double ft_tiering_value(const struct ft_tiering *t, const struct ft_ranked *r, enum ft_sort sort)
{
	const struct ft_flow *f = r->flow;
	__u64 hp = 0, hb = 0, id;
	double hpps = 0;
	int d = r->dir;

	/* The key's id once: hashing it is most of what the two look-ups cost. */
	if (t) {
		id = ft_flow_id(r->key, d);
		if (ft_offload_tier(t->m, id, &hp, &hb) == FT_TIER_HARDWARE)
			hpps = ft_offload_hw_pps(t->m, id);
	}
	switch (sort) {
	case FT_SORT_PPS:
		return f->pps[d] + hpps;
	case FT_SORT_BPS:
		return f->bps[d] + (hp ? hpps * ((double)hb / hp) : 0);
	case FT_SORT_PACKETS:
		return (double)(f->packets[d] + hp);
	default:
		return (double)(f->bytes[d] + hb);
	}
}

struct ft_valued {
	struct ft_ranked r;
	double v;
	enum ft_sort sort;
};

static int ft_valued_cmp(const void *a, const void *b)
{
	const struct ft_valued *x = a, *y = b;

	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return ft_rank_before(&x->r, &y->r, x->sort) ? -1 : 1;
}

/* Orders by identity (flow, direction), to find a direction listed twice. */
static int ft_same_cmp(const void *a, const void *b)
{
	const struct ft_ranked *x = &((const struct ft_valued *)a)->r;
	const struct ft_ranked *y = &((const struct ft_valued *)b)->r;

	if (x->flow->id != y->flow->id)
		return x->flow->id < y->flow->id ? -1 : 1;
	return x->dir - y->dir;
}

/* Drops the second of every pair of equal entries; v sorted by ft_same_cmp. */
static size_t ft_unique(struct ft_valued *v, size_t m)
{
	size_t u = 0;

	for (size_t i = 0; i < m; i++)
		if (!u || ft_same_cmp(&v[u - 1], &v[i]))
			v[u++] = v[i];
	return u;
}

size_t ft_tiering_rank(const struct ft_tiering *t, const struct ft_scan *s, enum ft_sort sort,
		       size_t k, struct ft_ranked *out)
{
	size_t nhw = t ? t->nhw : 0, n = ft_rank_top(s, sort, k, out), m = 0;
	struct ft_valued *v;

	if (!nhw)
		return n;
	v = calloc(n + nhw, sizeof(*v));
	if (!v)
		return n; /* the software tier's ranking alone */
	for (size_t i = 0; i < n; i++)
		v[m++] = (struct ft_valued){ .r = out[i], .sort = sort };
	for (size_t i = 0; i < nhw; i++)
		v[m++] = (struct ft_valued){ .r = t->hw[i], .sort = sort };
	qsort(v, m, sizeof(*v), ft_same_cmp);
	m = ft_unique(v, m);
	for (size_t i = 0; i < m; i++)
		v[i].v = ft_tiering_value(t, &v[i].r, sort);
	qsort(v, m, sizeof(*v), ft_valued_cmp);
	n = m < k ? m : k;
	for (size_t i = 0; i < n; i++)
		out[i] = v[i].r;
	free(v);
	return n;
}
