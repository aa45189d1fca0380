// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus text: whole texts rendered from crafted sources, the HTTP
 * server answered through a plain socket, the datapath's counts after
 * crafted packets, and flowtier metrics checked by promtool.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ft_test.h"
#include "http.h"
#include "hw.h"
#include "metrics.h"
#include "offload.h"
#include "scan.h"

/* ---- The renderer on crafted sources ---- */

static struct ft_bucket table[2];
static struct ft_zone zones[FT_MAX_ZONES];

static void key4(struct ft_key *k, const char *a0, __u16 p0, const char *a1, __u16 p1, __u8 proto,
		 __u16 zone)
{
	memset(k, 0, sizeof(*k));
	inet_pton(AF_INET, a0, k->addr[0]);
	inet_pton(AF_INET, a1, k->addr[1]);
	k->port[0] = htons(p0), k->port[1] = htons(p1);
	k->proto = proto, k->family = FT_FAMILY_IPV4, k->zone = zone;
}

static void key6(struct ft_key *k, const char *a0, __u16 p0, const char *a1, __u16 p1, __u8 proto,
		 __u16 zone)
{
	memset(k, 0, sizeof(*k));
	inet_pton(AF_INET6, a0, k->addr[0]);
	inet_pton(AF_INET6, a1, k->addr[1]);
	k->port[0] = htons(p0), k->port[1] = htons(p1);
	k->proto = proto, k->family = FT_FAMILY_IPV6, k->zone = zone;
}

/*
 * Three connections in four entries of two buckets:
 * - UDP 198.18.0.1:1000 -> 198.18.0.2:53, zone 0, established, pass;
 *   3 packets / 426 bytes from the opener, 2 / 124 back;
 * - TCP [2001:db8::2]:50000 -> [2001:db8::1]:443, opened by side 1, zone
 *   100, syn_sent, drop, in hardware; 5 packets / 300 bytes;
 * - ICMP echo 198.18.0.3 -> 198.18.0.4 id 7, zone 100, new, redirect;
 *   1 packet / 98 bytes;
 * - the UDP connection again in another bucket, with 4 replies / 248 bytes:
 *   two entries of the table, one flow of a scan.
 */
static void build_table(void)
{
	struct ft_conn *c;

	memset(table, 0, sizeof(table));
	c = &table[0].slot[0];
	table[0].meta[0] = FT_META(0x1234, FT_TO_UDP_ESTABLISHED, 1);
	key4(&c->key, "198.18.0.1", 1000, "198.18.0.2", 53, 17, 0);
	c->verdict = FT_VERDICT_PASS, c->first_ns = 1;
	c->dir[0] = (struct ft_dir){ .packets = 3, .bytes = 426, .last_ns = 2 };
	c->dir[1] = (struct ft_dir){ .packets = 2, .bytes = 124, .last_ns = 2 };

	c = &table[0].slot[3];
	table[0].meta[3] = FT_META(0x2345, FT_TO_TCP_SYN_SENT, 1);
	key6(&c->key, "2001:db8::1", 443, "2001:db8::2", 50000, 6, 100);
	c->verdict = FT_VERDICT_DROP, c->hw = FT_HW_OFFLOADED, c->first_ns = 1;
	c->flags = FT_CONN_ORIG_IS_1;
	/* Counted on two CPUs: the owner's 3, another CPU's 2. */
	c->dir[1] = (struct ft_dir){
		.packets = 3, .bytes = 180, .last_ns = 3, .shared_packets = 2, .shared_bytes = 120
	};

	c = &table[1].slot[7];
	table[1].meta[7] = FT_META(0x3456, FT_TO_ICMP_NEW, 1);
	key4(&c->key, "198.18.0.3", 7, "198.18.0.4", 7, 1, 100);
	c->verdict = FT_VERDICT_REDIRECT, c->first_ns = 1;
	c->dir[0] = (struct ft_dir){ .packets = 1, .bytes = 98, .last_ns = 1 };

	/*
	 * A second entry of the UDP connection's key, as two CPUs make when the
	 * bucket lock timed out, with replies only.
	 */
	c = &table[1].slot[0];
	table[1].meta[0] = FT_META(0x1234, FT_TO_UDP_ESTABLISHED, 1);
	key4(&c->key, "198.18.0.1", 1000, "198.18.0.2", 53, 17, 0);
	c->verdict = FT_VERDICT_PASS, c->first_ns = 2;
	c->dir[1] = (struct ft_dir){ .packets = 4, .bytes = 248, .last_ns = 5 };
}

static const struct ft_stats stats = {
	.packets = { 1, 2, 3 },
	.verdict = { 4, 5, 6 },
	.malformed = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21 },
	.nonip = { 30, 31, 32, 33, 34 },
	.fragments = 40,
	.created = 41,
	.evicted = { 42, 43 },
	.reclaimed = { 44, 45, 46, 47 },
	.insert_failed = { 48, 49 },
	.redirect_failed = 50,
	.zone_sweeps = 51,
	.foreign = 52,
	.owner_moves = 53,
	.create_races = 54,
	.lock_timeouts = 55,
};

static void build_zones(void)
{
	memset(zones, 0, sizeof(zones));
	zones[0].count = 2;
	zones[7].refused = 1;
	zones[100] = (struct ft_zone){ .limit = 5, .refused = 3 };
	zones[65535] = (struct ft_zone){ .count = 1, .limit = 1 };
}

static const struct ft_offload_dev_stats devs[2] = {
	{
		.ifindex = 3,
		.rules = 10,
		.capacity = 12,
		.oor = 1,
		.oor_enter = 2,
		.oor_leave = 1,
		.installs = 20,
		.removals = 10,
		.swaps = 4,
		.rollbacks = 1,
		.failures = { [FT_HWC_EXHAUSTED] = 2, [FT_HWC_TRANSIENT] = 1 },
		.last_extack = "table \"full\": \\ no\nroom \xff",
	},
	{ .ifindex = 9 },
};

static const struct ft_offload_stats offload = {
	.intervals = 42,
	.coverage = 0.75,
	.hw_packets = 750,
	.sw_packets = 250,
	.ndevs = 2,
	.devs = devs,
};

/* Device 3 has a name that needs escaping; the others have none any more. */
static int test_ifname(__u32 ifindex, char *buf, size_t len)
{
	if (ifindex != 3)
		return -ENODEV;
	snprintf(buf, len, "eth\"0\\");
	return 0;
}

/* The expected texts live in tests/metrics/, where promtool checks them too. */
#define FT_EXPECT_DIR "tests/metrics/"

/* The whole file, NUL-terminated; the caller frees it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	cr_assert_not_null(f, "cannot open %s (tests run from the repository's root)", path);
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	cr_assert_geq(n, 0, "cannot read %s", path);
	return buf;
}

enum { SRC_TABLE = 1, SRC_STATS = 2, SRC_ZONES = 4, SRC_SCAN = 8, SRC_OFFLOAD = 16 };

static const struct {
	const char *file; /* under FT_EXPECT_DIR; NULL: an empty text */
	int parts;
} cases[] = {
	{ NULL, 0 },
	{ "table.prom", SRC_TABLE },
	{ "stats.prom", SRC_STATS },
	{ "zones.prom", SRC_ZONES },
	{ "scan.prom", SRC_SCAN }, /* and the top 2 directions by packets */
	{ "offload.prom", SRC_OFFLOAD },
	/* Traffic and connections then come from the scan's flows, the rest in order. */
	{ "all.prom", SRC_TABLE | SRC_STATS | SRC_ZONES | SRC_SCAN | SRC_OFFLOAD },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static char *expected(size_t i)
{
	char path[128];

	if (!cases[i].file)
		return strdup("");
	snprintf(path, sizeof(path), FT_EXPECT_DIR "%s", cases[i].file);
	return slurp(path);
}

static void render_case(int parts, struct ft_textbuf *out)
{
	struct ft_metrics_src src = { .ifname = test_ifname };
	struct ft_scan *scan = NULL;

	build_table();
	build_zones();
	if (parts & SRC_TABLE)
		src.buckets = table, src.nr_buckets = 2;
	if (parts & SRC_STATS)
		src.stats = &stats;
	if (parts & SRC_ZONES)
		src.zones = zones;
	if (parts & SRC_SCAN) {
		cr_assert_eq(ft_scan_new(&scan, 2 * FT_SLOTS, 0), 0);
		cr_assert_eq(ft_scan_run(scan, table, 2, 1000), 0);
		src.scan = scan, src.last_scan_ns = 1500000;
		src.top = 2, src.top_sort = FT_SORT_PACKETS;
	}
	if (parts & SRC_OFFLOAD)
		src.offload = &offload;
	cr_assert_eq(ft_metrics_render(&src, out), 0);
	ft_scan_free(scan);
}

Test(metrics, renders_each_source_as_the_exact_text)
{
	for (size_t i = 0; i < NCASES; i++) {
		struct ft_textbuf out = {};
		char *expect = expected(i);

		render_case(cases[i].parts, &out);
		cr_assert_str_eq(out.data ? out.data : "", expect, "case %s:\n%s",
				 cases[i].file ? cases[i].file : "nothing",
				 out.data ? out.data : "");
		ft_textbuf_free(&out);
		free(expect);
	}
}

Test(metrics, label_values_are_escaped_and_kept_utf8)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "plain", "plain" },
		{ "a\"b", "a\\\"b" },
		{ "back\\slash", "back\\\\slash" },
		{ "two\nlines", "two\\nlines" },
		{ "tab\there", "tab\there" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xe2\x82\xac euro", "\xe2\x82\xac euro" },
		{ "bad \xff byte", "bad \xef\xbf\xbd byte" },
		{ "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd" },
		{ "surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ft_textbuf b = {};

		cr_assert_eq(ft_metrics_escape(&b, t[i].in), 0);
		cr_assert_str_eq(b.data ? b.data : "", t[i].out, "escaping '%s'", t[i].in);
		ft_textbuf_free(&b);
	}
}

Test(metrics, top_is_capped_and_zero_gives_no_per_flow_series)
{
	struct ft_metrics_src src = {};
	struct ft_textbuf out = {};
	struct ft_scan *scan;

	build_table();
	cr_assert_eq(ft_scan_new(&scan, 2 * FT_SLOTS, 0), 0);
	cr_assert_eq(ft_scan_run(scan, table, 2, 1000), 0);
	src.scan = scan;
	cr_assert_eq(ft_metrics_render(&src, &out), 0);
	cr_assert_null(strstr(out.data, "flowtier_top_flow"), "%s", out.data);
	ft_textbuf_reset(&out);
	src.top = (size_t)-1;
	cr_assert_eq(ft_metrics_render(&src, &out), 0);
	/* Three flows carry four directions with packets; the ICMP reply carried none. */
	cr_assert_eq(strstr(out.data, "# TYPE flowtier_top_flow_packets_total counter\n") != NULL,
		     1);
	{
		int n = 0;

		for (const char *p = out.data;
		     (p = strstr(p, "\nflowtier_top_flow_packets_total{")); p++)
			n++;
		cr_assert_eq(n, 4, "%s", out.data);
	}
	ft_textbuf_free(&out);
	ft_scan_free(scan);
}

/* ---- The HTTP server, asked through a plain socket ---- */

static const char fixed_body[] = "# HELP x_total A test.\n# TYPE x_total counter\nx_total 1\n";

static int render_fixed(struct ft_textbuf *out, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	return ft_textbuf_append(out, fixed_body, strlen(fixed_body));
}

static int render_fails(struct ft_textbuf *out, void *ctx)
{
	(void)out, (void)ctx;
	return -EIO;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends req to the server on loopback and drives the server, as a poll
 * loop would, until the server closes the connection (HTTP/1.0, or an
 * error). Returns the whole response.
 */
static char *exchange(struct ft_http *h, int family, const char *req)
{
	struct sockaddr_storage ss = {};
	struct ft_textbuf resp = {};
	size_t sent = 0, len = strlen(req);
	__u64 deadline = now_ms() + 5000;
	socklen_t slen;
	int fd;

	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6, a->sin6_port = htons(ft_http_port(h));
		a->sin6_addr = in6addr_loopback;
		slen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET, a->sin_port = htons(ft_http_port(h));
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		slen = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	cr_assert(!connect(fd, (struct sockaddr *)&ss, slen) || errno == EINPROGRESS, "connect: %s",
		  strerror(errno));
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0) },
			{ .fd = ft_http_fd(h), .events = POLLIN },
		};
		char buf[4096];
		ssize_t n;

		cr_assert_lt(now_ms(), deadline, "no complete answer to '%s' within 5 s", req);
		cr_assert_geq(poll(p, 2, 50), 0);
		cr_assert_eq(ft_http_run(h), 0);
		if (sent < len && (p[0].revents & POLLOUT)) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += n;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n > 0)
			ft_textbuf_append(&resp, buf, n);
	}
	close(fd);
	return resp.data ? resp.data : strdup("");
}

/* The value of header name in resp (its line, without CRLF), or NULL. */
static char *header(const char *resp, const char *name)
{
	char *r = NULL;
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\r\n%s: ", name);
	p = strcasestr(resp, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	end = strstr(p, "\r\n");
	cr_assert_not_null(end);
	cr_assert_geq(asprintf(&r, "%.*s", (int)(end - p), p), 0);
	return r;
}

static const char *body(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	cr_assert_not_null(p, "no end of headers in %s", resp);
	return p + 4;
}

static struct ft_http *start(const char *where, ft_http_render_fn fn, void *ctx)
{
	struct ft_http *h;

	cr_assert_eq(ft_http_start(&h, where, fn, ctx), 0, "cannot serve on %s", where);
	cr_assert_not_null(h);
	cr_assert_neq(ft_http_port(h), 0);
	return h;
}

/* One exchange; checks the status line and, when not NULL, the body. */
static void expect(struct ft_http *h, int family, const char *req, const char *status,
		   const char *want_body)
{
	char *resp = exchange(h, family, req);

	cr_assert_eq(strncmp(resp, status, strlen(status)), 0, "'%s' got:\n%s", req, resp);
	if (want_body)
		cr_assert_str_eq(body(resp), want_body, "'%s' got:\n%s", req, resp);
	free(resp);
}

Test(http, get_metrics_is_200_with_the_exact_text_and_its_content_type)
{
	int calls = 0;
	struct ft_http *h = start("127.0.0.1:0", render_fixed, &calls);
	char *resp = exchange(h, AF_INET, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
	char *type = header(resp, "Content-Type"), *clen = header(resp, "Content-Length");
	char want_len[16];

	cr_assert_eq(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", resp);
	cr_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
	snprintf(want_len, sizeof(want_len), "%zu", strlen(fixed_body));
	cr_assert_str_eq(clen, want_len);
	cr_assert_str_eq(body(resp), fixed_body);
	cr_assert_eq(calls, 1, "one rendering per scrape");
	free(resp), free(type), free(clen);

	/* A query string is still /metrics; HEAD has the headers, no body. */
	expect(h, AF_INET, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", fixed_body);
	resp = exchange(h, AF_INET, "HEAD /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", resp);
	cr_assert_str_eq(body(resp), "");
	free(resp);
	ft_http_stop(h);
}

Test(http, other_paths_are_404_other_methods_405_with_allow)
{
	int calls = 0;
	struct ft_http *h = start("127.0.0.1:0", render_fixed, &calls);
	char *resp, *allow;

	expect(h, AF_INET, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 404 Not Found\r\n",
	       "not found: flowtier serves /metrics\n");
	expect(h, AF_INET, "GET /metrics/x HTTP/1.0\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", NULL);
	expect(h, AF_INET, "DELETE /nothing HTTP/1.0\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", NULL);
	resp = exchange(h, AF_INET, "POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
	cr_assert_eq(strncmp(resp, "HTTP/1.1 405 Method Not Allowed\r\n", 33), 0, "%s", resp);
	allow = header(resp, "Allow");
	cr_assert_str_eq(allow, "GET, HEAD");
	cr_assert_str_eq(body(resp), "method not allowed: /metrics answers GET and HEAD\n");
	free(resp), free(allow);
	expect(h, AF_INET, "PUT /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n",
	       NULL);
	cr_assert_eq(calls, 0, "nothing rendered for a refused request");
	ft_http_stop(h);
}

Test(http, garbage_gets_400_and_the_server_goes_on)
{
	int calls = 0;
	struct ft_http *h = start("127.0.0.1:0", render_fixed, &calls);

	expect(h, AF_INET, "\x01\x02 garbage\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", NULL);
	expect(h, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", fixed_body);
	ft_http_stop(h);
}

Test(http, a_request_past_its_memory_limit_is_refused_and_the_server_goes_on)
{
	int calls = 0;
	struct ft_http *h = start("127.0.0.1:0", render_fixed, &calls);
	size_t n = 40 * 1024;
	char *req = malloc(n + 64);

	cr_assert_not_null(req);
	strcpy(req, "GET /metrics HTTP/1.0\r\nX-Big: ");
	memset(req + strlen(req), 'a', n);
	strcpy(req + strlen("GET /metrics HTTP/1.0\r\nX-Big: ") + n, "\r\n\r\n");
	expect(h, AF_INET, req, "HTTP/1.1 431 Request Header Fields Too Large\r\n", NULL);
	cr_assert_eq(calls, 0);
	expect(h, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", fixed_body);
	free(req);
	ft_http_stop(h);
}

Test(http, a_render_error_is_500_and_logged, .init = cr_redirect_stderr)
{
	struct ft_http *h = start("127.0.0.1:0", render_fails, NULL);

	expect(h, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n",
	       "HTTP/1.1 500 Internal Server Error\r\n",
	       "flowtier could not collect its metrics; see its log\n");
	ft_http_stop(h);
	fflush(stderr);
	cr_assert_stderr_eq_str("flowtier: warning: cannot render /metrics: Input/output error\n");
}

Test(http, serves_on_ipv6_loopback)
{
	int calls = 0;
	struct ft_http *h = start("[::1]:0", render_fixed, &calls);

	expect(h, AF_INET6, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", fixed_body);
	ft_http_stop(h);
}

Test(http, off_serves_nothing)
{
	struct ft_http *h = (struct ft_http *)1;

	cr_assert_eq(ft_http_start(&h, "off", render_fails, NULL), 0);
	cr_assert_null(h);
}

Test(http, bad_addresses_are_refused_with_the_reason, .init = cr_redirect_stderr)
{
	static const char *const bad[] = {
		"127.0.0.1",	   "localhost:9469", "127.0.0.1:", "127.0.0.1:65536",
		"127.0.0.1:+80",   "127.0.0.1: 80",  "::1:9469",   "[::1]9469",
		"[198.18.0.1]:80", "1.2.3:80",	     "",	   "[::1]:80x",
	};
	struct sockaddr_storage ss;
	socklen_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(ft_http_parse_listen(bad[i], &ss, &len), -EINVAL, "'%s'", bad[i]);
	fflush(stderr);
#define E(s, why)                                                                                  \
	"flowtier: error: bad value '" s "' for --metrics: " why "; expected ADDR:PORT with an "   \
	"IPv4 address (127.0.0.1:9469), [IPv6]:PORT ([::1]:9469), or off\n"
	cr_assert_stderr_eq_str(
		E("127.0.0.1", "no ':PORT'") E("localhost:9469",
					       "not an IPv4 address (host names are not looked up)")
			E("127.0.0.1:", "the port is not a number from 0 to 65535") E(
				"127.0.0.1:65536", "the port is not a number from 0 to 65535")
				E("127.0.0.1:+80", "the port is not a number from 0 to 65535") E(
					"127.0.0.1: 80", "the port is not a number from 0 to 65535")
					E("::1:9469", "an IPv6 address goes in brackets") E(
						"[::1]9469", "no ']:PORT' after the address")
						E("[198.18.0.1]:80",
						  "not an IPv6 address in the "
						  "brackets") E("1.2.3:80",
								"not an IPv4 "
								"address (host "
								"names are not "
								"looked up)") E("", "no ':PORT'")
							E("[::1]:80x", "the port is not a number "
								       "from 0 to 65535"));
#undef E
}

Test(http, good_addresses_parse_to_their_socket_address)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct in6_addr want6;
	socklen_t len;

	cr_assert_eq(ft_http_parse_listen("127.0.0.1:9469", &ss, &len), 0);
	cr_assert_eq(len, sizeof(*a4));
	cr_assert_eq(a4->sin_family, AF_INET);
	cr_assert_eq(a4->sin_addr.s_addr, htonl(0x7f000001));
	cr_assert_eq(ntohs(a4->sin_port), 9469);
	cr_assert_eq(ft_http_parse_listen("[2001:db8::1]:65535", &ss, &len), 0);
	inet_pton(AF_INET6, "2001:db8::1", &want6);
	cr_assert_eq(len, sizeof(*a6));
	cr_assert_eq(a6->sin6_family, AF_INET6);
	cr_assert_eq(memcmp(&a6->sin6_addr, &want6, sizeof(want6)), 0);
	cr_assert_eq(ntohs(a6->sin6_port), 65535);
	cr_assert_eq(ft_http_parse_listen("off", &ss, &len), 0);
	cr_assert_eq(len, 0);
}

Test(http, a_port_in_use_is_named_with_the_fix, .init = cr_redirect_stderr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct ft_http *h;
	char where[32], want[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(where, sizeof(where), "127.0.0.1:%u", ntohs(a.sin_port));
	cr_assert_eq(ft_http_start(&h, where, render_fails, NULL), -EADDRINUSE);
	cr_assert_null(h);
	close(fd);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "flowtier: error: cannot listen on %s for --metrics: Address already in use "
		 "(another program has that port: choose another with --metrics ADDR:PORT, or "
		 "turn metrics off with --metrics off)\n",
		 where);
	cr_assert_stderr_eq_str(want);
}

/* ---- The datapath's own counts, after crafted packets ---- */

static struct ft_datapath dp;

static void dp_fini(void)
{
	ft_dp_close(&dp);
}

static void has_line(const char *text, const char *line)
{
	char *want;

	cr_assert_geq(asprintf(&want, "\n%s\n", line), 0);
	cr_assert_not_null(strstr(text, want), "no line '%s' in:\n%s", line, text);
	free(want);
}

Test(datapath, metrics_show_the_exact_counts_of_crafted_packets, .fini = dp_fini)
{
	struct ft_spec udp = { .family = 4,
			       .src = "198.18.0.1",
			       .dst = "198.18.0.2",
			       .proto = 17,
			       .sport = 1000,
			       .dport = 53,
			       .payload = 100 };
	struct ft_spec reply = { .family = 4,
				 .src = "198.18.0.2",
				 .dst = "198.18.0.1",
				 .proto = 17,
				 .sport = 53,
				 .dport = 1000,
				 .payload = 20 };
	struct ft_spec dropped = { .family = 4,
				   .src = "198.18.0.1",
				   .dst = "198.18.0.3",
				   .proto = 17,
				   .sport = 1001,
				   .dport = 99,
				   .nvlan = 1,
				   .vlan_id = { 100 } };
	struct ft_spec arp = { .ethertype = 0x0806, .payload = 28 };
	struct ft_rule drop = {
		.family = 4, .proto = 17, .dport_lo = 99, .dport_hi = 99, .verdict = FT_VERDICT_DROP
	};
	struct ft_metrics_src src = {};
	struct ft_textbuf out = {};
	struct ft_stats st;
	__u8 frame[FT_FRAME_MAX];
	size_t len;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_dp_set_rules(&dp, &drop, 1), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp), FT_XDP_PASS);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(ft_send(&dp, FT_T_TC_OUT, &reply), FT_TC_OK);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &dropped), FT_XDP_DROP);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &arp), FT_XDP_PASS);
	/* An IPv4 header cut after 10 of its 20 bytes. */
	len = ft_build(&udp, frame);
	cr_assert_gt(len, 24);
	cr_assert_eq(ft_test_run(&dp, FT_T_XDP, frame, 24), FT_XDP_PASS);

	cr_assert_eq(ft_metrics_from_dp(&src, &dp, &st), 0);
	cr_assert_eq(ft_metrics_render(&src, &out), 0);
	/* 14 Ethernet + 20 IPv4 + 8 UDP + payload; 4 more for the VLAN tag */
	has_line(out.data, "flowtier_flow_packets{direction=\"original\",verdict=\"pass\",tier="
			   "\"software\"} 3");
	has_line(out.data, "flowtier_flow_bytes{direction=\"original\",verdict=\"pass\",tier="
			   "\"software\"} 426");
	has_line(out.data,
		 "flowtier_flow_packets{direction=\"reply\",verdict=\"pass\",tier=\"software\"} 2");
	has_line(out.data,
		 "flowtier_flow_bytes{direction=\"reply\",verdict=\"pass\",tier=\"software\"} 124");
	has_line(out.data, "flowtier_flow_packets{direction=\"original\",verdict=\"drop\",tier="
			   "\"software\"} 1");
	has_line(out.data, "flowtier_flow_bytes{direction=\"original\",verdict=\"drop\",tier="
			   "\"software\"} 46");
	has_line(out.data, "flowtier_connections{zone=\"0\",state=\"established\"} 1");
	has_line(out.data, "flowtier_connections{zone=\"100\",state=\"new\"} 1");
	has_line(out.data, "flowtier_zone_connections{zone=\"0\"} 1");
	has_line(out.data, "flowtier_zone_connections{zone=\"100\"} 1");
	has_line(out.data, "flowtier_packets_total{hook=\"xdp\"} 6");
	has_line(out.data, "flowtier_packets_total{hook=\"tc_egress\"} 2");
	has_line(out.data, "flowtier_verdicts_total{verdict=\"pass\"} 7");
	has_line(out.data, "flowtier_verdicts_total{verdict=\"drop\"} 1");
	has_line(out.data, "flowtier_malformed_packets_total{reason=\"ipv4_truncated\"} 1");
	has_line(out.data, "flowtier_non_ip_packets_total{class=\"arp\"} 1");
	has_line(out.data, "flowtier_connections_created_total 2");
	has_line(out.data, "flowtier_table_slots 1024");
	has_line(out.data, "flowtier_table_buckets{slots_in_use=\"1\"} 2");
	has_line(out.data, "flowtier_table_buckets{slots_in_use=\"0\"} 126");
	ft_textbuf_free(&out);
}

Test(datapath, get_metrics_serves_what_the_daemon_sees, .fini = dp_fini)
{
	struct ft_spec udp = { .family = 4,
			       .src = "198.18.0.1",
			       .dst = "198.18.0.2",
			       .proto = 17,
			       .sport = 1000,
			       .dport = 53 };
	struct ft_metrics_live live = { .top = 5 };
	struct ft_metrics_src src = { .top = 5 };
	struct ft_textbuf direct = {};
	struct ft_scan *scan;
	struct ft_stats st;
	struct ft_http *h;
	char *resp;

	ft_test_load(&dp, 1024, 1, 2);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp), FT_XDP_PASS);
	cr_assert_eq(ft_scan_new(&scan, dp.nr_buckets * FT_SLOTS, 0), 0);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 1000), 0);
	live.dp = &dp, live.scan = scan, live.last_scan_ns = 2000000;
	src.scan = scan, src.last_scan_ns = 2000000;
	cr_assert_eq(ft_metrics_from_dp(&src, &dp, &st), 0);
	cr_assert_eq(ft_metrics_render(&src, &direct), 0);

	h = start("127.0.0.1:0", ft_metrics_http_render, &live);
	resp = exchange(h, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", resp);
	cr_assert_str_eq(body(resp), direct.data);
	has_line(body(resp),
		 "flowtier_top_flow_packets_total{src=\"198.18.0.1\",sport=\"1000\",dst="
		 "\"198.18.0.2\",dport=\"53\",proto=\"udp\",zone=\"0\"} 4");
	has_line(body(resp), "flowtier_scan_duration_seconds 0.002");
	free(resp);
	ft_http_stop(h);
	ft_scan_free(scan);
	ft_textbuf_free(&direct);
}

/* ---- flowtier metrics, from outside, checked by promtool ---- */

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

static char pin[64], tmp[64];

static void cli_init(void)
{
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/ftm-metrics-%d", getpid());
	snprintf(tmp, sizeof(tmp), "/tmp/ftm-metrics-%d", getpid());
	cr_assert_eq(mkdir(tmp, 0700), 0, "cannot create %s", tmp);
}

static void cli_fini(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), FT_BIN " unload --pin-dir %s >/dev/null 2>&1; rm -rf %s", pin,
		 tmp);
	if (system(cmd) == -1)
		fprintf(stderr, "cannot run: %s\n", cmd);
}

static char out[1 << 20];

/* A 64-byte UDP/IPv4 frame 198.18.0.1:1000 -> 198.18.0.2:53, for bpftool's data_in. */
static void write_frame(const char *path)
{
	struct ft_spec udp = { .family = 4,
			       .src = "198.18.0.1",
			       .dst = "198.18.0.2",
			       .proto = 17,
			       .sport = 1000,
			       .dport = 53,
			       .payload = 22 };
	__u8 frame[FT_FRAME_MAX];
	size_t len = ft_build(&udp, frame);
	FILE *f = fopen(path, "w");

	cr_assert_eq(len, 64);
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(frame, 1, len, f), len);
	fclose(f);
}

Test(cli, flowtier_metrics_passes_promtool_with_the_exact_counts, .init = cli_init,
     .fini = cli_fini)
{
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " load --conns 1024 --pin-dir %s", pin), 0,
		     "%s", out);
	write_frame(strcat(strcpy((char[128]){ 0 }, tmp), "/frame"));
	cr_assert_eq(
		ft_run(out, sizeof(out),
		       "taskset -c 0 bpftool prog run pinned %s/ft_xdp data_in %s/frame repeat 5",
		       pin, tmp),
		0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    FT_BIN " metrics --pin-dir %s --metrics-top 3 > %s/metrics.prom", pin,
			    tmp),
		     0, "%s", out);
	cr_assert_str_eq(out, "", "nothing on stderr");
	cr_assert_eq(ft_run(out, sizeof(out), "promtool check metrics < %s/metrics.prom", tmp), 0,
		     "%s", out);
	cr_assert_str_eq(out, "", "promtool has no complaint");
	cr_assert_eq(ft_run(out, sizeof(out), "cat %s/metrics.prom", tmp), 0);
	has_line(out, "flowtier_flow_packets{direction=\"original\",verdict=\"pass\",tier="
		      "\"software\"} 5");
	has_line(out, "flowtier_flow_bytes{direction=\"original\",verdict=\"pass\",tier="
		      "\"software\"} 320");
	has_line(out, "flowtier_packets_total{hook=\"xdp\"} 5");
	has_line(out, "flowtier_connections{zone=\"0\",state=\"new\"} 1");
	has_line(out, "flowtier_flows 1");
	has_line(out, "flowtier_top_flow_packets_total{src=\"198.18.0.1\",sport=\"1000\",dst=\"198."
		      "18.0.2\",dport=\"53\",proto=\"udp\",zone=\"0\"} 5");
	{
		const char *d = strstr(out, "\nflowtier_scan_duration_seconds ");
		double secs;

		cr_assert_not_null(d, "%s", out);
		secs = strtod(d + strlen("\nflowtier_scan_duration_seconds "), NULL);
		cr_assert(secs > 0 && secs < 1, "a 1024-slot scan took %g s", secs);
	}
}

Test(cli, flowtier_metrics_without_a_datapath_or_with_bad_flags_says_so, .init = cli_init,
     .fini = cli_fini)
{
	char want[256];

	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " metrics --pin-dir %s", pin), 1);
	snprintf(want, sizeof(want),
		 "flowtier: error: cannot open %s/ft_config: No such file or directory (is the "
		 "datapath loaded? run 'flowtier load')\n",
		 pin);
	cr_assert_str_eq(out, want);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " metrics --metrics-top 1001"), 2);
	cr_assert_str_eq(out,
			 "flowtier: error: bad value '1001' for --metrics-top: expected a "
			 "whole number from 0 to 1000\nusage: flowtier metrics [--pin-dir DIR] "
			 "[--metrics-top N]\n");
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " metrics extra"), 2);
	cr_assert_str_eq(out, "flowtier: error: unexpected argument 'extra'\nusage: flowtier "
			      "metrics [--pin-dir DIR] [--metrics-top N]\n");
}
