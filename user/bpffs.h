/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The pin directory: bpffs mounted, a root-only folder, and its removal. */
#ifndef FT_BPFFS_H
#define FT_BPFFS_H

/* Where bpffs is mounted when the system has not mounted it: nowhere else. */
#define FT_BPFFS_ROOT "/sys/fs/bpf"

/*
 * Creates dir (0700) in a folder on bpffs, mounting bpffs at FT_BPFFS_ROOT
 * first when dir is under it and it is missing there. -EINVAL, said, when
 * the folder is not on bpffs.
 */
int ft_bpffs_prepare(const char *dir);

/* Removes flowtier's pins from dir, then dir; -ENOENT when nothing was pinned. */
int ft_bpffs_remove(const char *dir);

/* 1 for the maps that outlive a load (the table and its settings), 0 for scratch. */
int ft_bpffs_is_pinned_map(const char *name);

/* Pins the loaded programs next to the maps. */
struct flowtier;
int ft_bpffs_pin_programs(struct flowtier *skel, const char *dir);

#endif
