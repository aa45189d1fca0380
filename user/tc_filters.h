/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Asking rtnetlink which TC filters an interface's clsact qdisc holds. */
#ifndef FT_TC_FILTERS_H
#define FT_TC_FILTERS_H

/* *n: filter messages the kernel dumps for clsact ingress and egress of ifindex. */
int ft_tc_filter_count(int ifindex, int *n);

#endif
