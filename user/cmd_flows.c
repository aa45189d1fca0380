// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier flows: the busiest flow directions. Without a running
 * controller it reads the pinned table twice, --sample seconds apart, and
 * takes the rates from that interval.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_flows.h"
#include "ct.h"
#include "ctl.h"
#include "log.h"
#include "rank.h"
#include "scan.h"
#include "settings.h"
#include "table.h"

#define FT_EXIT_USAGE	 2
#define FT_FLOWS_MAX_TOP 100000

struct ft_flows_opts {
	const char *pin_dir;
	const char *socket;
	enum ft_sort sort;
	__u64 top;
	double sample_s;
	int json;
};

static int ft_flows_bad(const char *flag, const char *val, const char *expect)
{
	pr_err("bad value '%s' for %s: expected %s\n", val, flag, expect);
	return FT_EXIT_USAGE;
}

static int ft_flows_parse(int argc, char **argv, struct ft_flows_opts *o)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "sort", required_argument, NULL, 's' },
		{ "sample", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 'k' },
		{ 0 },
	};
	__u64 top;
	int opt;

	*o = (struct ft_flows_opts){
		.pin_dir = FT_PIN_DIR, .socket = FT_CTL_SOCKET, .top = 20, .sample_s = 1.0
	};
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (ft_parse_uint("--top", optarg, 1, FT_FLOWS_MAX_TOP, &top))
				return FT_EXIT_USAGE;
			o->top = top;
			break;
		case 's':
			if (ft_sort_parse(optarg, &o->sort))
				return ft_flows_bad("--sort", optarg, "pps, bps, packets or bytes");
			break;
		case 'S':
			if (ft_parse_secs("--sample", optarg, 0.1, 60, &o->sample_s))
				return FT_EXIT_USAGE;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		case 'k':
			o->socket = optarg;
			break;
		default:
			return FT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return FT_EXIT_USAGE;
	}
	return 0;
}

static __u64 ft_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ft_sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One flow direction: packets whose source is key->addr[dir]. */
static void ft_flows_print(FILE *out, const struct ft_ranked *r, int json, int first,
			   const struct ft_tiering *t)
{
	const struct ft_flow *f = r->flow;
	const struct ft_key *k = r->key;
	char src[64], dst[64], num[8];
	const char *proto = ft_proto_name(k->proto, num, sizeof(num));
	const char *tier = ft_tier_name(ft_tiering_tier(t, k, r->dir, NULL, NULL));
	unsigned long long packets = ft_tiering_value(t, r, FT_SORT_PACKETS);
	unsigned long long bytes = ft_tiering_value(t, r, FT_SORT_BYTES);
	double pps = ft_tiering_value(t, r, FT_SORT_PPS), bps = ft_tiering_value(t, r, FT_SORT_BPS);
	int d = r->dir;

	/* Without a controller the table's mark is all there is. */
	if (!t && f->hw == FT_HW_OFFLOADED)
		tier = "hardware";

	ft_addr_format(k, d, src, sizeof(src));
	ft_addr_format(k, !d, dst, sizeof(dst));
	if (json)
		fprintf(out,
			"%s{\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,\"proto\":\"%"
			"s\","
			"\"zone\":%u,\"state\":\"%s\",\"verdict\":\"%s\",\"packets\":%llu,"
			"\"bytes\":%llu,\"pps\":%.1f,\"bps\":%.1f,\"tier\":\"%s\"}",
			first ? "" : ",", src, dst, ntohs(k->port[d]), ntohs(k->port[!d]), proto,
			k->zone, ft_state_name(f->state), ft_verdict_name(f->verdict), packets,
			bytes, pps, bps, tier);
	else
		fprintf(out,
			"%-39s %5u %-39s %5u %-7s %5u %-11s %-8s %12llu %14llu %12.1f %14.1f %s\n",
			src, ntohs(k->port[d]), dst, ntohs(k->port[!d]), proto, k->zone,
			ft_state_name(f->state), ft_verdict_name(f->verdict), packets, bytes, pps,
			bps, tier);
}

void ft_flows_write(FILE *out, const struct ft_ranked *top, size_t n, int json,
		    const struct ft_tiering *t)
{
	if (json)
		fprintf(out, "[");
	else
		fprintf(out, "%-39s %5s %-39s %5s %-7s %5s %-11s %-8s %12s %14s %12s %14s %s\n",
			"src", "sport", "dst", "dport", "proto", "zone", "state", "verdict",
			"packets", "bytes", "pps", "bps", "tier");
	for (size_t i = 0; i < n; i++)
		ft_flows_print(out, &top[i], json, i == 0, t);
	if (json)
		fprintf(out, "]\n");
}

/* Two scans, o->sample_s apart, then the top directions. */
static int ft_flows_sample(const struct ft_table *t, const struct ft_flows_opts *o,
			   struct ft_scan *scan, struct ft_ranked *top)
{
	size_t n;
	int err;

	err = ft_scan_run(scan, t->buckets, t->nr_buckets, ft_now_ms());
	ft_sleep_s(o->sample_s);
	if (!err)
		err = ft_scan_run(scan, t->buckets, t->nr_buckets, ft_now_ms());
	if (err) {
		pr_err("cannot scan the connection table: %s\n", strerror(-err));
		return 1;
	}
	n = ft_rank_top(scan, o->sort, o->top, top);
	ft_flows_write(stdout, top, n, o->json, NULL);
	return 0;
}

/* The running controller's view, rates from its EWMA; 1 when none runs. */
static int ft_flows_ask(const struct ft_flows_opts *o)
{
	char req[FT_CTL_LINE_MAX];
	int err;

	/* The controller answers only for its own pin dir: another one's flows are sampled. */
	if (snprintf(req, sizeof(req), "flows top=%llu sort=%s json=%d pin-dir=%s",
		     (unsigned long long)o->top, ft_sort_name(o->sort), o->json,
		     o->pin_dir) >= (int)sizeof(req))
		return 1;
	err = ft_ctl_query(o->socket, req, stdout);
	if (err == -EXDEV)
		return 1;
	if (err < 0)
		pr_err("the controller on %s could not list flows: %s\n", o->socket,
		       strerror(-err));
	return err;
}

int do_flows(int argc, char **argv)
{
	struct ft_flows_opts o;
	struct ft_ranked *top = NULL;
	struct ft_scan *scan = NULL;
	struct ft_table t;
	int err = ft_flows_parse(argc, argv, &o);

	if (err)
		return err;
	err = ft_flows_ask(&o);
	if (err <= 0)
		return err ? 1 : 0;
	if (ft_table_open(&t, o.pin_dir))
		return 1;
	top = calloc(o.top, sizeof(*top));
	err = top ? ft_scan_new(&scan, t.nr_buckets * FT_SLOTS, 0) : -ENOMEM;
	if (err)
		pr_err("cannot set up the scan: %s\n", strerror(-err));
	else
		err = ft_flows_sample(&t, &o, scan, top);
	ft_scan_free(scan);
	free(top);
	ft_table_close(&t);
	return err ? 1 : 0;
}
