// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "log.h"
#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int ft_has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

/*
 * Checked up front, so that a missing capability is one clear message
 * instead of the first EPERM from whichever step meets it.
 */
int ft_privileges_check(const char *what)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (ft_has_cap(d, CAP_SYS_ADMIN) ||
	    (ft_has_cap(d, CAP_BPF) && ft_has_cap(d, CAP_NET_ADMIN)))
		return 0;
	pr_err("%s needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN): run it as root\n", what);
	return -EPERM;
}
