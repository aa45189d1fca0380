/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef FT_CMD_RECORD_H
#define FT_CMD_RECORD_H

/* flowtier record; returns the process exit status. */
int do_record(int argc, char **argv);

#endif
