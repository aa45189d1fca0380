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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
 * Three connections in two buckets:
 * - UDP 198.18.0.1:1000 -> 198.18.0.2:53, zone 0, established, pass;
 *   3 packets / 426 bytes from the opener, 2 / 124 back;
 * - TCP [2001:db8::2]:50000 -> [2001:db8::1]:443, opened by side 1, zone
 *   100, syn_sent, drop, in hardware; 5 packets / 300 bytes;
 * - ICMP echo 198.18.0.3 -> 198.18.0.4 id 7, zone 100, new, redirect;
 *   1 packet / 98 bytes.
 */
static void build_table(void)
{
	struct ft_conn *c;

	memset(table, 0, sizeof(table));
	c = &table[0].slot[0];
	c->meta = FT_META(0x1234, FT_TO_UDP_ESTABLISHED, 1);
	key4(&c->key, "198.18.0.1", 1000, "198.18.0.2", 53, 17, 0);
	c->state = FT_STATE_ESTABLISHED, c->verdict = FT_VERDICT_PASS;
	c->dir[0] = (struct ft_dir){ .packets = 3, .bytes = 426, .first_ns = 1, .last_ns = 2 };
	c->dir[1] = (struct ft_dir){ .packets = 2, .bytes = 124, .first_ns = 1, .last_ns = 2 };

	c = &table[0].slot[3];
	c->meta = FT_META(0x2345, FT_TO_TCP_SYN_SENT, 1);
	key6(&c->key, "2001:db8::1", 443, "2001:db8::2", 50000, 6, 100);
	c->state = FT_STATE_SYN_SENT, c->verdict = FT_VERDICT_DROP, c->hw = FT_HW_OFFLOADED;
	c->flags = FT_CONN_ORIG_IS_1;
	c->dir[1] = (struct ft_dir){ .packets = 5, .bytes = 300, .first_ns = 1, .last_ns = 3 };

	c = &table[1].slot[7];
	c->meta = FT_META(0x3456, FT_TO_ICMP_NEW, 1);
	key4(&c->key, "198.18.0.3", 7, "198.18.0.4", 7, 1, 100);
	c->state = FT_STATE_NEW, c->verdict = FT_VERDICT_REDIRECT;
	c->dir[0] = (struct ft_dir){ .packets = 1, .bytes = 98, .first_ns = 1, .last_ns = 1 };
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

Test(metrics, every_source_at_once_is_the_parts_in_order)
{
	struct ft_textbuf all = {}, expect = {};
	int parts = 0;

	for (size_t i = 0; i < NCASES; i++) {
		char *part = expected(i);

		ft_textbuf_append(&expect, part, strlen(part));
		parts |= cases[i].parts;
		free(part);
	}
	render_case(parts, &all);
	cr_assert_str_eq(all.data, expect.data);
	ft_textbuf_free(&all);
	ft_textbuf_free(&expect);
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
