/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The pin directory: bpffs mounted, a root-only folder, and its removal. */
#ifndef FT_BPFFS_H
#define FT_BPFFS_H

/* Mounts bpffs on the parent of dir when needed and creates dir (0700). */
int ft_bpffs_prepare(const char *dir);

/* Removes flowtier's pins from dir, then dir; -ENOENT when nothing was pinned. */
int ft_bpffs_remove(const char *dir);

/* 1 for the maps that outlive a load (the table and its settings), 0 for scratch. */
int ft_bpffs_is_pinned_map(const char *name);

/* Pins the loaded programs next to the maps. */
struct flowtier;
int ft_bpffs_pin_programs(struct flowtier *skel, const char *dir);

#endif
