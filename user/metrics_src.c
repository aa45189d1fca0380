// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Collecting what ft_metrics_render() reads: from the datapath object or the pinned maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "log.h"
#include "metrics.h"
#include "pinned.h"

int ft_metrics_from_dp(struct ft_metrics_src *src, const struct ft_datapath *dp,
		       struct ft_stats *stats)
{
	int err = ft_dp_read_stats(dp, stats);

	if (err)
		return err;
	src->buckets = dp->buckets;
	src->nr_buckets = dp->nr_buckets;
	src->zones = dp->zones;
	src->stats = stats;
	return 0;
}

int ft_metrics_http_render(struct ft_textbuf *out, void *ctx)
{
	struct ft_metrics_live *l = ctx;
	struct ft_metrics_src src = {
		.scan = l->scan,
		.last_scan_ns = l->last_scan_ns,
		.top = l->top,
		.offload = l->offload,
		.tiering = l->tiering,
	};
	int err = ft_metrics_from_dp(&src, l->dp, &l->stats);

	return err ? err : ft_metrics_render(&src, out);
}

int ft_metrics_pinned_open(struct ft_metrics_pinned *p, const char *dir)
{
	long page = sysconf(_SC_PAGESIZE);
	int err;

	memset(p, 0, sizeof(*p));
	p->stats_fd = -1;
	err = ft_table_open(&p->table, dir);
	if (err)
		goto fail;
	p->zones_len = ((size_t)FT_MAX_ZONES * sizeof(struct ft_zone) + page - 1) / page * page;
	p->zones = ft_pinned_mmap(dir, FT_MAP_ZONES, p->zones_len);
	if (!p->zones) {
		err = -EIO;
		goto fail;
	}
	p->stats_fd = ft_pinned_fd(dir, FT_MAP_STATS);
	if (p->stats_fd < 0) {
		err = p->stats_fd;
		goto fail;
	}
	p->nr_cpus = libbpf_num_possible_cpus();
	if (p->nr_cpus <= 0) {
		err = p->nr_cpus ? p->nr_cpus : -EINVAL;
		goto fail;
	}
	p->percpu = calloc(p->nr_cpus, sizeof(*p->percpu));
	if (!p->percpu) {
		err = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	ft_metrics_pinned_close(p);
	return err;
}

int ft_metrics_pinned_read(struct ft_metrics_pinned *p, struct ft_metrics_src *src)
{
	__u64 *sum = (__u64 *)&p->stats;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(p->stats_fd, &zero, p->percpu)) {
		int err = -errno;

		pr_err("cannot read %s: %s\n", FT_MAP_STATS, strerror(-err));
		return err;
	}
	memset(&p->stats, 0, sizeof(p->stats));
	for (int c = 0; c < p->nr_cpus; c++) {
		const __u64 *in = (const __u64 *)&p->percpu[c];

		for (size_t i = 0; i < sizeof(p->stats) / sizeof(__u64); i++)
			sum[i] += in[i];
	}
	src->buckets = p->table.buckets;
	src->nr_buckets = p->table.nr_buckets;
	src->zones = p->zones;
	src->stats = &p->stats;
	return 0;
}

void ft_metrics_pinned_close(struct ft_metrics_pinned *p)
{
	ft_table_close(&p->table);
	if (p->zones)
		munmap(p->zones, p->zones_len);
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	free(p->percpu);
	memset(p, 0, sizeof(*p));
	p->stats_fd = -1;
}
