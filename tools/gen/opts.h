/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ft-gen's command line. */
#ifndef FT_GEN_OPTS_H
#define FT_GEN_OPTS_H

#include "mix.h"

struct gen_opts {
	struct gen_params p;
	const char *netns, *dev, *truth, *intervals;
	__u8 dst_mac[6];
	int have_mac, dry_run, cpu;
};

/* 0 to run, 1 after --help (printed), or 2 after a usage error (printed). */
int gen_parse_opts(int argc, char **argv, struct gen_opts *o);

#endif
