// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Flow mix and schedule. Rates follow Zipf: the flow of rank k gets
 * rate * k^-alpha / H(N, alpha). Each slice, a flow's expected packets are
 * added to its carry in fixed point (2^-32 packets) and the whole part is
 * sent: integer arithmetic after one set-up, so every run counts the same.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "mix.h"

/* splitmix64: one 64-bit state per stream, good enough and reproducible. */
static __u64 rng_next(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(__u64 *s)
{
	return (rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, bound) without division bias worth caring about. */
static __u32 rng_below(__u64 *s, __u32 bound)
{
	return (__u32)(((unsigned __int128)rng_next(s) * bound) >> 64);
}

static int mix_check(const struct gen_params *p)
{
	const char *bad = NULL;

	if (p->flows < 1 || p->flows > GEN_MAX_FLOWS)
		bad = "--flows must be 1 to 1048576";
	else if (!(p->alpha >= 0 && p->alpha <= 10))
		bad = "--alpha must be 0 to 10";
	else if (!(p->rate >= 0 && p->rate <= 1e8))
		bad = "--rate must be 0 to 100000000 packets per second";
	else if (p->slice_ms < 1 || p->slice_ms > 1000)
		bad = "--slice-ms must be 1 to 1000";
	else if (p->interval_ms < p->slice_ms || p->interval_ms % p->slice_ms)
		bad = "--interval-ms must be a multiple of --slice-ms";
	else if (!(p->duration * 1000 >= p->slice_ms && p->duration <= 86400))
		bad = "--duration must be one slice to 86400 seconds";
	else if (!(p->v6_share >= 0 && p->v6_share <= 1) ||
		 !(p->tcp_share >= 0 && p->tcp_share <= 1))
		bad = "--v6-share and --tcp-share must be 0 to 1";
	else if (p->size < GEN_MIN_FRAME || p->size > 1500)
		bad = "--size must be 80 to 1500 bytes";
	if (!bad)
		return 0;
	fprintf(stderr, "ft-gen: %s\n", bad);
	return -EINVAL;
}

static __u32 to_slice(const struct gen_params *p, double seconds)
{
	return (__u32)llround(seconds * 1000 / p->slice_ms);
}

static int mix_shifts(struct gen_mix *m)
{
	for (int e = 0; e < m->p.nshifts; e++) {
		__u32 s = to_slice(&m->p, m->p.shifts[e]);

		if (s == 0 || s >= m->slices || (e && s <= m->shift_slice[e - 1])) {
			fprintf(stderr,
				"ft-gen: --shift %g: shifts must be inside the duration, after its "
				"first slice, ascending and at least a slice apart\n",
				m->p.shifts[e]);
			return -EINVAL;
		}
		m->shift_slice[e] = s;
	}
	return 0;
}

static int mix_alloc(struct gen_mix *m)
{
	size_t n = m->p.flows;

	m->shift_slice = calloc(m->p.nshifts + 1, sizeof(*m->shift_slice));
	m->family = calloc(n, 1);
	m->proto = calloc(n, 1);
	m->ranks = calloc(n * m->epochs, sizeof(*m->ranks));
	m->per_rank = calloc(n, sizeof(*m->per_rank));
	m->acc = calloc(n, sizeof(*m->acc));
	m->data = calloc(n, sizeof(*m->data));
	m->fwd = calloc(n, sizeof(*m->fwd));
	m->rev = calloc(n, sizeof(*m->rev));
	m->ivl_fwd = calloc(n, sizeof(*m->ivl_fwd));
	m->ivl_rev = calloc(n, sizeof(*m->ivl_rev));
	if (!m->shift_slice || !m->family || !m->proto || !m->ranks || !m->per_rank || !m->acc ||
	    !m->data || !m->fwd || !m->rev || !m->ivl_fwd || !m->ivl_rev)
		return -ENOMEM;
	return 0;
}

/* Expected packets per slice by rank; H is summed smallest first for accuracy. */
static void mix_zipf(struct gen_mix *m)
{
	double h = 0, per_slice = m->p.rate * m->p.slice_ms / 1000.0;

	for (__u32 k = m->p.flows; k >= 1; k--)
		h += pow(k, -m->p.alpha);
	for (__u32 k = 1; k <= m->p.flows; k++)
		m->per_rank[k - 1] = (__u64)llround(ldexp(per_slice * pow(k, -m->p.alpha) / h, 32));
}

/* Family and protocol per flow; epoch 0 ranks flows by index, each shift permutes. */
static void mix_flows(struct gen_mix *m)
{
	__u64 rng = m->p.seed ^ 0x6d69782d666c6f77ULL;
	__u32 n = m->p.flows;

	for (__u32 i = 0; i < n; i++) {
		m->family[i] = rng_unit(&rng) < m->p.v6_share ? 6 : 4;
		m->proto[i] = rng_unit(&rng) < m->p.tcp_share ? 6 : 17;
		m->ranks[i] = i + 1;
	}
	for (__u32 e = 1; e < m->epochs; e++) {
		__u32 *r = m->ranks + (size_t)e * n;

		memcpy(r, r - n, n * sizeof(*r));
		for (__u32 i = n - 1; i > 0; i--) {
			__u32 j = rng_below(&m->rng_perm, i + 1), t = r[i];

			r[i] = r[j];
			r[j] = t;
		}
	}
}

int mix_init(struct gen_mix *m, const struct gen_params *p)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->p = *p;
	err = mix_check(p);
	if (err)
		return err;
	m->slices = to_slice(p, p->duration);
	m->epochs = p->nshifts + 1;
	m->rng_perm = p->seed ^ 0x7065726d75746521ULL;
	m->rng_order = p->seed ^ 0x6f726465722d2d21ULL;
	err = mix_alloc(m);
	if (err)
		return err;
	err = mix_shifts(m);
	if (err)
		return err;
	mix_zipf(m);
	mix_flows(m);
	return 0;
}

void mix_free(struct gen_mix *m)
{
	free(m->shift_slice);
	free(m->family);
	free(m->proto);
	free(m->ranks);
	free(m->per_rank);
	free(m->acc);
	free(m->data);
	free(m->fwd);
	free(m->rev);
	free(m->ivl_fwd);
	free(m->ivl_rev);
	free(m->entries);
	memset(m, 0, sizeof(*m));
}

static int mix_push(struct gen_mix *m, __u32 kind, __u32 flow)
{
	if (m->nentries == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		__u32 *e = realloc(m->entries, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		m->entries = e;
		m->cap = cap;
	}
	m->entries[m->nentries++] = GEN_ENTRY(kind, flow);
	if (kind == GEN_SYNACK || kind == GEN_FIN_REV || kind == GEN_REPLY) {
		m->rev[flow]++;
		m->ivl_rev[flow]++;
	} else {
		m->fwd[flow]++;
		m->ivl_fwd[flow]++;
	}
	if (kind == GEN_DATA)
		m->data[flow]++;
	return 0;
}

/*
 * Every TCP flow's packet of kind a, then every one's of kind b; UDP flows
 * send udp_a and udp_b alongside (0: nothing).
 */
static int mix_pair(struct gen_mix *m, __u32 a, __u32 b, __u32 udp_a, __u32 udp_b)
{
	int err = 0;

	m->nentries = 0;
	for (__u32 i = 0; i < m->p.flows && !err; i++)
		if (m->proto[i] == 6 || udp_a)
			err = mix_push(m, m->proto[i] == 6 ? a : udp_a, i);
	for (__u32 i = 0; i < m->p.flows && !err; i++)
		if (m->proto[i] == 6 || udp_b)
			err = mix_push(m, m->proto[i] == 6 ? b : udp_b, i);
	return err;
}

/*
 * A UDP request and its reply establish the flow in a connection table as
 * the SYN and SYN-ACK do for TCP; the client still sends first.
 */
int mix_open(struct gen_mix *m)
{
	int udp = m->p.udp_reply;

	return mix_pair(m, GEN_SYN, GEN_SYNACK, udp ? GEN_REQUEST : 0, udp ? GEN_REPLY : 0);
}

int mix_close(struct gen_mix *m)
{
	return mix_pair(m, GEN_FIN, GEN_FIN_REV, 0, 0);
}

static int mix_flush_interval(struct gen_mix *m)
{
	for (__u32 i = 0; i < m->p.flows; i++) {
		if (m->ivl_out && (m->ivl_fwd[i] || m->ivl_rev[i]))
			fprintf(m->ivl_out, "%u,%u,%u,%u\n", m->ivl, i, m->ivl_fwd[i],
				m->ivl_rev[i]);
		m->ivl_fwd[i] = 0;
		m->ivl_rev[i] = 0;
	}
	return m->ivl_out && ferror(m->ivl_out) ? -EIO : 0;
}

int mix_finish(struct gen_mix *m)
{
	return mix_flush_interval(m);
}

static void mix_shuffle(struct gen_mix *m)
{
	for (size_t i = m->nentries; i > 1; i--) {
		size_t j = rng_below(&m->rng_order, (__u32)i);
		__u32 t = m->entries[i - 1];

		m->entries[i - 1] = m->entries[j];
		m->entries[j] = t;
	}
}

int mix_slice(struct gen_mix *m, __u32 s)
{
	__u32 ivl = (__u32)((__u64)s * m->p.slice_ms / m->p.interval_ms), *rank;
	int err = 0;

	if (ivl != m->ivl) {
		err = mix_flush_interval(m);
		if (err)
			return err;
		m->ivl = ivl;
	}
	if (m->epoch + 1 < m->epochs && s == m->shift_slice[m->epoch])
		m->epoch++;
	rank = m->ranks + (size_t)m->epoch * m->p.flows;
	m->nentries = 0;
	for (__u32 i = 0; i < m->p.flows && !err; i++) {
		__u64 a = m->acc[i] + m->per_rank[rank[i] - 1];

		m->acc[i] = a & 0xffffffffULL;
		for (__u64 c = a >> 32; c && !err; c--)
			err = mix_push(m, GEN_DATA, i);
	}
	if (!err)
		mix_shuffle(m);
	return err;
}
