// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier metrics: what /metrics serves, printed once from the pinned
 * maps, for node_exporter's textfile collector. Without a controller it
 * scans the table once itself, so the text has the same families: flows,
 * the scan's duration and, with --metrics-top, the flows with the most
 * packets (a single scan has no rates to rank by).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_metrics.h"
#include "log.h"
#include "metrics.h"
#include "scan.h"
#include "settings.h"

#define FT_EXIT_USAGE 2

struct ft_metrics_opts {
	const char *pin_dir;
	__u64 top;
};

static int ft_metrics_parse(int argc, char **argv, struct ft_metrics_opts *o)
{
	static const struct option longopts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "metrics-top", required_argument, NULL, 't' },
		{ 0 },
	};
	int opt;

	*o = (struct ft_metrics_opts){ .pin_dir = FT_PIN_DIR };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o->pin_dir = optarg;
			break;
		case 't':
			if (ft_parse_uint("--metrics-top", optarg, 0, FT_METRICS_MAX_TOP, &o->top))
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static __u64 ft_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One scan of the table, timed as the controller times its own. */
static int ft_metrics_scan(struct ft_metrics_src *src, struct ft_scan **scan)
{
	__u64 t0;
	int err;

	err = ft_scan_new(scan, src->nr_buckets * FT_SLOTS, 0);
	if (err) {
		pr_err("cannot scan the table: %s\n", strerror(-err));
		return err;
	}
	t0 = ft_mono_ns();
	err = ft_scan_run(*scan, src->buckets, src->nr_buckets, t0 / 1000000);
	src->last_scan_ns = ft_mono_ns() - t0;
	if (err)
		pr_err("cannot scan the table: %s\n", strerror(-err));
	src->scan = *scan;
	return err;
}

int do_metrics(int argc, char **argv)
{
	struct ft_metrics_src src = { .top_sort = FT_SORT_PACKETS };
	struct ft_textbuf text = {};
	struct ft_metrics_pinned p;
	struct ft_metrics_opts o;
	struct ft_scan *scan = NULL;
	int err;

	if (ft_metrics_parse(argc, argv, &o)) {
		fprintf(stderr, "usage: flowtier metrics [--pin-dir DIR] [--metrics-top N]\n");
		return FT_EXIT_USAGE;
	}
	if (ft_metrics_pinned_open(&p, o.pin_dir))
		return 1;
	src.top = o.top;
	err = ft_metrics_pinned_read(&p, &src);
	if (!err)
		err = ft_metrics_scan(&src, &scan);
	if (!err)
		err = ft_metrics_render(&src, &text);
	if (err == -ENOMEM)
		pr_err("cannot render the metrics: %s\n", strerror(-err));
	if (!err && fwrite(text.data, 1, text.len, stdout) != text.len)
		err = -EIO;
	ft_textbuf_free(&text);
	ft_scan_free(scan);
	ft_metrics_pinned_close(&p);
	return err ? 1 : 0;
}
