/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Whether this process may load and attach BPF programs. */
#ifndef FT_PRIVS_H
#define FT_PRIVS_H

/* 0, or -EPERM after saying which capabilities `what` needs. */
int ft_privileges_check(const char *what);

#endif
