/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_METRICS_H
#define FT_CMD_METRICS_H

/* flowtier metrics: the /metrics text once, from the pinned maps. */
int do_metrics(int argc, char **argv);

#endif
