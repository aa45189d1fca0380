// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "idmap.h"
#include "log.h"
#include "trace.h"

/* splitmix64: small, seedable, and the same on every machine. */
static __u64 ft_rand(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double ft_rand01(__u64 *s)
{
	return (double)(ft_rand(s) >> 11) / 9007199254740992.0;
}

/* Deals the ranks to the slots again (Fisher-Yates). */
static void ft_trace_shuffle(struct ft_trace *t)
{
	for (__u32 i = t->n - 1; i > 0; i--) {
		__u32 j = ft_rand(&t->rng) % (i + 1), r = t->rank[i];

		t->rank[i] = t->rank[j];
		t->rank[j] = r;
	}
}

static int ft_trace_alloc(struct ft_trace *t, __u32 n)
{
	t->n = n;
	t->id = calloc(n, sizeof(*t->id));
	t->old_id = calloc(n, sizeof(*t->old_id));
	t->born_ms = calloc(n, sizeof(*t->born_ms));
	t->pk = calloc(n, sizeof(*t->pk));
	t->departed = calloc(n, sizeof(*t->departed));
	t->live = calloc(n, sizeof(*t->live));
	if (!t->id || !t->old_id || !t->born_ms || !t->pk || !t->departed || !t->live)
		return -ENOMEM;
	return 0;
}

int ft_trace_generate(struct ft_trace *t, __u32 n, double alpha, double total_pps, double turnover,
		      __u64 seed)
{
	double h = 0;

	memset(t, 0, sizeof(*t));
	t->alpha = alpha;
	t->total_pps = total_pps;
	t->turnover = turnover;
	t->rng = seed;
	t->rate = calloc(n, sizeof(*t->rate));
	t->rank = calloc(n, sizeof(*t->rank));
	if (ft_trace_alloc(t, n) || !t->rate || !t->rank)
		return -ENOMEM;
	for (__u32 r = 0; r < n; r++)
		h += pow(r + 1, -alpha);
	for (__u32 r = 0; r < n; r++) {
		t->rate[r] = total_pps * pow(r + 1, -alpha) / h;
		t->rank[r] = r;
		t->id[r] = r + 1;
		t->live[r] = 1;
	}
	t->next_id = n + 1;
	ft_trace_shuffle(t);
	return 0;
}

struct ft_loader {
	const char *path;
	unsigned int line;
	struct ft_idmap slots;
	__u64 *ids;
	size_t nids, cap_ids, cap_recs;
};

static int ft_load_line(struct ft_trace *t, struct ft_loader *l, const char *buf)
{
	unsigned long long sec, id, pk;
	__u32 slot;
	char extra;

	if (sscanf(buf, "%llu %llu %llu %c", &sec, &id, &pk, &extra) != 3 || !sec || sec > 86400 ||
	    !id) {
		pr_err("%s:%u: expected 'SECOND FLOW_ID PACKETS' (second 1 to 86400, id not 0)\n",
		       l->path, l->line);
		return -EINVAL;
	}
	if (t->nrec && sec < t->recs[t->nrec - 1].sec) {
		pr_err("%s:%u: second %llu comes after second %u: seconds must not go down\n",
		       l->path, l->line, sec, t->recs[t->nrec - 1].sec);
		return -EINVAL;
	}
	slot = ft_idmap_get(&l->slots, id);
	if (slot == FT_IDMAP_NONE) {
		slot = l->nids;
		if (ft_grow((void **)&l->ids, &l->cap_ids, l->nids + 1, sizeof(*l->ids)))
			return -ENOMEM;
		l->ids[l->nids++] = id;
		if (ft_idmap_put(&l->slots, id, slot))
			return -ENOMEM;
	}
	if (ft_grow((void **)&t->recs, &l->cap_recs, t->nrec + 1, sizeof(*t->recs)))
		return -ENOMEM;
	t->recs[t->nrec++] = (struct ft_trace_rec){ .sec = sec, .slot = slot, .packets = pk };
	return 0;
}

static int ft_load_slots(struct ft_trace *t, const struct ft_loader *l)
{
	if (!l->nids) {
		pr_err("%s: no flows in the trace\n", l->path);
		return -EINVAL;
	}
	t->first = calloc(l->nids, sizeof(*t->first));
	t->last = calloc(l->nids, sizeof(*t->last));
	if (!t->first || !t->last || ft_trace_alloc(t, l->nids))
		return -ENOMEM;
	for (size_t i = 0; i < t->nrec; i++) {
		const struct ft_trace_rec *r = &t->recs[i];

		if (!t->first[r->slot])
			t->first[r->slot] = r->sec;
		t->last[r->slot] = r->sec;
	}
	for (__u32 s = 0; s < t->n; s++) {
		t->id[s] = l->ids[s];
		t->born_ms[s] = (t->first[s] - 1) * 1000ull;
	}
	t->seconds = t->recs[t->nrec - 1].sec;
	return 0;
}

int ft_trace_load(struct ft_trace *t, const char *path)
{
	struct ft_loader l = { .path = path };
	char buf[256];
	int err = 0;
	FILE *f;

	memset(t, 0, sizeof(*t));
	ft_idmap_init(&l.slots);
	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		pr_err("cannot open trace '%s': %s\n", path, strerror(-err));
		return err;
	}
	while (!err && fgets(buf, sizeof(buf), f)) {
		const char *p = buf + strspn(buf, " \t");

		l.line++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		err = ft_load_line(t, &l, p);
	}
	if (!err)
		err = ft_load_slots(t, &l);
	fclose(f);
	ft_idmap_free(&l.slots);
	free(l.ids);
	return err;
}

static void ft_step_generated(struct ft_trace *t, __u32 sec, int shift)
{
	for (__u32 s = 0; s < t->n; s++) {
		t->departed[s] = sec > 1 && ft_rand01(&t->rng) < t->turnover;
		if (!t->departed[s])
			continue;
		t->old_id[s] = t->id[s];
		t->id[s] = t->next_id++;
		t->born_ms[s] = (sec - 1) * 1000ull;
	}
	if (shift)
		ft_trace_shuffle(t);
	for (__u32 s = 0; s < t->n; s++) {
		double r = t->rate[t->rank[s]], whole = floor(r);

		t->pk[s] = (__u64)whole + (ft_rand01(&t->rng) < r - whole);
		t->packets += t->pk[s];
	}
}

/* A slot's flow leaves the second after its last line; its slot stays empty. */
static void ft_step_recorded(struct ft_trace *t, __u32 sec)
{
	for (__u32 s = 0; s < t->n; s++) {
		int live = t->first[s] <= sec && sec <= t->last[s];

		t->departed[s] = t->live[s] && !live;
		if (t->departed[s])
			t->old_id[s] = t->id[s];
		t->live[s] = live;
		t->pk[s] = 0;
	}
	for (; t->pos < t->nrec && t->recs[t->pos].sec <= sec; t->pos++) {
		t->pk[t->recs[t->pos].slot] += t->recs[t->pos].packets;
		t->packets += t->recs[t->pos].packets;
	}
}

void ft_trace_step(struct ft_trace *t, __u32 sec, int shift)
{
	if (t->recs)
		ft_step_recorded(t, sec);
	else
		ft_step_generated(t, sec, shift);
}

void ft_trace_free(struct ft_trace *t)
{
	free(t->id);
	free(t->old_id);
	free(t->born_ms);
	free(t->pk);
	free(t->departed);
	free(t->live);
	free(t->rate);
	free(t->rank);
	free(t->recs);
	free(t->first);
	free(t->last);
}
