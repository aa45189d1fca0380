// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

/* Letters, digits, ".-_" (and "/" in values, for paths); nothing else. */
static int ft_ctl_word_ok(const char *s, size_t len, size_t max, const char *extra)
{
	if (!len || len >= max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return 0;
	}
	return 1;
}

/* One "key=value" token of len bytes. */
static int ft_ctl_parse_arg(const char *s, size_t len, struct ft_ctl_req *req)
{
	const char *eq = memchr(s, '=', len);
	size_t klen, vlen;

	if (!eq || req->nargs == FT_CTL_MAX_ARGS)
		return -EINVAL;
	klen = eq - s;
	vlen = len - klen - 1;
	if (!ft_ctl_word_ok(s, klen, FT_CTL_KEY_MAX, ".-_") ||
	    (vlen && !ft_ctl_word_ok(eq + 1, vlen, FT_CTL_VAL_MAX, ".-_/")) ||
	    vlen >= FT_CTL_VAL_MAX)
		return -EINVAL;
	memcpy(req->args[req->nargs].key, s, klen);
	req->args[req->nargs].key[klen] = '\0';
	memcpy(req->args[req->nargs].val, eq + 1, vlen);
	req->args[req->nargs].val[vlen] = '\0';
	req->nargs++;
	return 0;
}

int ft_ctl_parse(const char *line, struct ft_ctl_req *req)
{
	size_t n = strnlen(line, FT_CTL_LINE_MAX), len;
	const char *p = line;
	int err = 0;

	memset(req, 0, sizeof(*req));
	if (n == FT_CTL_LINE_MAX)
		return -EINVAL;
	for (int first = 1; !err && *p; first = 0) {
		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (!len)
			break;
		if (first && ft_ctl_word_ok(p, len, FT_CTL_KEY_MAX, ".-_"))
			memcpy(req->cmd, p, len);
		else
			err = first ? -EINVAL : ft_ctl_parse_arg(p, len, req);
		p += len;
	}
	return !err && !req->cmd[0] ? -EINVAL : err;
}

const char *ft_ctl_arg(const struct ft_ctl_req *req, const char *key)
{
	for (int i = 0; i < req->nargs; i++) {
		if (!strcmp(req->args[i].key, key))
			return req->args[i].val;
	}
	return NULL;
}

static int ft_ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		pr_err("socket path '%s' is too long (at most %zu bytes)\n", path,
		       sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static int ft_ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, err = ft_ctl_addr(path, &sa);

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Its folder, root-only, when it does not exist (the default one in /run). */
static int ft_ctl_make_dir(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		pr_err("cannot create %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* A socket file whose controller is gone (kill -9) is removed; a live one is kept. */
static int ft_ctl_clear_stale(const char *path)
{
	int fd = ft_ctl_connect(path);

	if (fd >= 0) {
		close(fd);
		pr_err("another flowtier controller answers on %s (stop it first, or give "
		       "--socket another path)\n",
		       path);
		return -EADDRINUSE;
	}
	if (unlink(path) && errno != ENOENT) {
		pr_err("cannot remove the stale socket %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int ft_ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, err = ft_ctl_addr(path, &sa);

	if (!err)
		err = ft_ctl_make_dir(path);
	if (!err)
		err = ft_ctl_clear_stale(path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Created 0600 rather than narrowed later: no moment where others may connect. */
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!err && listen(fd, 16))
		err = -errno;
	if (err) {
		pr_err("cannot listen on %s: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static int ft_ctl_send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* One line, at most FT_CTL_LINE_MAX bytes; a client that sends more or nothing is refused. */
static int ft_ctl_read_line(int fd, char *line)
{
	size_t have = 0;

	while (have < FT_CTL_LINE_MAX) {
		ssize_t n = recv(fd, line + have, FT_CTL_LINE_MAX - have, 0);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPROTO;
		nl = memchr(line + have, '\n', n);
		have += n;
		if (nl) {
			*nl = '\0';
			return 0;
		}
	}
	return -EMSGSIZE;
}

/* Only root: the socket's mode says so, and the peer's credentials must agree. */
static int ft_ctl_peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.uid == 0;
}

static void ft_ctl_answer(int cfd, ft_ctl_fn fn, void *arg)
{
	struct timeval tv = { .tv_sec = 1 };
	char line[FT_CTL_LINE_MAX + 1];
	struct ft_ctl_req req;
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	int err = out ? 0 : -ENOMEM;

	/* A slow client holds the loop up for at most a second. */
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!err && !ft_ctl_peer_is_root(cfd))
		err = -EPERM;
	if (!err)
		err = ft_ctl_read_line(cfd, line);
	if (!err && (err = ft_ctl_parse(line, &req)))
		fprintf(out, "error: malformed request\n");
	if (!err)
		err = fn(arg, &req, out);
	if (out) {
		fprintf(out, "errno=%d\n", -err);
		fclose(out);
		ft_ctl_send_all(cfd, body, len);
	}
	free(body);
}

int ft_ctl_serve(int lfd, ft_ctl_fn fn, void *arg)
{
	int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (cfd < 0)
		return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? 0 : -errno;
	ft_ctl_answer(cfd, fn, arg);
	close(cfd);
	return 0;
}

/* The reply's last line is "errno=N"; everything before it is the answer. */
static int ft_ctl_split(char *buf, size_t len, size_t *body_len)
{
	char *last;
	char *end;
	long v;

	if (!len || buf[len - 1] != '\n')
		return -EPROTO;
	buf[len - 1] = '\0';
	last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	if (strncmp(last, "errno=", 6))
		return -EPROTO;
	errno = 0;
	v = strtol(last + 6, &end, 10);
	if (errno || *end || v < 0 || v > 4095)
		return -EPROTO;
	*body_len = last - buf;
	return (int)-v;
}

static int ft_ctl_read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	for (;;) {
		ssize_t n;

		if (*len == cap) {
			char *nb;

			if (cap >= FT_CTL_REPLY_MAX)
				return -EMSGSIZE;
			cap = cap ? cap * 2 : 65536;
			nb = realloc(*buf, cap);
			if (!nb)
				return -ENOMEM;
			*buf = nb;
		}
		n = recv(fd, *buf + *len, cap - *len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		*len += n;
	}
}

int ft_ctl_query(const char *path, const char *request, FILE *out)
{
	int fd = ft_ctl_connect(path), err;
	size_t len, body;
	char *buf = NULL;

	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return 1;
	if (fd < 0) {
		pr_err("cannot connect to %s: %s%s\n", path, strerror(-fd),
		       fd == -EACCES ? " (only root may ask the controller)" : "");
		return fd;
	}
	err = ft_ctl_send_all(fd, request, strlen(request));
	if (!err)
		err = ft_ctl_send_all(fd, "\n", 1);
	if (!err)
		err = ft_ctl_read_all(fd, &buf, &len);
	if (!err) {
		err = ft_ctl_split(buf, len, &body);
		if (err == -EPROTO)
			pr_err("the controller on %s sent a malformed answer\n", path);
		else
			fwrite(buf, 1, body, out);
	}
	free(buf);
	close(fd);
	return err;
}
