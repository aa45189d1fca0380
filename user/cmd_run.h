/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_RUN_H
#define FT_CMD_RUN_H

#include <getopt.h>

/* run's own flags (the hardware tier's, ft_hw_longopts, come on top). */
extern const struct option ft_run_own[];

/* flowtier run: the controller in the foreground; returns the exit status. */
int do_run(int argc, char **argv);

#endif
