// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "hw_base.h"
#include "log.h"
#include "flowtier/abi.h"
#include "flowtier.skel.h"

static const char *const ft_pinned_maps[] = {
	FT_MAP_CONNS, FT_MAP_CONFIG, FT_MAP_TIMEOUTS, FT_MAP_ZONES,  FT_MAP_IF_ZONE,
	FT_MAP_RULES, FT_MAP_STATS,  FT_MAP_TX_PORTS, FT_MAP_IFACES,
};

static const char *const ft_pinned_progs[] = {
	FT_PROG_XDP,
	FT_PROG_TC_INGRESS,
	FT_PROG_TC_EGRESS,
};

int ft_bpffs_is_pinned_map(const char *name)
{
	for (size_t i = 0; i < sizeof(ft_pinned_maps) / sizeof(ft_pinned_maps[0]); i++) {
		if (!strcmp(name, ft_pinned_maps[i]))
			return 1;
	}
	return 0;
}

static int ft_is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/*
 * bpffs is mounted at its usual place when the system has not done it; a
 * mount anywhere else would hide whatever the folder held.
 */
static int ft_bpffs_mount_default(const char *parent)
{
	if (strcmp(parent, FT_BPFFS_ROOT) &&
	    strncmp(parent, FT_BPFFS_ROOT "/", strlen(FT_BPFFS_ROOT "/")))
		return 0;
	if (ft_is_bpffs(FT_BPFFS_ROOT))
		return 0;
	if (mount("bpf", FT_BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		pr_err("cannot mount bpffs on " FT_BPFFS_ROOT ": %s (run as root, or mount it with "
		       "'mount -t bpf bpf " FT_BPFFS_ROOT "')\n",
		       strerror(errno));
		return -errno;
	}
	pr_info("mounted bpffs on " FT_BPFFS_ROOT "\n");
	return 0;
}

int ft_bpffs_prepare(const char *dir)
{
	char parent[PATH_MAX];
	int err;

	if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	dirname(parent);
	err = ft_bpffs_mount_default(parent);
	if (err)
		return err;
	if (!ft_is_bpffs(parent)) {
		pr_err("cannot pin under %s: %s is not on bpffs (give --pin-dir a folder inside "
		       "a bpffs mount, such as " FT_PIN_DIR ", or mount one with "
		       "'mount -t bpf bpf %s')\n",
		       dir, parent, parent);
		return -EINVAL;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		pr_err("cannot create %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	/* Pinned maps hold every connection: root only. */
	if (chmod(dir, 0700)) {
		pr_err("cannot restrict %s to root: %s\n", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int ft_bpffs_pin_programs(struct flowtier *skel, const char *dir)
{
	struct bpf_program *prog;
	char path[PATH_MAX];
	int err;

	bpf_object__for_each_program (prog, skel->obj) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_program__name(prog)) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		unlink(path); /* a reload replaces the previous programs */
		err = bpf_program__pin(prog, path);
		if (err) {
			pr_err("cannot pin %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int ft_unpin(const char *dir, const char *name, int *removed)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) == 0) {
		(*removed)++;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	pr_err("cannot remove %s: %s\n", path, strerror(errno));
	return -errno;
}

int ft_bpffs_remove(const char *dir)
{
	int removed = 0, err = 0;

	for (size_t i = 0; !err && i < sizeof(ft_pinned_maps) / sizeof(ft_pinned_maps[0]); i++)
		err = ft_unpin(dir, ft_pinned_maps[i], &removed);
	for (size_t i = 0; !err && i < sizeof(ft_pinned_progs) / sizeof(ft_pinned_progs[0]); i++)
		err = ft_unpin(dir, ft_pinned_progs[i], &removed);
	if (!err) /* the controller's, not the object's */
		err = ft_unpin(dir, FT_MAP_HW_BASE, &removed);
	if (err)
		return err;
	if (rmdir(dir) && errno != ENOENT) {
		pr_err("cannot remove %s: %s (it holds files flowtier did not create)\n", dir,
		       strerror(errno));
		return -errno;
	}
	return removed ? 0 : -ENOENT;
}
