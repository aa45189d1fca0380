/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The pinned maps of a loaded datapath, opened by name. */
#ifndef FT_PINNED_H
#define FT_PINNED_H

#include <stddef.h>
#include <linux/types.h>

/* An fd for dir/name, or -errno after saying what is wrong and what to do. */
int ft_pinned_fd(const char *dir, const char *name);

/* The same for another program's maps: owner says what to do when they are missing. */
int ft_pinned_fd_of(const char *dir, const char *name, const char *owner);

/* One value of an array map, read or written whole. */
int ft_pinned_read(const char *dir, const char *name, __u32 key, void *val);
int ft_pinned_write(const char *dir, const char *name, __u32 key, const void *val);

/*
 * Locks the pinned file dir/name (flock, exclusive) for a read-modify-write
 * of settings, waiting up to 5 s for another writer. Returns the fd to
 * close when done, or -errno after saying why.
 */
int ft_pinned_lock(const char *dir, const char *name);

/* Maps an mmapable array map (len bytes) read-write; NULL on error. */
void *ft_pinned_mmap(const char *dir, const char *name, size_t len);

#endif
