/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The `emu` offload backend: drives the testbed's emulated NIC
 * (bpf/emu_nic.bpf.c) through the maps its loader pinned. Like a real NIC
 * it holds a limited number of rules (ENOSPC past them) and reports its
 * counters late.
 */
#ifndef FT_HW_EMU_H
#define FT_HW_EMU_H

#include <linux/types.h>
#include "hw.h"
#include "flowtier/emu_nic.h"

struct ft_hw_emu_opts {
	const char *pin_dir;   /* where the loader pinned the NIC's maps; NULL: FT_EMU_PIN_DIR */
	__u32 capacity;	       /* rules, 0: the NIC's table size; more than that is refused */
	__u64 stats_lag_ms;    /* dump reports the counters as they were this long ago */
	__u32 ingress_ifindex; /* NIC port written in rule keys (its netns), 0: any port */
	__u32 out_ifindex;     /* NIC port redirect rules leave by (its netns), 0: the sink port */
	/* The time in CLOCK_MONOTONIC ns, for tests; NULL: clock_gettime(). */
	__u64 (*clock_ns)(void *ctx);
	void *clock_ctx;
};

/* Opens the NIC's pinned maps and adopts the rules flowtier left there. */
int ft_hw_emu_open(struct ft_hw **hw, const struct ft_hw_emu_opts *o);

/* Rules of flowtier's in the NIC now, and how many it may hold. */
__u32 ft_hw_emu_rules(const struct ft_hw *hw);
__u32 ft_hw_emu_capacity(const struct ft_hw *hw);

/*
 * What became of every packet the NIC received, summed over CPUs
 * (rx = dropped + redirected + to_host + no_port); pin_dir NULL: FT_EMU_PIN_DIR.
 */
int ft_hw_emu_read_stats(const char *pin_dir, struct ft_emu_stats *st);

#endif
