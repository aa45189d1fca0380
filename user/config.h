/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* --config FILE: one "key = value" per line, the long flags' names. */
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

#include <getopt.h>

/*
 * Replaces "--config FILE" in argv by the file's settings as long options,
 * placed before the other arguments so that those override them. Keys are
 * checked against opts; an error names the file and line. The new argv is
 * allocated (free it with ft_config_free). Returns 0 or -errno.
 */
int ft_config_expand(int argc, char **argv, const struct option *opts, int *nargc, char ***nargv);
void ft_config_free(int argc, char **argv);

#endif
