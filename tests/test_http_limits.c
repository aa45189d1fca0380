// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics of a running controller against clients that do not play
 * along: idle connections, more of them than the server has slots, and
 * request headers past its memory limit. The controller runs on a veth in
 * a namespace of the test's own and serves /metrics on that namespace's
 * loopback; the test's sockets are made in that namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ft_test.h"
#include "http.h"
#include "textbuf.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

#define IDLE_MS	     (FT_HTTP_IDLE_SECS * 1000ULL)
#define STATUS_200   "HTTP/1.1 200 OK\r\n"
#define STATUS_431   "HTTP/1.1 431 Request Header Fields Too Large\r\n"
#define KNOWN_METRIC "\nflowtier_table_slots 1024\n"

static char ns[32], if_a[16], if_b[16], pin[64], sock[64], pidfile[64], in_ns[96];
static char out[1 << 16];
static int port, ns_fd = -1, self_fd = -1;

#define sh(...) cr_assert_eq(ft_run(out, sizeof(out), __VA_ARGS__), 0, "%s", out)

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(__u64 deadline)
{
	__u64 now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

static void setup(void)
{
	int p = getpid();
	char path[64];

	snprintf(ns, sizeof(ns), "fth-%d", p);
	snprintf(if_a, sizeof(if_a), "fth%da", p);
	snprintf(if_b, sizeof(if_b), "fth%db", p);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/ft-test-http-%d", p);
	snprintf(sock, sizeof(sock), "/run/ft-test-http-%d.sock", p);
	snprintf(pidfile, sizeof(pidfile), "/run/ft-test-http-%d.pid", p);
	snprintf(in_ns, sizeof(in_ns), "nsenter --net=/run/netns/%s", ns);
	port = 20000 + p % 20000;
	sh("ip netns add %s", ns);
	sh("ip -n %s link add %s type veth peer name %s && ip -n %s link set %s up && "
	   "ip -n %s link set %s up && ip -n %s link set lo up",
	   ns, if_a, if_b, ns, if_a, ns, if_b, ns);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(ns_fd >= 0 && self_fd >= 0);
}

static void teardown(void)
{
	char buf[4096];

	/* Only the controller this test started, by its pid. */
	ft_run(buf, sizeof(buf), "test -s %s && kill -9 $(cat %s); sleep 0.1", pidfile, pidfile);
	ft_run(buf, sizeof(buf), "%s " FT_BIN " unload --pin-dir %s", in_ns, pin);
	ft_run(buf, sizeof(buf), "ip netns del %s", ns);
	ft_run(buf, sizeof(buf), "rm -rf %s; rm -f %s %s %s.log", pin, sock, pidfile, pidfile);
	if (ns_fd >= 0)
		close(ns_fd);
	if (self_fd >= 0)
		close(self_fd);
}

/* Each test takes a little over the idle timeout. */
TestSuite(http_limits, .init = setup, .fini = teardown, .timeout = 60);

/* The default interval: nothing else wakes the loop often. */
static void start_controller(void)
{
	sh("%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s --offload none "
	   "--metrics 127.0.0.1:%d >>%s.log 2>&1 & echo $! > %s",
	   in_ns, pin, if_a, sock, port, pidfile, pidfile);
	for (int i = 0; i < 100; i++) {
		if (ft_run(out, sizeof(out), FT_BIN " status --socket %s", sock) == 0 &&
		    strstr(out, "controller: pid"))
			return;
		usleep(100 * 1000);
	}
	ft_run(out, sizeof(out), "cat %s.log", pidfile);
	cr_assert_fail("the controller did not answer: %s", out);
}

/* A non-blocking TCP socket of the namespace, connected to /metrics before deadline. */
static int tcp_open(__u64 deadline)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct pollfd p;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	cr_assert_eq(setns(ns_fd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_eq(setns(self_fd, CLONE_NEWNET), 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	cr_assert_eq(errno, EINPROGRESS, "connect: %s", strerror(errno));
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	cr_assert_eq(poll(&p, 1, left_ms(deadline)), 1, "not connected in time");
	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	cr_assert_eq(err, 0, "connect: %s", strerror(err));
	return fd;
}

/*
 * Sends req on a fresh connection and reads until the server closes it;
 * the whole exchange, connect included, must end before deadline. A reset
 * after the answer ends it too: the server may close with some of an
 * oversized request unread.
 */
static char *exchange(const char *req, __u64 deadline)
{
	struct ft_textbuf resp = {};
	size_t sent = 0, len = strlen(req);
	int fd = tcp_open(deadline);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0) };
		char buf[4096];
		ssize_t n;

		cr_assert_gt(poll(&p, 1, left_ms(deadline)), 0,
			     "no whole answer in time, got:\n%.*s", (int)resp.len,
			     resp.data ? resp.data : "");
		if (sent < len && (p.revents & POLLOUT)) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
				sent = len; /* answered already: read it */
			else if (n > 0)
				sent += n;
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n > 0)
			cr_assert_eq(ft_textbuf_append(&resp, buf, n), 0);
	}
	close(fd);
	return resp.data ? resp.data : strdup("");
}

#define SCRAPE "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

static void expect_scrape(__u64 deadline, const char *when)
{
	char *resp = exchange(SCRAPE, deadline);

	cr_assert_eq(strncmp(resp, STATUS_200, strlen(STATUS_200)), 0, "%s, got:\n%s", when, resp);
	cr_assert(strstr(resp, KNOWN_METRIC), "%s, no '%s' in:\n%s", when, KNOWN_METRIC + 1, resp);
	free(resp);
}

/* Sockets of fd[0..n) the server has closed: EOF or a reset waits to be read. */
static int closed_by_server(const int *fd, int n)
{
	int closed = 0;

	for (int i = 0; i < n; i++) {
		char c;
		ssize_t r = recv(fd[i], &c, 1, MSG_DONTWAIT | MSG_PEEK);

		cr_assert(r <= 0, "the server sent an idle client something");
		closed += r == 0 || errno == ECONNRESET;
	}
	return closed;
}

/* Waits until want of fd[0..n) are closed by the server, or the deadline; how many are. */
static int wait_closed(const int *fd, int n, int want, __u64 deadline)
{
	int closed;

	while ((closed = closed_by_server(fd, n)) < want && left_ms(deadline))
		usleep(10 * 1000);
	return closed;
}

/* n idle connections, each connected within a second; when the first was opened. */
static __u64 open_idle(int *fd, int n)
{
	__u64 t0 = now_ms();

	for (int i = 0; i < n; i++)
		fd[i] = tcp_open(now_ms() + 1000);
	return t0;
}

static void close_all(const int *fd, int n)
{
	for (int i = 0; i < n; i++)
		close(fd[i]);
}

#define NIDLE 64

Test(http_limits, idle_connections_time_out_and_a_scrape_after_the_timeout_is_answered)
{
	int idle[NIDLE];
	__u64 t0, t1;

	start_controller();
	t0 = open_idle(idle, NIDLE);
	t1 = now_ms();
	/* Held idle, they keep nobody else out. */
	expect_scrape(now_ms() + 1000, "a scrape while they are held");
	/* Nothing closes them before their timeout... */
	cr_assert_eq(wait_closed(idle, NIDLE, 1, t0 + IDLE_MS - 250), 0,
		     "idle connections closed before the idle timeout");
	/* ... held past it, a scrape is answered within a second of it. */
	usleep(left_ms(t1 + IDLE_MS + 100) * 1000);
	expect_scrape(t1 + IDLE_MS + 1000, "a scrape just after the idle timeout");
	cr_assert_eq(wait_closed(idle, NIDLE, NIDLE, t1 + IDLE_MS + 1000), NIDLE,
		     "idle connections left open past the idle timeout");
	close_all(idle, NIDLE);
}

#define NOVER (FT_HTTP_MAX_CONNS + 16)

/*
 * More idle clients than slots: the last ones wait in the listen queue.
 * The timeout frees every slot at once; the waiting clients and a scrape
 * must still be let in then, though nothing else is left to time out.
 */
Test(http_limits, clients_waiting_for_a_slot_get_in_when_the_timeout_frees_them)
{
	int idle[NOVER];
	__u64 t1;

	start_controller();
	open_idle(idle, NOVER);
	t1 = now_ms();
	usleep(left_ms(t1 + IDLE_MS + 100) * 1000);
	expect_scrape(t1 + IDLE_MS + 1000, "a scrape just after the idle timeout");
	/* The clients that waited got a slot when the others left, and hold it. */
	cr_assert_eq(wait_closed(idle, NOVER, FT_HTTP_MAX_CONNS, t1 + IDLE_MS + 1000),
		     FT_HTTP_MAX_CONNS);
	close_all(idle, NOVER);
}

static const char pad_head[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ";
static const char pad_tail[] = "\r\nConnection: close\r\n\r\n";
static char padded[64 * 1024];

/* GET /metrics whose request line and headers take n bytes, with one header padded. */
static const char *padded_request(size_t n)
{
	size_t pad = n - (sizeof(pad_head) - 1) - (sizeof(pad_tail) - 1);

	cr_assert_lt(n, sizeof(padded));
	memcpy(padded, pad_head, sizeof(pad_head) - 1);
	memset(padded + sizeof(pad_head) - 1, 'a', pad);
	memcpy(padded + sizeof(pad_head) - 1 + pad, pad_tail, sizeof(pad_tail));
	return padded;
}

static void expect_status(size_t n, const char *status)
{
	char *resp = exchange(padded_request(n), now_ms() + 2000);

	cr_assert_eq(strncmp(resp, status, strlen(status)), 0, "%zu bytes of headers got:\n%s", n,
		     resp);
	free(resp);
}

/*
 * Up to the limit a request is answered, past it 431: just past it, where
 * the request just fits in the connection's memory and leaves no room for
 * a reply, and where it does not fit at all. Each refused one takes the
 * server more than one read.
 */
Test(http_limits, request_headers_past_the_limit_get_431_and_up_to_it_200)
{
	start_controller();
	expect_status(20 * 1024, STATUS_431);
	expect_status(FT_HTTP_MAX_HEADERS, STATUS_200);
	expect_status(FT_HTTP_MAX_HEADERS + 1, STATUS_431);
	for (size_t n = 2 * FT_HTTP_MAX_HEADERS - 512; n <= 2 * FT_HTTP_MAX_HEADERS + 512; n += 64)
		expect_status(n, STATUS_431);
	expect_scrape(now_ms() + 1000, "a scrape after the refused requests");
}
