// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The --tc-capacity test aid: a set of rules (open addressing) and a count per device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tc_cap.h"

struct ft_tc_cap_rule {
	__u32 ifindex;
	__u32 handle;
	__u16 prio;
	__u8 used;
};

struct ft_tc_cap_dev {
	__u32 ifindex;
	__u32 rules;
};

struct ft_tc_cap {
	__u32 limit;
	size_t size, used; /* slots (a power of two), rules */
	struct ft_tc_cap_rule *slot;
	size_t ndevs;
	struct ft_tc_cap_dev *devs;
};

int ft_tc_cap_new(struct ft_tc_cap **c, __u32 limit)
{
	*c = calloc(1, sizeof(**c));
	if (!*c)
		return -ENOMEM;
	(*c)->limit = limit;
	(*c)->size = 64;
	(*c)->slot = calloc((*c)->size, sizeof(*(*c)->slot));
	if (!(*c)->slot) {
		free(*c);
		*c = NULL;
		return -ENOMEM;
	}
	return 0;
}

void ft_tc_cap_free(struct ft_tc_cap *c)
{
	if (!c)
		return;
	free(c->slot);
	free(c->devs);
	free(c);
}

static size_t ft_tc_cap_hash(const struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle)
{
	__u64 h = ((__u64)ifindex << 32 | handle) * 0x9e3779b97f4a7c15ull;

	h ^= (__u64)prio * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h >> 32) & (c->size - 1);
}

/* The slot holding the rule, or the free slot where it would go. */
static size_t ft_tc_cap_find(const struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle)
{
	size_t i = ft_tc_cap_hash(c, ifindex, prio, handle);

	while (c->slot[i].used && (c->slot[i].ifindex != ifindex || c->slot[i].prio != prio ||
				   c->slot[i].handle != handle))
		i = (i + 1) & (c->size - 1);
	return i;
}

static struct ft_tc_cap_dev *ft_tc_cap_dev(const struct ft_tc_cap *c, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < c->ndevs; i++)
		if (c->devs[i].ifindex == ifindex)
			return &c->devs[i];
	return NULL;
}

static int ft_tc_cap_grow(struct ft_tc_cap *c)
{
	struct ft_tc_cap_rule *old = c->slot;
	size_t i, n = c->size;

	c->slot = calloc(n * 2, sizeof(*c->slot));
	if (!c->slot) {
		c->slot = old;
		return -ENOMEM;
	}
	c->size = n * 2;
	for (i = 0; i < n; i++)
		if (old[i].used)
			c->slot[ft_tc_cap_find(c, old[i].ifindex, old[i].prio, old[i].handle)] =
				old[i];
	free(old);
	return 0;
}

/* Inserts the rule: 0, 1 when present, -ENOSPC past the limit (when enforced), -ENOMEM. */
static int ft_tc_cap_insert(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle,
			    int enforce)
{
	struct ft_tc_cap_dev *d = ft_tc_cap_dev(c, ifindex), *devs;
	size_t i = ft_tc_cap_find(c, ifindex, prio, handle);

	if (c->slot[i].used)
		return 1;
	if (enforce && (d ? d->rules : 0) >= c->limit)
		return -ENOSPC;
	if (!d) {
		devs = realloc(c->devs, (c->ndevs + 1) * sizeof(*devs));
		if (!devs)
			return -ENOMEM;
		c->devs = devs;
		d = &c->devs[c->ndevs++];
		*d = (struct ft_tc_cap_dev){ .ifindex = ifindex };
	}
	if ((c->used + 1) * 2 > c->size) {
		if (ft_tc_cap_grow(c))
			return -ENOMEM;
		i = ft_tc_cap_find(c, ifindex, prio, handle);
	}
	c->slot[i] = (struct ft_tc_cap_rule){ ifindex, handle, prio, 1 };
	c->used++;
	d->rules++;
	return 0;
}

int ft_tc_cap_take(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle)
{
	return ft_tc_cap_insert(c, ifindex, prio, handle, 1);
}

int ft_tc_cap_seen(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle)
{
	int ret = ft_tc_cap_insert(c, ifindex, prio, handle, 0);

	return ret < 0 ? ret : 0;
}

/* Linear probing: later rules of the run move back into the hole, so searches stay correct. */
void ft_tc_cap_drop(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle)
{
	size_t i = ft_tc_cap_find(c, ifindex, prio, handle), j, home;

	if (!c->slot[i].used)
		return;
	ft_tc_cap_dev(c, ifindex)->rules--;
	c->used--;
	c->slot[i].used = 0;
	for (j = (i + 1) & (c->size - 1); c->slot[j].used; j = (j + 1) & (c->size - 1)) {
		home = ft_tc_cap_hash(c, c->slot[j].ifindex, c->slot[j].prio, c->slot[j].handle);
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if (((j - home) & (c->size - 1)) >= ((j - i) & (c->size - 1))) {
			c->slot[i] = c->slot[j];
			c->slot[j].used = 0;
			i = j;
		}
	}
}

__u32 ft_tc_cap_count(const struct ft_tc_cap *c, __u32 ifindex)
{
	const struct ft_tc_cap_dev *d = ft_tc_cap_dev(c, ifindex);

	return d ? d->rules : 0;
}

__u32 ft_tc_cap_limit(const struct ft_tc_cap *c)
{
	return c->limit;
}
