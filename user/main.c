// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Command dispatch: flowtier COMMAND [OPTIONS]. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpffs.h"
#include "cmd_flows.h"
#include "cmd_metrics.h"
#include "cmd_record.h"
#include "cmd_settings.h"
#include "config.h"
#include "ct.h"
#include "datapath.h"
#include "log.h"
#include "settings.h"
#include "simulate.h"
#include "table.h"

#define FT_EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: flowtier COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  check               load the datapath into the kernel (verifier included),\n"
		"                      print the table's geometry, and unload it again\n"
		"  load                load the datapath and pin its maps and programs under\n"
		"                      " FT_PIN_DIR " (reused when already there)\n"
		"  unload              remove what 'load' pinned\n"
		"  ct                  list the connections in the pinned table\n"
		"  ct buckets          how many slots are in use per bucket (a histogram)\n"
		"  flows [--top N] [--sort pps|bps|packets|bytes] [--sample SECONDS]\n"
		"                      the busiest flow directions; rates from two reads of\n"
		"                      the table SECONDS apart (default 1)\n"
		"  metrics [--metrics-top N]\n"
		"                      the Prometheus text of /metrics, once, from the pinned\n"
		"                      maps (node_exporter's textfile collector); N: series\n"
		"                      for the N flow directions with the most packets\n"
		"  timeout list | set PROTO STATE SECONDS\n"
		"                      show or change a timeout, at once for every connection\n"
		"  zone list | set-limit ZONE LIMIT\n"
		"                      show zones, or cap a zone's connections (0: no cap)\n"
		"  rule list | del INDEX | add --verdict pass|drop|redirect [--dev IFACE]\n"
		"       [--family 4|6] [--proto P] [--src PREFIX] [--dst PREFIX] [--dport A[-B]]\n"
		"                      verdict rules, first match wins; connections follow\n"
		"                      a change on their next packet\n"
		"  simulate --zipf ALPHA --flows N --capacity C --duration SECONDS\n"
		"       [--shift SECONDS]... [--seed K] [--insert-rate R] [--stats-lag SECONDS]\n"
		"       [--trace FILE] [--json]\n"
		"                      offload policies side by side on a generated or recorded\n"
		"                      trace against a simulated NIC (flowtier, ovs, fcfs, oracle)\n"
		"  record --out FILE [--interval SECONDS] [--duration SECONDS]\n"
		"                      each flow direction's packets per interval (default 1 s,\n"
		"                      for 60 s), from the pinned table, as a trace for\n"
		"                      'simulate --trace FILE'\n"
		"  help                show this text\n"
		"\n"
		"options:\n"
		"  --conns N           connections in the whole table (default %u)\n"
		"  --pin-dir DIR       pin under DIR instead of " FT_PIN_DIR " (tests)\n"
		"  --verifier-stats    check, load: what the verifier processed per program\n"
		"  --zone Z            ct: only the connections of zone Z (0 to 65535)\n"
		"  --json              list commands: JSON instead of a table\n"
		"  --config FILE       check, load, unload, ct: flags from FILE, one\n"
		"                      'key = value' a line (conns = 65536); flags win\n",
		FT_DEFAULT_CONNS);
}

struct ft_cmd_opts {
	struct ft_dp_opts dp;
	const char *pin_dir;
	int zone; /* -1: all */
};

static int parse_args(int argc, char **argv, const struct option *longopts, struct ft_cmd_opts *o,
		      char *pin_dir);

/* Options of check, load, unload and ct, after those of --config FILE; usage on error. */
static int parse_opts(int argc, char **argv, struct ft_cmd_opts *o)
{
	static const struct option longopts[] = {
		{ "conns", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "verifier-stats", no_argument, NULL, 'v' },
		{ "zone", required_argument, NULL, 'z' },
		{ "config", required_argument, NULL, 'C' },
		{ 0 },
	};
	static char pin_dir[PATH_MAX] = FT_PIN_DIR;
	int err, nargc;
	char **nargv;

	o->pin_dir = pin_dir;
	o->zone = -1;
	if (ft_config_expand(argc, argv, longopts, &nargc, &nargv))
		return -EINVAL;
	err = parse_args(nargc, nargv, longopts, o, pin_dir);
	ft_config_free(nargc, nargv);
	if (err)
		usage(stderr);
	return err;
}

static int parse_args(int argc, char **argv, const struct option *longopts, struct ft_cmd_opts *o,
		      char *pin_dir)
{
	__u64 v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (ft_parse_uint("--conns", optarg, 0, 0xffffffffu, &v))
				return -EINVAL;
			o->dp.conns = v;
			break;
		case 'p':
			if (snprintf(pin_dir, PATH_MAX, "%s", optarg) >= PATH_MAX) {
				pr_err("--pin-dir is too long\n");
				return -EINVAL;
			}
			break;
		case 'v':
			o->dp.verifier_stats = 1;
			break;
		case 'z':
			if (ft_parse_uint("--zone", optarg, 0, FT_MAX_ZONES - 1, &v))
				return -EINVAL;
			o->zone = v;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void print_geometry(const struct ft_datapath *dp)
{
	printf("%u CPUs x %u buckets x %d slots = %u connections, %zu bytes per connection\n",
	       dp->nr_cpus, dp->cpu_buckets, FT_SLOTS, dp->nr_buckets * FT_SLOTS,
	       sizeof(struct ft_bucket) / FT_SLOTS);
}

static int do_check(int argc, char **argv)
{
	struct ft_cmd_opts o = {};
	struct ft_datapath dp;

	if (parse_opts(argc, argv, &o))
		return FT_EXIT_USAGE;
	if (ft_dp_open(&dp, &o.dp))
		return 1;
	printf("datapath loaded: ");
	print_geometry(&dp);
	ft_dp_close(&dp);
	return 0;
}

static int do_load(int argc, char **argv)
{
	struct ft_cmd_opts o = {};
	struct ft_datapath dp;
	int err;

	if (parse_opts(argc, argv, &o))
		return FT_EXIT_USAGE;
	if (ft_bpffs_prepare(o.pin_dir))
		return 1;
	o.dp.pin_dir = o.pin_dir;
	if (ft_dp_open(&dp, &o.dp))
		return 1;
	err = ft_bpffs_pin_programs(dp.skel, o.pin_dir);
	if (!err) {
		printf("%s %s: ", dp.reused ? "reused" : "pinned", o.pin_dir);
		print_geometry(&dp);
	}
	ft_dp_close(&dp);
	return err ? 1 : 0;
}

struct ct_listing {
	int zone; /* -1: all */
	unsigned long shown;
};

static int ct_print_one(const struct ft_conn *c, __u32 bucket, void *arg)
{
	struct ct_listing *l = arg;

	(void)bucket;
	if (l->zone >= 0 && c->key.zone != l->zone)
		return 0;
	ft_ct_print(stdout, c);
	l->shown++;
	return 0;
}

static int do_ct(int argc, char **argv)
{
	struct ft_cmd_opts o = {};
	struct ct_listing l;
	struct ft_table t;
	int buckets = argc > 1 && !strcmp(argv[1], "buckets");

	if (buckets)
		argc--, argv++;
	if (parse_opts(argc, argv, &o))
		return FT_EXIT_USAGE;
	if (ft_table_open(&t, o.pin_dir))
		return 1;
	if (buckets) {
		__u64 hist[FT_SLOTS + 1];

		ft_table_histogram(&t, hist);
		ft_ct_print_buckets(stdout, hist, t.nr_buckets);
	} else {
		l = (struct ct_listing){ .zone = o.zone };
		ft_ct_print_header(stdout);
		ft_table_for_each(&t, ct_print_one, &l);
		printf("%lu connections in a table of %u\n", l.shown, t.nr_buckets * FT_SLOTS);
	}
	ft_table_close(&t);
	return 0;
}

static int do_unload(int argc, char **argv)
{
	struct ft_cmd_opts o = {};
	int err;

	if (parse_opts(argc, argv, &o))
		return FT_EXIT_USAGE;
	err = ft_bpffs_remove(o.pin_dir);
	if (err == -ENOENT) {
		pr_err("nothing of flowtier's is pinned in %s\n", o.pin_dir);
		return 1;
	}
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	ft_log_route_libbpf();
	if (!strcmp(cmd, "check"))
		return do_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "load"))
		return do_load(argc - 1, argv + 1);
	if (!strcmp(cmd, "unload"))
		return do_unload(argc - 1, argv + 1);
	if (!strcmp(cmd, "ct"))
		return do_ct(argc - 1, argv + 1);
	if (!strcmp(cmd, "flows"))
		return do_flows(argc - 1, argv + 1);
	if (!strcmp(cmd, "metrics"))
		return do_metrics(argc - 1, argv + 1);
	if (!strcmp(cmd, "timeout"))
		return do_timeout(argc - 1, argv + 1);
	if (!strcmp(cmd, "zone"))
		return do_zone(argc - 1, argv + 1);
	if (!strcmp(cmd, "rule"))
		return do_rule(argc - 1, argv + 1);
	if (!strcmp(cmd, "simulate"))
		return do_simulate(argc - 1, argv + 1);
	if (!strcmp(cmd, "record"))
		return do_record(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	pr_err("unknown command '%s'\n", cmd);
	usage(stderr);
	return FT_EXIT_USAGE;
}
