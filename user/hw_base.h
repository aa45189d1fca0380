/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hardware counters of rules that left the NIC, per flow direction,
 * kept in a pinned map beside the datapath's so that a restarted
 * controller still adds them: software plus hardware stays exact across
 * restarts. Only userspace reads or writes it.
 */
#ifndef FT_HW_BASE_H
#define FT_HW_BASE_H

#include <linux/types.h>

#define FT_MAP_HW_BASE "ft_hw_base"

/* Directions with such counters at most (a hash map without preallocation). */
#define FT_HW_BASE_MAX (1u << 22)

struct ft_hw_base_val {
	__u64 packets, bytes;
};

/* dir/ft_hw_base, created and pinned when absent: an fd, or -errno after saying why. */
int ft_hw_base_open(const char *dir);

/* The counters kept for id; 0 and 0 when there are none. */
void ft_hw_base_get(int fd, __u64 id, __u64 *packets, __u64 *bytes);

/* Keeps id's counters (replacing them), or forgets id when both are 0. */
void ft_hw_base_set(int fd, __u64 id, __u64 packets, __u64 bytes);

/* cb(id, ctx) for every id kept, until cb returns non-zero (returned). */
int ft_hw_base_each(int fd, int (*cb)(__u64 id, void *ctx), void *ctx);

/* Forgets every id for which live(id, ctx) is 0; 0 or -ENOMEM. */
int ft_hw_base_prune(int fd, int (*live)(__u64 id, void *ctx), void *ctx);

#endif
