// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ft-gen's options: a table, one parser per value, and the defaults. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

static const char usage_text[] =
	"usage: ft-gen --netns NS --dev IFACE --dst-mac MAC [options]\n"
	"       ft-gen --dry-run [options]      (the ground truth only, nothing sent)\n"
	"  --netns NS         network namespace of IFACE (/var/run/netns/NS)\n"
	"  --dev IFACE        the veth the frames leave by\n"
	"  --dst-mac MAC      destination MAC of every frame (the peer veth's)\n"
	"  --flows N          flows (default 1000, at most 1048576)\n"
	"  --alpha A          Zipf exponent of the per-flow rates (default 1.1)\n"
	"  --rate PPS         data packets per second, all flows together (default 100000)\n"
	"  --duration S       seconds (default 10)\n"
	"  --shift S          at S seconds the ranks are permuted (repeatable, ascending)\n"
	"  --seed K           seed of the mix, the shifts and the order (default 1)\n"
	"  --v6-share F       share of IPv6 flows (default 0.5)\n"
	"  --tcp-share F      share of TCP flows (default 0.5)\n"
	"  --udp-reply        UDP flows open with one request and one reply (both ways seen)\n"
	"  --size BYTES       frame size, 80 to 1500 (default 128)\n"
	"  --slice-ms MS      scheduling slice (default 10)\n"
	"  --interval-ms MS   interval of --intervals (default 1000)\n"
	"  --truth FILE       ground truth per flow, CSV ('-': stdout)\n"
	"  --intervals FILE   packets per flow per interval, CSV\n"
	"  --cpu N            run on CPU N (default: the CPU it starts on)\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "ft-gen: %s\n", why);
	fputs(usage_text, why ? stderr : stdout);
	return why ? 2 : 0;
}

static int parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end ? -EINVAL : 0;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' || *v > max ? -EINVAL : 0;
}

static int parse_u32(const char *s, __u32 *v)
{
	unsigned long long x;
	int err = parse_u64(s, 0xffffffffULL, &x);

	*v = (__u32)x;
	return err;
}

static int parse_mac(const char *s, __u8 *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (__u8)b[i];
	}
	return 0;
}

enum {
	OPT_NETNS = 256,
	OPT_DEV,
	OPT_DST_MAC,
	OPT_FLOWS,
	OPT_ALPHA,
	OPT_RATE,
	OPT_DURATION,
	OPT_SHIFT,
	OPT_SEED,
	OPT_V6,
	OPT_TCP,
	OPT_SIZE,
	OPT_SLICE,
	OPT_INTERVAL,
	OPT_TRUTH,
	OPT_INTERVALS,
	OPT_CPU,
	OPT_DRY,
	OPT_UDP_REPLY,
};

static const struct option long_opts[] = {
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "shift", required_argument, NULL, OPT_SHIFT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "v6-share", required_argument, NULL, OPT_V6 },
	{ "tcp-share", required_argument, NULL, OPT_TCP },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "slice-ms", required_argument, NULL, OPT_SLICE },
	{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "intervals", required_argument, NULL, OPT_INTERVALS },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	{ "udp-reply", no_argument, NULL, OPT_UDP_REPLY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option's value; -EINVAL names nothing, the caller does. */
static int parse_one(struct gen_opts *o, int c, const char *a)
{
	unsigned long long v;
	__u32 u;
	int err;

	switch (c) {
	case OPT_NETNS:
		o->netns = a;
		return 0;
	case OPT_DEV:
		o->dev = a;
		return 0;
	case OPT_DST_MAC:
		o->have_mac = 1;
		return parse_mac(a, o->dst_mac);
	case OPT_FLOWS:
		return parse_u32(a, &o->p.flows);
	case OPT_ALPHA:
		return parse_double(a, &o->p.alpha);
	case OPT_RATE:
		return parse_double(a, &o->p.rate);
	case OPT_DURATION:
		return parse_double(a, &o->p.duration);
	case OPT_SHIFT:
		if (o->p.nshifts == GEN_MAX_SHIFTS)
			return -E2BIG;
		return parse_double(a, &o->p.shifts[o->p.nshifts++]);
	case OPT_SEED:
		err = parse_u64(a, ~0ULL, &v);
		o->p.seed = v;
		return err;
	case OPT_V6:
		return parse_double(a, &o->p.v6_share);
	case OPT_TCP:
		return parse_double(a, &o->p.tcp_share);
	case OPT_SIZE:
		return parse_u32(a, &o->p.size);
	case OPT_SLICE:
		return parse_u32(a, &o->p.slice_ms);
	case OPT_INTERVAL:
		return parse_u32(a, &o->p.interval_ms);
	case OPT_TRUTH:
		o->truth = a;
		return 0;
	case OPT_INTERVALS:
		o->intervals = a;
		return 0;
	case OPT_CPU:
		err = parse_u32(a, &u);
		o->cpu = (int)u;
		return err || u >= CPU_SETSIZE ? -EINVAL : 0;
	case OPT_DRY:
		o->dry_run = 1;
		return 0;
	case OPT_UDP_REPLY:
		o->p.udp_reply = 1;
		return 0;
	}
	return -EINVAL;
}

int gen_parse_opts(int argc, char **argv, struct gen_opts *o)
{
	char why[160];
	int c;

	*o = (struct gen_opts){
		.p = { .flows = 1000,
		       .alpha = 1.1,
		       .rate = 100000,
		       .duration = 10,
		       .seed = 1,
		       .v6_share = 0.5,
		       .tcp_share = 0.5,
		       .size = 128,
		       .slice_ms = 10,
		       .interval_ms = 1000 },
		.cpu = -1,
	};
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h')
			return usage(NULL), 1;
		if (c == '?')
			return usage("unknown option or missing value");
		if (parse_one(o, c, optarg)) {
			snprintf(why, sizeof(why), "bad value '%s' for --%s", optarg,
				 long_opts[c - OPT_NETNS].name);
			return usage(why);
		}
	}
	if (optind < argc)
		return usage("unexpected argument; every option has a --name");
	if (!o->dry_run && (!o->netns || !o->dev || !o->have_mac))
		return usage("--netns, --dev and --dst-mac are required (or --dry-run)");
	return 0;
}
