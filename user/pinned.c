// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "log.h"
#include "pinned.h"

int ft_pinned_fd_of(const char *dir, const char *name, const char *owner)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		int err = -errno; /* pr_err's stdio may change errno */
		const char *hint = err == -ENOENT		     ? owner
				   : err == -EACCES || err == -EPERM ? "run as root"
								     : NULL;

		pr_err("cannot open %s: %s%s%s%s\n", path, strerror(-err), hint ? " (" : "",
		       hint ? hint : "", hint ? ")" : "");
		return err;
	}
	return fd;
}

int ft_pinned_fd(const char *dir, const char *name)
{
	return ft_pinned_fd_of(dir, name, "is the datapath loaded? run 'flowtier load'");
}

static int ft_pinned_op(const char *dir, const char *name, __u32 key, void *val, int write)
{
	int fd = ft_pinned_fd(dir, name);
	int err;

	if (fd < 0)
		return fd;
	err = write ? bpf_map_update_elem(fd, &key, val, BPF_ANY)
		    : bpf_map_lookup_elem(fd, &key, val);
	err = err ? -errno : 0;
	if (err)
		pr_err("cannot %s %s/%s: %s\n", write ? "write" : "read", dir, name,
		       strerror(-err));
	close(fd);
	return err;
}

int ft_pinned_read(const char *dir, const char *name, __u32 key, void *val)
{
	return ft_pinned_op(dir, name, key, val, 0);
}

int ft_pinned_write(const char *dir, const char *name, __u32 key, const void *val)
{
	return ft_pinned_op(dir, name, key, (void *)val, 1);
}

void *ft_pinned_mmap(const char *dir, const char *name, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = ft_pinned_fd(dir, name);
	void *p;

	if (fd < 0)
		return NULL;
	len = (len + page - 1) / page * page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		pr_err("cannot map %s/%s: %s\n", dir, name, strerror(errno));
		return NULL;
	}
	return p;
}

/* How long a settings writer waits for another one: changes take milliseconds. */
#define FT_PINNED_LOCK_TRIES  500
#define FT_PINNED_LOCK_NAP_NS 10000000L

int ft_pinned_lock(const char *dir, const char *name)
{
	struct timespec nap = { .tv_nsec = FT_PINNED_LOCK_NAP_NS };
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		pr_err("cannot open %s: %s (is the datapath loaded? run 'flowtier load')\n", path,
		       strerror(-err));
		return err;
	}
	for (int i = 0; i < FT_PINNED_LOCK_TRIES; i++) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return fd;
		if (errno != EWOULDBLOCK)
			break;
		nanosleep(&nap, NULL);
	}
	pr_err("cannot lock %s: %s (another flowtier command is changing the settings of %s; "
	       "try again)\n",
	       path, errno == EWOULDBLOCK ? "held for 5 s" : strerror(errno), dir);
	close(fd);
	return -EBUSY;
}
