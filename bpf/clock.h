/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath's clock: the kernel's coarse clock, read once per jiffy.
 *
 * The coarse clock only moves when the tick updates it, as jiffies do, so
 * caching it per jiffy returns what bpf_ktime_get_coarse_ns() would, for
 * an inlined load instead of a helper call on most packets. A packet that
 * lands between the tick's jiffies update and its clock update caches the
 * previous tick's time for this jiffy: one tick late, never backwards.
 */
#ifndef FT_CLOCK_H
#define FT_CLOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct ft_clock {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_clock);
	__uint(max_entries, 1);
} ft_clock SEC(".maps");

static __always_inline __u64 ft_now_ns(void)
{
	__u32 zero = 0;
	struct ft_clock *c = bpf_map_lookup_elem(&ft_clock, &zero);
	__u64 j = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		c->jiffies = j;
		c->ns = bpf_ktime_get_coarse_ns();
	}
	return c->ns;
}

#endif
