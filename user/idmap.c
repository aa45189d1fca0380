// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "idmap.h"

/* splitmix64's finaliser: flow ids are often sequential, the slots must not be. */
static inline size_t ft_idmap_slot(const struct ft_idmap *m, __u64 id)
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
	m->ids = NULL;
	m->idx = NULL;
	m->cap = 0;
	m->n = 0;
}

void ft_idmap_free(struct ft_idmap *m)
{
	free(m->ids);
	free(m->idx);
	ft_idmap_init(m);
}

__u32 ft_idmap_get(const struct ft_idmap *m, __u64 id)
{
	size_t s;

	if (!m->cap)
		return FT_IDMAP_NONE;
	for (s = ft_idmap_slot(m, id); m->idx[s] != FT_IDMAP_NONE; s = (s + 1) & (m->cap - 1))
		if (m->ids[s] == id)
			return m->idx[s];
	return FT_IDMAP_NONE;
}

static void ft_idmap_place(struct ft_idmap *m, __u64 id, __u32 idx)
{
	size_t s = ft_idmap_slot(m, id);

	while (m->idx[s] != FT_IDMAP_NONE && m->ids[s] != id)
		s = (s + 1) & (m->cap - 1);
	if (m->idx[s] == FT_IDMAP_NONE)
		m->n++;
	m->ids[s] = id;
	m->idx[s] = idx;
}

static int ft_idmap_grow(struct ft_idmap *m)
{
	struct ft_idmap old = *m;
	size_t cap = m->cap ? m->cap * 2 : 1024;

	m->ids = malloc(cap * sizeof(*m->ids));
	m->idx = malloc(cap * sizeof(*m->idx));
	if (!m->ids || !m->idx) {
		free(m->ids);
		free(m->idx);
		*m = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->n = 0;
	for (size_t s = 0; s < cap; s++)
		m->idx[s] = FT_IDMAP_NONE;
	for (size_t s = 0; s < old.cap; s++)
		if (old.idx[s] != FT_IDMAP_NONE)
			ft_idmap_place(m, old.ids[s], old.idx[s]);
	free(old.ids);
	free(old.idx);
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
	size_t mask = m->cap - 1, s, j, home;

	if (!m->cap)
		return;
	for (s = ft_idmap_slot(m, id); m->idx[s] != FT_IDMAP_NONE; s = (s + 1) & mask)
		if (m->ids[s] == id)
			break;
	if (m->idx[s] == FT_IDMAP_NONE)
		return;
	m->n--;
	for (j = (s + 1) & mask; m->idx[j] != FT_IDMAP_NONE; j = (j + 1) & mask) {
		home = ft_idmap_slot(m, m->ids[j]);
		/* j's entry may move to s only when s lies cyclically in [home, j). */
		if (((j - home) & mask) >= ((j - s) & mask)) {
			m->ids[s] = m->ids[j];
			m->idx[s] = m->idx[j];
			s = j;
		}
	}
	m->idx[s] = FT_IDMAP_NONE;
}
