/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The daemon's hardware tier: the backend --offload names, the offload
 * manager over it, and its place in the interval, right after the scan.
 */
#ifndef FT_DAEMON_HW_H
#define FT_DAEMON_HW_H

#include <stdio.h>
#include "hw_opts.h"
#include "offload.h"
#include "tiering.h"

struct ft_daemon;

struct ft_daemon_hw {
	struct ft_hw_cfg cfg;
	struct ft_hw *hw;	/* NULL with --offload none */
	struct ft_offload *mgr; /* NULL with --offload none */
	struct ft_tiering *tier;
	struct ft_offload_stats stats; /* after the last tick */
	int base_fd;		       /* the pinned ft_hw_base (hw_base.h); valid while mgr is */
};

/* Opens the backend and the manager and adds the manager's tick to d's loop. */
int ft_daemon_hw_open(struct ft_daemon_hw *h, struct ft_daemon *d);
void ft_daemon_hw_close(struct ft_daemon_hw *h);

/* status: the backend, and per device rules, capacity, OOR, operations and coverage. */
void ft_daemon_hw_status(const struct ft_daemon_hw *h, int json, FILE *out);

/* `flowtier offload`: every rule of flowtier's in the NIC, with its counters. */
int ft_daemon_hw_list(struct ft_daemon_hw *h, struct ft_daemon *d, int json, FILE *out);

#endif
