// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Command dispatch: flowtier COMMAND [OPTIONS]. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "log.h"

#define FT_EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f, "usage: flowtier COMMAND [OPTIONS]\n"
		   "\n"
		   "commands:\n"
		   "  check [--conns N]   load the datapath into the kernel (verifier included),\n"
		   "                      print the table's geometry, and unload it again\n"
		   "  help                show this text\n");
}

static int parse_u32(const char *flag, const char *s, __u32 *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || v > 0xffffffffull || s[0] == '-') {
		pr_err("bad value '%s' for %s: expected a whole number from 0 to 4294967295\n", s,
		       flag);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int do_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conns", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct ft_dp_opts o = {};
	struct ft_datapath dp;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (opt != 'c' || parse_u32("--conns", optarg, &o.conns)) {
			usage(stderr);
			return FT_EXIT_USAGE;
		}
	}
	err = ft_dp_open(&dp, &o);
	if (err)
		return 1;
	printf("datapath loaded: %u CPUs x %u buckets x %d slots = %u connections, %zu bytes per "
	       "connection\n",
	       dp.nr_cpus, dp.cpu_buckets, FT_SLOTS, dp.nr_buckets * FT_SLOTS,
	       sizeof(struct ft_bucket) / FT_SLOTS);
	ft_dp_close(&dp);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	ft_log_route_libbpf();
	if (!strcmp(cmd, "check"))
		return do_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	pr_err("unknown command '%s'\n", cmd);
	usage(stderr);
	return FT_EXIT_USAGE;
}
