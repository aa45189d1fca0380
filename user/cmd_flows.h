/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_FLOWS_H
#define FT_CMD_FLOWS_H

/* flowtier flows; returns the process exit status. */
int do_flows(int argc, char **argv);

#endif
