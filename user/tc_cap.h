/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The --tc-capacity test aid: the rules flowtier holds on each device, so
 * that the tc backend can refuse an add past N rules the way a full NIC
 * does (ENOSPC), through the real kernel path everywhere else. Rules are
 * named by (ifindex, prio, handle); rules found by a dump count too, so a
 * restarted controller sees the same capacity.
 */
#ifndef FT_TC_CAP_H
#define FT_TC_CAP_H

#include <linux/types.h>

struct ft_tc_cap;

/* limit: rules per device (ifindex). */
int ft_tc_cap_new(struct ft_tc_cap **c, __u32 limit);
void ft_tc_cap_free(struct ft_tc_cap *c);

/*
 * Makes room for a rule about to be added: 0 when it now counts (drop it
 * again if the add fails), 1 when it counted already, -ENOSPC when the
 * device holds its limit, -ENOMEM.
 */
int ft_tc_cap_take(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle);

/* Counts a rule found on the device, past the limit if need be: 0 or -ENOMEM. */
int ft_tc_cap_seen(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle);

/* Forgets a rule (deleted, gone, or an add that failed). */
void ft_tc_cap_drop(struct ft_tc_cap *c, __u32 ifindex, __u16 prio, __u32 handle);

__u32 ft_tc_cap_count(const struct ft_tc_cap *c, __u32 ifindex);
__u32 ft_tc_cap_limit(const struct ft_tc_cap *c);

#endif
