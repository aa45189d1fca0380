/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus metrics: the text exposition format 0.0.4, rendered from
 * data already in memory. Collecting it (reading maps, summing per-CPU
 * counters) is separate, so that the renderer is a pure function of its
 * source and tests compare whole texts.
 */
#ifndef FT_METRICS_H
#define FT_METRICS_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"
#include "rank.h"
#include "tiering.h"
#include "table.h"
#include "textbuf.h"

struct ft_scan;
struct ft_offload_stats;
struct ft_datapath;

#define FT_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Per-flow series at most (--metrics-top): they bound the scrape's cardinality. */
#define FT_METRICS_MAX_TOP 1000

/*
 * Writes the name of device ifindex into buf (len bytes) and returns 0, or
 * returns -errno; the renderer then shows the ifindex.
 */
typedef int (*ft_metrics_ifname_fn)(__u32 ifindex, char *buf, size_t len);

/* What one rendering reads. Every pointer may be NULL: its families are left out. */
struct ft_metrics_src {
	const struct ft_bucket *buckets; /* the connection table */
	__u32 nr_buckets;
	const struct ft_zone *zones;  /* FT_MAX_ZONES entries */
	const struct ft_stats *stats; /* summed over the CPUs */
	const struct ft_scan *scan;   /* the controller's, or a one-shot scan */
	__u64 last_scan_ns;	      /* how long the last ft_scan_run() took */
	size_t top;		      /* per-flow series for the top directions; 0: none */
	enum ft_sort top_sort;	      /* how they are ranked (pps by default) */
	const struct ft_offload_stats *offload;
	/* With offload: the top series count what the NIC carried too, as flows does. */
	const struct ft_tiering *tiering;
	ft_metrics_ifname_fn ifname; /* NULL: if_indextoname() */
};

/*
 * Appends the whole exposition text to out. Returns 0, or -ENOMEM (out
 * then holds part of it and out->err says so).
 */
int ft_metrics_render(const struct ft_metrics_src *src, struct ft_textbuf *out);

/* Appends v as a label value: backslash, double quote and newline escaped. */
int ft_metrics_escape(struct ft_textbuf *out, const char *v);

/*
 * Collecting. With the datapath object (the daemon): points src at its
 * mmapped table and zones and reads the event counters into *stats.
 * Other fields of src are left as they are.
 */
int ft_metrics_from_dp(struct ft_metrics_src *src, const struct ft_datapath *dp,
		       struct ft_stats *stats);

/*
 * The daemon's side of /metrics: it keeps one of these up to date (after
 * each scan, and each offload interval) and hands it to ft_http_start()
 * with ft_metrics_http_render. Rendering reads the event counters then.
 */
struct ft_metrics_live {
	const struct ft_datapath *dp;
	const struct ft_scan *scan; /* NULL until the first scan */
	__u64 last_scan_ns;
	size_t top;				/* --metrics-top */
	const struct ft_offload_stats *offload; /* NULL: no offload manager */
	const struct ft_tiering *tiering;	/* NULL: no offload manager */
	struct ft_stats stats;			/* scratch: the counters read per scrape */
};

/* An ft_http_render_fn: ctx is a struct ft_metrics_live. */
int ft_metrics_http_render(struct ft_textbuf *out, void *ctx);

/* With only the pinned maps (flowtier metrics): opened once, read per rendering. */
struct ft_metrics_pinned {
	struct ft_table table;
	struct ft_zone *zones;
	size_t zones_len;
	int stats_fd;
	int nr_cpus;
	struct ft_stats *percpu; /* nr_cpus values, as the kernel hands them over */
	struct ft_stats stats;	 /* their sum */
};

int ft_metrics_pinned_open(struct ft_metrics_pinned *p, const char *dir);
/* Reads the event counters and points src at the pinned maps. */
int ft_metrics_pinned_read(struct ft_metrics_pinned *p, struct ft_metrics_src *src);
void ft_metrics_pinned_close(struct ft_metrics_pinned *p);

#endif
