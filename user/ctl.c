// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "loop.h"

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

/*
 * A unix connect waits while the listener's backlog is full, for as long
 * as the send timeout allows: -EAGAIN past timeout_ms.
 */
static int ft_ctl_connect(const char *path, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	struct sockaddr_un sa;
	int fd, err = ft_ctl_addr(path, &sa);

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
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

/* What is at path, said in a refusal to remove it. */
static const char *ft_ctl_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a directory";
	return "a special file";
}

/* Whether the socket is ours to remove: root's, in a folder nobody else may change. */
static int ft_ctl_removable(const char *path, const char *dir, int dfd, const struct stat *st)
{
	struct stat ds;

	if (st->st_uid != 0) {
		pr_err("refusing to remove %s: the socket belongs to uid %u, not root (remove it "
		       "yourself if it is stale, or give --socket another path)\n",
		       path, (unsigned)st->st_uid);
		return -EPERM;
	}
	if (fstat(dfd, &ds))
		return -errno;
	if (ds.st_uid != 0 || (ds.st_mode & (S_IWGRP | S_IWOTH))) {
		pr_err("refusing to remove %s: %s can be written by users other than root (give "
		       "--socket a path in a directory only root can write, such as "
		       "/run/flowtier)\n",
		       path, dir);
		return -EPERM;
	}
	return 0;
}

/*
 * A socket file whose controller is gone (kill -9) is removed; a live one
 * is kept, and so is anything that is not a socket (a mistyped --socket
 * must not cost a file). The folder is held open from the check to the
 * unlink, so that what was checked is what goes.
 */
static int ft_ctl_clear_at(const char *path, const char *dir, const char *base, int dfd)
{
	struct stat st;
	int fd, err;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("refusing to remove %s: %s, not a socket (give --socket the path of the "
		       "controller's socket)\n",
		       path, ft_ctl_kind(st.st_mode));
		return -EPERM;
	}
	fd = ft_ctl_connect(path, 1000);
	if (fd >= 0 || fd == -EAGAIN) {
		if (fd >= 0)
			close(fd);
		pr_err("another flowtier controller answers on %s (stop it first, or give "
		       "--socket another path)\n",
		       path);
		return -EADDRINUSE;
	}
	err = ft_ctl_removable(path, dir, dfd, &st);
	if (!err && unlinkat(dfd, base, 0) && errno != ENOENT) {
		err = -errno;
		pr_err("cannot remove the stale socket %s: %s\n", path, strerror(-err));
	}
	return err;
}

static int ft_ctl_clear_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	int dfd, err;

	if (!slash)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		pr_err("cannot open %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	err = ft_ctl_clear_at(path, dir, base, dfd);
	close(dfd);
	return err;
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
	if (!err && listen(fd, FT_CTL_MAX_CLIENTS))
		err = -errno;
	if (err) {
		pr_err("cannot listen on %s: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

/* The server side. */

struct ft_ctl_client {
	int fd;		   /* -1: a free slot */
	__u64 deadline_ms; /* closed when it comes, whatever the exchange has reached */
	size_t have;	   /* bytes of the request line so far */
	char line[FT_CTL_LINE_MAX + 1];
	char *out; /* the answer being sent; NULL while the request is read */
	size_t out_len, out_sent;
};

/* epoll's tag for each fd: a client's slot, or one of these. */
enum {
	FT_CTL_EV_LISTEN = FT_CTL_MAX_CLIENTS,
	FT_CTL_EV_TIMER,
};

struct ft_ctl_server {
	int lfd, epfd, tfd;
	int accepting;	 /* lfd is watched */
	__u64 resume_ms; /* accept again from then on (after running out of fds) */
	ft_ctl_fn fn;
	void *arg;
	struct ft_ctl_client c[FT_CTL_MAX_CLIENTS];
};

static int ft_ctl_watch(struct ft_ctl_server *s, int op, int fd, __u32 events, __u64 tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(s->epfd, op, fd, &ev) ? -errno : 0;
}

/* Closing the fd also takes it out of the epoll set: it is never duplicated. */
static void ft_ctl_drop(struct ft_ctl_client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->have = c->out_len = c->out_sent = 0;
}

/* Sends what the socket takes; the rest when it says POLLOUT. Done: closed. */
static void ft_ctl_write(struct ft_ctl_server *s, struct ft_ctl_client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (ft_ctl_watch(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c - s->c))
				break;
			return;
		}
		if (n <= 0)
			break;
		c->out_sent += n;
	}
	ft_ctl_drop(c);
}

/* Only root: the socket's mode says so, and the peer's credentials must agree. */
static int ft_ctl_peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.uid == 0;
}

/* The answer to a whole line (err 0) or to a request already refused (err). */
static void ft_ctl_answer(struct ft_ctl_server *s, struct ft_ctl_client *c, int err)
{
	FILE *out = open_memstream(&c->out, &c->out_len);
	struct ft_ctl_req req;

	if (!out) {
		ft_ctl_drop(c);
		return;
	}
	if (!err && (err = ft_ctl_parse(c->line, &req)))
		fprintf(out, "error: malformed request\n");
	if (!err)
		err = s->fn(s->arg, &req, out);
	fprintf(out, "errno=%d\n", -err);
	if (fclose(out)) {
		ft_ctl_drop(c);
		return;
	}
	c->deadline_ms = ft_loop_now_ms() + FT_CTL_REPLY_MS;
	ft_ctl_write(s, c);
}

/* Reads what has come; answers once the line is whole. Returns 1 when it answered. */
static int ft_ctl_read(struct ft_ctl_server *s, struct ft_ctl_client *c)
{
	ssize_t n = recv(c->fd, c->line + c->have, FT_CTL_LINE_MAX - c->have, MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		ft_ctl_drop(c);
		return 0;
	}
	if (!n) {
		ft_ctl_answer(s, c, -EPROTO); /* it stopped before the end of its line */
		return 1;
	}
	nl = memchr(c->line + c->have, '\n', n);
	c->have += n;
	if (nl)
		*nl = '\0';
	else if (c->have < FT_CTL_LINE_MAX)
		return 0;
	ft_ctl_answer(s, c, nl ? 0 : -EMSGSIZE);
	return 1;
}

static struct ft_ctl_client *ft_ctl_free_slot(struct ft_ctl_server *s)
{
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++) {
		if (s->c[i].fd < 0)
			return &s->c[i];
	}
	return NULL;
}

static void ft_ctl_add_client(struct ft_ctl_server *s, struct ft_ctl_client *c, int fd)
{
	c->fd = fd;
	c->deadline_ms = ft_loop_now_ms() + FT_CTL_REQUEST_MS;
	if (ft_ctl_watch(s, EPOLL_CTL_ADD, fd, EPOLLIN, c - s->c))
		ft_ctl_drop(c);
	else if (!ft_ctl_peer_is_root(fd))
		ft_ctl_answer(s, c, -EPERM);
}

/* Takes connections while there is room; past that, they wait in the backlog. */
static int ft_ctl_accept(struct ft_ctl_server *s)
{
	struct ft_ctl_client *c;

	s->resume_ms = 0; /* full: again when a slot frees */
	while ((c = ft_ctl_free_slot(s))) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			ft_ctl_add_client(s, c, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return 0;
		/* Out of fds: pause rather than spin on a listener that stays readable. */
		s->resume_ms = ft_loop_now_ms() + 100;
		break;
	}
	s->accepting = 0;
	return ft_ctl_watch(s, EPOLL_CTL_DEL, s->lfd, 0, 0);
}

static int ft_ctl_resume(struct ft_ctl_server *s, __u64 now)
{
	if (s->accepting || now < s->resume_ms || !ft_ctl_free_slot(s))
		return 0;
	s->accepting = 1;
	return ft_ctl_watch(s, EPOLL_CTL_ADD, s->lfd, EPOLLIN, FT_CTL_EV_LISTEN);
}

static void ft_ctl_expire(struct ft_ctl_server *s, __u64 now)
{
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++) {
		if (s->c[i].fd >= 0 && now >= s->c[i].deadline_ms) {
			pr_debug("control socket: a client missed its deadline, closed\n");
			ft_ctl_drop(&s->c[i]);
		}
	}
}

/* The timer rings at the nearest deadline (or resume); none: disarmed. */
static int ft_ctl_arm(struct ft_ctl_server *s, __u64 now)
{
	struct itimerspec its = { 0 };
	__u64 at = !s->accepting && s->resume_ms > now ? s->resume_ms : 0;
	char tick[8];

	/* Emptied first: it was read or is to be set anew. */
	if (read(s->tfd, tick, sizeof(tick)) < 0 && errno != EAGAIN)
		return -errno;
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++) {
		if (s->c[i].fd >= 0 && (!at || s->c[i].deadline_ms < at))
			at = s->c[i].deadline_ms;
	}
	its.it_value.tv_sec = at / 1000;
	its.it_value.tv_nsec = at % 1000 * 1000000;
	return timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL) ? -errno : 0;
}

int ft_ctl_server_run(struct ft_ctl_server *s)
{
	struct epoll_event ev[FT_CTL_MAX_CLIENTS];
	int n, err = 0, answered = 0, pending = 0;
	__u64 now = ft_loop_now_ms();

	ft_ctl_expire(s, now);
	n = epoll_wait(s->epfd, ev, FT_CTL_MAX_CLIENTS, 0);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		__u64 tag = ev[i].data.u64;
		struct ft_ctl_client *c = tag < FT_CTL_MAX_CLIENTS ? &s->c[tag] : NULL;

		if (tag == FT_CTL_EV_LISTEN)
			pending = 1;
		else if (c && c->fd >= 0 && c->out)
			ft_ctl_write(s, c);
		else if (c && c->fd >= 0)
			answered += ft_ctl_read(s, c);
	}
	/* After the clients: a slot freed above is not reused under a stale event. */
	if (pending)
		err = ft_ctl_accept(s);
	now = ft_loop_now_ms();
	if (!err)
		err = ft_ctl_resume(s, now);
	if (!err)
		err = ft_ctl_arm(s, now);
	return err ? err : answered;
}

int ft_ctl_server_fd(const struct ft_ctl_server *s)
{
	return s->epfd;
}

int ft_ctl_server_new(struct ft_ctl_server **sp, int lfd, ft_ctl_fn fn, void *arg)
{
	struct ft_ctl_server *s = calloc(1, sizeof(*s));
	int err;

	*sp = NULL;
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++)
		s->c[i].fd = -1;
	s->lfd = lfd;
	s->fn = fn;
	s->arg = arg;
	s->accepting = 1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	err = s->epfd < 0 || s->tfd < 0 ? -errno : 0;
	if (!err)
		err = ft_ctl_watch(s, EPOLL_CTL_ADD, s->tfd, EPOLLIN, FT_CTL_EV_TIMER);
	if (!err)
		err = ft_ctl_watch(s, EPOLL_CTL_ADD, lfd, EPOLLIN, FT_CTL_EV_LISTEN);
	if (err) {
		pr_err("cannot serve the control socket: %s\n", strerror(-err));
		ft_ctl_server_free(s);
		return err;
	}
	*sp = s;
	return 0;
}

void ft_ctl_server_free(struct ft_ctl_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < FT_CTL_MAX_CLIENTS; i++) {
		if (s->c[i].fd >= 0)
			ft_ctl_drop(&s->c[i]);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s);
}

/* The client side: every step within one deadline. */

/* Waits for events on fd until deadline_ms; -ETIMEDOUT past it. */
static int ft_ctl_wait(int fd, short events, __u64 deadline_ms)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		__u64 now = ft_loop_now_ms();
		int n;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(deadline_ms - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int ft_ctl_send_all(int fd, const char *buf, size_t len, __u64 deadline_ms)
{
	while (len) {
		int err = ft_ctl_wait(fd, POLLOUT, deadline_ms);
		ssize_t n;

		if (err)
			return err;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The reply's last line is "errno=N" (*server_err is -N); everything before it is the answer. */
static int ft_ctl_split(char *buf, size_t len, size_t *body_len, int *server_err)
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
	*server_err = (int)-v;
	return 0;
}

/* Makes room for more of the answer, up to FT_CTL_REPLY_MAX. */
static int ft_ctl_grow(char **buf, size_t len, size_t *cap)
{
	char *nb;

	if (len < *cap)
		return 0;
	if (*cap >= FT_CTL_REPLY_MAX)
		return -EMSGSIZE;
	*cap = *cap ? *cap * 2 : 65536;
	nb = realloc(*buf, *cap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	return 0;
}

static int ft_ctl_read_all(int fd, char **buf, size_t *len, __u64 deadline_ms)
{
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	for (;;) {
		int err = ft_ctl_grow(buf, *len, &cap);
		ssize_t n;

		if (!err)
			err = ft_ctl_wait(fd, POLLIN, deadline_ms);
		if (err)
			return err;
		n = recv(fd, *buf + *len, cap - *len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		*len += n;
	}
}

/* Whoever listens there must be root, as the controller is, before its answer counts. */
static int ft_ctl_server_is_root(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return -errno;
	if (cred.uid == 0)
		return 0;
	pr_err("refusing to trust %s: the process listening there runs as uid %u, not root\n", path,
	       (unsigned)cred.uid);
	return FT_CTL_FAILED;
}

/* The request out and the answer in, within deadline_ms; 0 or -errno. */
static int ft_ctl_exchange(int fd, const char *request, char **buf, size_t *len, __u64 deadline_ms)
{
	int err = ft_ctl_send_all(fd, request, strlen(request), deadline_ms);

	if (!err)
		err = ft_ctl_send_all(fd, "\n", 1, deadline_ms);
	if (!err)
		err = ft_ctl_read_all(fd, buf, len, deadline_ms);
	return err;
}

/* Says why the exchange failed; FT_CTL_FAILED from then on. */
static int ft_ctl_failed(const char *path, int err)
{
	if (err == FT_CTL_FAILED)
		return err;
	if (err == -ETIMEDOUT || err == -EAGAIN)
		pr_err("the controller on %s did not answer within %d s\n", path,
		       FT_CTL_QUERY_MS / 1000);
	else if (err == -EPROTO)
		pr_err("the controller on %s sent a malformed answer\n", path);
	else
		pr_err("the exchange with the controller on %s failed: %s\n", path, strerror(-err));
	return FT_CTL_FAILED;
}

int ft_ctl_query(const char *path, const char *request, FILE *out)
{
	__u64 deadline_ms = ft_loop_now_ms() + FT_CTL_QUERY_MS;
	int fd = ft_ctl_connect(path, FT_CTL_QUERY_MS), err, server_err = 0;
	size_t len = 0, body = 0;
	char *buf = NULL;

	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return 1;
	if (fd == -EAGAIN)
		return ft_ctl_failed(path, fd);
	if (fd < 0) {
		pr_err("cannot connect to %s: %s%s\n", path, strerror(-fd),
		       fd == -EACCES ? " (only root may ask the controller)" : "");
		return FT_CTL_FAILED;
	}
	err = ft_ctl_server_is_root(fd, path);
	if (!err)
		err = ft_ctl_exchange(fd, request, &buf, &len, deadline_ms);
	if (!err)
		err = ft_ctl_split(buf, len, &body, &server_err);
	if (!err)
		fwrite(buf, 1, body, out);
	free(buf);
	close(fd);
	return err ? ft_ctl_failed(path, err) : server_err;
}
