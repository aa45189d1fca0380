/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A map from 64-bit ids to 32-bit indexes: open addressing with linear
 * probing and backward-shift deletion, so that no tombstones pile up when
 * a million flows come and go. The offload manager and the simulated NIC
 * keep their entries in dense arrays and find them by id through this.
 */
#ifndef FT_IDMAP_H
#define FT_IDMAP_H

#include <stddef.h>
#include <linux/types.h>

#define FT_IDMAP_NONE 0xffffffffu

/* id and index side by side: a lookup costs one cache miss, not two. */
struct ft_idmap_slot {
	__u64 id;
	__u32 idx;
	__u32 pad;
};

struct ft_idmap {
	struct ft_idmap_slot *s;
	size_t cap; /* a power of two, at least twice the entries */
	size_t n;
};

void ft_idmap_init(struct ft_idmap *m);
void ft_idmap_free(struct ft_idmap *m);

/* The index stored for id, or FT_IDMAP_NONE. */
__u32 ft_idmap_get(const struct ft_idmap *m, __u64 id);

/* Asks for the cache line id's lookup will read first (a batch looks ahead). */
void ft_idmap_prefetch(const struct ft_idmap *m, __u64 id);

/* Stores (or replaces) id -> idx; 0 or -ENOMEM. */
int ft_idmap_put(struct ft_idmap *m, __u64 id, __u32 idx);

/* Removes id when present. */
void ft_idmap_del(struct ft_idmap *m, __u64 id);

#endif
