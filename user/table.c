// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "log.h"
#include "pinned.h"
#include "table.h"

static int ft_table_read_config(struct ft_table *t, const char *dir)
{
	__u32 zero = 0;
	int fd = ft_pinned_fd(dir, FT_MAP_CONFIG);
	int err;

	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, &t->cfg) ? -errno : 0;
	close(fd);
	return err;
}

int ft_table_open(struct ft_table *t, const char *dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int fd, err;

	memset(t, 0, sizeof(*t));
	err = ft_table_read_config(t, dir);
	if (err)
		return err;
	fd = ft_pinned_fd(dir, FT_MAP_CONNS);
	if (fd < 0)
		return fd;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	/* Never trust a size that does not match the layout this build knows. */
	if (!err && info.value_size != sizeof(struct ft_bucket))
		err = -EPROTO;
	if (!err) {
		t->nr_buckets = info.max_entries;
		t->map_len =
			((size_t)t->nr_buckets * sizeof(struct ft_bucket) + page - 1) / page * page;
		p = mmap(NULL, t->map_len, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			err = -errno;
		else
			t->buckets = p;
	}
	close(fd);
	if (err)
		pr_err("cannot map the connection table in %s: %s\n", dir, strerror(-err));
	return err;
}

void ft_table_close(struct ft_table *t)
{
	if (t->buckets)
		munmap((void *)t->buckets, t->map_len);
	memset(t, 0, sizeof(*t));
}

int ft_table_for_each(const struct ft_table *t,
		      int (*fn)(const struct ft_conn *c, __u32 bucket, void *arg), void *arg)
{
	for (__u32 b = 0; b < t->nr_buckets; b++) {
		const struct ft_bucket *bk = &t->buckets[b];

		for (int i = 0; i < FT_SLOTS; i++) {
			int r;

			if (!FT_META_TAG(__atomic_load_n(&bk->meta[i], __ATOMIC_ACQUIRE)))
				continue;
			r = fn(&bk->slot[i], b, arg);
			if (r)
				return r;
		}
	}
	return 0;
}

void ft_table_histogram(const struct ft_table *t, __u64 hist[FT_SLOTS + 1])
{
	memset(hist, 0, (FT_SLOTS + 1) * sizeof(hist[0]));
	for (__u32 b = 0; b < t->nr_buckets; b++) {
		int used = 0;

		for (int i = 0; i < FT_SLOTS; i++)
			used += FT_META_TAG(__atomic_load_n(&t->buckets[b].meta[i],
							    __ATOMIC_RELAXED)) != 0;
		hist[used]++;
	}
}
