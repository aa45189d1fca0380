// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Command dispatch: flowtier COMMAND [OPTIONS]. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "attach.h"
#include "bpffs.h"
#include "cmd_flows.h"
#include "cmd_metrics.h"
#include "cmd_offload.h"
#include "cmd_record.h"
#include "cmd_run.h"
#include "cmd_settings.h"
#include "cmd_status.h"
#include "config.h"
#include "ct.h"
#include "datapath.h"
#include "hw_opts.h"
#include "hw_tc.h"
#include "log.h"
#include "privs.h"
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
		"  load -i IFACE [-i IFACE ...] [--xdp-mode native|generic|skb|off] [--force]\n"
		"                      also attach it to the interfaces: XDP on ingress,\n"
		"                      TC on clsact ingress and egress (no controller runs)\n"
		"  unload              detach from every interface, remove what 'load' pinned\n"
		"  unload -i IFACE     detach from IFACE; with no interface left, unpin\n"
		"  run -i IFACE [-i IFACE ...] [--interval SECONDS] [--half-life SECONDS]\n"
		"      [--socket PATH] [--log-level error|warning|info|debug]\n"
		"                      the controller, in the foreground: load or reuse the\n"
		"                      pinned datapath, attach it, scan the table every\n"
		"                      interval (default 1 s), answer on the control socket\n"
		"                      (/run/flowtier/flowtier.sock); on exit the datapath stays\n"
		"  status [--json] [--socket PATH]\n"
		"                      ask the controller: interfaces, attach modes, table\n"
		"                      fill, intervals, uptime (without one: the pinned records)\n"
		"  ct                  list the connections in the pinned table\n"
		"  ct buckets          how many slots are in use per bucket (a histogram)\n"
		"  flows [--top N] [--sort pps|bps|packets|bytes] [--sample SECONDS]\n"
		"                      the busiest flow directions: the controller's (rates\n"
		"                      from its EWMA), or without one rates from two reads\n"
		"                      of the table SECONDS apart (default 1)\n"
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
		"  offload [--json]    the rules the controller holds in the NIC, with their\n"
		"                      hardware counters\n"
		"  simulate --zipf ALPHA --flows N --capacity C --duration SECONDS\n"
		"       [--shift SECONDS]... [--seed K] [--insert-rate R] [--stats-lag SECONDS]\n"
		"       [--trace FILE] [--json]\n"
		"                      offload policies side by side on a generated or recorded\n"
		"                      trace against a simulated NIC (flowtier, ovs, fcfs, "
		"oracle)\n"
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
		"  -i, --interface IFACE  load, unload, run: an interface (repeat for more)\n"
		"  --xdp-mode MODE     native (default; generic with a warning when the\n"
		"                      driver lacks it), generic or skb (the same), or off:\n"
		"                      TC only, so that tc flower rules see packets first\n"
		"  --force             load: replace an XDP program flowtier did not attach;\n"
		"                      unload: forget interfaces of a namespace that is gone\n"
		"  --config FILE       check, load, unload, ct, run: flags from FILE, one\n"
		"                      'key = value' a line (conns = 65536); flags win\n",
		FT_DEFAULT_CONNS);
}

#define FT_MAX_CMD_IFACES 64

struct ft_cmd_opts {
	struct ft_dp_opts dp;
	struct ft_attach_opts att;
	char *ifaces[FT_MAX_CMD_IFACES];
	size_t nifaces;
	const char *pin_dir;
	int zone; /* -1: all */
	int json;
};

static int parse_args(int argc, char **argv, const struct option *longopts, struct ft_cmd_opts *o,
		      char *pin_dir);

/* Appends to opts (n so far, room for 63) those of more it does not have, as 'R'. */
static size_t ft_opts_add_ignored(struct option *opts, size_t n, const struct option *more)
{
	for (; more->name && n < 63; more++) {
		size_t i = 0;

		while (i < n && strcmp(opts[i].name, more->name))
			i++;
		if (i == n)
			opts[n++] = (struct option){ more->name, more->has_arg, NULL, 'R' };
	}
	return n;
}

/* Options of check, load, unload and ct, after those of --config FILE; usage on error. */
static int parse_opts(int argc, char **argv, struct ft_cmd_opts *o)
{
	static const struct option own[] = {
		{ "conns", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "verifier-stats", no_argument, NULL, 'v' },
		{ "zone", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'C' },
		{ "interface", required_argument, NULL, 'i' },
		{ "xdp-mode", required_argument, NULL, 'x' },
		{ "force", no_argument, NULL, 'f' },
		{ 0 },
	};
	static struct option longopts[64];
	static char pin_dir[PATH_MAX] = FT_PIN_DIR;
	int err, nargc;
	char **nargv;
	size_t n = 0;

	for (const struct option *x = own; x->name; x++)
		longopts[n++] = *x;
	/* run's settings too ('R', ignored), so that one config file serves run, load and unload */
	n = ft_opts_add_ignored(longopts, n, ft_run_own);
	n = ft_opts_add_ignored(longopts, n, ft_hw_longopts);
	longopts[n] = (struct option){ 0 };

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

/* Names are copied: the argv they come from is freed after parsing. */
static int ft_cmd_add_iface(struct ft_cmd_opts *o, const char *name)
{
	static char names[FT_MAX_CMD_IFACES][64];

	if (o->nifaces == FT_MAX_CMD_IFACES) {
		pr_err("more than %d interfaces\n", FT_MAX_CMD_IFACES);
		return -EINVAL;
	}
	if (snprintf(names[o->nifaces], sizeof(names[0]), "%s", name) >= (int)sizeof(names[0])) {
		pr_err("no interface named '%s' (see 'ip link' for the interfaces there are)\n",
		       name);
		return -EINVAL;
	}
	o->ifaces[o->nifaces] = names[o->nifaces];
	o->nifaces++;
	return 0;
}

static int parse_args(int argc, char **argv, const struct option *longopts, struct ft_cmd_opts *o,
		      char *pin_dir)
{
	__u64 v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (ft_cmd_add_iface(o, optarg))
				return -EINVAL;
			break;
		case 'x':
			if (ft_xdp_mode_parse(optarg, &o->att.xdp_mode))
				return -EINVAL;
			break;
		case 'f':
			o->att.force = 1;
			break;
		case 'R':
			break;
		case 'c':
			if (ft_parse_uint("--conns", optarg, 0, FT_DP_MAX_CONNS, &v))
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
		case 'j':
			o->json = 1;
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
	printf("%u buckets x %d slots = %u connections, %zu bytes per connection, shared by "
	       "%u CPUs\n",
	       dp->nr_buckets, FT_SLOTS, dp->nr_buckets * FT_SLOTS,
	       sizeof(struct ft_bucket) / FT_SLOTS, dp->nr_cpus);
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
	int err, reused;

	if (parse_opts(argc, argv, &o))
		return FT_EXIT_USAGE;
	if (ft_privileges_check("flowtier load"))
		return FT_EXIT_USAGE;
	err = ft_bpffs_prepare(o.pin_dir);
	if (err)
		return ft_attach_exit_status(err);
	o.dp.pin_dir = o.pin_dir;
	if (ft_dp_open(&dp, &o.dp))
		return 1;
	err = ft_bpffs_pin_programs(dp.skel, o.pin_dir);
	if (!err) {
		printf("%s %s: ", dp.reused ? "reused" : "pinned", o.pin_dir);
		print_geometry(&dp);
	}
	reused = dp.reused;
	ft_dp_close(&dp);
	if (err)
		return 1;
	o.att.pin_dir = o.pin_dir;
	err = o.nifaces ? ft_attach_all(&o.att, o.ifaces, o.nifaces) : 0;
	if (err && !reused) /* a refused attach leaves no pins it made behind */
		ft_bpffs_remove(o.pin_dir);
	return ft_attach_exit_status(err);
}

struct ct_listing {
	int zone; /* -1: all */
	int json;
	unsigned long shown;
};

static int ct_print_one(const struct ft_ct *c, __u32 bucket, void *arg)
{
	struct ct_listing *l = arg;

	(void)bucket;
	if (l->zone >= 0 && c->key.zone != l->zone)
		return 0;
	if (l->json) {
		fputs(l->shown ? "," : "", stdout);
		ft_ct_print_json(stdout, c);
	} else {
		ft_ct_print(stdout, c);
	}
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
		if (o.json)
			ft_ct_print_buckets_json(stdout, hist, t.nr_buckets);
		else
			ft_ct_print_buckets(stdout, hist, t.nr_buckets);
	} else if (o.json) {
		l = (struct ct_listing){ .zone = o.zone, .json = 1 };
		fputs("[", stdout);
		ft_table_for_each(&t, ct_print_one, &l);
		fputs("]\n", stdout);
	} else {
		l = (struct ct_listing){ .zone = o.zone };
		ft_ct_print_header(stdout);
		ft_table_for_each(&t, ct_print_one, &l);
		printf("%lu connections in a table of %u\n", l.shown, t.nr_buckets * FT_SLOTS);
	}
	ft_table_close(&t);
	return 0;
}

/* flowtier's flower rules on one interface go with the datapath. */
static void ft_unload_flush_one(struct ft_hw *hw, const char *ifname)
{
	__u32 ifindex = if_nametoindex(ifname);
	size_t n = 0;
	int err;

	if (!ifindex)
		return;
	err = ft_hw_flush(hw, ifindex, &n);
	/* A kernel without cls_flower has none to remove. */
	if (err && err != -ENOENT && err != -EOPNOTSUPP)
		pr_warn("cannot remove flowtier's flower rules on '%s': %s\n", ifname,
			strerror(-err));
	if (n)
		pr_info("removed %zu flower rules from '%s'\n", n, ifname);
}

static void ft_unload_flush(const struct ft_cmd_opts *o)
{
	struct ft_hw_tc_opts tc = { 0 };
	struct ft_attached *l = NULL;
	struct ft_hw *hw;
	int n;

	if (ft_hw_tc_open(&hw, &tc))
		return;
	if (o->nifaces) {
		for (size_t i = 0; i < o->nifaces; i++)
			ft_unload_flush_one(hw, o->ifaces[i]);
	} else if ((l = calloc(FT_MAX_IFINDEX, sizeof(*l)))) {
		n = ft_attach_list(o->pin_dir, l, FT_MAX_IFINDEX);
		for (int i = 0; i < n; i++)
			if (!l[i].other_netns && l[i].name[0])
				ft_unload_flush_one(hw, l[i].name);
	}
	free(l);
	hw->ops->close(hw);
}

/* unload -i: those interfaces; plain unload: every interface flowtier recorded. */
static int ft_unload_detach(const struct ft_cmd_opts *o)
{
	char path[PATH_MAX];

	ft_unload_flush(o);
	if (o->nifaces)
		return ft_detach_all(o->pin_dir, o->ifaces, o->nifaces);
	snprintf(path, sizeof(path), "%s/%s", o->pin_dir, FT_MAP_IFACES);
	return access(path, F_OK) ? 0 : ft_detach_everything(o->pin_dir, o->att.force);
}

/* Detaches, then removes the pins unless other interfaces still use them. */
static int ft_unload_pins(const struct ft_cmd_opts *o)
{
	int err = ft_unload_detach(o);

	if (err)
		return ft_attach_exit_status(err);
	if (o->nifaces && ft_attach_list(o->pin_dir, NULL, 0) > 0)
		return 0; /* other interfaces still use the maps */
	err = ft_bpffs_remove(o->pin_dir);
	if (err == -ENOENT) {
		pr_err("nothing of flowtier's is pinned in %s\n", o->pin_dir);
		return 1;
	}
	return err ? 1 : 0;
}

/*
 * A running controller holds its pin dir's lock (user/daemon.c); unloading
 * under it would leave it serving a datapath that is gone. Held through
 * the unload, the lock also keeps a controller from starting midway.
 * Returns the lock's fd, -1 when there is no pin dir, or -EALREADY, said.
 */
static int ft_unload_lock(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !flock(fd, LOCK_EX | LOCK_NB))
		return fd < 0 ? -1 : fd;
	close(fd);
	pr_err("a flowtier controller is running on %s: stop it first (Ctrl-C or SIGTERM; it "
	       "leaves the datapath attached), then unload\n",
	       dir);
	return -EALREADY;
}

static int do_unload(int argc, char **argv)
{
	struct ft_cmd_opts o = {};
	int err, lock;

	if (parse_opts(argc, argv, &o))
		return FT_EXIT_USAGE;
	if (ft_privileges_check("flowtier unload"))
		return FT_EXIT_USAGE;
	lock = ft_unload_lock(o.pin_dir);
	if (lock == -EALREADY)
		return FT_EXIT_USAGE;
	err = ft_unload_pins(&o);
	if (lock >= 0)
		close(lock);
	return err;
}

/* "flowtier CMD --help" (or -h): the usage, exit 0, whatever else is given. */
static int ft_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	ft_log_route_libbpf();
	if (argc > 2 && ft_wants_help(argc - 2, argv + 2)) {
		usage(stdout); /* one text describes every command and its flags */
		return 0;
	}
	if (!strcmp(cmd, "check"))
		return do_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "load"))
		return do_load(argc - 1, argv + 1);
	if (!strcmp(cmd, "unload"))
		return do_unload(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return do_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return do_status(argc - 1, argv + 1);
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
	if (!strcmp(cmd, "offload"))
		return do_offload(argc - 1, argv + 1);
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
