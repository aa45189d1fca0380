/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath's maps. Sizes below are defaults; the loader sets the
 * connection table's size before load. Pinning is the loader's choice
 * (tests load unpinned copies), so no pinning attribute is set here.
 */
#ifndef FT_MAPS_H
#define FT_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "flowtier/abi.h"

/* Buckets, shared by every CPU: one entry per connection (conntrack.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ft_bucket);
	__uint(max_entries, FT_DEFAULT_CONNS / FT_SLOTS);
} ft_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_config);
	__uint(max_entries, 1);
} ft_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_timeouts);
	__uint(max_entries, 1);
} ft_timeouts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ft_zone);
	__uint(max_entries, FT_MAX_ZONES);
} ft_zones SEC(".maps");

/* Zone of untagged traffic by ingress ifindex; 0 when unset. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, FT_MAX_IFINDEX);
} ft_if_zone SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_rule);
	__uint(max_entries, FT_MAX_RULES);
} ft_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_stats);
	__uint(max_entries, 1);
} ft_stats SEC(".maps");

/* What flowtier attached, by ifindex; mmapable so listing it takes no system call per entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ft_iface);
	__uint(max_entries, FT_MAX_IFINDEX);
} ft_ifaces SEC(".maps");

/* XDP redirect targets, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 256);
} ft_tx_ports SEC(".maps");

#endif
