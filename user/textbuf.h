/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A growable text buffer: formatted appends, one error kept until the end. */
#ifndef FT_TEXTBUF_H
#define FT_TEXTBUF_H

#include <stddef.h>

struct ft_textbuf {
	char *data; /* NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
	int err; /* the first -errno an append met; later appends do nothing */
};

/*
 * Appends; on failure records -ENOMEM in b->err and returns it. Callers
 * may append many times and check b->err once.
 */
int ft_textbuf_printf(struct ft_textbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ft_textbuf_append(struct ft_textbuf *b, const char *s, size_t n);

/* Empties b and keeps its memory for the next text. */
void ft_textbuf_reset(struct ft_textbuf *b);
void ft_textbuf_free(struct ft_textbuf *b);

#endif
