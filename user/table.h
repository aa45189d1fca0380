/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading a pinned connection table through mmap, without a system call per entry. */
#ifndef FT_TABLE_H
#define FT_TABLE_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

struct ft_table {
	const struct ft_bucket *buckets;
	size_t map_len;
	__u32 nr_buckets;
	struct ft_config cfg;
};

/* Maps dir's ft_conns read-only and reads ft_config. */
int ft_table_open(struct ft_table *t, const char *dir);
void ft_table_close(struct ft_table *t);

/* Calls fn for every live slot; stops early when fn returns non-zero. */
int ft_table_for_each(const struct ft_table *t,
		      int (*fn)(const struct ft_conn *c, __u32 bucket, void *arg), void *arg);

/* hist[k]: buckets with k live slots, k = 0..FT_SLOTS. */
void ft_table_histogram(const struct ft_table *t, __u64 hist[FT_SLOTS + 1]);

#endif
