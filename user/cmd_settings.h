/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The settings commands; each returns the process exit status. */
#ifndef FT_CMD_SETTINGS_H
#define FT_CMD_SETTINGS_H

int do_timeout(int argc, char **argv);
int do_zone(int argc, char **argv);
int do_rule(int argc, char **argv);

#endif
