// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The simulated NIC: rules in a dense array found by cookie and by handle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hw_sim.h"
#include "idmap.h"

/* Counter samples kept per rule; older ones fold into the base. */
#define FT_SIM_HIST  32
#define FT_SIM_FAILS 16
#define FT_SIM_DEVS  16

struct ft_sim_sample {
	__u64 t, packets, bytes;
};

struct ft_sim_rule {
	struct ft_hw_rule rule;
	__u64 installed_ms;
	__u64 packets, bytes;	   /* exact, now */
	struct ft_sim_sample base; /* the newest sample dropped from hist; t 0: no hit */
	struct ft_sim_sample hist[FT_SIM_HIST];
	unsigned int head, nhist; /* ring: hist[head] is the oldest */
};

struct ft_sim_dev {
	__u32 ifindex;
	__u32 rules;
	int unsupported;
};

struct ft_sim_fail {
	int err;
	char extack[FT_HW_EXTACK_LEN];
};

struct ft_hw_sim {
	struct ft_hw hw; /* first: the backend interface */
	struct ft_hw_sim_cfg cfg;
	__u64 now_ms;
	double tokens;
	__u64 tokens_ms;
	struct ft_sim_rule *rules;
	size_t nrules, cap;
	struct ft_idmap by_cookie, by_handle;
	struct ft_sim_dev devs[FT_SIM_DEVS];
	size_t ndevs;
	struct ft_sim_fail fails[FT_SIM_FAILS];
	size_t nfails;
	struct ft_hw_sim_stats st;
};

static __u64 ft_sim_handle_key(const struct ft_hw_rule *r)
{
	return (__u64)r->ifindex << 33 | (__u64)(r->key.family == FT_FAMILY_IPV6) << 32 | r->handle;
}

static struct ft_sim_dev *ft_sim_dev(struct ft_hw_sim *s, __u32 ifindex)
{
	for (size_t i = 0; i < s->ndevs; i++)
		if (s->devs[i].ifindex == ifindex)
			return &s->devs[i];
	if (s->ndevs == FT_SIM_DEVS)
		return NULL;
	s->devs[s->ndevs] = (struct ft_sim_dev){ .ifindex = ifindex };
	return &s->devs[s->ndevs++];
}

static void ft_sim_set_err(struct ft_hw_op *op, int err, const char *extack)
{
	op->err = err;
	snprintf(op->extack, sizeof(op->extack), "%s", extack);
}

/* Refills the insertion bucket; 1 when one more add may go in now. */
static int ft_sim_rate_ok(struct ft_hw_sim *s)
{
	double r = s->cfg.insert_rate;

	if (r <= 0)
		return 1;
	s->tokens += r * (double)(s->now_ms - s->tokens_ms) / 1000.0;
	s->tokens_ms = s->now_ms;
	if (s->tokens > r)
		s->tokens = r;
	if (s->tokens < 1.0)
		return 0;
	s->tokens -= 1.0;
	return 1;
}

/* Why op cannot go in, as the op's err and extack; 0 when it can. */
static int ft_sim_refuse(struct ft_hw_sim *s, struct ft_hw_op *op, struct ft_sim_dev *d)
{
	if (s->nfails) {
		ft_sim_set_err(op, s->fails[0].err, s->fails[0].extack);
		memmove(s->fails, s->fails + 1, --s->nfails * sizeof(s->fails[0]));
	} else if (!d) {
		ft_sim_set_err(op, -ENOMEM, "too many devices in the simulator");
	} else if (d->unsupported) {
		ft_sim_set_err(op, -EOPNOTSUPP, "device does not support flower offload");
	} else if (ft_idmap_get(&s->by_handle, ft_sim_handle_key(&op->rule)) != FT_IDMAP_NONE ||
		   ft_idmap_get(&s->by_cookie, op->rule.cookie) != FT_IDMAP_NONE) {
		ft_sim_set_err(op, -EEXIST, "filter already exists");
	} else if (s->cfg.capacity && d->rules >= s->cfg.capacity) {
		ft_sim_set_err(op, -ENOSPC, "rule table full");
	} else if (!ft_sim_rate_ok(s)) {
		ft_sim_set_err(op, -EBUSY, "insertion rate limit reached");
	}
	return op->err;
}

static int ft_sim_insert(struct ft_hw_sim *s, const struct ft_hw_rule *r)
{
	struct ft_sim_rule *n;

	if (ft_grow((void **)&s->rules, &s->cap, s->nrules + 1, sizeof(*s->rules)))
		return -ENOMEM;
	if (ft_idmap_put(&s->by_cookie, r->cookie, s->nrules) ||
	    ft_idmap_put(&s->by_handle, ft_sim_handle_key(r), s->nrules)) {
		ft_idmap_del(&s->by_cookie, r->cookie);
		return -ENOMEM;
	}
	n = &s->rules[s->nrules++];
	memset(n, 0, sizeof(*n));
	n->rule = *r;
	n->installed_ms = s->now_ms;
	return 0;
}

static int ft_sim_add(struct ft_hw *hw, struct ft_hw_op *ops, size_t n)
{
	struct ft_hw_sim *s = (struct ft_hw_sim *)hw;

	for (size_t i = 0; i < n; i++) {
		struct ft_sim_dev *d = ft_sim_dev(s, ops[i].rule.ifindex);

		ops[i].err = 0;
		ops[i].extack[0] = '\0';
		if (!ft_sim_refuse(s, &ops[i], d))
			ops[i].err = ft_sim_insert(s, &ops[i].rule);
		if (ops[i].err) {
			s->st.add_refused++;
			continue;
		}
		d->rules++;
		s->st.adds++;
	}
	return 0;
}

/* Counters as the device reports them now: as they were lag_ms ago. */
static void ft_sim_lagged(const struct ft_hw_sim *s, const struct ft_sim_rule *r,
			  struct ft_hw_stat *st)
{
	__u64 cut = s->now_ms > s->cfg.lag_ms ? s->now_ms - s->cfg.lag_ms : 0;
	const struct ft_sim_sample *best = &r->base;

	for (unsigned int i = 0; i < r->nhist; i++) {
		const struct ft_sim_sample *h = &r->hist[(r->head + i) % FT_SIM_HIST];

		if (h->t > cut)
			break;
		best = h;
	}
	st->rule = r->rule;
	st->packets = best->packets;
	st->bytes = best->bytes;
	st->lastuse_ms = s->now_ms - (best->t ? best->t : r->installed_ms);
}

static void ft_sim_remove(struct ft_hw_sim *s, size_t i)
{
	struct ft_sim_rule *r = &s->rules[i];

	ft_sim_dev(s, r->rule.ifindex)->rules--;
	ft_idmap_del(&s->by_cookie, r->rule.cookie);
	ft_idmap_del(&s->by_handle, ft_sim_handle_key(&r->rule));
	if (i != --s->nrules) {
		*r = s->rules[s->nrules];
		ft_idmap_put(&s->by_cookie, r->rule.cookie, i);
		ft_idmap_put(&s->by_handle, ft_sim_handle_key(&r->rule), i);
	}
}

static int ft_sim_del(struct ft_hw *hw, struct ft_hw_op *ops, size_t n, struct ft_hw_stat *final)
{
	struct ft_hw_sim *s = (struct ft_hw_sim *)hw;

	for (size_t i = 0; i < n; i++) {
		__u32 k = ft_idmap_get(&s->by_handle, ft_sim_handle_key(&ops[i].rule));

		ops[i].extack[0] = '\0';
		if (final)
			memset(&final[i], 0, sizeof(final[i]));
		if (k == FT_IDMAP_NONE) {
			ft_sim_set_err(&ops[i], -ENOENT, "filter not found");
			continue;
		}
		ops[i].err = 0;
		if (final) {
			final[i].rule = s->rules[k].rule;
			final[i].packets = s->rules[k].packets;
			final[i].bytes = s->rules[k].bytes;
		}
		ft_sim_remove(s, k);
		s->st.dels++;
	}
	return 0;
}

static int ft_sim_dump(struct ft_hw *hw, __u32 ifindex,
		       int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx)
{
	struct ft_hw_sim *s = (struct ft_hw_sim *)hw;
	struct ft_hw_stat st;
	int err;

	for (size_t i = 0; i < s->nrules; i++) {
		if (s->rules[i].rule.ifindex != ifindex)
			continue;
		ft_sim_lagged(s, &s->rules[i], &st);
		err = cb(&st, ctx);
		if (err)
			return err;
	}
	return 0;
}

static void ft_sim_close(struct ft_hw *hw)
{
	struct ft_hw_sim *s = (struct ft_hw_sim *)hw;

	if (!s)
		return;
	ft_idmap_free(&s->by_cookie);
	ft_idmap_free(&s->by_handle);
	free(s->rules);
	free(s);
}

static const struct ft_hw_ops ft_sim_ops = {
	.name = "sim",
	.add = ft_sim_add,
	.del = ft_sim_del,
	.dump = ft_sim_dump,
	.close = ft_sim_close,
};

int ft_hw_sim_new(struct ft_hw_sim **out, const struct ft_hw_sim_cfg *cfg)
{
	struct ft_hw_sim *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->hw.ops = &ft_sim_ops;
	s->cfg = *cfg;
	s->tokens = cfg->insert_rate;
	ft_idmap_init(&s->by_cookie);
	ft_idmap_init(&s->by_handle);
	*out = s;
	return 0;
}

struct ft_hw *ft_hw_sim_hw(struct ft_hw_sim *s)
{
	return &s->hw;
}

void ft_hw_sim_set_time(struct ft_hw_sim *s, __u64 now_ms)
{
	if (now_ms > s->now_ms)
		s->now_ms = now_ms;
}

void ft_hw_sim_set_capacity(struct ft_hw_sim *s, __u32 capacity)
{
	s->cfg.capacity = capacity;
}

int ft_hw_sim_hit(struct ft_hw_sim *s, __u64 cookie, __u64 packets, __u64 bytes)
{
	__u32 k = ft_idmap_get(&s->by_cookie, cookie);
	struct ft_sim_rule *r;
	struct ft_sim_sample *h;

	if (k == FT_IDMAP_NONE)
		return 0;
	if (!packets)
		return 1;
	r = &s->rules[k];
	r->packets += packets;
	r->bytes += bytes;
	h = r->nhist ? &r->hist[(r->head + r->nhist - 1) % FT_SIM_HIST] : NULL;
	if (!h || h->t != s->now_ms) {
		if (r->nhist == FT_SIM_HIST) {
			r->base = r->hist[r->head];
			r->head = (r->head + 1) % FT_SIM_HIST;
			r->nhist--;
		}
		h = &r->hist[(r->head + r->nhist++) % FT_SIM_HIST];
		h->t = s->now_ms;
	}
	h->packets = r->packets;
	h->bytes = r->bytes;
	return 1;
}

int ft_hw_sim_has(const struct ft_hw_sim *s, __u64 cookie)
{
	return ft_idmap_get(&s->by_cookie, cookie) != FT_IDMAP_NONE;
}

int ft_hw_sim_fail_next(struct ft_hw_sim *s, int err, const char *extack)
{
	if (s->nfails == FT_SIM_FAILS)
		return -ENOSPC;
	s->fails[s->nfails].err = err < 0 ? err : -err;
	snprintf(s->fails[s->nfails].extack, FT_HW_EXTACK_LEN, "%s", extack ? extack : "");
	s->nfails++;
	return 0;
}

int ft_hw_sim_unsupported(struct ft_hw_sim *s, __u32 ifindex)
{
	struct ft_sim_dev *d = ft_sim_dev(s, ifindex);

	if (!d)
		return -ENOSPC;
	d->unsupported = 1;
	return 0;
}

void ft_hw_sim_stats(const struct ft_hw_sim *s, struct ft_hw_sim_stats *st)
{
	*st = s->st;
	st->rules = s->nrules;
}
