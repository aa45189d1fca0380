/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The hardware tier's flags (--offload and the manager's settings), for flowtier run. */
#ifndef FT_HW_OPTS_H
#define FT_HW_OPTS_H

#include <getopt.h>
#include "hw_emu.h"
#include "hw_tc.h"
#include "offload.h"

enum ft_offload_kind {
	FT_OFFLOAD_TC = 0, /* the default: tc flower over rtnetlink */
	FT_OFFLOAD_EMU,	   /* the testbed's emulated NIC */
	FT_OFFLOAD_NONE,   /* software only, monitoring */
};

struct ft_hw_cfg {
	enum ft_offload_kind kind;
	struct ft_hw_tc_opts tc;
	struct ft_hw_emu_opts emu;
	struct ft_offload_cfg mgr;
};

/* Long options, values from FT_HW_OPT_BASE up; terminated by a zero entry. */
#define FT_HW_OPT_BASE 0x1000
extern const struct option ft_hw_longopts[];

void ft_hw_cfg_default(struct ft_hw_cfg *c);

/* 1 when opt is one of ft_hw_longopts (parsed into c, or -EINVAL after a message), else 0. */
int ft_hw_opt(int opt, const char *arg, struct ft_hw_cfg *c, int *err);

/* The usage lines of these flags. */
extern const char ft_hw_usage[];

const char *ft_offload_kind_name(enum ft_offload_kind k);

#endif
