/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Entering a named network namespace (ip netns add), for ft-gen and ft-sink. */
#ifndef FT_GEN_NETNS_H
#define FT_GEN_NETNS_H

/* 0, or -errno after telling stderr, as prog, what failed and what to do. */
int ft_enter_netns(const char *prog, const char *ns);

#endif
