// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* flowtier simulate: the trace, the four policies, the report. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "hw_sim.h"
#include "log.h"
#include "offload.h"
#include "settings.h"
#include "simulate.h"
#include "trace.h"

#define FT_SIM_IFINDEX	 1000000
#define FT_SIM_PKT_BYTES 100
#define FT_OVS_PASS_MS	 3000
#define FT_OVS_MAX_SWAPS 1024
#define FT_EXIT_USAGE	 2

void ft_sim_opts_default(struct ft_sim_opts *o)
{
	*o = (struct ft_sim_opts){
		.alpha = 1.0,
		.flows = 100000,
		.capacity = 1000,
		.duration = 60,
		.seed = 1,
		.insert_rate = 2500,
		.stats_lag_ms = 2000,
		.total_pps = 10e6,
		.turnover = 0.001,
		.shift_guess = 1,
	};
}

/* ---- what every policy has ---- */

struct ft_pol {
	const char *name;
	struct ft_hw_sim *sim;
	__u64 hw_pk;
	double *cov; /* per interval */
	__u64 ops;   /* oracle: set changes */
	/* flowtier */
	struct ft_offload *m;
	struct ft_offload_flow *fl, *list; /* per slot; this second's live ones */
	/* ovs */
	__u64 *sw_pk, *hw_seen, *samp_pk, *samp_ms;
	double *pps;
	int oor;
	__u64 last_pass_ms;
	/* ovs, fcfs */
	__u8 *tried;
	int full;
	/* oracle */
	__u8 *top, *prev;
	__u32 capacity;
};

static void ft_sim_rule(const struct ft_trace *t, __u32 slot, __u64 id, struct ft_hw_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->key.family = FT_FAMILY_IPV4;
	r->key.proto = 17;
	memcpy(r->key.addr[0], (__u8[]){ 198, 18, 0, 0 }, 4);
	r->key.addr[0][2] = slot >> 8;
	r->key.addr[0][3] = slot;
	memcpy(r->key.addr[1], (__u8[]){ 198, 19, 0, 0 }, 4);
	r->key.port[0] = htobe16(id & 0xffff);
	r->key.port[1] = htobe16(53);
	r->verdict = FT_VERDICT_DROP;
	r->ifindex = FT_SIM_IFINDEX;
	r->handle = slot + 1; /* one flow a slot at a time */
	r->cookie = id;
	(void)t;
}

static int ft_pol_add(struct ft_pol *p, const struct ft_trace *t, __u32 slot, char *extack)
{
	struct ft_hw *hw = ft_hw_sim_hw(p->sim);
	struct ft_hw_op op = {};

	ft_sim_rule(t, slot, t->id[slot], &op.rule);
	hw->ops->add(hw, &op, 1);
	if (extack)
		memcpy(extack, op.extack, FT_HW_EXTACK_LEN);
	return op.err;
}

static void ft_pol_del(struct ft_pol *p, const struct ft_trace *t, __u32 slot, __u64 id)
{
	struct ft_hw *hw = ft_hw_sim_hw(p->sim);
	struct ft_hw_op op = {};

	ft_sim_rule(t, slot, id, &op.rule);
	hw->ops->del(hw, &op, 1, NULL);
	p->full = 0;
}

/* Sends the interval's packets: 1 when slot's went to the NIC. */
static int ft_pol_send(struct ft_pol *p, const struct ft_trace *t, __u32 s)
{
	__u64 pk = t->pk[s];

	if (!ft_hw_sim_hit(p->sim, t->id[s], pk, pk * FT_SIM_PKT_BYTES))
		return 0;
	p->hw_pk += pk;
	return 1;
}

/* ---- flowtier ---- */

static int ft_flowtier_step(struct ft_pol *p, const struct ft_trace *t, __u64 now)
{
	size_t n = 0;

	for (__u32 s = 0; s < t->n; s++) {
		struct ft_offload_flow *f = &p->fl[s];

		if (!t->live[s])
			continue;
		if (f->id != t->id[s]) {
			memset(f, 0, sizeof(*f));
			f->id = t->id[s];
			ft_sim_rule(t, s, f->id, &f->rule);
			f->state = FT_STATE_ESTABLISHED;
		}
		f->age_ms = now - t->born_ms[s];
		if (ft_pol_send(p, t, s)) {
			f->sw_pps = 0;
		} else {
			f->sw_pps = (double)t->pk[s];
			f->sw_packets += t->pk[s];
			f->sw_bytes += t->pk[s] * FT_SIM_PKT_BYTES;
		}
		p->list[n++] = *f;
	}
	return ft_offload_tick(p->m, p->list, n, now);
}

/* ---- ovs ---- */

static int ft_ovs_dump_cb(const struct ft_hw_stat *st, void *ctx)
{
	struct ft_pol *p = ctx;

	p->hw_seen[st->rule.handle - 1] = st->packets;
	return 0;
}

struct ft_ovs_ent {
	double pps;
	__u32 slot;
};

static int ft_ovs_hot_first(const void *a, const void *b)
{
	const struct ft_ovs_ent *x = a, *y = b;

	return x->pps < y->pps ? 1 : x->pps > y->pps ? -1 : (int)x->slot - (int)y->slot;
}

/* OVS's pps: packet delta over whole seconds, once 3 s past the last sample. */
static void ft_ovs_sample(struct ft_pol *p, const struct ft_trace *t, __u64 now)
{
	struct ft_hw *hw = ft_hw_sim_hw(p->sim);

	memset(p->hw_seen, 0, t->n * sizeof(*p->hw_seen));
	hw->ops->dump(hw, FT_SIM_IFINDEX, ft_ovs_dump_cb, p);
	for (__u32 s = 0; s < t->n; s++) {
		__u64 total = p->sw_pk[s] + p->hw_seen[s], secs = (now - p->samp_ms[s]) / 1000;

		if (now - p->samp_ms[s] < FT_OVS_PASS_MS || !secs)
			continue;
		p->pps[s] = total >= p->samp_pk[s] ? (double)(total - p->samp_pk[s]) / secs : 0;
		p->samp_pk[s] = total;
		p->samp_ms[s] = now;
	}
}

static void ft_ovs_pass(struct ft_pol *p, const struct ft_trace *t, struct ft_ovs_ent *pend,
			size_t np, struct ft_ovs_ent *off, size_t no)
{
	size_t i = 0, j, swaps = 0;

	qsort(pend, np, sizeof(*pend), ft_ovs_hot_first);
	qsort(off, no, sizeof(*off), ft_ovs_hot_first);
	/* Phase 1: every pending flow, hottest first, until the first ENOSPC. */
	for (; i < np; i++) {
		int err = ft_pol_add(p, t, pend[i].slot, NULL);

		if (err == -ENOSPC)
			break;
	}
	if (i == np) {
		p->oor = 0;
		return;
	}
	/* Phase 2: hottest pending against coldest offloaded, strictly. */
	for (j = no; i < np && j > 0 && swaps < FT_OVS_MAX_SWAPS; i++, j--) {
		__u32 in = pend[i].slot, out = off[j - 1].slot;

		if (!(pend[i].pps > off[j - 1].pps))
			break;
		ft_pol_del(p, t, out, t->id[out]);
		if (ft_pol_add(p, t, in, NULL))
			break; /* no rollback: the evicted flow stays in software */
		swaps++;
	}
}

static int ft_ovs_step(struct ft_pol *p, const struct ft_trace *t, __u64 now)
{
	__u32 n = t->n;
	struct ft_ovs_ent *pend, *off;
	size_t np = 0, no = 0;

	for (__u32 s = 0; s < n; s++) {
		if (t->departed[s]) {
			if (ft_hw_sim_has(p->sim, t->old_id[s]))
				ft_pol_del(p, t, s, t->old_id[s]);
			p->tried[s] = 0;
			p->sw_pk[s] = p->samp_pk[s] = 0;
			p->samp_ms[s] = now - 1000;
			p->pps[s] = 0;
		}
		if (!t->live[s])
			continue;
		/* A new flow is offloaded when set up, unless the port is OOR. */
		if (!p->tried[s] && !p->oor) {
			if (ft_pol_add(p, t, s, NULL) == -ENOSPC)
				p->oor = 1;
		}
		p->tried[s] = 1;
		if (!ft_pol_send(p, t, s))
			p->sw_pk[s] += t->pk[s];
	}
	if (now - p->last_pass_ms < FT_OVS_PASS_MS)
		return 0;
	p->last_pass_ms = now;
	ft_ovs_sample(p, t, now);
	if (!p->oor)
		return 0;
	pend = malloc(n * sizeof(*pend));
	off = malloc(n * sizeof(*off));
	if (!pend || !off) {
		free(pend);
		free(off);
		return -ENOMEM;
	}
	for (__u32 s = 0; s < n; s++) {
		struct ft_ovs_ent e = { .pps = p->pps[s], .slot = s };

		if (!t->live[s])
			continue;
		if (ft_hw_sim_has(p->sim, t->id[s]))
			off[no++] = e;
		else
			pend[np++] = e;
	}
	ft_ovs_pass(p, t, pend, np, off, no);
	free(pend);
	free(off);
	return 0;
}

/* ---- fcfs ---- */

static int ft_fcfs_step(struct ft_pol *p, const struct ft_trace *t, __u64 now)
{
	int busy = 0;

	(void)now;
	for (__u32 s = 0; s < t->n; s++) {
		if (t->departed[s]) {
			if (ft_hw_sim_has(p->sim, t->old_id[s]))
				ft_pol_del(p, t, s, t->old_id[s]);
			p->tried[s] = 0;
		}
	}
	/* Arrival order is slot order; a flow that found the NIC full never gets in. */
	for (__u32 s = 0; s < t->n && !busy; s++) {
		int err;

		if (p->tried[s] || !t->live[s])
			continue;
		if (p->full) {
			p->tried[s] = 1;
			continue;
		}
		err = ft_pol_add(p, t, s, NULL);
		if (err == -EBUSY) {
			busy = 1;
			continue;
		}
		p->tried[s] = 1;
		p->full = err == -ENOSPC;
	}
	for (__u32 s = 0; s < t->n; s++)
		ft_pol_send(p, t, s);
	return 0;
}

/* ---- oracle ---- */

static void ft_heap_down(__u64 *h, __u32 *hs, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, w = i;

		if (l < n && h[l] < h[w])
			w = l;
		if (l + 1 < n && h[l + 1] < h[w])
			w = l + 1;
		if (w == i)
			return;
		__u64 v = h[i];
		__u32 vs = hs[i];
		h[i] = h[w];
		hs[i] = hs[w];
		h[w] = v;
		hs[w] = vs;
		i = w;
	}
}

/* The top capacity of this interval's packets, with a min-heap of capacity. */
static int ft_oracle_step(struct ft_pol *p, const struct ft_trace *t, __u64 now)
{
	size_t c = p->capacity < t->n ? p->capacity : t->n, k = 0;
	__u64 *h = malloc(c * sizeof(*h));
	__u32 *hs = malloc(c * sizeof(*hs));

	(void)now;
	if (!h || !hs) {
		free(h);
		free(hs);
		return -ENOMEM;
	}
	for (__u32 s = 0; s < t->n; s++) {
		if (k < c) {
			h[k] = t->pk[s];
			hs[k++] = s;
			if (k == c)
				for (size_t i = c / 2 + 1; i-- > 0;)
					ft_heap_down(h, hs, c, i);
		} else if (t->pk[s] > h[0]) {
			h[0] = t->pk[s];
			hs[0] = s;
			ft_heap_down(h, hs, c, 0);
		}
	}
	memset(p->top, 0, t->n);
	for (size_t i = 0; i < k; i++) {
		p->hw_pk += h[i];
		p->top[hs[i]] = 1;
	}
	for (__u32 s = 0; s < t->n; s++) {
		int was = p->prev[s] && !t->departed[s];

		p->ops += (p->top[s] != was) + (p->prev[s] && t->departed[s]);
		p->prev[s] = p->top[s];
	}
	free(h);
	free(hs);
	return 0;
}

/* ---- the run ---- */

enum { FT_POL_FLOWTIER, FT_POL_OVS, FT_POL_FCFS, FT_POL_ORACLE };

static const char *const ft_pol_names[FT_SIM_NPOLICIES] = { "flowtier", "ovs", "fcfs", "oracle" };

static int ft_pol_new(struct ft_pol *p, int kind, const struct ft_sim_opts *o)
{
	struct ft_hw_sim_cfg sc = {
		.capacity = o->capacity,
		.insert_rate = o->insert_rate,
		.lag_ms = o->stats_lag_ms,
	};
	struct ft_offload_cfg cfg;
	__u32 n = o->flows;

	memset(p, 0, sizeof(*p));
	p->name = ft_pol_names[kind];
	p->capacity = o->capacity;
	p->cov = calloc(o->duration + 1, sizeof(*p->cov));
	if (!p->cov || ft_hw_sim_new(&p->sim, &sc))
		return -ENOMEM;
	switch (kind) {
	case FT_POL_FLOWTIER:
		ft_offload_cfg_default(&cfg);
		cfg.hw_stats_lag_ms = o->stats_lag_ms;
		cfg.shift_guess = o->shift_guess;
		if (o->churn > 0) {
			cfg.churn_per_s = o->churn;
			cfg.churn_burst = 10 * o->churn;
		}
		p->fl = calloc(n, sizeof(*p->fl));
		p->list = calloc(n, sizeof(*p->list));
		if (!p->fl || !p->list || ft_offload_new(&p->m, &cfg, ft_hw_sim_hw(p->sim)))
			return -ENOMEM;
		break;
	case FT_POL_OVS:
		p->sw_pk = calloc(n, sizeof(__u64));
		p->hw_seen = calloc(n, sizeof(__u64));
		p->samp_pk = calloc(n, sizeof(__u64));
		p->samp_ms = calloc(n, sizeof(__u64));
		p->pps = calloc(n, sizeof(double));
		/* fall through */
	case FT_POL_FCFS:
		p->tried = calloc(n, 1);
		if (!p->tried || (kind == FT_POL_OVS && (!p->sw_pk || !p->hw_seen || !p->samp_pk ||
							 !p->samp_ms || !p->pps)))
			return -ENOMEM;
		break;
	case FT_POL_ORACLE:
		p->top = calloc(n, 1);
		p->prev = calloc(n, 1);
		if (!p->top || !p->prev)
			return -ENOMEM;
		break;
	}
	return 0;
}

static void ft_pol_free(struct ft_pol *p)
{
	ft_offload_free(p->m);
	if (p->sim)
		ft_hw_sim_hw(p->sim)->ops->close(ft_hw_sim_hw(p->sim));
	free(p->cov);
	free(p->fl);
	free(p->list);
	free(p->sw_pk);
	free(p->hw_seen);
	free(p->samp_pk);
	free(p->samp_ms);
	free(p->pps);
	free(p->tried);
	free(p->top);
	free(p->prev);
}

static int ft_pol_step(struct ft_pol *p, int kind, const struct ft_trace *t, __u64 now)
{
	ft_hw_sim_set_time(p->sim, now);
	switch (kind) {
	case FT_POL_FLOWTIER:
		return ft_flowtier_step(p, t, now);
	case FT_POL_OVS:
		return ft_ovs_step(p, t, now);
	case FT_POL_FCFS:
		return ft_fcfs_step(p, t, now);
	default:
		return ft_oracle_step(p, t, now);
	}
}

/* Seconds after each shift until an interval reaches 0.95 x the oracle's. */
static void ft_recovery(const struct ft_sim_opts *o, const struct ft_pol *p,
			const struct ft_pol *oracle, int *rec)
{
	for (__u32 i = 0; i < o->nshifts; i++) {
		rec[i] = -1;
		for (__u32 sec = o->shifts[i] + 1; sec <= o->duration; sec++) {
			if (p->cov[sec] * 100 >= oracle->cov[sec] * FT_SIM_RECOVERY_PCT) {
				rec[i] = sec - o->shifts[i];
				break;
			}
		}
	}
}

/* Each of the first intervals after each shift, as a share of the oracle's coverage. */
static void ft_after_shift(const struct ft_sim_opts *o, const struct ft_pol *p,
			   const struct ft_pol *oracle, double (*after)[FT_SIM_AFTER_SHIFT])
{
	for (__u32 i = 0; i < o->nshifts; i++) {
		for (__u32 j = 0; j < FT_SIM_AFTER_SHIFT; j++) {
			__u32 sec = o->shifts[i] + 1 + j;

			if (sec > o->duration)
				after[i][j] = -1;
			else if (oracle->cov[sec] > 0)
				after[i][j] = p->cov[sec] / oracle->cov[sec];
			else
				after[i][j] = 1; /* nothing to cover */
		}
	}
}

static void ft_results(const struct ft_sim_opts *o, const struct ft_trace *t, struct ft_pol *pols,
		       struct ft_sim_result *res)
{
	double oc = t->packets ? (double)pols[FT_POL_ORACLE].hw_pk / (double)t->packets : 0;

	for (int k = 0; k < FT_SIM_NPOLICIES; k++) {
		struct ft_sim_result *r = &res[k];
		struct ft_hw_sim_stats ss;

		memset(r, 0, sizeof(*r));
		r->policy = ft_pol_names[k];
		r->packets = t->packets;
		r->hw_packets = pols[k].hw_pk;
		r->coverage = t->packets ? (double)pols[k].hw_pk / (double)t->packets : 0;
		r->ratio_to_oracle = oc > 0 ? r->coverage / oc : 0;
		ft_hw_sim_stats(pols[k].sim, &ss);
		r->ops_per_second =
			(double)(k == FT_POL_ORACLE ? pols[k].ops
						    : ss.adds + ss.dels + ss.add_refused) /
			o->duration;
		r->changes_per_second =
			(double)(k == FT_POL_ORACLE ? pols[k].ops : ss.adds + ss.dels) /
			o->duration;
		ft_recovery(o, &pols[k], &pols[FT_POL_ORACLE], r->recovery);
		ft_after_shift(o, &pols[k], &pols[FT_POL_ORACLE], r->after_shift);
	}
}

static int ft_sim_trace(struct ft_sim_opts *o, struct ft_trace *t)
{
	int err;

	if (!o->trace)
		return ft_trace_generate(t, o->flows, o->alpha, o->total_pps, o->turnover, o->seed);
	err = ft_trace_load(t, o->trace);
	if (err)
		return err;
	o->flows = t->n;
	if (!o->duration)
		o->duration = t->seconds;
	for (__u32 i = 0; i < o->nshifts; i++) {
		if (o->shifts[i] >= o->duration) {
			pr_err("--shift %u: past the end of the trace (%u seconds)\n", o->shifts[i],
			       o->duration);
			return -EINVAL;
		}
	}
	return 0;
}

static int ft_sim_shift_at(const struct ft_sim_opts *o, __u32 sec)
{
	for (__u32 i = 0; i < o->nshifts; i++)
		if (o->shifts[i] == sec)
			return 1;
	return 0;
}

int ft_simulate(struct ft_sim_opts *o, struct ft_sim_result *res)
{
	struct ft_pol pols[FT_SIM_NPOLICIES] = {};
	struct ft_trace t;
	int err;

	err = ft_sim_trace(o, &t);
	for (int k = 0; !err && k < FT_SIM_NPOLICIES; k++)
		err = ft_pol_new(&pols[k], k, o);
	for (__u32 sec = 1; !err && sec <= o->duration; sec++) {
		__u64 before[FT_SIM_NPOLICIES], total = t.packets;

		ft_trace_step(&t, sec, ft_sim_shift_at(o, sec - 1));
		total = t.packets - total;
		for (int k = 0; !err && k < FT_SIM_NPOLICIES; k++) {
			before[k] = pols[k].hw_pk;
			err = ft_pol_step(&pols[k], k, &t, sec * 1000ull);
			pols[k].cov[sec] =
				total ? (double)(pols[k].hw_pk - before[k]) / (double)total : 0;
		}
	}
	if (!err)
		ft_results(o, &t, pols, res);
	for (int k = 0; k < FT_SIM_NPOLICIES; k++)
		ft_pol_free(&pols[k]);
	ft_trace_free(&t);
	return err;
}

/* ---- output ---- */

static void ft_print_after_shift(FILE *f, const struct ft_sim_opts *o,
				 const double (*after)[FT_SIM_AFTER_SHIFT])
{
	fputs(",\"after_shift\":[", f);
	for (__u32 i = 0; i < o->nshifts; i++) {
		fputs(i ? ",[" : "[", f);
		for (__u32 j = 0; j < FT_SIM_AFTER_SHIFT && after[i][j] >= 0; j++)
			fprintf(f, "%s%.4f", j ? "," : "", after[i][j]);
		fputc(']', f);
	}
	fputc(']', f);
}

static void ft_print_recovery(FILE *f, const struct ft_sim_opts *o, const int *rec, int json)
{
	if (json)
		fputc('[', f);
	for (__u32 i = 0; i < o->nshifts; i++) {
		if (i)
			fputc(',', f);
		if (rec[i] < 0)
			fputs(json ? "null" : "never", f);
		else
			fprintf(f, "%d", rec[i]);
	}
	if (json)
		fputc(']', f);
	else if (!o->nshifts)
		fputc('-', f);
}

void ft_sim_print(FILE *f, const struct ft_sim_opts *o, const struct ft_sim_result *res, int json)
{
	if (json)
		fprintf(f,
			"{\"flows\":%u,\"capacity\":%u,\"zipf\":%g,\"duration\":%u,"
			"\"seed\":%llu,\"packets\":%llu,\"policies\":[",
			o->flows, o->capacity, o->alpha, o->duration, (unsigned long long)o->seed,
			(unsigned long long)res[0].packets);
	else
		fprintf(f, "%-10s %10s %16s %15s %s\n", "policy", "coverage", "ratio_to_oracle",
			"ops_per_second", "recovery_seconds");
	for (int k = 0; k < FT_SIM_NPOLICIES; k++) {
		const struct ft_sim_result *r = &res[k];

		if (json) {
			fprintf(f,
				"%s{\"policy\":\"%s\",\"coverage\":%.4f,\"ratio_to_oracle\":%.4f,"
				"\"ops_per_second\":%.1f,\"changes_per_second\":%.1f,\"hw_"
				"packets\":%llu,"
				"\"recovery_seconds\":",
				k ? "," : "", r->policy, r->coverage, r->ratio_to_oracle,
				r->ops_per_second, r->changes_per_second,
				(unsigned long long)r->hw_packets);
			ft_print_recovery(f, o, r->recovery, 1);
			ft_print_after_shift(f, o,
					     (const double(*)[FT_SIM_AFTER_SHIFT])r->after_shift);
			fputc('}', f);
			continue;
		}
		fprintf(f, "%-10s %10.4f %16.4f %15.1f ", r->policy, r->coverage,
			r->ratio_to_oracle, r->ops_per_second);
		ft_print_recovery(f, o, r->recovery, 0);
		fputc('\n', f);
	}
	if (json)
		fputs("]}\n", f);
}

/* ---- the command ---- */

static void ft_sim_usage(FILE *f)
{
	fprintf(f,
		"usage: flowtier simulate --zipf ALPHA --flows N --capacity C --duration SECONDS\n"
		"         [--shift SECONDS]... [--seed K] [--insert-rate R] [--stats-lag SECONDS]\n"
		"         [--pps TOTAL] [--turnover FRACTION] [--churn OPS] [--shift-guess "
		"on|off]\n"
		"         [--json]\n"
		"       flowtier simulate --trace FILE --capacity C [--duration SECONDS]\n"
		"         [--shift SECONDS]... [--insert-rate R] [--stats-lag SECONDS] [--json]\n");
}

static int ft_sim_opt(int opt, const char *arg, struct ft_sim_opts *o, int *json)
{
	__u64 v;
	double d;

	switch (opt) {
	case 'z':
		return ft_parse_real("--zipf", arg, 0.01, 5, &o->alpha);
	case 'f':
		if (ft_parse_uint("--flows", arg, 1, 10000000, &v))
			return -EINVAL;
		o->flows = v;
		return 0;
	case 'c':
		if (ft_parse_uint("--capacity", arg, 1, 10000000, &v))
			return -EINVAL;
		o->capacity = v;
		return 0;
	case 'd':
		if (ft_parse_uint("--duration", arg, 1, 86400, &v))
			return -EINVAL;
		o->duration = v;
		return 0;
	case 's':
		if (o->nshifts == FT_SIM_MAX_SHIFTS) {
			pr_err("--shift: at most %d shifts\n", FT_SIM_MAX_SHIFTS);
			return -EINVAL;
		}
		if (ft_parse_uint("--shift", arg, 1, 86400, &v))
			return -EINVAL;
		o->shifts[o->nshifts++] = v;
		return 0;
	case 'k':
		return ft_parse_uint("--seed", arg, 0, ~0ull, &o->seed);
	case 'i':
		return ft_parse_real("--insert-rate", arg, 0, 1e9, &o->insert_rate);
	case 'l':
		if (ft_parse_real("--stats-lag", arg, 0, 3600, &d))
			return -EINVAL;
		o->stats_lag_ms = (__u64)(d * 1000 + 0.5);
		return 0;
	case 'p':
		return ft_parse_real("--pps", arg, 1, 1e12, &o->total_pps);
	case 'u':
		return ft_parse_real("--turnover", arg, 0, 1, &o->turnover);
	case 'r':
		return ft_parse_real("--churn", arg, 1, 1e9, &o->churn);
	case 'g':
		return ft_parse_onoff("--shift-guess", arg, &o->shift_guess);
	case 'j':
		*json = 1;
		return 0;
	case 't':
		o->trace = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

/* given: bit 0 --zipf, 1 --flows, 2 --capacity, 3 --duration. */
static int ft_sim_check(struct ft_sim_opts *o, int given)
{
	if (o->trace && (given & 3)) {
		pr_err("--trace replays a recorded trace: --zipf and --flows do not apply\n");
		return -EINVAL;
	}
	if (o->trace && !(given & 4)) {
		pr_err("simulate --trace needs --capacity\n");
		return -EINVAL;
	}
	if (!o->trace && given != 0xf) {
		pr_err("simulate needs --zipf, --flows, --capacity and --duration (or --trace "
		       "FILE and --capacity)\n");
		return -EINVAL;
	}
	if (o->trace && !(given & 8))
		o->duration = 0; /* the trace's own */
	for (__u32 i = 0; o->duration && i < o->nshifts; i++) {
		if (o->shifts[i] >= o->duration) {
			pr_err("--shift %u: past the end of the trace (--duration %u)\n",
			       o->shifts[i], o->duration);
			return -EINVAL;
		}
	}
	return 0;
}

int do_simulate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "zipf", required_argument, NULL, 'z' },
		{ "flows", required_argument, NULL, 'f' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "shift", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'k' },
		{ "insert-rate", required_argument, NULL, 'i' },
		{ "stats-lag", required_argument, NULL, 'l' },
		{ "pps", required_argument, NULL, 'p' },
		{ "turnover", required_argument, NULL, 'u' },
		{ "churn", required_argument, NULL, 'r' },
		{ "shift-guess", required_argument, NULL, 'g' },
		{ "trace", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct ft_sim_result res[FT_SIM_NPOLICIES];
	struct ft_sim_opts o;
	int opt, json = 0, given = 0, err;

	ft_sim_opts_default(&o);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		given |= opt == 'z' ? 1 : opt == 'f' ? 2 : opt == 'c' ? 4 : opt == 'd' ? 8 : 0;
		if (ft_sim_opt(opt, optarg, &o, &json))
			goto usage;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (ft_sim_check(&o, given))
		goto usage;
	/* The manager's OOR notices would drown the report. */
	ft_log_set_level(FT_LOG_WARN);
	err = ft_simulate(&o, res);
	if (err == -EINVAL || err == -ENOENT)
		return FT_EXIT_USAGE; /* the trace file: already said what is wrong */
	if (err) {
		pr_err("simulate: %s\n", strerror(-err));
		return 1;
	}
	ft_sim_print(stdout, &o, res, json);
	return 0;
usage:
	ft_sim_usage(stderr);
	return FT_EXIT_USAGE;
}
