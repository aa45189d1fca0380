// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The offload manager. Directions live in a dense array found by id
 * through an open-addressing map; only candidates and directions that
 * have been in hardware get an entry. Each tick costs O(n) for the n
 * directions handed in plus O(k log k) for the k it acts on: the hottest
 * pending and the coldest offloaded are picked with bounded heaps, never
 * by sorting everything.
 */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hw_base.h"
#include "idmap.h"
#include "log.h"
#include "offload.h"

/* Ops per backend call: one sendmsg for tc, and what is wasted past exhaustion. */
#define FT_OFF_BATCH	   64
#define FT_OFF_WIN	   16 /* intervals kept for the coverage */
#define FT_OFF_MAX_BACKOFF 32
#define FT_OFF_AHEAD	   16

struct ft_ent {
	__u64 id;
	struct ft_hw_rule rule; /* as installed, or as it would be */
	__u32 dev;
	__u8 tier;     /* enum ft_tier */
	__u8 cand;     /* a candidate this tick */
	__u8 refused;  /* the device rejected it for good (EINVAL) */
	__u8 stale;    /* its verdict changed while in hardware */
	__u64 seen;    /* the last tick it was listed */
	__u64 gone;    /* the tick its rule left hardware */
	double sw_pps; /* as the software tier saw it */
	double install_pps;
	double hw_pps; /* from two samples past the lag, < 0: none yet */
	__u64 installed_ms;
	__u64 base_packets, base_bytes; /* final counters of the earlier installs */
	__u64 cur_packets, cur_bytes;	/* this install's, as last read */
	__u64 samp_packets, samp_ms;	/* the last sample past the lag, samp_ms 0: none */
	__u64 lastuse_ms;
	__u64 sw_last;	    /* software packets as last listed */
	double evicted_pps; /* its rate when it last left hardware */
	__u64 retry_at;
	__u32 backoff;
};

struct ft_dev {
	__u32 next_handle[2]; /* per family */
	int unsupported;      /* refused its first rule with EOPNOTSUPP */
	int resync;	      /* an add met EEXIST: dump and adopt */
	__u32 bad_shapes;     /* (family, proto, verdict) refused with EOPNOTSUPP */
	__u64 last_probe_ms;
	double tokens;
	__u64 tokens_ms;
	__u32 swap_batch;  /* swaps per batch: 1 after a busy refusal, doubled each tick */
	__u32 *pend, *hwl; /* this tick's eligible pending and offloaded entries */
	size_t npend, nhwl, cap_pend, cap_hwl;
	size_t waiting; /* candidates outside hardware, backoff included */
};

struct ft_sel {
	double key;
	__u64 id;
	__u32 idx;
};

struct ft_offload {
	struct ft_offload_cfg cfg;
	struct ft_hw *hw;
	struct ft_ent *ents;
	size_t n, cap;
	struct ft_idmap map;
	struct ft_dev *devs;
	struct ft_offload_dev_stats *dst;
	size_t ndevs;
	__u32 last_dev;
	__u64 tick, now_ms;
	__u64 *moved;
	size_t nmoved, cap_moved;
	__u32 *leave; /* this tick's rules to delete */
	size_t nleave, cap_leave;
	struct ft_sel *sel, *sel2;
	size_t cap_sel;
	struct ft_hw_op ops[FT_OFF_BATCH];
	struct ft_hw_stat finals[FT_OFF_BATCH];
	__u32 opent[FT_OFF_BATCH];
	__u64 int_hw, int_sw;
	/* For the shift guess: the rates outside hardware, now and a tick ago, and the rules'. */
	double out_pps, out_pps_prev, rules_pps;
	/* The last guessed shift: when, and the factor on the rates of the rules older than it. */
	__u64 shift_ms;
	double shift_scale;
	/* The last intervals' packets per tier; coverage spans the counter lag and a second. */
	struct {
		__u64 ms, hw, sw;
	} win[FT_OFF_WIN];
	__u32 win_next;
	double coverage;
	__u64 hw_packets, sw_packets;
	int base_fd; /* the pinned past hardware counters (hw_base.h), -1: in memory only */
};

void ft_offload_cfg_default(struct ft_offload_cfg *cfg)
{
	*cfg = (struct ft_offload_cfg){
		.min_pps = 100,
		.min_age_ms = 1000,
		.rebalance = 1,
		.shift_guess = 1,
		.margin_rel = 0.2,
		.margin_abs_pps = 100,
		.dwell_ms = 5000,
		.churn_per_s = 500,
		.churn_burst = 10000,
		.hw_stats_lag_ms = 2000,
		.idle_ms = 10000,
		.oor_probe_ms = 30000,
		.max_adds_per_tick = 2048,
		.retry_ms = 1000,
	};
}

static const char *ft_ifname(__u32 ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%u", ifindex);
	return buf;
}

/* ---- devices ---- */

/* Grown one at a time: devices are few, and stats hands the array out. */
static int ft_dev_add(struct ft_offload *m, __u32 ifindex)
{
	size_t n = m->ndevs;
	struct ft_dev *d = realloc(m->devs, (n + 1) * sizeof(*d));
	struct ft_offload_dev_stats *s;

	if (!d)
		return -ENOMEM;
	m->devs = d;
	s = realloc(m->dst, (n + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	m->dst = s;
	memset(&m->devs[n], 0, sizeof(m->devs[n]));
	memset(&m->dst[n], 0, sizeof(m->dst[n]));
	m->devs[n].next_handle[0] = m->devs[n].next_handle[1] = 1;
	m->devs[n].tokens = m->cfg.churn_burst;
	m->devs[n].swap_batch = FT_OFF_BATCH;
	m->devs[n].tokens_ms = m->now_ms;
	m->dst[n].ifindex = ifindex;
	m->ndevs = n + 1;
	return 0;
}

/* The device's index, added when new; the last one found is tried first. */
static int ft_dev_of(struct ft_offload *m, __u32 ifindex, __u32 *out)
{
	size_t i;

	if (m->last_dev < m->ndevs && m->dst[m->last_dev].ifindex == ifindex) {
		*out = m->last_dev;
		return 0;
	}
	for (i = 0; i < m->ndevs; i++)
		if (m->dst[i].ifindex == ifindex)
			break;
	if (i == m->ndevs && ft_dev_add(m, ifindex))
		return -ENOMEM;
	m->last_dev = i;
	*out = i;
	return 0;
}

static void ft_oor_enter(struct ft_offload *m, __u32 di, const char *extack)
{
	struct ft_offload_dev_stats *s = &m->dst[di];
	char name[IF_NAMESIZE];

	s->capacity = s->rules;
	if (s->oor)
		return;
	s->oor = 1;
	s->oor_enter++;
	m->devs[di].last_probe_ms = m->now_ms;
	pr_info("offload: %s is out of resources at %u rules: %s\n", ft_ifname(s->ifindex, name),
		s->rules, extack && *extack ? extack : "(no extack)");
}

static void ft_oor_leave(struct ft_offload *m, __u32 di, const char *why)
{
	struct ft_offload_dev_stats *s = &m->dst[di];
	char name[IF_NAMESIZE];

	if (!s->oor)
		return;
	s->oor = 0;
	s->oor_leave++;
	pr_info("offload: %s left out-of-resources at %u rules: %s (last extack: %s)\n",
		ft_ifname(s->ifindex, name), s->rules, why,
		*s->last_extack ? s->last_extack : "none");
}

/* ---- entries ---- */

static int ft_is_candidate(const struct ft_offload *m, const struct ft_offload_flow *f)
{
	return f->state == FT_STATE_ESTABLISHED &&
	       (f->rule.verdict == FT_VERDICT_DROP || f->rule.verdict == FT_VERDICT_REDIRECT) &&
	       f->sw_pps >= m->cfg.min_pps && f->age_ms >= m->cfg.min_age_ms;
}

static __u32 ft_shape(const struct ft_hw_rule *r)
{
	int p = r->key.proto == 6 ? 0 : r->key.proto == 17 ? 1 : 2;

	return 1u << ((r->key.family == FT_FAMILY_IPV6) * 6 + p * 2 +
		      (r->verdict == FT_VERDICT_REDIRECT));
}

static int ft_ent_new(struct ft_offload *m, const struct ft_offload_flow *f, __u32 *out)
{
	struct ft_ent *e;
	__u32 di;

	if (ft_dev_of(m, f->rule.ifindex, &di) ||
	    ft_grow((void **)&m->ents, &m->cap, m->n + 1, sizeof(*m->ents)) ||
	    ft_idmap_put(&m->map, f->id, m->n))
		return -ENOMEM;
	e = &m->ents[m->n];
	memset(e, 0, sizeof(*e));
	e->id = f->id;
	e->dev = di;
	e->hw_pps = -1;
	e->sw_last = f->sw_packets; /* its past is not this interval's */
	/* Rules an earlier controller deleted counted this direction's packets too. */
	ft_hw_base_get(m->base_fd, e->id, &e->base_packets, &e->base_bytes);
	*out = m->n++;
	return 0;
}

/* Takes in one listed direction: its rate, state and, outside hardware, its rule. */
static int ft_ingest(struct ft_offload *m, const struct ft_offload_flow *f,
		     const struct ft_idmap *keep)
{
	__u32 i = ft_idmap_get(&m->map, f->id);
	int cand = ft_is_candidate(m, f);
	struct ft_ent *e;

	if (i == FT_IDMAP_NONE) {
		if (!cand && !(keep && ft_idmap_get(keep, f->id) != FT_IDMAP_NONE))
			return 0;
		if (ft_ent_new(m, f, &i))
			return -ENOMEM;
	}
	e = &m->ents[i];
	if (e->seen + 1 == m->tick && f->sw_packets >= e->sw_last)
		m->int_sw += f->sw_packets - e->sw_last;
	e->sw_last = f->sw_packets;
	e->seen = m->tick;
	e->cand = cand;
	e->sw_pps = f->sw_pps;
	if (e->tier == FT_TIER_HARDWARE) {
		e->stale |= f->state != FT_STATE_ESTABLISHED ||
			    f->rule.verdict != e->rule.verdict ||
			    f->rule.redirect_ifindex != e->rule.redirect_ifindex ||
			    f->rule.ifindex != e->rule.ifindex;
		return 0;
	}
	if (f->rule.ifindex != e->rule.ifindex && ft_dev_of(m, f->rule.ifindex, &e->dev))
		return -ENOMEM;
	e->rule = f->rule;
	e->rule.cookie = f->id;
	e->tier = cand && !e->refused ? FT_TIER_PENDING : FT_TIER_SOFTWARE;
	return 0;
}

static double ft_rate(const struct ft_ent *e)
{
	if (e->tier != FT_TIER_HARDWARE)
		return e->sw_pps;
	return e->hw_pps >= 0 ? e->hw_pps : e->install_pps;
}

/*
 * The rate a rebalance goes by: after a guessed shift, and for as long as
 * its counters predate it, a rule's rate scaled (ft_offload_cfg_default).
 */
static double ft_judged_rate(const struct ft_offload *m, const struct ft_ent *e)
{
	double r = ft_rate(e);

	if (e->tier == FT_TIER_HARDWARE && e->installed_ms < m->shift_ms &&
	    m->now_ms < m->shift_ms + m->cfg.hw_stats_lag_ms)
		r *= m->shift_scale;
	return r;
}

static void ft_moved(struct ft_offload *m, __u64 id)
{
	if (ft_grow((void **)&m->moved, &m->cap_moved, m->nmoved + 1, sizeof(*m->moved)))
		return; /* the daemon then misses one refresh, the rule still counts */
	m->moved[m->nmoved++] = id;
}

/* A hardware counter reading: accounting always, rates only past the lag. */
static void ft_sample(struct ft_offload *m, struct ft_ent *e, const struct ft_hw_stat *st)
{
	__u64 age = m->now_ms - e->installed_ms;

	if (st->packets > e->cur_packets) {
		m->int_hw += st->packets - e->cur_packets;
		ft_moved(m, e->id);
	}
	if (st->packets >= e->cur_packets) {
		e->cur_packets = st->packets;
		e->cur_bytes = st->bytes;
	}
	e->lastuse_ms = st->lastuse_ms;
	if (age < m->cfg.hw_stats_lag_ms || m->now_ms == e->samp_ms)
		return;
	/*
	 * Devices refresh their counters in steps (mlx5 once a second): a
	 * reading that did not move may be the same step read twice, not an
	 * idle rule. Only counters still for longer than the lag say idle; the
	 * next step that moves then rates over the whole span.
	 */
	if (e->samp_ms && e->cur_packets == e->samp_packets && e->hw_pps > 0 &&
	    m->now_ms - e->samp_ms <= m->cfg.hw_stats_lag_ms)
		return;
	if (e->samp_ms)
		e->hw_pps = (double)(e->cur_packets - e->samp_packets) * 1000.0 /
			    (double)(m->now_ms - e->samp_ms);
	e->samp_packets = e->cur_packets;
	e->samp_ms = m->now_ms;
}

struct ft_dump_ctx {
	struct ft_offload *m;
	__u32 di;
	int adopt; /* 1: take in unknown rules of live flows, delete the others */
	struct ft_hw_op *del;
	size_t ndel, cap_del;
};

static void ft_set_installed(struct ft_offload *m, struct ft_ent *e)
{
	e->tier = FT_TIER_HARDWARE;
	e->installed_ms = m->now_ms;
	e->install_pps = e->sw_pps;
	e->hw_pps = -1;
	e->samp_ms = 0;
	e->cur_packets = e->cur_bytes = 0;
	e->lastuse_ms = 0;
	e->backoff = 0;
	e->stale = 0;
	m->dst[e->dev].rules++;
}

static int ft_adopt_one(struct ft_dump_ctx *c, struct ft_ent *e, const struct ft_hw_stat *st)
{
	struct ft_offload *m = c->m;
	struct ft_dev *d = &m->devs[c->di];
	int fam = st->rule.key.family == FT_FAMILY_IPV6;

	e->rule.handle = st->rule.handle;
	ft_set_installed(m, e);
	/* Its counters so far are the direction's too: counted, not a move. */
	e->cur_packets = st->packets;
	e->cur_bytes = st->bytes;
	e->lastuse_ms = st->lastuse_ms;
	if (st->rule.handle >= d->next_handle[fam])
		d->next_handle[fam] = st->rule.handle + 1;
	return 0;
}

/*
 * The rule found does what the entry's would: same packets, same verdict.
 * The zone is not compared: a flower rule does not match on it.
 */
static int ft_rule_same(const struct ft_hw_rule *a, const struct ft_hw_rule *b)
{
	return !memcmp(a->key.addr, b->key.addr, sizeof(a->key.addr)) &&
	       !memcmp(a->key.port, b->key.port, sizeof(a->key.port)) &&
	       a->key.proto == b->key.proto && a->key.family == b->key.family && a->dir == b->dir &&
	       a->ifindex == b->ifindex && a->verdict == b->verdict &&
	       (a->verdict != FT_VERDICT_REDIRECT || a->redirect_ifindex == b->redirect_ifindex);
}

static int ft_dump_cb(const struct ft_hw_stat *st, void *ctx)
{
	struct ft_dump_ctx *c = ctx;
	struct ft_offload *m = c->m;
	__u32 i = ft_idmap_get(&m->map, st->rule.cookie);
	struct ft_ent *e = i == FT_IDMAP_NONE ? NULL : &m->ents[i];
	int fam = st->rule.key.family == FT_FAMILY_IPV6;

	if (st->rule.handle >= m->devs[c->di].next_handle[fam])
		m->devs[c->di].next_handle[fam] = st->rule.handle + 1;
	if (e && e->tier == FT_TIER_HARDWARE && e->dev == c->di &&
	    e->rule.handle == st->rule.handle) {
		ft_sample(m, e, st);
		return 0;
	}
	if (!c->adopt)
		return 0;
	if (e && e->tier != FT_TIER_HARDWARE && e->seen == m->tick &&
	    ft_rule_same(&e->rule, &st->rule))
		return ft_adopt_one(c, e, st);
	return ft_hw_ops_append(&c->del, &c->ndel, &c->cap_del, &st->rule);
}

/*
 * Deletes rules no live flow owns. A duplicate of a flow's rule counted
 * that flow's packets, so they go to it; a rule whose id now names
 * another connection counted someone else's.
 */
static int ft_del_orphans(struct ft_offload *m, struct ft_hw_op *ops, size_t n)
{
	for (size_t off = 0; off < n; off += FT_OFF_BATCH) {
		size_t k = n - off < FT_OFF_BATCH ? n - off : FT_OFF_BATCH;
		int err = m->hw->ops->del(m->hw, ops + off, k, m->finals);

		if (err)
			return err;
		for (size_t j = 0; j < k; j++) {
			__u32 i = ft_idmap_get(&m->map, ops[off + j].rule.cookie);

			if (ops[off + j].err || i == FT_IDMAP_NONE ||
			    !ft_rule_same(&m->ents[i].rule, &ops[off + j].rule))
				continue;
			m->ents[i].base_packets += m->finals[j].packets;
			m->ents[i].base_bytes += m->finals[j].bytes;
			ft_hw_base_set(m->base_fd, m->ents[i].id, m->ents[i].base_packets,
				       m->ents[i].base_bytes);
		}
	}
	return 0;
}

static int ft_dump_dev(struct ft_offload *m, __u32 di, int adopt)
{
	struct ft_dump_ctx c = { .m = m, .di = di, .adopt = adopt };
	int err;

	err = m->hw->ops->dump(m->hw, m->dst[di].ifindex, ft_dump_cb, &c);
	if (!err && c.ndel)
		err = ft_del_orphans(m, c.del, c.ndel);
	free(c.del);
	if (err) {
		char name[IF_NAMESIZE];

		pr_warn("offload: cannot read the rules of %s: %s\n",
			ft_ifname(m->dst[di].ifindex, name), strerror(-err));
	}
	return err;
}

/* ---- adds and deletes ---- */

static void ft_backoff(struct ft_offload *m, struct ft_ent *e)
{
	if (e->backoff < FT_OFF_MAX_BACKOFF)
		e->backoff = e->backoff ? e->backoff * 2 : 1;
	e->retry_at = m->now_ms + m->cfg.retry_ms * e->backoff;
}

static void ft_note_failure(struct ft_offload *m, __u32 di, enum ft_hw_class c,
			    const struct ft_hw_op *op)
{
	m->dst[di].failures[c]++;
	if (*op->extack)
		snprintf(m->dst[di].last_extack, FT_HW_EXTACK_LEN, "%s", op->extack);
}

static void ft_unsupported(struct ft_offload *m, struct ft_ent *e, const struct ft_hw_op *op)
{
	struct ft_dev *d = &m->devs[e->dev];
	char name[IF_NAMESIZE];

	if (d->unsupported)
		return;
	if (m->dst[e->dev].installs || m->dst[e->dev].rules) {
		d->bad_shapes |= ft_shape(&e->rule);
		return;
	}
	d->unsupported = 1;
	pr_warn("offload: %s cannot offload flows (%s%s%s); its flows stay in software\n",
		ft_ifname(m->dst[e->dev].ifindex, name), strerror(-op->err),
		*op->extack ? ": " : "", op->extack);
}

/*
 * What an add's result means for its entry and its device. Returns the
 * error class, so that a caller can stop at exhaustion.
 */
static enum ft_hw_class ft_added(struct ft_offload *m, struct ft_ent *e, const struct ft_hw_op *op)
{
	enum ft_hw_class c = ft_hw_classify(op->err, op->extack);
	struct ft_offload_dev_stats *s = &m->dst[e->dev];

	if (c == FT_HWC_OK) {
		/* More than the learned capacity fits: resources were freed. */
		if (s->oor && s->rules >= s->capacity)
			ft_oor_leave(m, e->dev, "an add past the learned capacity succeeded");
		e->rule = op->rule;
		ft_set_installed(m, e);
		s->installs++;
		return c;
	}
	ft_note_failure(m, e->dev, c, op);
	switch (c) {
	case FT_HWC_EXHAUSTED:
		ft_oor_enter(m, e->dev, op->extack);
		break;
	case FT_HWC_UNSUPPORTED:
		ft_unsupported(m, e, op);
		break;
	case FT_HWC_INVALID:
		e->refused = 1;
		break;
	case FT_HWC_EXISTS:
		m->devs[e->dev].resync = 1;
		ft_backoff(m, e);
		break;
	default:
		ft_backoff(m, e);
		break;
	}
	return c;
}

static void ft_op_for(struct ft_offload *m, struct ft_hw_op *op, struct ft_ent *e)
{
	struct ft_dev *d = &m->devs[e->dev];
	int fam = e->rule.key.family == FT_FAMILY_IPV6;

	memset(op, 0, sizeof(*op));
	op->rule = e->rule;
	op->rule.cookie = e->id;
	op->rule.handle = d->next_handle[fam]++;
	if (!d->next_handle[fam])
		d->next_handle[fam] = 1;
}

/*
 * Adds the entries idx[0..n) (hottest first), a batch at a time; stops
 * after a batch that met exhaustion or a busy device. Returns how many
 * were tried; *ok counts those that went in.
 */
static size_t ft_add_list(struct ft_offload *m, const __u32 *idx, size_t n, size_t *ok,
			  enum ft_hw_class *worst)
{
	size_t off, tried = 0;

	*ok = 0;
	*worst = FT_HWC_OK;
	for (off = 0; off < n; off += FT_OFF_BATCH) {
		size_t k = n - off < FT_OFF_BATCH ? n - off : FT_OFF_BATCH;
		int stop = 0;

		for (size_t j = 0; j < k; j++)
			ft_op_for(m, &m->ops[j], &m->ents[idx[off + j]]);
		if (m->hw->ops->add(m->hw, m->ops, k))
			return tried;
		tried += k;
		for (size_t j = 0; j < k; j++) {
			enum ft_hw_class c = ft_added(m, &m->ents[idx[off + j]], &m->ops[j]);

			*ok += c == FT_HWC_OK;
			if (c == FT_HWC_EXHAUSTED || c == FT_HWC_TRANSIENT) {
				stop = 1;
				*worst = c;
			}
		}
		if (stop)
			break;
	}
	return tried;
}

/* Accounts a deleted rule's final counters; the entry leaves hardware. */
static void ft_removed(struct ft_offload *m, struct ft_ent *e, const struct ft_hw_op *op,
		       const struct ft_hw_stat *fin)
{
	__u64 p = e->cur_packets, b = e->cur_bytes;

	e->evicted_pps = ft_rate(e);
	if (!op->err && fin->packets >= p) {
		if (fin->packets > p) {
			m->int_hw += fin->packets - p;
			ft_moved(m, e->id);
		}
		p = fin->packets;
		b = fin->bytes;
	}
	e->base_packets += p;
	e->base_bytes += b;
	ft_hw_base_set(m->base_fd, e->id, e->base_packets, e->base_bytes);
	e->cur_packets = e->cur_bytes = 0;
	e->tier = e->cand && !e->stale ? FT_TIER_PENDING : FT_TIER_SOFTWARE;
	e->gone = m->tick;
	e->stale = 0;
	m->dst[e->dev].rules--;
	m->dst[e->dev].removals++;
}

/*
 * Deletes the rules of idx[0..n). An entry whose delete failed, other
 * than because the rule was already gone, stays in hardware; *done[i] is
 * set for those that left when done is not NULL.
 */
static int ft_del_list(struct ft_offload *m, const __u32 *idx, size_t n, __u8 *done)
{
	for (size_t off = 0; off < n; off += FT_OFF_BATCH) {
		size_t k = n - off < FT_OFF_BATCH ? n - off : FT_OFF_BATCH;
		int err;

		for (size_t j = 0; j < k; j++) {
			memset(&m->ops[j], 0, sizeof(m->ops[j]));
			m->ops[j].rule = m->ents[idx[off + j]].rule;
		}
		err = m->hw->ops->del(m->hw, m->ops, k, m->finals);
		if (err)
			return err;
		for (size_t j = 0; j < k; j++) {
			struct ft_ent *e = &m->ents[idx[off + j]];
			enum ft_hw_class c = ft_hw_classify(m->ops[j].err, m->ops[j].extack);
			int gone = !m->ops[j].err || m->ops[j].err == -ENOENT;

			if (c != FT_HWC_OK)
				ft_note_failure(m, e->dev, c, &m->ops[j]);
			if (gone)
				ft_removed(m, e, &m->ops[j], &m->finals[j]);
			if (done)
				done[off + j] = gone;
		}
	}
	return 0;
}

/* ---- selection ---- */

static inline int ft_better(const struct ft_sel *a, const struct ft_sel *b)
{
	return a->key > b->key || (a->key == b->key && a->id < b->id);
}

static void ft_sift_down(struct ft_sel *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, w = i;

		/* A min-heap by rank: the root is the worst kept. */
		if (l < n && ft_better(&h[w], &h[l]))
			w = l;
		if (l + 1 < n && ft_better(&h[w], &h[l + 1]))
			w = l + 1;
		if (w == i)
			return;
		struct ft_sel t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

static void ft_sift_up(struct ft_sel *h, size_t i)
{
	while (i) {
		size_t p = (i - 1) / 2;

		if (!ft_better(&h[p], &h[i]))
			return;
		struct ft_sel t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

/*
 * The k best of idx[0..n) into out, best first: the hottest, or with
 * coldest the coldest. Entries already in hardware are skipped unless
 * want_hw. O(n log k) at worst, O(n) when most lose to the root.
 */
static size_t ft_select(struct ft_offload *m, const __u32 *idx, size_t n, size_t k, int coldest,
			int want_hw, struct ft_sel *out)
{
	size_t h = 0;

	if (!k)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct ft_ent *e = &m->ents[idx[i]];
		struct ft_sel s;

		if ((e->tier == FT_TIER_HARDWARE) != want_hw)
			continue;
		/* A rule stays its dwell time, whatever its rate. */
		if (want_hw && m->now_ms - e->installed_ms < m->cfg.dwell_ms)
			continue;
		s.key = ft_judged_rate(m, e);
		if (coldest)
			s.key = -s.key;
		s.id = e->id;
		s.idx = idx[i];
		if (h < k) {
			out[h] = s;
			ft_sift_up(out, h++);
		} else if (ft_better(&s, &out[0])) {
			out[0] = s;
			ft_sift_down(out, h, 0);
		}
	}
	/* Heap sort: popping the worst to the end leaves the best first. */
	for (size_t end = h; end > 1; end--) {
		struct ft_sel t = out[0];
		out[0] = out[end - 1];
		out[end - 1] = t;
		ft_sift_down(out, end - 1, 0);
	}
	return h;
}

static int ft_sel_room(struct ft_offload *m, size_t k)
{
	if (ft_grow((void **)&m->sel, &m->cap_sel, k, sizeof(*m->sel)))
		return -ENOMEM;
	if (k > 0) {
		struct ft_sel *n = realloc(m->sel2, m->cap_sel * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->sel2 = n;
	}
	return 0;
}

/* ---- one tick ---- */

static int ft_push(__u32 **a, size_t *n, size_t *cap, __u32 v)
{
	if (ft_grow((void **)a, cap, *n + 1, sizeof(**a)))
		return -ENOMEM;
	(*a)[(*n)++] = v;
	return 0;
}

/* Closing, vanished, verdict changed, or idle as seen through the lag. */
static int ft_leaving(const struct ft_offload *m, const struct ft_ent *e)
{
	__u64 lag = m->cfg.hw_stats_lag_ms;

	if (e->seen != m->tick || e->stale)
		return 1;
	return m->now_ms - e->installed_ms >= lag && e->lastuse_ms >= m->cfg.idle_ms + lag;
}

static int ft_list_one(struct ft_offload *m, const struct ft_ent *e, __u32 i)
{
	struct ft_dev *d = &m->devs[e->dev];

	if (e->tier == FT_TIER_HARDWARE) {
		m->rules_pps += ft_rate(e);
		if (ft_leaving(m, e))
			return ft_push(&m->leave, &m->nleave, &m->cap_leave, i);
		return ft_push(&d->hwl, &d->nhwl, &d->cap_hwl, i);
	}
	if (e->seen == m->tick)
		m->out_pps += e->sw_pps;
	if (e->tier != FT_TIER_PENDING || d->unsupported || (d->bad_shapes & ft_shape(&e->rule)))
		return 0;
	d->waiting++;
	if (e->retry_at > m->now_ms)
		return 0;
	return ft_push(&d->pend, &d->npend, &d->cap_pend, i);
}

/*
 * One pass over the entries (a million of them cost a pass each): drops
 * those with nothing left to say, unlisted and out of hardware; collects
 * the rules that leave; lists per device the offloaded and the pending
 * that may be tried now; sums the rates the shift guess compares. An
 * entry whose rule leaves is pending again only from the next tick.
 */
static int ft_scan(struct ft_offload *m)
{
	size_t i = 0;

	m->nleave = 0;
	m->out_pps = m->rules_pps = 0;
	for (size_t d = 0; d < m->ndevs; d++)
		m->devs[d].npend = m->devs[d].nhwl = m->devs[d].waiting = 0;
	while (i < m->n) {
		struct ft_ent *e = &m->ents[i];

		if (e->tier != FT_TIER_HARDWARE && e->seen != m->tick && e->gone != m->tick) {
			if (e->base_packets || e->base_bytes) /* its connection is gone */
				ft_hw_base_set(m->base_fd, e->id, 0, 0);
			ft_idmap_del(&m->map, e->id);
			if (i != --m->n) {
				*e = m->ents[m->n];
				ft_idmap_put(&m->map, e->id, i); /* replaces: never grows */
			}
			continue;
		}
		if (ft_list_one(m, e, i))
			return -ENOMEM;
		i++;
	}
	return 0;
}

/* The shift guess of ft_offload_cfg_default(), after ft_scan. */
static void ft_shift_guess(struct ft_offload *m)
{
	double gain = m->out_pps - m->out_pps_prev;

	if (m->cfg.shift_guess && m->tick > 1 && m->rules_pps > 0 && gain >= m->rules_pps / 2) {
		m->shift_ms = m->now_ms;
		/* Never 0: the rules keep their order, the coldest still go first. */
		m->shift_scale = fmax(1 - gain / m->rules_pps, 1e-3);
	}
	m->out_pps_prev = m->out_pps;
}

/* Installs the hottest pending, at most limit; returns how many went in. */
static size_t ft_fill(struct ft_offload *m, __u32 di, size_t limit)
{
	struct ft_dev *d = &m->devs[di];
	enum ft_hw_class worst;
	size_t k, ok;
	__u32 *idx;

	if (ft_sel_room(m, limit))
		return 0;
	k = ft_select(m, d->pend, d->npend, limit, 0, 0, m->sel);
	idx = (__u32 *)m->sel2;
	for (size_t i = 0; i < k; i++)
		idx[i] = m->sel[i].idx;
	ft_add_list(m, idx, k, &ok, &worst);
	return ok;
}

static void ft_refill(struct ft_offload *m, struct ft_dev *d)
{
	d->tokens += m->cfg.churn_per_s * (double)(m->now_ms - d->tokens_ms) / 1000.0;
	if (d->tokens > m->cfg.churn_burst)
		d->tokens = m->cfg.churn_burst;
	d->tokens_ms = m->now_ms;
}

/* Rolls an eviction back: the evicted rule goes in again. */
static void ft_rollback(struct ft_offload *m, __u32 di, __u32 victim)
{
	struct ft_ent *e = &m->ents[victim];

	ft_op_for(m, &m->ops[0], e);
	m->dst[di].rollbacks++;
	m->devs[di].tokens -= 1;
	if (m->hw->ops->add(m->hw, m->ops, 1))
		return;
	/* Back as it was: judged by the rate it had, not by its software silence. */
	if (ft_added(m, e, &m->ops[0]) == FT_HWC_OK)
		e->install_pps = e->evicted_pps;
}

/*
 * Swaps pairs[0..n): victims out, newcomers in, rollbacks where an add
 * fails. Returns 1 when the device refused an add for now (busy, or full):
 * further swaps would only empty more rules.
 */
static int ft_swap(struct ft_offload *m, __u32 di, const __u32 *out, const __u32 *in, size_t n)
{
	__u8 done[FT_OFF_BATCH];
	__u32 ins[FT_OFF_BATCH], vic[FT_OFF_BATCH];
	enum ft_hw_class res[FT_OFF_BATCH];
	size_t k = 0;

	int stop = 0;

	if (ft_del_list(m, out, n, done))
		return 1;
	m->devs[di].tokens -= n;
	for (size_t i = 0; i < n; i++) {
		if (!done[i])
			continue;
		ins[k] = in[i];
		vic[k++] = out[i];
	}
	for (size_t j = 0; j < k; j++)
		ft_op_for(m, &m->ops[j], &m->ents[ins[j]]);
	m->devs[di].tokens -= k;
	if (m->hw->ops->add(m->hw, m->ops, k)) {
		for (size_t j = 0; j < k; j++)
			ft_rollback(m, di, vic[j]);
		return 1;
	}
	/* ft_added and ft_rollback reuse ops[]: results first, then rollbacks. */
	for (size_t j = 0; j < k; j++)
		res[j] = ft_added(m, &m->ents[ins[j]], &m->ops[j]);
	for (size_t j = 0; j < k; j++) {
		if (res[j] == FT_HWC_OK) {
			m->dst[di].swaps++;
			continue;
		}
		stop |= res[j] == FT_HWC_TRANSIENT || res[j] == FT_HWC_EXHAUSTED;
		ft_rollback(m, di, vic[j]);
	}
	return stop;
}

/*
 * While OOR: the hottest pending against the coldest offloaded past their
 * dwell, pair by pair, as long as each pending one is clearly hotter.
 * A batch deletes its victims before it adds: when the device refuses
 * the adds as busy (its insertion rate spent), the rebalance stops and
 * the next batches are of one swap, so that a busy device costs one
 * rule, not a batch of them, until a tick passes without refusal.
 */
static void ft_rebalance(struct ft_offload *m, __u32 di)
{
	struct ft_dev *d = &m->devs[di];
	const struct ft_offload_cfg *c = &m->cfg;
	size_t k = d->tokens > 0 ? (size_t)(d->tokens / 2) : 0, np, nh, n = 0;
	__u32 out[FT_OFF_BATCH], in[FT_OFF_BATCH];

	if (!k || ft_sel_room(m, k))
		return;
	np = ft_select(m, d->pend, d->npend, k, 0, 0, m->sel);
	nh = ft_select(m, d->hwl, d->nhwl, np, 1, 1, m->sel2);
	for (size_t i = 0; i < np && i < nh; i++) {
		double p = m->sel[i].key, h = -m->sel2[i].key;

		if (!(p > h * (1 + c->margin_rel) && p > h + c->margin_abs_pps))
			break;
		out[n] = m->sel2[i].idx;
		in[n++] = m->sel[i].idx;
		if (n == d->swap_batch) {
			if (ft_swap(m, di, out, in, n))
				goto busy;
			n = 0;
		}
	}
	if (n && ft_swap(m, di, out, in, n))
		goto busy;
	if (d->swap_batch < FT_OFF_BATCH)
		d->swap_batch *= 2;
	return;
busy:
	d->swap_batch = 1;
}

/* While OOR, now and then: one add past the learned capacity. */
static void ft_probe(struct ft_offload *m, __u32 di)
{
	struct ft_dev *d = &m->devs[di];

	if (m->now_ms - d->last_probe_ms < m->cfg.oor_probe_ms || d->tokens < 1)
		return;
	d->last_probe_ms = m->now_ms;
	d->tokens -= 1;
	if (ft_fill(m, di, 1) && !m->dst[di].oor)
		m->dst[di].capacity = 0;
}

static void ft_place(struct ft_offload *m, __u32 di)
{
	struct ft_dev *d = &m->devs[di];
	struct ft_offload_dev_stats *s = &m->dst[di];
	size_t limit = m->cfg.max_adds_per_tick;

	ft_refill(m, d);
	if (!d->waiting) {
		ft_oor_leave(m, di, "every candidate is in hardware");
		return;
	}
	if (!d->npend || d->unsupported)
		return;
	if (s->oor) {
		/* Room freed by removals is known room: fill it, then probe past it. */
		size_t room = s->capacity > s->rules ? s->capacity - s->rules : 0;

		if (room < limit)
			limit = room;
	}
	if (limit)
		ft_fill(m, di, limit);
	if (!s->oor)
		return;
	ft_probe(m, di);
	if (m->cfg.rebalance && s->oor)
		ft_rebalance(m, di);
}

/*
 * Hardware counters arrive late and in steps, so one interval's hardware
 * share swings between 0 and twice the truth; over the counter lag and a
 * second more, it is what the hardware did.
 */
static void ft_coverage(struct ft_offload *m)
{
	__u64 hw = 0, sw = 0, span = m->cfg.hw_stats_lag_ms + 1000;

	m->hw_packets = m->int_hw;
	m->sw_packets = m->int_sw;
	m->win[m->win_next % FT_OFF_WIN].ms = m->now_ms;
	m->win[m->win_next % FT_OFF_WIN].hw = m->int_hw;
	m->win[m->win_next % FT_OFF_WIN].sw = m->int_sw;
	m->win_next++;
	for (__u32 i = 0; i < FT_OFF_WIN && i < m->win_next; i++) {
		const __typeof__(m->win[0]) *w = &m->win[(m->win_next - 1 - i) % FT_OFF_WIN];

		if (i && m->now_ms - w->ms >= span)
			break;
		hw += w->hw;
		sw += w->sw;
	}
	m->coverage = hw + sw ? (double)hw / (double)(hw + sw) : 0;
}

static int ft_begin(struct ft_offload *m, const struct ft_offload_flow *flows, size_t n,
		    __u64 now_ms, const struct ft_idmap *keep)
{
	m->tick++;
	m->now_ms = now_ms;
	m->nmoved = 0;
	m->int_hw = m->int_sw = 0;
	for (size_t i = 0; i < n; i++) {
		/* The map's lines are random: ask for them a few flows ahead. */
		if (i + FT_OFF_AHEAD < n)
			ft_idmap_prefetch(&m->map, flows[i + FT_OFF_AHEAD].id);
		if (ft_ingest(m, &flows[i], keep))
			return -ENOMEM;
	}
	return 0;
}

int ft_offload_tick(struct ft_offload *m, const struct ft_offload_flow *flows, size_t n,
		    __u64 now_ms)
{
	int err = ft_begin(m, flows, n, now_ms, NULL);

	if (err)
		return err;
	for (size_t d = 0; d < m->ndevs; d++) {
		if (!m->dst[d].rules && !m->devs[d].resync)
			continue;
		ft_dump_dev(m, d, m->devs[d].resync);
		m->devs[d].resync = 0;
	}
	err = ft_scan(m);
	ft_shift_guess(m);
	if (!err)
		err = ft_del_list(m, m->leave, m->nleave, NULL);
	for (size_t d = 0; !err && d < m->ndevs; d++)
		ft_place(m, d);
	ft_coverage(m);
	return err;
}

static int ft_cookie_cb(const struct ft_hw_stat *st, void *ctx)
{
	return ft_idmap_put(ctx, st->rule.cookie, 0);
}

static int ft_base_keep_cb(__u64 id, void *ctx)
{
	return ft_idmap_put(ctx, id, 0);
}

static int ft_base_live_cb(__u64 id, void *ctx)
{
	return ft_idmap_get(&((struct ft_offload *)ctx)->map, id) != FT_IDMAP_NONE;
}

/*
 * A flow in hardware is rarely a candidate (its software rate is near
 * zero), so the cookies found decide which listed flows get an entry; so
 * do the counters an earlier controller kept for rules it deleted. Those
 * of flows that are gone are dropped.
 */
int ft_offload_adopt(struct ft_offload *m, const __u32 *ifindexes, size_t nifs,
		     const struct ft_offload_flow *flows, size_t n, __u64 now_ms)
{
	struct ft_idmap keep;
	int err = 0;
	__u32 di;

	ft_idmap_init(&keep);
	for (size_t i = 0; !err && i < nifs; i++)
		err = m->hw->ops->dump(m->hw, ifindexes[i], ft_cookie_cb, &keep);
	if (!err)
		err = ft_hw_base_each(m->base_fd, ft_base_keep_cb, &keep);
	if (!err)
		err = ft_begin(m, flows, n, now_ms, &keep);
	if (!err)
		err = ft_hw_base_prune(m->base_fd, ft_base_live_cb, m);
	for (size_t i = 0; !err && i < nifs; i++) {
		err = ft_dev_of(m, ifindexes[i], &di);
		if (!err)
			err = ft_dump_dev(m, di, 1);
	}
	ft_idmap_free(&keep);
	return err;
}

/* ---- queries and life cycle ---- */

enum ft_tier ft_offload_tier(const struct ft_offload *m, __u64 id, __u64 *hw_packets,
			     __u64 *hw_bytes)
{
	__u32 i = ft_idmap_get(&m->map, id);
	const struct ft_ent *e = i == FT_IDMAP_NONE ? NULL : &m->ents[i];

	if (hw_packets)
		*hw_packets = e ? e->base_packets + e->cur_packets : 0;
	if (hw_bytes)
		*hw_bytes = e ? e->base_bytes + e->cur_bytes : 0;
	return e ? e->tier : FT_TIER_SOFTWARE;
}

double ft_offload_hw_pps(const struct ft_offload *m, __u64 id)
{
	__u32 i = ft_idmap_get(&m->map, id);

	if (i == FT_IDMAP_NONE || m->ents[i].tier != FT_TIER_HARDWARE || m->ents[i].hw_pps < 0)
		return 0;
	return m->ents[i].hw_pps;
}

double ft_offload_min_pps(const struct ft_offload *m)
{
	return m->cfg.min_pps;
}

void ft_offload_stats(const struct ft_offload *m, struct ft_offload_stats *st)
{
	st->intervals = m->tick;
	st->coverage = m->coverage;
	st->hw_packets = m->hw_packets;
	st->sw_packets = m->sw_packets;
	st->ndevs = m->ndevs;
	st->devs = m->dst;
}

size_t ft_offload_moved(const struct ft_offload *m, const __u64 **ids)
{
	*ids = m->moved;
	return m->nmoved;
}

int ft_offload_flush(struct ft_offload *m)
{
	__u32 *idx = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->ents[i].tier != FT_TIER_HARDWARE)
			continue;
		m->ents[i].cand = 0;
		if (ft_push(&idx, &n, &cap, i)) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = ft_del_list(m, idx, n, NULL);
out:
	free(idx);
	return err;
}

int ft_offload_new(struct ft_offload **out, const struct ft_offload_cfg *cfg, struct ft_hw *hw)
{
	struct ft_offload *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->hw = hw;
	m->base_fd = -1;
	ft_idmap_init(&m->map);
	*out = m;
	return 0;
}

void ft_offload_set_base(struct ft_offload *m, int fd)
{
	m->base_fd = fd;
}

void ft_offload_free(struct ft_offload *m)
{
	if (!m)
		return;
	for (size_t d = 0; d < m->ndevs; d++) {
		free(m->devs[d].pend);
		free(m->devs[d].hwl);
	}
	free(m->devs);
	free(m->dst);
	free(m->ents);
	free(m->moved);
	free(m->leave);
	free(m->sel);
	free(m->sel2);
	ft_idmap_free(&m->map);
	free(m);
}
