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
 * is -EADDRINUSE. Returns the listening fd (non-blocking) or -errno.
 */
int ft_ctl_listen(const char *path);

/* Accepts and answers one pending connection (none pending: 0). */
int ft_ctl_serve(int lfd, ft_ctl_fn fn, void *arg);

/*
 * Sends request to the controller at path and copies its answer to out.
 * Returns the controller's errno (0 or negative), other -errno when the
 * exchange failed, or 1 when no controller listens there (callers fall back).
 */
int ft_ctl_query(const char *path, const char *request, FILE *out);

#endif
