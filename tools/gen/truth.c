// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Ground truth file, CSV with '#' comment lines (format in tools/gen/README.md):
 * the parameters first, then one line per flow. Nothing in it depends on
 * timing, so the same parameters and seed give the same file byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "flows.h"
#include "truth.h"

static void truth_params(FILE *f, const struct gen_mix *m, __u32 stopped_at)
{
	const struct gen_params *p = &m->p;

	fprintf(f, "# ft-gen ground truth v1\n");
	fprintf(f,
		"# seed=%llu flows=%u alpha=%g rate=%g duration=%g slice_ms=%u interval_ms=%u "
		"size=%u v6_share=%g tcp_share=%g udp_reply=%d\n",
		(unsigned long long)p->seed, p->flows, p->alpha, p->rate, p->duration, p->slice_ms,
		p->interval_ms, p->size, p->v6_share, p->tcp_share, p->udp_reply);
	fprintf(f, "# shifts=");
	for (int e = 0; e < p->nshifts; e++)
		fprintf(f, "%s%g", e ? ";" : "", p->shifts[e]);
	fprintf(f, " shift_slices=");
	for (int e = 0; e < p->nshifts; e++)
		fprintf(f, "%s%u", e ? ";" : "", m->shift_slice[e]);
	fprintf(f, "\n# slices=%u sent_slices=%u%s\n", m->slices, stopped_at,
		stopped_at < m->slices ? " (interrupted)" : "");
	fprintf(f, "flow,family,proto,src,dst,sport,dport,ranks,data_packets,fwd_packets,"
		   "fwd_bytes,rev_packets,rev_bytes\n");
}

static void truth_flow(FILE *f, const struct gen_mix *m, __u32 i)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct gen_tuple t;

	gen_tuple_of(i, m->family[i], m->proto[i], &t);
	gen_tuple_addrs(&t, src, dst, sizeof(src));
	fprintf(f, "%u,%u,%s,%s,%s,%u,%u,", i, t.family, t.proto == 6 ? "tcp" : "udp", src, dst,
		t.sport, t.dport);
	for (__u32 e = 0; e < m->epochs; e++)
		fprintf(f, "%s%u", e ? ";" : "", m->ranks[(size_t)e * m->p.flows + i]);
	fprintf(f, ",%llu,%llu,%llu,%llu,%llu\n", (unsigned long long)m->data[i],
		(unsigned long long)m->fwd[i], (unsigned long long)m->fwd[i] * m->p.size,
		(unsigned long long)m->rev[i], (unsigned long long)m->rev[i] * m->p.size);
}

int truth_write(const struct gen_mix *m, const char *path, __u32 stopped_at)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "ft-gen: cannot write the ground truth to '%s': %s\n", path,
			strerror(errno));
		return err;
	}
	truth_params(f, m, stopped_at);
	for (__u32 i = 0; i < m->p.flows; i++)
		truth_flow(f, m, i);
	if (ferror(f))
		err = -EIO;
	if (f == stdout)
		fflush(f);
	else if (fclose(f))
		err = -errno;
	if (err)
		fprintf(stderr, "ft-gen: cannot write the ground truth to '%s': %s\n", path,
			strerror(-err));
	return err;
}
