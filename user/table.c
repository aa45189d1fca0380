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

#define FT_READ_TRIES 8

void ft_ct_from(const struct ft_conn *s, __u32 meta, struct ft_ct *c)
{
	memset(c, 0, sizeof(*c));
	c->key = s->key;
	c->first_ns = s->first_ns;
	c->meta = meta;
	c->redirect_ifindex = s->redirect_ifindex;
	c->rule_gen = s->rule_gen;
	c->state = ft_class_state(FT_META_CLASS(meta));
	c->verdict = s->verdict;
	c->hw = s->hw;
	c->flags = s->flags;
	memcpy(c->tcp_flags, s->tcp_flags, sizeof(c->tcp_flags));
	for (int d = 0; d < 2; d++) {
		const struct ft_dir *in = &s->dir[d];
		struct ft_ct_dir *out = &c->dir[d];

		out->packets = in->packets + in->shared_packets;
		out->bytes = in->bytes + in->shared_bytes;
		out->last_ns = in->last_ns > in->shared_last_ns ? in->last_ns : in->shared_last_ns;
		out->shared_packets = in->shared_packets;
		out->in_ifindex = in->in_ifindex;
		out->owner_cpu = (int)in->owner.cpu - 1;
	}
}

int ft_ct_read(const struct ft_bucket *b, int i, struct ft_ct *c)
{
	const __u32 *mp = &b->meta[i];
	struct ft_conn s;

	for (int t = 0; t < FT_READ_TRIES; t++) {
		__u32 m = __atomic_load_n(mp, __ATOMIC_ACQUIRE);

		if (!FT_META_TAG(m))
			return 0;
		memcpy(&s, &b->slot[i], sizeof(s));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(mp, __ATOMIC_RELAXED) == m) {
			ft_ct_from(&s, m, c);
			return 1;
		}
	}
	return -EAGAIN;
}

int ft_table_for_each(const struct ft_table *t,
		      int (*fn)(const struct ft_ct *c, __u32 bucket, void *arg), void *arg)
{
	struct ft_ct c;

	for (__u32 b = 0; b < t->nr_buckets; b++) {
		for (int i = 0; i < FT_SLOTS; i++) {
			int r;

			if (ft_ct_read(&t->buckets[b], i, &c) != 1)
				continue;
			r = fn(&c, b, arg);
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
