// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

/* Room for n more bytes and the NUL; doubles so that appends cost O(1) amortised. */
static int ft_textbuf_reserve(struct ft_textbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->err)
		return b->err;
	if (n > ((size_t)-1) / 4 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int ft_textbuf_append(struct ft_textbuf *b, const char *s, size_t n)
{
	if (ft_textbuf_reserve(b, n))
		return b->err;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ft_textbuf_printf(struct ft_textbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ft_textbuf_reserve(b, 0))
		return b->err;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return b->err;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (ft_textbuf_reserve(b, n))
			return b->err;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += n;
	return 0;
}

void ft_textbuf_reset(struct ft_textbuf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

void ft_textbuf_free(struct ft_textbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
