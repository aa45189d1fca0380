// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the /metrics server's request path, end to end. Each
 * input is sent as a request over a real TCP connection to the server the
 * controller runs (user/http.c, libmicrohttpd in the caller's loop), which
 * is then run until it closes the connection or goes quiet. Whatever it
 * answers must be an HTTP/1.x reply, and it must never stall.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

/* Rounds of the server, each up to 1 ms: a reply takes one or two. */
#define FT_FUZZ_ROUNDS 50

static struct ft_http *ft_fuzz_http;

static int ft_fuzz_render(struct ft_textbuf *out, void *ctx)
{
	(void)ctx;
	return ft_textbuf_printf(out, "flowtier_fuzz 1\n");
}

static int ft_fuzz_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(ft_http_port(ft_fuzz_http)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Runs the server until the client's connection is closed; what came back, in reply. */
static size_t ft_fuzz_exchange(int fd, char *reply, size_t cap)
{
	size_t got = 0;

	for (int i = 0; i < FT_FUZZ_ROUNDS; i++) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = ft_http_fd(ft_fuzz_http), .events = POLLIN } };
		ssize_t n;

		ft_http_run(ft_fuzz_http);
		if (poll(p, 2, 1) <= 0 || !p[0].revents)
			continue;
		n = recv(fd, reply + got, cap - got, MSG_DONTWAIT);
		if (n <= 0)
			return got;
		got += n;
		if (got == cap)
			return got;
	}
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char reply[65536];
	size_t got;
	int fd;

	if (!ft_fuzz_http && ft_http_start(&ft_fuzz_http, "127.0.0.1:0", ft_fuzz_render, NULL))
		abort();
	fd = ft_fuzz_connect();
	if (fd < 0)
		abort();
	if (size && send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		close(fd);
		return 0;
	}
	shutdown(fd, SHUT_WR);
	got = ft_fuzz_exchange(fd, reply, sizeof(reply));
	close(fd);
	/* Drain the server's side of the close, so connections do not pile up. */
	for (int i = 0; i < 4; i++)
		ft_http_run(ft_fuzz_http);
	if (got && (got < 9 || memcmp(reply, "HTTP/1.", 7)))
		abort();
	return 0;
}
