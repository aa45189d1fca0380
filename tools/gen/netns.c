// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"

int ft_enter_netns(const char *prog, const char *ns)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		fprintf(stderr,
			"%s: cannot enter network namespace '%s' (%s): %s "
			"(create it first, e.g. tools/testbed.sh up)\n",
			prog, ns, path, strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	return err;
}
