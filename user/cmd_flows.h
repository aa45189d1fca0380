/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_FLOWS_H
#define FT_CMD_FLOWS_H

#include <stddef.h>
#include <stdio.h>
#include "rank.h"
#include "tiering.h"

/*
 * The listing of flows, a table or a JSON array: what the CLI and the
 * controller print. t: the controller's tiers and hardware counters, NULL:
 * the table alone.
 */
void ft_flows_write(FILE *out, const struct ft_ranked *top, size_t n, int json,
		    const struct ft_tiering *t);

/* flowtier flows: the controller's when it runs, else two samples of the pinned table. */
int do_flows(int argc, char **argv);

#endif
