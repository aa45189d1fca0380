// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "datapath.h"
#include "log.h"
#include "settings.h"
#include "flowtier.skel.h"

/* Close to netfilter's defaults; see the README for the comparison. */
const struct ft_timeouts ft_default_timeouts = {
	.secs = {
		[FT_TO_TCP_SYN_SENT] = 120,
		[FT_TO_TCP_ESTABLISHED] = 432000,
		[FT_TO_TCP_CLOSING] = 120,
		[FT_TO_TCP_CLOSED] = 10,
		[FT_TO_UDP_NEW] = 30,
		[FT_TO_UDP_ESTABLISHED] = 120,
		[FT_TO_ICMP_NEW] = 30,
		[FT_TO_ICMP_ESTABLISHED] = 30,
		[FT_TO_OTHER_NEW] = 60,
		[FT_TO_OTHER_ESTABLISHED] = 600,
	},
};

#define FT_DEFAULT_SWEEP_BUCKETS 128

static int ft_dp_geometry(struct ft_datapath *dp, const struct ft_dp_opts *o)
{
	__u64 conns = o->conns ? o->conns : FT_DEFAULT_CONNS;
	int n = libbpf_num_possible_cpus();

	if (n <= 0) {
		pr_err("cannot count possible CPUs: %s\n", strerror(-n));
		return n ? n : -EINVAL;
	}
	dp->nr_cpus = n;
	dp->nr_buckets = (conns + FT_SLOTS - 1) / FT_SLOTS;
	if (dp->nr_buckets > UINT_MAX / sizeof(struct ft_bucket)) {
		pr_err("a table of %llu connections is too large\n", (unsigned long long)conns);
		return -E2BIG;
	}
	return 0;
}

/*
 * libbpf 1.1 refuses to reuse a pinned devmap: the kernel adds
 * BPF_F_RDONLY_PROG to its flags, so they never compare equal. That map
 * is reused by fd instead, and pinned by hand after load.
 */
static int ft_dp_reuse_devmap(struct bpf_map *map, const char *path, int *pin_after)
{
	int fd, err;

	*pin_after = 0;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		*pin_after = errno == ENOENT;
		return *pin_after ? 0 : -errno;
	}
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	return err;
}

static int ft_dp_pin_paths(struct ft_datapath *dp, const char *dir)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	bpf_object__for_each_map (map, dp->skel->obj) {
		/* Scratch and internal (.bss) maps belong to one load, not to the table. */
		if (!ft_bpffs_is_pinned_map(bpf_map__name(map)))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map)) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		if (access(path, F_OK) == 0)
			dp->reused = 1;
		if (map == dp->skel->maps.ft_tx_ports)
			err = ft_dp_reuse_devmap(map, path, &dp->pin_devmap);
		else
			err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

static int ft_dp_pin_devmap(struct ft_datapath *dp, const char *dir)
{
	char path[PATH_MAX];
	int err;

	if (!dp->pin_devmap)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, FT_MAP_TX_PORTS) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	err = bpf_map__pin(dp->skel->maps.ft_tx_ports, path);
	if (err)
		pr_err("cannot pin %s: %s\n", path, strerror(-err));
	return err;
}

/*
 * A pinned table keeps its size across reloads: its connections are the
 * point of keeping it. Resizing takes an unload.
 */
static int ft_dp_adopt_pinned_size(struct ft_datapath *dp, const char *dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, FT_MAP_CONNS) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	/* libbpf would refuse to reuse it anyway, with a message that does not say why. */
	if (info.value_size != sizeof(struct ft_bucket)) {
		pr_err("the pinned table in %s has another layout (%u-byte buckets, this build's "
		       "are %zu): run 'flowtier unload' to start afresh\n",
		       dir, info.value_size, sizeof(struct ft_bucket));
		return -EINVAL;
	}
	if (info.max_entries != dp->nr_buckets)
		pr_warn("keeping the pinned table's %u connections; run 'flowtier unload' to "
			"resize it\n",
			info.max_entries * FT_SLOTS);
	dp->nr_buckets = info.max_entries;
	return 0;
}

/* A given seed (tests, benchmarks) is stretched so that each value gives one table. */
static int ft_dp_seed(__u64 out[6], const __u64 given[2])
{
	__u64 x = given[0] ^ (given[1] * 0xD6E8FEB86659FD93ull);

	if (!given[0] && !given[1]) {
		if (getrandom(out, 6 * sizeof(__u64), 0) == 6 * sizeof(__u64))
			return 0;
		pr_err("cannot draw the table's hash seed: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 6; i++) { /* splitmix64 */
		__u64 z = (x += 0x9E3779B97F4A7C15ull);

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		out[i] = z ^ (z >> 31);
	}
	return 0;
}

static int ft_dp_init_config(struct ft_datapath *dp, const struct ft_dp_opts *o)
{
	struct ft_config cfg = {};
	__u32 zero = 0;
	int err;

	err = ft_dp_read_config(dp, &cfg);
	if (err)
		return err;
	if (cfg.buckets) /* a reused table keeps its seed and geometry */
		return 0;
	if (ft_dp_seed(cfg.seed, o->seed))
		return -errno;
	cfg.buckets = dp->nr_buckets;
	cfg.zone_sweep_buckets =
		o->zone_sweep_buckets ? o->zone_sweep_buckets : FT_DEFAULT_SWEEP_BUCKETS;
	err = ft_dp_write_config(dp, &cfg);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.ft_timeouts), &zero,
					  &ft_default_timeouts, BPF_ANY)
			      ? -errno
			      : 0;
	return err;
}

static void *ft_dp_map_array(struct bpf_map *map, size_t elems, size_t elem_size, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = (elems * elem_size + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	if (p == MAP_FAILED) {
		pr_err("cannot map %s: %s\n", bpf_map__name(map), strerror(errno));
		return NULL;
	}
	return p;
}

static int ft_dp_mmap(struct ft_datapath *dp)
{
	dp->buckets = ft_dp_map_array(dp->skel->maps.ft_conns, dp->nr_buckets,
				      sizeof(struct ft_bucket), &dp->map_len);
	if (!dp->buckets)
		return -errno;
	dp->zones = ft_dp_map_array(dp->skel->maps.ft_zones, FT_MAX_ZONES, sizeof(struct ft_zone),
				    &dp->zones_len);
	return dp->zones ? 0 : -errno;
}

#define FT_VLOG_SIZE 4096

/* Log level 4 asks the verifier for its statistics only. */
static int ft_dp_want_verifier_stats(struct ft_datapath *dp)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, dp->skel->obj) {
		char *buf = calloc(1, FT_VLOG_SIZE);

		if (!buf)
			return -ENOMEM;
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, buf, FT_VLOG_SIZE);
	}
	return 0;
}

static void ft_dp_print_verifier_stats(struct ft_datapath *dp)
{
	struct bpf_program *prog;
	size_t size;

	bpf_object__for_each_program (prog, dp->skel->obj) {
		char *buf = (char *)bpf_program__log_buf(prog, &size);

		if (!buf)
			continue;
		printf("%s: %s", bpf_program__name(prog), buf);
		bpf_program__set_log_buf(prog, NULL, 0);
		free(buf);
	}
}

int ft_dp_open(struct ft_datapath *dp, const struct ft_dp_opts *o)
{
	int err;

	memset(dp, 0, sizeof(*dp));
	err = ft_dp_geometry(dp, o);
	if (err)
		return err;
	dp->skel = flowtier__open();
	if (!dp->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		return err;
	}
	if (o->pin_dir)
		err = ft_dp_adopt_pinned_size(dp, o->pin_dir);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.ft_conns, dp->nr_buckets);
	if (!err && o->pin_dir)
		err = ft_dp_pin_paths(dp, o->pin_dir);
	if (!err && o->verifier_stats)
		err = ft_dp_want_verifier_stats(dp);
	if (!err) {
		err = flowtier__load(dp->skel);
		if (o->verifier_stats)
			ft_dp_print_verifier_stats(dp);
		if (err)
			pr_err("cannot load the BPF object: %s%s\n", strerror(-err),
			       dp->reused ? " (the pinned maps differ from this build's: "
					    "run 'flowtier unload' first)"
					  : "");
	}
	if (!err && o->pin_dir)
		err = ft_dp_pin_devmap(dp, o->pin_dir);
	if (!err)
		err = ft_dp_init_config(dp, o);
	if (!err)
		err = ft_dp_mmap(dp);
	if (err)
		ft_dp_close(dp);
	return err;
}

void ft_dp_close(struct ft_datapath *dp)
{
	if (dp->buckets)
		munmap(dp->buckets, dp->map_len);
	if (dp->zones)
		munmap(dp->zones, dp->zones_len);
	flowtier__destroy(dp->skel);
	memset(dp, 0, sizeof(*dp));
}

static int ft_dp_update(struct bpf_map *map, __u32 key, const void *val)
{
	return bpf_map_update_elem(bpf_map__fd(map), &key, val, BPF_ANY) ? -errno : 0;
}

static int ft_dp_lookup(struct bpf_map *map, __u32 key, void *val)
{
	return bpf_map_lookup_elem(bpf_map__fd(map), &key, val) ? -errno : 0;
}

int ft_dp_read_config(const struct ft_datapath *dp, struct ft_config *cfg)
{
	return ft_dp_lookup(dp->skel->maps.ft_config, 0, cfg);
}

int ft_dp_write_config(const struct ft_datapath *dp, const struct ft_config *cfg)
{
	return ft_dp_update(dp->skel->maps.ft_config, 0, cfg);
}

int ft_dp_set_timeouts(const struct ft_datapath *dp, const struct ft_timeouts *to)
{
	for (int i = 0; i < FT_TO_MAX; i++) {
		if (to->secs[i] < FT_MIN_TIMEOUT_SECS || to->secs[i] > FT_MAX_TIMEOUT_SECS)
			return -ERANGE;
	}
	return ft_dp_update(dp->skel->maps.ft_timeouts, 0, to);
}

int ft_dp_read_zone(const struct ft_datapath *dp, __u16 zone, struct ft_zone *z)
{
	const struct ft_zone *src = &dp->zones[zone];

	z->count = __atomic_load_n(&src->count, __ATOMIC_RELAXED);
	z->refused = __atomic_load_n(&src->refused, __ATOMIC_RELAXED);
	z->limit = __atomic_load_n(&src->limit, __ATOMIC_RELAXED);
	z->pad = 0;
	return 0;
}

/*
 * Only the limit is written, through the mapping: a whole-value update
 * would race with the datapath's atomic count and could lose a change.
 */
int ft_dp_set_zone_limit(const struct ft_datapath *dp, __u16 zone, __u32 limit)
{
	__atomic_store_n(&dp->zones[zone].limit, limit, __ATOMIC_RELAXED);
	return 0;
}

int ft_dp_set_if_zone(const struct ft_datapath *dp, __u32 ifindex, __u16 zone)
{
	struct ft_config cfg;
	__u32 z = zone;
	int err;

	if (ifindex >= FT_MAX_IFINDEX)
		return -ERANGE;
	err = ft_dp_update(dp->skel->maps.ft_if_zone, ifindex, &z);
	if (!err)
		err = ft_dp_read_config(dp, &cfg);
	if (err || cfg.if_zones)
		return err;
	/* Untagged traffic skips the per-interface lookup until a zone is set. */
	cfg.if_zones = 1;
	return ft_dp_write_config(dp, &cfg);
}

int ft_dp_set_rules(const struct ft_datapath *dp, const struct ft_rule *rules, __u32 n)
{
	return ft_rules_store(bpf_map__fd(dp->skel->maps.ft_rules),
			      bpf_map__fd(dp->skel->maps.ft_config), rules, n);
}

int ft_dp_add_tx_port(const struct ft_datapath *dp, __u32 ifindex)
{
	int err = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.ft_tx_ports), &ifindex, &ifindex,
				      BPF_ANY);

	return err ? -errno : 0;
}

int ft_dp_read_stats(const struct ft_datapath *dp, struct ft_stats *sum)
{
	struct ft_stats *per = calloc(dp->nr_cpus, sizeof(*per));
	__u64 *out = (__u64 *)sum;
	int err;

	if (!per)
		return -ENOMEM;
	err = ft_dp_lookup(dp->skel->maps.ft_stats, 0, per);
	memset(sum, 0, sizeof(*sum));
	for (__u32 c = 0; !err && c < dp->nr_cpus; c++) {
		const __u64 *in = (const __u64 *)&per[c];

		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			out[i] += in[i];
	}
	free(per);
	return err;
}
