/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_OFFLOAD_H
#define FT_CMD_OFFLOAD_H

/* flowtier offload [--json]: the controller's rules in the NIC and their hardware counters. */
int do_offload(int argc, char **argv);

#endif
