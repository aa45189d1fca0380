/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * GET /metrics over libmicrohttpd, driven by the caller's poll loop: no
 * thread of its own. The caller polls ft_http_fd() for POLLIN, within
 * ft_http_timeout_ms(), then calls ft_http_run(), which answers what is
 * ready without blocking. It must call ft_http_run() when that timeout
 * passes even without POLLIN: idle connections are closed, and the rest
 * of a request longer than one read is read, only then. A scrape calls
 * the render callback in that same thread, so it may read the caller's
 * state without a lock.
 */
#ifndef FT_HTTP_H
#define FT_HTTP_H

#include <sys/socket.h>
#include <linux/types.h>
#include "textbuf.h"

#define FT_HTTP_DEFAULT_LISTEN "127.0.0.1:9469"

/*
 * A scraper needs one connection. Room for many more, so that idle or
 * stalled clients cannot take every slot before the idle timeout frees
 * theirs.
 */
#define FT_HTTP_MAX_CONNS 256
/* A connection with nothing received or sent for this long is closed. */
#define FT_HTTP_IDLE_SECS 10
/* Request line and headers, final empty line included; a longer request gets 431. */
#define FT_HTTP_MAX_HEADERS 8192

/* Appends the exposition text to out (empty on entry); 0 or -errno (the reply is then 500). */
typedef int (*ft_http_render_fn)(struct ft_textbuf *out, void *ctx);

struct ft_http;

/*
 * "A.B.C.D:PORT", "[IPv6]:PORT" (PORT 0: any free one) or "off" (*len is
 * then 0). Nothing else: no host names, no missing parts. -EINVAL after
 * saying what is wrong with it.
 */
int ft_http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Listens on where (NULL: FT_HTTP_DEFAULT_LISTEN) and serves GET and HEAD
 * /metrics through render; other paths get 404, other methods 405,
 * requests with more than FT_HTTP_MAX_HEADERS of headers 431. *h is
 * NULL when where is "off". Returns 0, -EINVAL for a bad address, or the
 * -errno of the socket (-EADDRINUSE: the port is taken), after saying so.
 */
int ft_http_start(struct ft_http **h, const char *where, ft_http_render_fn render, void *ctx);

/* The fd to poll for POLLIN. */
int ft_http_fd(const struct ft_http *h);

/* Milliseconds until ft_http_run() is due even without POLLIN (timeouts); -1: none. */
int ft_http_timeout_ms(const struct ft_http *h);

/* Answers what is ready, never blocks. 0 or -EIO. */
int ft_http_run(struct ft_http *h);

/* The port listened on (the one chosen, for PORT 0). */
__u16 ft_http_port(const struct ft_http *h);

void ft_http_stop(struct ft_http *h);

#endif
