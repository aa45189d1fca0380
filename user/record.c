// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The recorder: a scanner, and per direction seen the packets it had at
 * the last scan, in dense arrays found by id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "idmap.h"
#include "record.h"
#include "scan.h"
#include "tiering.h"

struct ft_rec_line {
	__u64 id, packets;
};

struct ft_record {
	struct ft_scan *scan;
	struct ft_idmap map;
	__u64 *ids, *last, *seen; /* per direction known */
	size_t n, cap;
	struct ft_rec_line *lines;
	size_t nlines, cap_lines;
	__u64 gen; /* scans so far */
};

int ft_record_new(struct ft_record **out, __u32 nr_slots)
{
	struct ft_record *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	ft_idmap_init(&r->map);
	/* No smoothing: the recorder reads totals, never rates. */
	err = ft_scan_new(&r->scan, nr_slots, 0);
	if (err) {
		ft_record_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void ft_record_free(struct ft_record *r)
{
	if (!r)
		return;
	ft_scan_free(r->scan);
	ft_idmap_free(&r->map);
	free(r->ids);
	free(r->last);
	free(r->seen);
	free(r->lines);
	free(r);
}

void ft_record_header(FILE *out, double interval_s)
{
	fprintf(out, "# flowtier trace v1\n# interval %g s\n# SECOND FLOW_ID PACKETS\n",
		interval_s);
}

static int ft_rec_grow(struct ft_record *r)
{
	size_t cap = r->cap ? r->cap * 2 : 1024;
	__u64 *ids = realloc(r->ids, cap * sizeof(*ids)), *last, *seen;

	if (!ids)
		return -ENOMEM;
	r->ids = ids;
	last = realloc(r->last, cap * sizeof(*last));
	if (!last)
		return -ENOMEM;
	r->last = last;
	seen = realloc(r->seen, cap * sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	r->seen = seen;
	r->cap = cap;
	return 0;
}

/* The packets direction id sent since the last scan; a new one's are all new. */
static int ft_rec_delta(struct ft_record *r, __u64 id, __u64 total, __u64 *delta)
{
	__u32 i = ft_idmap_get(&r->map, id);
	__u64 prev = 0;

	if (i == FT_IDMAP_NONE) {
		if (r->n == r->cap && ft_rec_grow(r))
			return -ENOMEM;
		i = r->n;
		if (ft_idmap_put(&r->map, id, i))
			return -ENOMEM;
		r->ids[r->n++] = id;
		/* At the first scan, what came before the recording. */
		prev = r->gen == 1 ? total : 0;
	} else {
		prev = r->last[i];
	}
	/* A flow that ended and came back between two scans starts from 0. */
	*delta = total >= prev ? total - prev : total;
	r->last[i] = total;
	r->seen[i] = r->gen;
	return 0;
}

static int ft_rec_line(struct ft_record *r, __u64 id, __u64 packets)
{
	if (ft_grow((void **)&r->lines, &r->cap_lines, r->nlines + 1, sizeof(*r->lines)))
		return -ENOMEM;
	r->lines[r->nlines++] = (struct ft_rec_line){ .id = id, .packets = packets };
	return 0;
}

/* Directions no slot holds any more: their flow ended. */
static void ft_rec_forget(struct ft_record *r)
{
	size_t i = 0;

	while (i < r->n) {
		if (r->seen[i] == r->gen) {
			i++;
			continue;
		}
		ft_idmap_del(&r->map, r->ids[i]);
		if (i != --r->n) {
			r->ids[i] = r->ids[r->n];
			r->last[i] = r->last[r->n];
			r->seen[i] = r->seen[r->n];
			ft_idmap_put(&r->map, r->ids[i], i); /* replaces: never grows */
		}
	}
}

static int ft_rec_by_id(const void *a, const void *b)
{
	const struct ft_rec_line *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int ft_rec_collect(struct ft_record *r)
{
	size_t n = ft_scan_entries(r->scan);
	struct ft_flow v;
	const struct ft_flow *f = &v;

	r->nlines = 0;
	for (size_t i = 0; i < n; i++) {
		/* Gone since the scan: recorded at the next scan if the flow carries on. */
		if (ft_scan_read(r->scan, i, &v))
			continue;
		for (int d = 0; d < 2; d++) {
			__u64 id = ft_flow_id(ft_flow_key(r->scan, f), d), delta;

			if (!f->total_packets[d] && ft_idmap_get(&r->map, id) == FT_IDMAP_NONE)
				continue; /* a direction that never sent */
			if (ft_rec_delta(r, id, f->total_packets[d], &delta))
				return -ENOMEM;
			if (delta && r->gen > 1 && ft_rec_line(r, id, delta))
				return -ENOMEM;
		}
	}
	return 0;
}

int ft_record_step(struct ft_record *r, const struct ft_bucket *buckets, __u32 nr_buckets,
		   __u64 now_ms, __u32 sec, FILE *out)
{
	int err = ft_scan_run(r->scan, buckets, nr_buckets, now_ms);

	if (err)
		return err;
	r->gen++;
	err = ft_rec_collect(r);
	if (err)
		return err;
	ft_rec_forget(r);
	if (r->nlines)
		qsort(r->lines, r->nlines, sizeof(*r->lines), ft_rec_by_id);
	for (size_t i = 0; i < r->nlines; i++)
		fprintf(out, "%u %llu %llu\n", sec, (unsigned long long)r->lines[i].id,
			(unsigned long long)r->lines[i].packets);
	if (fflush(out))
		return -errno;
	return (int)r->nlines;
}
