/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control socket: a unix stream socket only root can open. A client
 * sends one line, a command and key=value arguments ("flows top=10
 * sort=pps json=1"); the controller answers with text (or JSON) and a last
 * line "errno=N", in the manner of wireguard-tools, then closes.
 */
#ifndef FT_CTL_H
#define FT_CTL_H

#include <stdio.h>

#define FT_CTL_SOCKET	 "/run/flowtier/flowtier.sock"
#define FT_CTL_LINE_MAX	 1024
#define FT_CTL_MAX_ARGS	 8
#define FT_CTL_KEY_MAX	 16
#define FT_CTL_VAL_MAX	 128
#define FT_CTL_REPLY_MAX (256u << 20)

struct ft_ctl_req {
	char cmd[FT_CTL_KEY_MAX];
	int nargs;
	struct {
		char key[FT_CTL_KEY_MAX];
		char val[FT_CTL_VAL_MAX];
	} args[FT_CTL_MAX_ARGS];
};

/* Answers one request into out; returns 0 or -errno (which the client sees). */
typedef int (*ft_ctl_fn)(void *arg, const struct ft_ctl_req *req, FILE *out);

/*
 * Parses one request line (without its newline): a command word and
 * key=value pairs of letters, digits and ".-_" only ("/" too in values). -EINVAL when anything
 * is out of shape or too long.
 */
int ft_ctl_parse(const char *line, struct ft_ctl_req *req);

/* The value of key, or NULL. */
const char *ft_ctl_arg(const struct ft_ctl_req *req, const char *key);

/*
 * Listens on path (mode 0600; its folder is created 0700 when missing).
 * A stale socket left by a killed controller is replaced; one that answers
 * is -EADDRINUSE. Only a socket owned by root in a folder only root can
 * write is ever removed: anything else at path is -EPERM, after saying why.
 * Returns the listening fd (non-blocking) or -errno.
 */
int ft_ctl_listen(const char *path);

/*
 * The clients of a listening socket, served without blocking: each has its
 * own buffers and a deadline, FT_CTL_REQUEST_MS from its connect to its
 * request line, then FT_CTL_REPLY_MS to take the whole answer; one that
 * misses it is closed. Past FT_CTL_MAX_CLIENTS, new ones wait in the backlog.
 */
#define FT_CTL_MAX_CLIENTS 64
#define FT_CTL_REQUEST_MS  2000
#define FT_CTL_REPLY_MS	   5000

struct ft_ctl_server;

/* Serves lfd (still the caller's to close) through fn; 0 or -errno. */
int ft_ctl_server_new(struct ft_ctl_server **s, int lfd, ft_ctl_fn fn, void *arg);

/* The fd to poll for POLLIN: readable when a client, a connect or a deadline is due. */
int ft_ctl_server_fd(const struct ft_ctl_server *s);

/* Does what is due, never blocks. Returns the requests answered, or -errno. */
int ft_ctl_server_run(struct ft_ctl_server *s);

/* Closes every client. NULL is fine. */
void ft_ctl_server_free(struct ft_ctl_server *s);

/* The whole exchange of ft_ctl_query, connect to the last byte of the answer. */
#define FT_CTL_QUERY_MS 5000

/* ft_ctl_query's return when the exchange failed, after it said why (not an errno). */
#define FT_CTL_FAILED (-4096)

/*
 * Sends request to the controller at path and copies its answer to out.
 * Returns the controller's errno (0 or negative), FT_CTL_FAILED when the
 * exchange failed (no answer in FT_CTL_QUERY_MS, a server not running as
 * root, a malformed answer), or 1 when no controller listens there
 * (callers fall back).
 */
int ft_ctl_query(const char *path, const char *request, FILE *out);

#endif
