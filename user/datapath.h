/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Opening, loading and pinning the datapath object; the table's geometry. */
#ifndef FT_DATAPATH_H
#define FT_DATAPATH_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

struct flowtier;

/* The largest table: the kernel's array map holds at most 4 GiB of buckets. */
#define FT_DP_MAX_CONNS ((__u32)(0xffffffffu / sizeof(struct ft_bucket)) * FT_SLOTS)

struct ft_dp_opts {
	__u32 conns;		  /* connections in the whole table; 0: FT_DEFAULT_CONNS */
	const char *pin_dir;	  /* NULL: nothing pinned or reused (tests) */
	__u64 seed[2];		  /* 0, 0: random */
	__u32 zone_sweep_buckets; /* 0: default */
	int verifier_stats;	  /* print the verifier's statistics per program */
};

struct ft_datapath {
	struct flowtier *skel;
	struct ft_bucket *buckets; /* the whole table, mmapped */
	size_t map_len;
	struct ft_zone *zones; /* FT_MAX_ZONES, mmapped */
	size_t zones_len;
	__u32 nr_buckets;
	__u32 nr_cpus;	/* possible CPUs: the per-CPU counters' */
	int reused;	/* 1: the maps were pinned already and were reused */
	int pin_devmap; /* ft_tx_ports is pinned by hand after load */
};

extern const struct ft_timeouts ft_default_timeouts;

int ft_dp_open(struct ft_datapath *dp, const struct ft_dp_opts *opts);
void ft_dp_close(struct ft_datapath *dp);

int ft_dp_read_config(const struct ft_datapath *dp, struct ft_config *cfg);
int ft_dp_write_config(const struct ft_datapath *dp, const struct ft_config *cfg);
int ft_dp_set_timeouts(const struct ft_datapath *dp, const struct ft_timeouts *to);
int ft_dp_set_zone_limit(const struct ft_datapath *dp, __u16 zone, __u32 limit);
int ft_dp_read_zone(const struct ft_datapath *dp, __u16 zone, struct ft_zone *z);
int ft_dp_set_if_zone(const struct ft_datapath *dp, __u32 ifindex, __u16 zone);
/* Replaces the rule list and bumps the generation so connections pick it up. */
int ft_dp_set_rules(const struct ft_datapath *dp, const struct ft_rule *rules, __u32 n);
/* Lets XDP redirect to ifindex (TC redirects need no registration). */
int ft_dp_add_tx_port(const struct ft_datapath *dp, __u32 ifindex);
/* Sums the per-CPU event counters. */
int ft_dp_read_stats(const struct ft_datapath *dp, struct ft_stats *sum);

#endif
