/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * flowtier simulate: one flow-rate trace replayed through several
 * placement policies side by side, each against its own simulated NIC.
 *
 * A generated trace has flows slots, each holding one flow; rank r of the
 * Zipf law sends total_pps * r^-alpha / H(N, alpha) packets a second (the
 * fraction drawn as one extra packet with that probability). Each second
 * a slot's flow leaves with probability turnover and a new flow takes its
 * rank; at each shift the ranks are dealt again at random. Everything
 * comes from the seed, so every policy sees the same packets. A recorded
 * trace (trace.h gives the format) is replayed as it is; its shifts only
 * say where recovery is measured.
 *
 * Policies: flowtier (the offload manager, defaults as the daemon's),
 * ovs (Open vSwitch's offload-rebalance: 3 s pass, pps as packet delta
 * over whole seconds, strict comparison, 1024 swaps a pass, stop at the
 * first ENOSPC, no rollback), fcfs (installs in arrival order until full,
 * never revisits) and oracle (the top capacity flows of every interval,
 * no limits).
 */
#ifndef FT_SIMULATE_H
#define FT_SIMULATE_H

#include <stdio.h>
#include <linux/types.h>

#define FT_SIM_MAX_SHIFTS   16
#define FT_SIM_NPOLICIES    4
#define FT_SIM_RECOVERY_PCT 95
#define FT_SIM_AFTER_SHIFT  5 /* intervals whose ratio to the oracle --json shows after a shift */

struct ft_sim_opts {
	double alpha;
	__u32 flows;
	__u32 capacity;
	__u32 duration; /* seconds, one interval each */
	__u32 shifts[FT_SIM_MAX_SHIFTS];
	__u32 nshifts;
	__u64 seed;
	double insert_rate; /* adds per second the NIC takes */
	__u64 stats_lag_ms;
	double total_pps;
	double turnover;   /* share of flows replaced each second */
	double churn;	   /* flowtier's churn budget, operations per second (0: default) */
	int shift_guess;   /* flowtier's shift guess (ft_offload_cfg_default), on by default */
	const char *trace; /* a recorded trace instead of a generated one */
};

void ft_sim_opts_default(struct ft_sim_opts *o);

struct ft_sim_result {
	const char *policy;
	double coverage; /* share of all packets the NIC handled */
	double ratio_to_oracle;
	double ops_per_second;		 /* adds, deletes and refused adds */
	double changes_per_second;	 /* adds and deletes that went through */
	int recovery[FT_SIM_MAX_SHIFTS]; /* seconds to 0.95 x oracle after each shift, -1: never */
	/* Each interval's coverage over the oracle's after each shift; < 0: past the end. */
	double after_shift[FT_SIM_MAX_SHIFTS][FT_SIM_AFTER_SHIFT];
	__u64 hw_packets, packets;
};

/*
 * Runs every policy over the trace; res holds FT_SIM_NPOLICIES results.
 * With a recorded trace, flows becomes its number of flows and a duration
 * of 0 its last second.
 */
int ft_simulate(struct ft_sim_opts *o, struct ft_sim_result *res);

void ft_sim_print(FILE *f, const struct ft_sim_opts *o, const struct ft_sim_result *res, int json);

/* flowtier simulate ...: exit status. */
int do_simulate(int argc, char **argv);

#endif
