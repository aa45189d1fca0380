/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Growing arrays. */
#ifndef FT_GROW_H
#define FT_GROW_H

#include <stddef.h>

/*
 * Room for need elements of size bytes in *p, whose capacity is *cap:
 * the capacity doubles (from 16) until it holds them. 0, or -ENOMEM with
 * *p and *cap as they were.
 */
int ft_grow(void **p, size_t *cap, size_t need, size_t size);

#endif
