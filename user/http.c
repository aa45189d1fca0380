// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP glue for /metrics: libmicrohttpd in its epoll mode without an
 * internal thread, on a listening socket of our own, so that a bad address
 * or a taken port is reported with the socket's own errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

/*
 * Each connection's memory: the request is kept in it until the reply's
 * headers are built there. A request past it libmicrohttpd answers with
 * 431 itself (414 for the request line alone); one within
 * FT_HTTP_MAX_HEADERS leaves room for any reply.
 */
#define FT_HTTP_REQUEST_MEM (2 * FT_HTTP_MAX_HEADERS)

/* Clients beyond the limit wait in the kernel's queue for a slot, not refused. */
#define FT_HTTP_LISTEN_QUEUE FT_HTTP_MAX_CONNS

struct ft_http {
	struct MHD_Daemon *mhd;
	int epoll_fd;
	__u16 port;
	ft_http_render_fn render;
	void *ctx;
	struct ft_textbuf text; /* kept from one scrape to the next */
	unsigned long closed;	/* connections libmicrohttpd has closed */
};

static int ft_http_bad(const char *s, const char *why)
{
	pr_err("bad value '%s' for --metrics: %s; expected ADDR:PORT with an IPv4 address "
	       "(" FT_HTTP_DEFAULT_LISTEN "), [IPv6]:PORT ([::1]:9469), or off\n",
	       s, why);
	return -EINVAL;
}

/* Digits only, no sign, no spaces, 0 to 65535. */
static int ft_http_parse_port(const char *p, __u16 *port)
{
	unsigned long v = 0;

	if (!*p || strlen(p) > 5)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

int ft_http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t hlen;
	__u16 port;
	int v6 = s[0] == '[';

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	if (!strcmp(s, "off"))
		return 0;
	colon = v6 ? strstr(s, "]:") : strrchr(s, ':');
	if (!colon)
		return ft_http_bad(s, v6 ? "no ']:PORT' after the address" : "no ':PORT'");
	if (v6)
		colon++;
	hlen = colon - s - 2 * v6;
	if (hlen >= sizeof(host))
		return ft_http_bad(s, "the address is too long");
	memcpy(host, s + v6, hlen);
	host[hlen] = '\0';
	if (ft_http_parse_port(colon + 1, &port))
		return ft_http_bad(s, "the port is not a number from 0 to 65535");
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return ft_http_bad(s, "not an IPv6 address in the brackets");
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (strchr(host, ':'))
			return ft_http_bad(s, "an IPv6 address goes in brackets");
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return ft_http_bad(s, "not an IPv4 address (host names are not looked up)");
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
	}
	return 0;
}

static const char *ft_http_listen_hint(int err)
{
	switch (err) {
	case EADDRINUSE:
		return " (another program has that port: choose another with --metrics "
		       "ADDR:PORT, or turn metrics off with --metrics off)";
	case EADDRNOTAVAIL:
		return " (no interface of this host has that address)";
	case EACCES:
		return " (ports below 1024 need root)";
	default:
		return "";
	}
}

/* A non-blocking listening socket on ss; its fd or -errno after saying why. */
static int ft_http_listen(const char *where, const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A restarted controller must not wait for the old connections' TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	/* [::]:PORT means IPv6 only; IPv4 is asked for by its own address. */
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, FT_HTTP_LISTEN_QUEUE))
		goto fail;
	return fd;
fail:
	err = errno;
	pr_err("cannot listen on %s for --metrics: %s%s\n", where, strerror(err),
	       ft_http_listen_hint(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

static enum MHD_Result ft_http_reply(struct MHD_Connection *c, unsigned int status,
				     const char *type, const char *body, size_t len,
				     const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result ft_http_text(struct MHD_Connection *c, unsigned int status, const char *text,
				    const char *allow)
{
	return ft_http_reply(c, status, "text/plain; charset=utf-8", text, strlen(text), allow);
}

/*
 * 431, written to the socket, and the connection closed. A request that
 * just fits in the connection's memory leaves no room there for a reply,
 * and libmicrohttpd would then close without one; nothing has been
 * written for this request yet, so the refusal cannot mix with a reply.
 */
static enum MHD_Result ft_http_too_large(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	char body[96], reply[256];
	int blen = snprintf(body, sizeof(body),
			    "request header fields too large: flowtier takes up to %d bytes\n",
			    FT_HTTP_MAX_HEADERS);
	int len = snprintf(reply, sizeof(reply),
			   "HTTP/1.1 431 Request Header Fields Too Large\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			   blen, body);

	/* A client that does not read its replies may not get this one: it is not waited for. */
	if (info && send(info->connect_fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pr_debug("http: cannot send 431: %s\n", strerror(errno));
	return MHD_NO; /* libmicrohttpd closes the connection */
}

static int ft_http_headers_fit(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);

	return !info || info->header_size <= FT_HTTP_MAX_HEADERS;
}

/* One request: libmicrohttpd has parsed and bounded it already. */
static enum MHD_Result ft_http_handle(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct ft_http *h = cls;
	int err;

	(void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
	if (!ft_http_headers_fit(c))
		return ft_http_too_large(c);
	if (strcmp(url, "/metrics"))
		return ft_http_text(c, MHD_HTTP_NOT_FOUND, "not found: flowtier serves /metrics\n",
				    NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return ft_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed: /metrics answers GET and HEAD\n",
				    "GET, HEAD");
	ft_textbuf_reset(&h->text);
	err = h->render(&h->text, h->ctx);
	if (err) {
		pr_warn("cannot render /metrics: %s\n", strerror(-err));
		return ft_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "flowtier could not collect its metrics; see its log\n", NULL);
	}
	return ft_http_reply(c, MHD_HTTP_OK, FT_METRICS_CONTENT_TYPE,
			     h->text.data ? h->text.data : "", h->text.len, NULL);
}

/* libmicrohttpd's own messages (a malformed request, a failed accept) go to our log. */
static void ft_http_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_debug("http: %s\n", msg);
}

static __u16 ft_http_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/* Counts closed connections: see ft_http_run(). */
static void ft_http_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
			   enum MHD_ConnectionNotificationCode code)
{
	struct ft_http *h = cls;

	(void)c, (void)socket_ctx;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		h->closed++;
}

static int ft_http_daemon(struct ft_http *h, int fd, int v6)
{
	const union MHD_DaemonInfo *info;

	/* The logger first: libmicrohttpd prints what comes before it to stderr itself. */
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0), 0,
				  NULL, NULL, ft_http_handle, h, MHD_OPTION_EXTERNAL_LOGGER,
				  ft_http_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)FT_HTTP_MAX_CONNS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)FT_HTTP_IDLE_SECS,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)FT_HTTP_REQUEST_MEM,
				  MHD_OPTION_NOTIFY_CONNECTION, ft_http_notify, h, MHD_OPTION_END);
	if (!h->mhd) {
		pr_err("cannot start the HTTP server for --metrics (libmicrohttpd refused)\n");
		return -EIO;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		pr_err("cannot start the HTTP server for --metrics: no epoll fd\n");
		return -EIO;
	}
	h->epoll_fd = info->epoll_fd;
	return 0;
}

int ft_http_start(struct ft_http **hp, const char *where, ft_http_render_fn render, void *ctx)
{
	struct sockaddr_storage ss;
	struct ft_http *h;
	socklen_t len;
	int fd, err;

	*hp = NULL;
	if (!where)
		where = FT_HTTP_DEFAULT_LISTEN;
	err = ft_http_parse_listen(where, &ss, &len);
	if (err || !len)
		return err;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->render = render;
	h->ctx = ctx;
	fd = ft_http_listen(where, &ss, len);
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->port = ft_http_bound_port(fd);
	err = ft_http_daemon(h, fd, ss.ss_family == AF_INET6);
	if (err) {
		if (!h->mhd)
			close(fd); /* the daemon owns it once started */
		ft_http_stop(h);
		return err;
	}
	*hp = h;
	return 0;
}

int ft_http_fd(const struct ft_http *h)
{
	return h->epoll_fd;
}

int ft_http_timeout_ms(const struct ft_http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->mhd, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

/*
 * At its connection limit libmicrohttpd takes the listening socket out of
 * its epoll set, and puts it back only at the start of a run with a slot
 * free. A run that closed connections may have freed the last ones: with
 * nothing left to time out, no later run would come and the clients
 * waiting in the listen queue would never be accepted. A second run puts
 * the socket back now.
 */
int ft_http_run(struct ft_http *h)
{
	unsigned long closed = h->closed;

	if (MHD_run(h->mhd) != MHD_YES)
		return -EIO;
	if (h->closed != closed && MHD_run(h->mhd) != MHD_YES)
		return -EIO;
	return 0;
}

__u16 ft_http_port(const struct ft_http *h)
{
	return h->port;
}

void ft_http_stop(struct ft_http *h)
{
	if (!h)
		return;
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	ft_textbuf_free(&h->text);
	free(h);
}
