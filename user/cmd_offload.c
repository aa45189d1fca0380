// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* flowtier offload: the rules the running controller holds in the NIC, with their counters. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_offload.h"
#include "ctl.h"
#include "log.h"

#define FT_EXIT_USAGE 2

int do_offload(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'k' },
		{ 0 },
	};
	const char *socket = FT_CTL_SOCKET;
	int opt, json = 0, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j') {
			json = 1;
		} else if (opt == 'k') {
			socket = optarg;
		} else {
			fprintf(stderr, "usage: flowtier offload [--json] [--socket PATH]\n");
			return FT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return FT_EXIT_USAGE;
	}
	err = ft_ctl_query(socket, json ? "offload json=1" : "offload", stdout);
	if (err == 1) {
		/* The rules and their history belong to the controller that placed them. */
		pr_err("no flowtier controller answers on %s: start one with 'flowtier run'\n",
		       socket);
		return 1;
	}
	if (err < 0)
		pr_err("the controller on %s could not list its rules: %s\n", socket,
		       strerror(-err));
	return err ? 1 : 0;
}
