// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The connection table: directions, TCP states, timeouts, eviction, seeds. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "ft_test.h"

static struct ft_datapath dp;

static void teardown(void)
{
	ft_dp_close(&dp);
}

TestSuite(conntrack, .fini = teardown);

static const struct ft_spec udp_ab = {
	.family = 4,
	.src = "198.18.0.1",
	.dst = "198.18.0.2",
	.proto = 17,
	.sport = 40000,
	.dport = 53,
	.payload = 10,
};
static const struct ft_spec udp_ba = {
	.family = 4,
	.src = "198.18.0.2",
	.dst = "198.18.0.1",
	.proto = 17,
	.sport = 53,
	.dport = 40000,
	.payload = 100,
};

Test(conntrack, both_directions_share_one_entry_with_exact_counters)
{
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp_ab), FT_XDP_PASS);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp_ba), FT_XDP_PASS);

	c = ft_find(&dp, &udp_ab, 0, &side, NULL, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(ft_count_live(&dp), 1);
	/* 14 Ethernet + 20 IPv4 + 8 UDP + payload */
	cr_assert_eq(c->dir[side].packets, 3);
	cr_assert_eq(c->dir[side].bytes, 3 * (42 + 10));
	cr_assert_eq(c->dir[!side].packets, 2);
	cr_assert_eq(c->dir[!side].bytes, 2 * (42 + 100));
	cr_assert_eq(c->state, FT_STATE_ESTABLISHED);
	cr_assert_eq(!!(c->flags & FT_CONN_ORIG_IS_1), side);
	cr_assert_neq(c->first_ns, 0);
	cr_assert_geq(c->dir[side].last_ns, c->first_ns);
	cr_assert_geq(c->dir[!side].last_ns, c->dir[side].last_ns);
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}

static struct ft_spec udp_flow(int i)
{
	static char addrs[64][32];
	struct ft_spec s = udp_ab;

	snprintf(addrs[i % 64], sizeof(addrs[0]), "198.18.1.%d", i % 250 + 1);
	s.src = addrs[i % 64];
	s.sport = 1000 + i;
	return s;
}

static struct ft_spec reversed(struct ft_spec s)
{
	const char *a = s.src;
	__u16 p = s.sport;

	s.src = s.dst, s.dst = a;
	s.sport = s.dport, s.dport = p;
	return s;
}

static struct ft_spec tcp(const char *src, const char *dst, __u16 sp, __u16 dp_, __u8 flags)
{
	return (struct ft_spec){ .family = 4,
				 .src = src,
				 .dst = dst,
				 .proto = 6,
				 .sport = sp,
				 .dport = dp_,
				 .tcp_flags = flags };
}

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04

static __u8 state_of(const struct ft_spec *s)
{
	struct ft_ct *c = ft_find(&dp, s, 0, NULL, NULL, NULL);

	cr_assert_not_null(c, "connection %s:%u -> %s:%u is missing", s->src, s->sport, s->dst,
			   s->dport);
	return c->state;
}

Test(conntrack, tcp_moves_through_syn_established_closing_closed)
{
	struct ft_spec syn = tcp("198.18.0.1", "198.18.0.2", 40000, 80, SYN);
	struct ft_spec synack = tcp("198.18.0.2", "198.18.0.1", 80, 40000, SYN | ACK);
	struct ft_spec ack = tcp("198.18.0.1", "198.18.0.2", 40000, 80, ACK);
	struct ft_spec fin1 = tcp("198.18.0.1", "198.18.0.2", 40000, 80, FIN | ACK);
	struct ft_spec fin2 = tcp("198.18.0.2", "198.18.0.1", 80, 40000, FIN | ACK);
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	ft_send(&dp, FT_T_XDP, &syn);
	cr_assert_eq(state_of(&syn), FT_STATE_SYN_SENT);
	ft_send(&dp, FT_T_XDP, &synack);
	cr_assert_eq(state_of(&syn), FT_STATE_ESTABLISHED);
	ft_send(&dp, FT_T_XDP, &ack);
	cr_assert_eq(state_of(&syn), FT_STATE_ESTABLISHED);
	ft_send(&dp, FT_T_XDP, &fin1);
	cr_assert_eq(state_of(&syn), FT_STATE_CLOSING);
	ft_send(&dp, FT_T_XDP, &fin2);
	cr_assert_eq(state_of(&syn), FT_STATE_CLOSED);

	c = ft_find(&dp, &syn, 0, &side, NULL, NULL);
	cr_assert_eq(c->tcp_flags[side], SYN | ACK | FIN);
	cr_assert_eq(c->tcp_flags[!side], SYN | ACK | FIN);
	cr_assert_eq(c->dir[side].packets, 3);
	cr_assert_eq(c->dir[!side].packets, 2);
	cr_assert_eq(ft_count_live(&dp), 1);
}

/*
 * Untagged IPv4 TCP and UDP without options take a shorter parse (the
 * lane); with options, or with under 20 bytes after the IP header, they
 * take the full one. Both must key and count a connection alike.
 */
Test(conntrack, the_short_ipv4_parse_and_the_full_one_count_one_connection_alike)
{
	struct ft_spec syn = tcp("198.18.0.1", "198.18.0.2", 40002, 80, SYN);
	struct ft_spec synack = tcp("198.18.0.2", "198.18.0.1", 80, 40002, SYN | ACK);
	struct ft_spec ack = tcp("198.18.0.1", "198.18.0.2", 40002, 80, ACK);
	struct ft_spec small = udp_ab, big = udp_ba;
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	synack.ip4_opt_words = 1; /* the full parse, in the middle of the lane's packets */
	ack.payload = 100;
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &syn), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &synack), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &ack), FT_XDP_PASS);
	ack.ip4_opt_words = 2;
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &ack), FT_XDP_PASS);

	c = ft_find(&dp, &syn, 0, &side, NULL, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(c->state, FT_STATE_ESTABLISHED);
	cr_assert_eq(c->dir[side].packets, 3);
	/* 14 Ethernet + 20 IPv4 + 20 TCP, then + 100 payload, then + 8 options */
	cr_assert_eq(c->dir[side].bytes, 54 + 154 + 162);
	cr_assert_eq(c->dir[!side].packets, 1);
	cr_assert_eq(c->dir[!side].bytes, 58);
	cr_assert_eq(c->tcp_flags[side], SYN | ACK);
	cr_assert_eq(c->tcp_flags[!side], SYN | ACK);

	/* UDP: 2 payload bytes leave under 20 after the IP header, 100 do not. */
	small.payload = 2;
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &small), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &big), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &small), FT_XDP_PASS);
	c = ft_find(&dp, &small, 0, &side, NULL, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(c->dir[side].packets, 2);
	cr_assert_eq(c->dir[side].bytes, 2 * 44);
	cr_assert_eq(c->dir[!side].packets, 1);
	cr_assert_eq(c->dir[!side].bytes, 142);
	cr_assert_eq(c->state, FT_STATE_ESTABLISHED);
	cr_assert_eq(ft_count_live(&dp), 2);
	cr_assert_eq(ft_stats_of(&dp).created, 2);
}

Test(conntrack, tcp_rst_closes_and_a_new_syn_reopens_as_a_new_connection)
{
	struct ft_spec syn = tcp("198.18.0.1", "198.18.0.2", 40001, 443, SYN);
	struct ft_spec synack = tcp("198.18.0.2", "198.18.0.1", 443, 40001, SYN | ACK);
	struct ft_spec rst = tcp("198.18.0.2", "198.18.0.1", 443, 40001, RST);
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	ft_send(&dp, FT_T_XDP, &syn);
	ft_send(&dp, FT_T_XDP, &synack);
	ft_send(&dp, FT_T_XDP, &rst);
	cr_assert_eq(state_of(&syn), FT_STATE_CLOSED);

	ft_send(&dp, FT_T_XDP, &syn);
	c = ft_find(&dp, &syn, 0, &side, NULL, NULL);
	cr_assert_eq(c->state, FT_STATE_SYN_SENT);
	cr_assert_eq(c->dir[side].packets, 1, "a reopened connection starts its counters afresh");
	cr_assert_eq(c->dir[!side].packets, 0);
	cr_assert_eq(ft_stats_of(&dp).reclaimed[FT_RECLAIM_TCP_REOPEN], 1);
	cr_assert_eq(ft_stats_of(&dp).created, 2);
	cr_assert_eq(ft_count_live(&dp), 1);
}

Test(conntrack, icmp_echo_request_and_reply_share_one_entry)
{
	struct ft_spec req = { .family = 6,
			       .src = "2001:db8::1",
			       .dst = "2001:db8::2",
			       .proto = 58,
			       .icmp_type = 128,
			       .sport = 77 };
	struct ft_spec rep = { .family = 6,
			       .src = "2001:db8::2",
			       .dst = "2001:db8::1",
			       .proto = 58,
			       .icmp_type = 129,
			       .sport = 77 };
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	ft_send(&dp, FT_T_XDP, &req);
	ft_send(&dp, FT_T_XDP, &rep);
	c = ft_find(&dp, &req, 0, &side, NULL, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(c->key.port[0], htons(77));
	cr_assert_eq(c->key.port[1], htons(77));
	cr_assert_eq(c->dir[side].packets, 1);
	cr_assert_eq(c->dir[!side].packets, 1);
	cr_assert_eq(c->state, FT_STATE_ESTABLISHED);
	cr_assert_eq(ft_count_live(&dp), 1);
}

static void set_timeout(int class, __u32 secs)
{
	struct ft_timeouts to = ft_default_timeouts;

	to.secs[class] = secs;
	cr_assert_eq(ft_dp_set_timeouts(&dp, &to), 0);
}

Test(conntrack, a_timeout_change_applies_at_run_time_and_stale_entries_are_reclaimed_inline)
{
	struct ft_spec a = udp_flow(1), b = udp_flow(2);
	struct ft_ct *c;

	/* One bucket: every connection meets it. */
	ft_test_load(&dp, FT_SLOTS, 1, 2);
	cr_assert_eq(dp.nr_buckets, 1);
	ft_send(&dp, FT_T_XDP, &a);
	ft_send(&dp, FT_T_XDP, &a);
	set_timeout(FT_TO_UDP_NEW, 1);
	usleep(1200 * 1000);
	cr_assert_not_null(ft_find(&dp, &a, 0, NULL, NULL, NULL),
			   "nothing deletes a stale entry before a packet searches its bucket");

	ft_send(&dp, FT_T_XDP, &b);
	cr_assert_null(ft_find(&dp, &a, 0, NULL, NULL, NULL));
	cr_assert_not_null(ft_find(&dp, &b, 0, NULL, NULL, NULL));
	cr_assert_eq(ft_stats_of(&dp).reclaimed[FT_RECLAIM_LOOKUP], 1);
	cr_assert_eq(ft_count_live(&dp), 1);
	cr_assert_eq(dp.zones[0].count, 1);

	/* The same tuple after its timeout is a new connection. */
	usleep(1200 * 1000);
	ft_send(&dp, FT_T_XDP, &b);
	c = ft_find(&dp, &b, 0, NULL, NULL, NULL);
	cr_assert_eq(c->dir[0].packets + c->dir[1].packets, 1);
	cr_assert_eq(ft_stats_of(&dp).reclaimed[FT_RECLAIM_REUSE], 1);
	cr_assert_eq(dp.zones[0].count, 1);
}

Test(conntrack, a_live_entry_is_kept_past_its_idle_time_while_packets_arrive)
{
	struct ft_spec a = udp_flow(3);
	struct ft_ct *c;

	ft_test_load(&dp, FT_SLOTS, 1, 2);
	set_timeout(FT_TO_UDP_NEW, 1);
	for (int i = 0; i < 4; i++) {
		ft_send(&dp, FT_T_XDP, &a);
		usleep(500 * 1000);
	}
	c = ft_find(&dp, &a, 0, NULL, NULL, NULL);
	cr_assert_eq(c->dir[0].packets + c->dir[1].packets, 4);
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}

/* Fills the single bucket with 8 connections, established when est[i]. */
static void fill_bucket(const int est[FT_SLOTS])
{
	for (int i = 0; i < FT_SLOTS; i++) {
		struct ft_spec s = udp_flow(10 + i), r = reversed(udp_flow(10 + i));

		ft_send(&dp, FT_T_XDP, &s);
		if (est[i])
			ft_send(&dp, FT_T_XDP, &r);
		usleep(20 * 1000); /* the coarse clock moves every 4 ms */
	}
	cr_assert_eq(ft_count_live(&dp), FT_SLOTS);
}

Test(conntrack, a_full_bucket_evicts_the_oldest_not_established_entry_first)
{
	const int est[FT_SLOTS] = { 1, 1, 0, 1, 0, 1, 1, 1 };
	struct ft_spec newcomer = udp_flow(30);

	ft_test_load(&dp, FT_SLOTS, 1, 2);
	fill_bucket(est);
	ft_send(&dp, FT_T_XDP, &newcomer);

	cr_assert_not_null(ft_find(&dp, &newcomer, 0, NULL, NULL, NULL));
	for (int i = 0; i < FT_SLOTS; i++) {
		struct ft_spec s = udp_flow(10 + i);

		if (i == 2)
			cr_assert_null(ft_find(&dp, &s, 0, NULL, NULL, NULL),
				       "flow 2 is the oldest not-established one");
		else
			cr_assert_not_null(ft_find(&dp, &s, 0, NULL, NULL, NULL));
	}
	cr_assert_eq(ft_stats_of(&dp).evicted[FT_EVICT_NOT_ESTABLISHED], 1);
	cr_assert_eq(ft_stats_of(&dp).evicted[FT_EVICT_LRU], 0);
	cr_assert_eq(dp.zones[0].count, FT_SLOTS);
}

Test(conntrack, a_full_bucket_of_established_entries_evicts_the_least_recently_seen)
{
	const int est[FT_SLOTS] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	struct ft_spec newcomer = udp_flow(31), first = udp_flow(10), second = udp_flow(11);

	ft_test_load(&dp, FT_SLOTS, 1, 2);
	fill_bucket(est);
	/* Refresh the oldest: the second oldest becomes the least recently seen. */
	ft_send(&dp, FT_T_XDP, &first);
	ft_send(&dp, FT_T_XDP, &newcomer);

	cr_assert_not_null(ft_find(&dp, &first, 0, NULL, NULL, NULL));
	cr_assert_null(ft_find(&dp, &second, 0, NULL, NULL, NULL));
	cr_assert_not_null(ft_find(&dp, &newcomer, 0, NULL, NULL, NULL));
	cr_assert_eq(ft_stats_of(&dp).evicted[FT_EVICT_LRU], 1);
	cr_assert_eq(ft_stats_of(&dp).evicted[FT_EVICT_NOT_ESTABLISHED], 0);
}

/*
 * A newcomer of another zone takes the victim's slot, not its count: the
 * victim's zone loses one connection and the newcomer's zone gains one.
 */
Test(conntrack, an_eviction_across_zones_moves_one_count_between_them)
{
	const int est[FT_SLOTS] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	struct ft_spec newcomer = udp_flow(32), first = udp_flow(10);

	ft_test_load(&dp, FT_SLOTS, 1, 2);
	fill_bucket(est);
	newcomer.nvlan = 1;
	newcomer.vlan_id[0] = 100;
	ft_send(&dp, FT_T_XDP, &newcomer);

	cr_assert_null(ft_find(&dp, &first, 0, NULL, NULL, NULL), "the oldest went");
	cr_assert_not_null(ft_find(&dp, &newcomer, 100, NULL, NULL, NULL));
	cr_assert_eq(ft_stats_of(&dp).evicted[FT_EVICT_LRU], 1);
	cr_assert_eq(dp.zones[0].count, FT_SLOTS - 1);
	cr_assert_eq(dp.zones[100].count, 1);
}

/* Bucket index of each of n flows. */
static void buckets_of(int n, __u32 *out)
{
	for (int i = 0; i < n; i++) {
		struct ft_spec s = udp_flow(100 + i);

		ft_send(&dp, FT_T_XDP, &s);
		cr_assert_not_null(ft_find(&dp, &s, 0, NULL, &out[i], NULL));
	}
}

Test(conntrack, a_different_seed_moves_connections_to_different_buckets)
{
	enum { N = 32 };
	__u32 a[N], b[N], again[N];
	int moved = 0;

	ft_test_load(&dp, 4096, 1, 2);
	buckets_of(N, a);
	ft_dp_close(&dp);
	ft_test_load(&dp, 4096, 0x1234567, 0x89abcdef);
	buckets_of(N, b);
	ft_dp_close(&dp);
	ft_test_load(&dp, 4096, 1, 2);
	buckets_of(N, again);

	for (int i = 0; i < N; i++) {
		cr_assert_eq(a[i], again[i], "the same seed places flow %d in the same bucket", i);
		moved += a[i] != b[i];
	}
	/* 256 buckets per CPU: a flow stays put by chance 1 time in 256. */
	cr_assert_geq(moved, N - 2, "only %d of %d flows moved", moved, N);
}

Test(conntrack, every_cpu_finds_a_connection_in_the_same_slot)
{
	struct ft_spec s = udp_flow(5), r = reversed(udp_flow(5));
	__u32 b0, b1;
	int i0, i1;

	cr_assert_geq(libbpf_num_possible_cpus(), 2, "this machine has 2 CPUs");
	ft_test_load(&dp, 4096, 1, 2);
	ft_send(&dp, FT_T_XDP, &s);
	cr_assert_not_null(ft_find(&dp, &s, 0, NULL, &b0, &i0));
	ft_test_pin(1);
	ft_send(&dp, FT_T_XDP, &s);
	ft_send(&dp, FT_T_XDP, &r);
	cr_assert_not_null(ft_find(&dp, &s, 0, NULL, &b1, &i1));
	cr_assert_eq(b1, b0);
	cr_assert_eq(i1, i0);
	cr_assert_eq(ft_count_live(&dp), 1);
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}
