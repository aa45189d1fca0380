// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier record: the pinned table read every --interval for --duration,
 * each interval's packets per flow direction written as a trace that
 * `flowtier simulate --trace` replays.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_record.h"
#include "log.h"
#include "record.h"
#include "settings.h"
#include "table.h"

#define FT_EXIT_USAGE 2
/* The trace format's seconds stop at a day. */
#define FT_REC_MAX_INTERVALS 86400

struct ft_rec_opts {
	const char *pin_dir, *out;
	double interval_s, duration_s;
	__u32 intervals;
};

static void ft_rec_usage(FILE *f)
{
	fprintf(f, "usage: flowtier record --out FILE [--interval SECONDS] [--duration SECONDS]\n"
		   "         [--pin-dir DIR]\n");
}

static int ft_rec_check(struct ft_rec_opts *o)
{
	double n = round(o->duration_s / o->interval_s);

	if (!o->out) {
		pr_err("record needs --out FILE, where the trace goes\n");
		return -EINVAL;
	}
	if (n < 1 || n > FT_REC_MAX_INTERVALS) {
		pr_err("--duration %g / --interval %g: from 1 to %d intervals, not %.0f\n",
		       o->duration_s, o->interval_s, FT_REC_MAX_INTERVALS, n);
		return -EINVAL;
	}
	o->intervals = (__u32)n;
	return 0;
}

static int ft_rec_parse(int argc, char **argv, struct ft_rec_opts *o)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ 0 },
	};
	int opt, err = 0;

	*o = (struct ft_rec_opts){ .pin_dir = FT_PIN_DIR, .interval_s = 1, .duration_s = 60 };
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'i')
			err = ft_parse_secs("--interval", optarg, 0.1, 3600, &o->interval_s);
		else if (opt == 'd')
			err = ft_parse_secs("--duration", optarg, 0.1, 86400.0 * 30,
					    &o->duration_s);
		else if (opt == 'o')
			o->out = optarg;
		else if (opt == 'p')
			o->pin_dir = optarg;
		else
			err = -EINVAL;
	}
	if (!err && optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	if (!err)
		err = ft_rec_check(o);
	if (err)
		ft_rec_usage(stderr);
	return err;
}

static __u64 ft_rec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until start + ms on the monotonic clock: intervals do not drift. */
static void ft_rec_sleep_until(__u64 at_ms)
{
	struct timespec ts = { .tv_sec = at_ms / 1000, .tv_nsec = (at_ms % 1000) * 1000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int ft_rec_run(const struct ft_rec_opts *o, const struct ft_table *t, FILE *out)
{
	__u64 start = ft_rec_now_ms(), lines = 0;
	struct ft_record *r = NULL;
	int err = ft_record_new(&r, t->nr_buckets * FT_SLOTS);

	if (!err) {
		ft_record_header(out, o->interval_s);
		err = ft_record_step(r, t->buckets, t->nr_buckets, start, 0, out);
	}
	for (__u32 k = 1; err >= 0 && k <= o->intervals; k++) {
		__u64 at = start + (__u64)llround(k * o->interval_s * 1000);

		ft_rec_sleep_until(at);
		err = ft_record_step(r, t->buckets, t->nr_buckets, ft_rec_now_ms(), k, out);
		lines += err > 0 ? err : 0;
	}
	ft_record_free(r);
	if (err < 0) {
		pr_err("record: %s\n", strerror(-err));
		return err;
	}
	pr_info("recorded %u intervals of %g s, %llu lines, into %s\n", o->intervals, o->interval_s,
		(unsigned long long)lines, o->out);
	return 0;
}

int do_record(int argc, char **argv)
{
	struct ft_rec_opts o;
	struct ft_table t;
	FILE *out;
	int err;

	if (ft_rec_parse(argc, argv, &o))
		return FT_EXIT_USAGE;
	if (ft_table_open(&t, o.pin_dir))
		return 1;
	out = fopen(o.out, "w");
	if (!out) {
		pr_err("cannot write the trace to '%s': %s\n", o.out, strerror(errno));
		ft_table_close(&t);
		return 1;
	}
	err = ft_rec_run(&o, &t, out);
	if (fclose(out) && !err) {
		pr_err("cannot write the trace to '%s': %s\n", o.out, strerror(errno));
		err = -EIO;
	}
	ft_table_close(&t);
	return err ? 1 : 0;
}
