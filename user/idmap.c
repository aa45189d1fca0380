// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "idmap.h"

/* splitmix64's finaliser: flow ids are often sequential, the slots must not be. */
static inline size_t ft_idmap_home(const struct ft_idmap *m, __u64 id)
{
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ull;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebull;
	id ^= id >> 31;
	return id & (m->cap - 1);
}

void ft_idmap_init(struct ft_idmap *m)
{
	m->s = NULL;
	m->cap = 0;
	m->n = 0;
}

void ft_idmap_free(struct ft_idmap *m)
{
	free(m->s);
	ft_idmap_init(m);
}

void ft_idmap_prefetch(const struct ft_idmap *m, __u64 id)
{
	if (m->cap)
		__builtin_prefetch(&m->s[ft_idmap_home(m, id)]);
}

__u32 ft_idmap_get(const struct ft_idmap *m, __u64 id)
{
	size_t i;

	if (!m->cap)
		return FT_IDMAP_NONE;
	for (i = ft_idmap_home(m, id); m->s[i].idx != FT_IDMAP_NONE; i = (i + 1) & (m->cap - 1))
		if (m->s[i].id == id)
			return m->s[i].idx;
	return FT_IDMAP_NONE;
}

static void ft_idmap_place(struct ft_idmap *m, __u64 id, __u32 idx)
{
	size_t i = ft_idmap_home(m, id);

	while (m->s[i].idx != FT_IDMAP_NONE && m->s[i].id != id)
		i = (i + 1) & (m->cap - 1);
	if (m->s[i].idx == FT_IDMAP_NONE)
		m->n++;
	m->s[i].id = id;
	m->s[i].idx = idx;
}

static int ft_idmap_grow(struct ft_idmap *m)
{
	struct ft_idmap old = *m;
	size_t cap = m->cap ? m->cap * 2 : 1024;

	m->s = malloc(cap * sizeof(*m->s));
	if (!m->s) {
		*m = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < cap; i++)
		m->s[i].idx = FT_IDMAP_NONE;
	for (size_t i = 0; i < old.cap; i++)
		if (old.s[i].idx != FT_IDMAP_NONE)
			ft_idmap_place(m, old.s[i].id, old.s[i].idx);
	free(old.s);
	return 0;
}

int ft_idmap_put(struct ft_idmap *m, __u64 id, __u32 idx)
{
	if ((m->n + 1) * 2 > m->cap && ft_idmap_grow(m))
		return -ENOMEM;
	ft_idmap_place(m, id, idx);
	return 0;
}

/* Shifts later members of the probe run back, so that every lookup still finds them. */
void ft_idmap_del(struct ft_idmap *m, __u64 id)
{
	size_t mask = m->cap - 1, i, j, home;

	if (!m->cap)
		return;
	for (i = ft_idmap_home(m, id); m->s[i].idx != FT_IDMAP_NONE; i = (i + 1) & mask)
		if (m->s[i].id == id)
			break;
	if (m->s[i].idx == FT_IDMAP_NONE)
		return;
	m->n--;
	for (j = (i + 1) & mask; m->s[j].idx != FT_IDMAP_NONE; j = (j + 1) & mask) {
		home = ft_idmap_home(m, m->s[j].id);
		/* j's entry may move to i only when i lies cyclically in [home, j). */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->s[i] = m->s[j];
			i = j;
		}
	}
	m->s[i].idx = FT_IDMAP_NONE;
}
