/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The generator's ground truth: what it sent, per flow, as CSV. */
#ifndef FT_GEN_TRUTH_H
#define FT_GEN_TRUTH_H

#include "mix.h"

/*
 * Writes path ("-": stdout). stopped_at: the slice an interrupt stopped the
 * run at, or m->slices when it ran to the end. 0 or -errno.
 */
int truth_write(const struct gen_mix *m, const char *path, __u32 stopped_at);

#endif
