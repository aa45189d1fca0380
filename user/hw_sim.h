/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A simulated NIC behind struct ft_hw, for the tests and `flowtier simulate`.
 *
 * Its clock is manual: the caller sets the time and feeds each rule the
 * packets it matched. It has what makes offloading hard on real NICs:
 * - a capacity in rules per ifindex: an add past it fails with ENOSPC and
 *   the extack "rule table full";
 * - an insertion rate (adds per second, a token bucket one second deep):
 *   an add beyond it fails at once with EBUSY and the extack "insertion
 *   rate limit reached", as mlx5 does when its firmware queue is full,
 *   rather than delaying the caller;
 * - a counter lag: dump reports counters and lastuse as they were lag_ms
 *   ago. del reports the exact final counters (the kernel reads the
 *   hardware when a rule is deleted), so nothing counted is lost;
 * - scripted failures: the next adds fail with a given errno and extack,
 *   and a device can refuse every add with EOPNOTSUPP.
 */
#ifndef FT_HW_SIM_H
#define FT_HW_SIM_H

#include "hw.h"

struct ft_hw_sim_cfg {
	__u32 capacity;	    /* rules per ifindex, 0: unlimited */
	double insert_rate; /* adds per second, 0: unlimited */
	__u64 lag_ms;	    /* counters are reported as of now - lag_ms */
};

struct ft_hw_sim_stats {
	__u32 rules;	   /* on every ifindex */
	__u64 adds, dels;  /* that succeeded */
	__u64 add_refused; /* adds that failed, whatever the reason */
};

struct ft_hw_sim;

int ft_hw_sim_new(struct ft_hw_sim **s, const struct ft_hw_sim_cfg *cfg);
/* The backend interface; closing it frees the simulator. */
struct ft_hw *ft_hw_sim_hw(struct ft_hw_sim *s);

/* Moves the clock to now_ms (never backwards). */
void ft_hw_sim_set_time(struct ft_hw_sim *s, __u64 now_ms);
void ft_hw_sim_set_capacity(struct ft_hw_sim *s, __u32 capacity);

/*
 * The rule whose cookie is cookie matched packets/bytes at the current
 * time: 1 when such a rule is installed (the NIC handled them), 0 when not
 * (they go to the software tier).
 */
int ft_hw_sim_hit(struct ft_hw_sim *s, __u64 cookie, __u64 packets, __u64 bytes);

/* 1 when a rule with this cookie is installed. */
int ft_hw_sim_has(const struct ft_hw_sim *s, __u64 cookie);

/* The next add op fails with err (-errno) and extack; calls queue up. */
int ft_hw_sim_fail_next(struct ft_hw_sim *s, int err, const char *extack);

/* Every add on ifindex fails with EOPNOTSUPP: a device that cannot offload. */
int ft_hw_sim_unsupported(struct ft_hw_sim *s, __u32 ifindex);

void ft_hw_sim_stats(const struct ft_hw_sim *s, struct ft_hw_sim_stats *st);

#endif
