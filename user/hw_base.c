// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pinned map of hardware counters of rules that left the NIC (hw_base.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "grow.h"
#include "hw_base.h"
#include "log.h"

int ft_hw_base_open(const char *dir)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, FT_MAP_HW_BASE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd >= 0 || errno != ENOENT)
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, FT_MAP_HW_BASE, sizeof(__u64),
			    sizeof(struct ft_hw_base_val), FT_HW_BASE_MAX, &o);
	if (fd >= 0 && bpf_obj_pin(fd, path)) {
		int err = errno;

		close(fd);
		fd = -1;
		errno = err;
	}
out:
	if (fd < 0) {
		fd = -errno;
		pr_err("cannot open or create %s: %s\n", path, strerror(-fd));
	}
	return fd;
}

void ft_hw_base_get(int fd, __u64 id, __u64 *packets, __u64 *bytes)
{
	struct ft_hw_base_val v = { 0 };

	if (fd >= 0)
		bpf_map_lookup_elem(fd, &id, &v);
	*packets = v.packets;
	*bytes = v.bytes;
}

void ft_hw_base_set(int fd, __u64 id, __u64 packets, __u64 bytes)
{
	struct ft_hw_base_val v = { .packets = packets, .bytes = bytes };

	if (fd < 0)
		return;
	if (!packets && !bytes) {
		bpf_map_delete_elem(fd, &id);
		return;
	}
	/* A full map loses this direction's past hardware counters at a restart only. */
	if (bpf_map_update_elem(fd, &id, &v, BPF_ANY))
		pr_debug("cannot keep the hardware counters of flow %016llx: %s\n",
			 (unsigned long long)id, strerror(errno));
}

int ft_hw_base_each(int fd, int (*cb)(__u64 id, void *ctx), void *ctx)
{
	__u64 key, next;
	const void *prev = NULL;
	int err = 0;

	while (fd >= 0 && !err && !bpf_map_get_next_key(fd, prev, &next)) {
		err = cb(next, ctx);
		key = next;
		prev = &key;
	}
	return err;
}

struct ft_prune {
	int (*live)(__u64 id, void *ctx);
	void *ctx;
	__u64 *dead;
	size_t n, cap;
};

static int ft_prune_one(__u64 id, void *arg)
{
	struct ft_prune *p = arg;

	if (p->live(id, p->ctx))
		return 0;
	if (ft_grow((void **)&p->dead, &p->cap, p->n + 1, sizeof(*p->dead)))
		return -ENOMEM;
	p->dead[p->n++] = id;
	return 0;
}

/* Collected first: deleting while walking a hash map can restart the walk. */
int ft_hw_base_prune(int fd, int (*live)(__u64 id, void *ctx), void *ctx)
{
	struct ft_prune p = { .live = live, .ctx = ctx };
	int err = ft_hw_base_each(fd, ft_prune_one, &p);

	for (size_t i = 0; !err && i < p.n; i++)
		bpf_map_delete_elem(fd, &p.dead[i]);
	free(p.dead);
	return err;
}
