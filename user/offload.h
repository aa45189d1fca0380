/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The offload manager: which flow directions the NIC holds.
 *
 * Every interval the daemon (or the simulator) hands it the candidate
 * directions with their software rates; the manager reads the hardware
 * counters through its backend, installs the hottest pending directions
 * until the device reports exhaustion, and while a device is out of
 * resources (OOR) swaps a clearly hotter pending direction for a colder
 * offloaded one, within a churn budget. The same code runs in the daemon,
 * in `flowtier simulate` and in the tests; only the backend differs.
 *
 * The daemon, the simulator and the tests use only what is declared here.
 *
 * OOR is entered when an add fails with an exhaustion error (its extack is
 * logged); the rules held then are the learned capacity. It is left when
 * no candidate of the device waits outside hardware any more, or when an
 * add succeeds with the device already holding its learned capacity (a
 * probe, every oor_probe_ms): then the device had more room than learned
 * (other users of the NIC freed some) and the capacity is learned again.
 */
#ifndef FT_OFFLOAD_H
#define FT_OFFLOAD_H

#include <stddef.h>
#include <linux/types.h>
#include "hw.h"

struct ft_offload_cfg {
	double min_pps;		 /* --offload-min-pps */
	__u64 min_age_ms;	 /* --offload-min-age */
	int rebalance;		 /* --offload-rebalance (1) */
	double margin_rel;	 /* swap when pending > hw * (1 + margin_rel) ... */
	double margin_abs_pps;	 /* ... and pending > hw + margin_abs_pps */
	__u64 dwell_ms;		 /* a rule stays at least this long */
	int shift_guess;	 /* --offload-shift-guess (1): see ft_offload_cfg_default */
	double churn_per_s;	 /* token bucket rate, rule operations per second */
	double churn_burst;	 /* token bucket depth */
	__u64 hw_stats_lag_ms;	 /* --hw-stats-lag: samples younger are not used */
	__u64 idle_ms;		 /* a rule whose lastuse passes this leaves hardware */
	__u64 oor_probe_ms;	 /* while OOR, try one add past capacity this often */
	__u32 max_adds_per_tick; /* fill bound per device and interval (a NIC takes ~2.5k/s) */
	__u64 retry_ms;		 /* first backoff after a transient error, doubled up to 32x */
};

/*
 * min_pps 100, min_age 1 s, rebalance on, margins 20% and 100 pps, dwell
 * 5 s, churn 500 operations/s (an add or a delete is one; a swap costs
 * two: a fifth of the ~2,500 rules/s a NIC inserts) with a burst of
 * 10000 (twenty seconds saved up, spent when the hot set shifts: enough
 * to replace 5,000 rules at once; the margins and the dwell keep
 * steady-state churn far below the rate), stats lag 2 s,
 * idle 10 s, probe every 30 s, 2048 adds per tick, retry
 * after 1 s.
 *
 * The shift guess (on): the rules' counters are hw_stats_lag old, so
 * when the hot set moves they still say the old flows are hot. When the
 * candidates outside hardware gain at least half of the rate the rules
 * last showed in one interval, the traffic is taken to have moved out of
 * the rules: until the counters cover the time since (hw_stats_lag), the
 * rules installed before are judged by their rates scaled by what the
 * rules are left with (1 - gain / their rate, kept above 0). The swaps
 * that follow fill the NIC with the new hot set an interval after the
 * shift, instead of waiting for the counters. A
 * surge of new hot flows on top of the old ones looks the same; then
 * hot rules are swapped for hot flows, and the evicted ones, counted
 * exactly in software from the next interval, come back as any hotter
 * flow would.
 */
void ft_offload_cfg_default(struct ft_offload_cfg *cfg);

/*
 * One candidate direction, as the software tier sees it this interval.
 * id is unique per direction and stable across intervals (and restarts,
 * for adoption). While a direction is in hardware its software rate is
 * near zero and is not used: the manager ranks it by its rule's counters.
 */
struct ft_offload_flow {
	__u64 id;		/* stable flow id (becomes the rule cookie) */
	struct ft_hw_rule rule; /* key, dir, verdict, ifindex, redirect_ifindex */
	double sw_pps;		/* rate seen by the software tier */
	__u64 sw_packets;	/* software counters of this direction */
	__u64 sw_bytes;
	__u64 age_ms; /* since the connection was created */
	__u8 state;   /* enum ft_state */
};

enum ft_tier {
	FT_TIER_SOFTWARE = 0,
	FT_TIER_PENDING, /* a candidate waiting for room in the NIC */
	FT_TIER_HARDWARE,
};

/* Per device, for metrics and `flowtier offload`. */
struct ft_offload_dev_stats {
	__u32 ifindex;
	__u32 rules;	/* in hardware now */
	__u32 capacity; /* learned at the last exhaustion, 0: unknown */
	int oor;	/* out of resources now */
	__u64 oor_enter, oor_leave;
	__u64 installs, removals, swaps,
		rollbacks; /* installs/removals: every add/delete that went through */
	__u64 failures[FT_HWC_MAX];
	char last_extack[FT_HW_EXTACK_LEN];
};

struct ft_offload_stats {
	__u64 intervals;
	/* The share of candidate packets handled in hardware, over the last hw_stats_lag + 1 s. */
	double coverage;
	__u64 hw_packets, sw_packets; /* of the last interval */
	__u32 ndevs;
	const struct ft_offload_dev_stats *devs; /* valid until the next call into the manager */
};

struct ft_offload;

int ft_offload_new(struct ft_offload **m, const struct ft_offload_cfg *cfg, struct ft_hw *hw);
void ft_offload_free(struct ft_offload *m);

/*
 * Keeps the final counters of deleted rules in fd (hw_base.h, still the
 * caller's) as well as in memory, and starts each direction from what is
 * kept there: software plus hardware stays exact across a restart.
 */
void ft_offload_set_base(struct ft_offload *m, int fd);

/*
 * At start: lists the backend's rules on these devices, adopts those
 * whose cookie is among flows' ids and deletes the others.
 */
int ft_offload_adopt(struct ft_offload *m, const __u32 *ifindexes, size_t nifs,
		     const struct ft_offload_flow *flows, size_t n, __u64 now_ms);

/*
 * One interval: flows are every direction the software tier tracks that
 * could be a candidate (the manager applies the candidate rules). Flows
 * absent from the list, or closing, leave hardware.
 */
int ft_offload_tick(struct ft_offload *m, const struct ft_offload_flow *flows, size_t n,
		    __u64 now_ms);

/*
 * A direction's tier and its hardware counters: every install's, the
 * final ones read at deletion included, so that software plus hardware
 * is what the direction carried (while a rule is in the NIC its counters
 * lag by up to hw_stats_lag). Known while the direction is listed to
 * ft_offload_tick(), and for one interval after it vanished.
 */
enum ft_tier ft_offload_tier(const struct ft_offload *m, __u64 id, __u64 *hw_packets,
			     __u64 *hw_bytes);

/* A direction's packets per second in hardware, from its rule's counters; 0 when unknown. */
double ft_offload_hw_pps(const struct ft_offload *m, __u64 id);

void ft_offload_stats(const struct ft_offload *m, struct ft_offload_stats *st);

/* The software rate under which a direction is no candidate (--offload-min-pps). */
double ft_offload_min_pps(const struct ft_offload *m);

/*
 * The ids whose hardware counters moved during the last tick (or adopt):
 * the daemon refreshes their connections' last_tick so that the datapath
 * does not time out a connection whose packets all go through the NIC.
 * Valid until the next call into the manager.
 */
size_t ft_offload_moved(const struct ft_offload *m, const __u64 **ids);

/*
 * Removes every rule the manager installed, their final counters kept (a
 * controller giving the NIC up). flowtier unload, which has no manager,
 * uses ft_hw_flush().
 */
int ft_offload_flush(struct ft_offload *m);

#endif
