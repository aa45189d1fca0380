// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One connection, one entry, whatever CPUs carry its packets: each packet
 * runs through BPF_PROG_TEST_RUN on the CPU the test pins itself to.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "ft_test.h"
#include "scan.h"

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04

/* Longer than a pending move takes: FT_GRACE_TICKS ticks of about 1.05 ms, and a jiffy. */
#define GRACE_US (2 * FT_GRACE_TICKS * 1049 + 8000)

static struct ft_datapath dp;
static struct ft_scan *scan;

static void teardown(void)
{
	ft_scan_free(scan);
	scan = NULL;
	ft_dp_close(&dp);
}

TestSuite(xcpu, .fini = teardown);

/* Runs a packet on CPU cpu through XDP; returns the program's verdict. */
static __u32 on(int cpu, const struct ft_spec *s)
{
	ft_test_pin(cpu);
	return ft_send(&dp, FT_T_XDP, s);
}

static void on_n(int cpu, const struct ft_spec *s, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(on(cpu, s), FT_XDP_PASS);
}

/* UDP 198.18.<3 + i / 250>.<i % 250 + 1>:<3000 + i> -> 198.19.0.53:53; its source in addr. */
static struct ft_spec udp_req_in(int i, char addr[32])
{
	struct ft_spec s = {
		.family = 4,
		.dst = "198.19.0.53",
		.proto = 17,
		.sport = 3000 + i,
		.dport = 53,
		.payload = 10,
	};

	snprintf(addr, 32, "198.18.%d.%d", 3 + i / 250, i % 250 + 1);
	s.src = addr;
	return s;
}

/* The same, its source kept in a ring the next 255 calls leave alone (one thread only). */
static struct ft_spec udp_req(int i)
{
	static char addrs[256][32];
	static unsigned next;

	return udp_req_in(i, addrs[next++ % 256]);
}

static struct ft_spec reply_of(struct ft_spec s, int payload)
{
	const char *a = s.src;
	__u16 p = s.sport;

	s.src = s.dst, s.dst = a;
	s.sport = s.dport, s.dport = p;
	s.payload = payload;
	return s;
}

static struct ft_spec tcp(int i, __u8 flags)
{
	struct ft_spec s = udp_req(i);

	s.proto = 6;
	s.dport = 80;
	s.payload = 0;
	s.tcp_flags = flags;
	return s;
}

static struct ft_spec tcp_reply(int i, __u8 flags)
{
	struct ft_spec s = reply_of(tcp(i, flags), 0);

	return s;
}

/* The connection of s, which must be there once, and the side of its key s's source is. */
static struct ft_ct *conn_of(const struct ft_spec *s, int *side)
{
	struct ft_ct *c = ft_find(&dp, s, 0, side, NULL, NULL);

	cr_assert_not_null(c, "%s:%u -> %s:%u has no connection", s->src, s->sport, s->dst,
			   s->dport);
	cr_assert_eq(ft_count_key(&dp, s, 0), 1, "%s:%u -> %s:%u has %u entries", s->src, s->sport,
		     s->dst, s->dport, ft_count_key(&dp, s, 0));
	return c;
}

/* Asserts the connection's state, origin and per-direction counts. */
static void assert_conn(const struct ft_spec *orig, __u8 state, __u64 orig_packets,
			__u64 orig_bytes, __u64 reply_packets, __u64 reply_bytes)
{
	int side;
	struct ft_ct *c = conn_of(orig, &side);

	cr_assert_eq(c->state, state, "state %u, expected %u", c->state, state);
	cr_assert_eq(!!(c->flags & FT_CONN_ORIG_IS_1), side,
		     "the opener is the first packet's sender");
	cr_assert_eq(c->dir[side].packets, orig_packets, "%llu packets from the opener",
		     (unsigned long long)c->dir[side].packets);
	cr_assert_eq(c->dir[side].bytes, orig_bytes);
	cr_assert_eq(c->dir[!side].packets, reply_packets, "%llu replies",
		     (unsigned long long)c->dir[!side].packets);
	cr_assert_eq(c->dir[!side].bytes, reply_bytes);
}

/* 14 Ethernet + 20 IPv4 + 8 UDP + payload */
#define UDP_LEN(payload) (42 + (payload))
#define TCP_LEN		 54

static void udp_split(int req_cpu, int rep_cpu)
{
	struct ft_spec req = udp_req(1), rep = reply_of(req, 100);
	struct ft_stats st;
	int side;
	struct ft_ct *c;

	ft_test_load(&dp, 1024, 1, 2);
	on_n(req_cpu, &req, 3);
	on_n(rep_cpu, &rep, 2);
	assert_conn(&req, FT_STATE_ESTABLISHED, 3, 3 * UDP_LEN(10), 2, 2 * UDP_LEN(100));
	c = conn_of(&req, &side);
	cr_assert_eq(c->dir[side].owner_cpu, req_cpu, "the request's CPU owns its direction");
	cr_assert_eq(c->dir[!side].owner_cpu, rep_cpu, "the reply's CPU owns the other");
	cr_assert_eq(c->dir[side].shared_packets + c->dir[!side].shared_packets, 0);
	cr_assert_eq(ft_count_live(&dp), 1);
	cr_assert_eq(dp.zones[0].count, 1);
	st = ft_stats_of(&dp);
	cr_assert_eq(st.created, 1);
	cr_assert_eq(st.foreign, 0, "each CPU counts the direction it owns");
}

Test(xcpu, a_udp_request_on_cpu_0_and_its_reply_on_cpu_1_are_one_established_connection)
{
	udp_split(0, 1);
}

Test(xcpu, a_udp_request_on_cpu_1_and_its_reply_on_cpu_0_are_one_established_connection)
{
	udp_split(1, 0);
}

static void tcp_handshake(int i, int client_cpu, int server_cpu)
{
	struct ft_spec syn = tcp(i, SYN), synack = tcp_reply(i, SYN | ACK), ack = tcp(i, ACK);

	cr_assert_eq(on(client_cpu, &syn), FT_XDP_PASS);
	cr_assert_eq(on(server_cpu, &synack), FT_XDP_PASS);
	cr_assert_eq(on(client_cpu, &ack), FT_XDP_PASS);
}

Test(xcpu, a_split_tcp_handshake_is_established_with_its_timeout_and_closes_from_either_cpu)
{
	struct ft_spec syn = tcp(1, SYN), fin_c = tcp(1, FIN | ACK),
		       fin_s = tcp_reply(1, FIN | ACK);
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	tcp_handshake(1, 0, 1);
	assert_conn(&syn, FT_STATE_ESTABLISHED, 2, 2 * TCP_LEN, 1, TCP_LEN);
	c = conn_of(&syn, &side);
	cr_assert_eq(FT_META_CLASS(c->meta), FT_TO_TCP_ESTABLISHED,
		     "an idle established connection lives 5 days, not syn_sent's 120 s");
	cr_assert_eq(c->tcp_flags[side], SYN | ACK);
	cr_assert_eq(c->tcp_flags[!side], SYN | ACK);

	/* Idle past syn_sent's timeout: still the same connection. */
	ft_age_all(&dp, 200);
	cr_assert_eq(on(1, &fin_s), FT_XDP_PASS);
	assert_conn(&syn, FT_STATE_CLOSING, 2, 2 * TCP_LEN, 2, 2 * TCP_LEN);
	cr_assert_eq(ft_stats_of(&dp).created, 1);
	/* The other side's FIN, on the other CPU: FINs both ways close it. */
	cr_assert_eq(on(0, &fin_c), FT_XDP_PASS);
	assert_conn(&syn, FT_STATE_CLOSED, 3, 3 * TCP_LEN, 2, 2 * TCP_LEN);
	c = conn_of(&syn, &side);
	cr_assert_eq(FT_META_CLASS(c->meta), FT_TO_TCP_CLOSED);
	cr_assert_eq(ft_count_live(&dp), 1);
}

Test(xcpu, a_rst_on_the_other_cpu_closes_the_connection)
{
	struct ft_spec syn = tcp(2, SYN), rst = tcp_reply(2, RST);

	ft_test_load(&dp, 1024, 1, 2);
	tcp_handshake(2, 1, 0);
	cr_assert_eq(on(0, &rst), FT_XDP_PASS);
	assert_conn(&syn, FT_STATE_CLOSED, 2, 2 * TCP_LEN, 2, 2 * TCP_LEN);
	/* A new SYN on the client's CPU opens a new connection in its place. */
	cr_assert_eq(on(1, &syn), FT_XDP_PASS);
	assert_conn(&syn, FT_STATE_SYN_SENT, 1, TCP_LEN, 0, 0);
	cr_assert_eq(ft_stats_of(&dp).reclaimed[FT_RECLAIM_TCP_REOPEN], 1);
	cr_assert_eq(ft_stats_of(&dp).created, 2);
	cr_assert_eq(dp.zones[0].count, 1);
}

Test(xcpu, a_zone_limit_counts_split_connections_once_and_refuses_the_next)
{
	enum { N = 5 };
	struct ft_spec extra = udp_req(N), late_reply = reply_of(udp_req(0), 0);

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_dp_set_zone_limit(&dp, 0, N), 0);
	for (int i = 0; i < N; i++) {
		struct ft_spec req = udp_req(i), rep = reply_of(req, 0);

		cr_assert_eq(on(0, &req), FT_XDP_PASS);
		cr_assert_eq(on(1, &rep), FT_XDP_PASS);
	}
	cr_assert_eq(dp.zones[0].count, N, "%llu in the zone for %d connections",
		     (unsigned long long)dp.zones[0].count, N);
	cr_assert_eq(ft_count_live(&dp), N);
	cr_assert_eq(on(1, &extra), FT_XDP_DROP, "the zone is full");
	cr_assert_eq(on(0, &extra), FT_XDP_DROP, "on either CPU");
	cr_assert_eq(dp.zones[0].refused, 2);
	cr_assert_eq(dp.zones[0].count, N);
	/* The zone's connections still pass on both CPUs. */
	cr_assert_eq(on(1, &late_reply), FT_XDP_PASS);
	cr_assert_eq(on(0, &late_reply), FT_XDP_PASS);
	cr_assert_eq(ft_count_live(&dp), N);
}

static struct ft_rule drop_dns(void)
{
	struct ft_rule r = {
		.family = 4,
		.proto = 17,
		.dst_len = 32,
		.dport_lo = 53,
		.dport_hi = 53,
		.verdict = FT_VERDICT_DROP,
	};

	cr_assert_eq(inet_pton(AF_INET, "198.19.0.53", r.dst), 1);
	return r;
}

Test(xcpu, a_drop_rule_on_the_original_direction_drops_the_reply_on_the_other_cpu)
{
	struct ft_rule r = drop_dns();
	struct ft_spec req = udp_req(7), rep = reply_of(req, 0);

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	cr_assert_eq(on(0, &req), FT_XDP_DROP);
	/* The reply alone would match no rule: the connection's origin decides. */
	cr_assert_eq(on(1, &rep), FT_XDP_DROP);
	cr_assert_eq(on(1, &rep), FT_XDP_DROP);
	assert_conn(&req, FT_STATE_ESTABLISHED, 1, UDP_LEN(10), 2, 2 * UDP_LEN(0));
	cr_assert_eq(conn_of(&req, NULL)->verdict, FT_VERDICT_DROP);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_DROP], 3);
}

Test(xcpu, a_rule_change_reaches_a_split_connection_on_both_cpus)
{
	struct ft_rule r = drop_dns();
	struct ft_spec req = udp_req(8), rep = reply_of(req, 0);

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	cr_assert_eq(on(1, &rep), FT_XDP_PASS);
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	cr_assert_eq(on(1, &rep), FT_XDP_DROP, "the reply's CPU matched the rules again");
	cr_assert_eq(on(0, &req), FT_XDP_DROP);
	cr_assert_eq(ft_dp_set_rules(&dp, NULL, 0), 0);
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	cr_assert_eq(on(1, &rep), FT_XDP_PASS);
	assert_conn(&req, FT_STATE_ESTABLISHED, 3, 3 * UDP_LEN(10), 3, 3 * UDP_LEN(0));
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}

/* 50 split, established TCP connections survive a SYN flood of ten times the table. */
Test(xcpu, a_syn_flood_of_ten_tables_keeps_split_established_connections_and_their_counts)
{
	enum { TABLE = 16384, KEEP = 50, FLOOD = 10 * TABLE };
	struct ft_spec flood = tcp(0, SYN);
	char addr[32];
	struct ft_stats st;

	ft_test_load(&dp, TABLE, 1, 2);
	for (int i = 0; i < KEEP; i++) {
		struct ft_spec data = tcp(i, ACK), back = tcp_reply(i, ACK);

		tcp_handshake(i, 0, 1);
		data.payload = 100;
		back.payload = 1000;
		on_n(0, &data, 3);
		on_n(1, &back, 2);
	}
	flood.src = addr;
	flood.dst = "198.19.9.9";
	ft_test_pin(0);
	for (int i = 0; i < FLOOD; i++) {
		snprintf(addr, sizeof(addr), "198.18.%d.%d", 100 + (i >> 16), (i >> 8) & 0xff);
		flood.sport = i & 0xffff;
		ft_send(&dp, FT_T_XDP, &flood);
	}
	for (int i = 0; i < KEEP; i++) {
		struct ft_spec syn = tcp(i, SYN);

		assert_conn(&syn, FT_STATE_ESTABLISHED, 5, 2 * TCP_LEN + 3 * (TCP_LEN + 100), 3,
			    TCP_LEN + 2 * (TCP_LEN + 1000));
	}
	st = ft_stats_of(&dp);
	cr_assert_eq(st.evicted[FT_EVICT_LRU], 0, "no established connection was evicted");
	cr_assert_geq(st.evicted[FT_EVICT_NOT_ESTABLISHED], FLOOD - TABLE);
	cr_assert_eq(dp.zones[0].count, ft_count_live(&dp));
}

/*
 * A direction whose packets move to another CPU (RSS indirection changed):
 * first counted in the shared counters, then, once its owner has been
 * quiet and the grace has passed, owned by the new CPU. Totals stay exact
 * in the table, in `flowtier ct`'s reading of it and in the scanner's.
 */
Test(xcpu, a_connection_that_moves_to_another_cpu_keeps_exact_totals)
{
	struct ft_spec req = udp_req(9), rep = reply_of(req, 100);
	const struct ft_flow *f;
	struct ft_stats st;
	struct ft_ct *c;
	int side, err;

	ft_test_load(&dp, 1024, 1, 2);
	err = ft_scan_new(&scan, dp.nr_buckets * FT_SLOTS, 1000);
	cr_assert_eq(err, 0);
	on_n(0, &req, 4);
	on_n(0, &rep, 4);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 1000), 0);

	usleep(GRACE_US);
	on_n(1, &req, 2); /* foreign: the owner on CPU 0 went quiet, a move begins */
	on_n(1, &rep, 2);
	st = ft_stats_of(&dp);
	cr_assert_eq(st.foreign, 4);
	cr_assert_eq(st.owner_moves, 0, "a pending owner waits out the grace");
	c = conn_of(&req, &side);
	cr_assert_eq(c->dir[side].shared_packets, 2);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 2000), 0);

	usleep(GRACE_US);
	on_n(1, &req, 3); /* the move completes: plain stores again */
	on_n(1, &rep, 3);
	st = ft_stats_of(&dp);
	cr_assert_eq(st.owner_moves, 2, "both directions moved");
	cr_assert_eq(st.foreign, 4);
	c = conn_of(&req, &side);
	cr_assert_eq(c->dir[side].owner_cpu, 1);
	cr_assert_eq(c->dir[!side].owner_cpu, 1);
	assert_conn(&req, FT_STATE_ESTABLISHED, 9, 9 * UDP_LEN(10), 9, 9 * UDP_LEN(100));
	/* The old CPU's late packets: foreign now, and counted once. */
	on_n(0, &req, 1);
	assert_conn(&req, FT_STATE_ESTABLISHED, 10, 10 * UDP_LEN(10), 9, 9 * UDP_LEN(100));
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 3000), 0);
	f = ft_scan_find(scan, &c->key);
	cr_assert_not_null(f);
	cr_assert_eq(f->total_packets[side], 10);
	cr_assert_eq(f->total_bytes[side], 10 * UDP_LEN(10));
	cr_assert_eq(f->total_packets[!side], 9);
	cr_assert_eq(ft_scan_count(scan), 1);
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}

Test(xcpu, one_direction_spread_over_both_cpus_is_counted_once_per_packet)
{
	struct ft_spec req = udp_req(10), rep = reply_of(req, 0);
	struct ft_ct *c;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	/* A migrating sender: its packets alternate between the CPUs. */
	for (int i = 0; i < 20; i++)
		cr_assert_eq(on(i & 1, &req), FT_XDP_PASS);
	cr_assert_eq(on(1, &rep), FT_XDP_PASS);
	assert_conn(&req, FT_STATE_ESTABLISHED, 21, 21 * UDP_LEN(10), 1, UDP_LEN(0));
	c = conn_of(&req, &side);
	cr_assert_eq(c->dir[side].owner_cpu, 0, "the owner stayed busy: no move");
	cr_assert_eq(c->dir[side].shared_packets, 10);
	cr_assert_eq(ft_stats_of(&dp).foreign, 10);
}

/* A packet that finds its connection's entry gone creates it anew, once. */
Test(xcpu, a_split_connection_that_timed_out_starts_again_as_one)
{
	struct ft_spec req = udp_req(11), rep = reply_of(req, 0);

	ft_test_load(&dp, 1024, 1, 2);
	on_n(0, &req, 2);
	on_n(1, &rep, 2);
	ft_age_all(&dp, 200);
	cr_assert_eq(on(1, &rep), FT_XDP_PASS);
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	/* The reply's sender opened the new connection. */
	assert_conn(&rep, FT_STATE_ESTABLISHED, 1, UDP_LEN(0), 1, UDP_LEN(10));
	cr_assert_eq(ft_stats_of(&dp).created, 2);
	cr_assert_eq(ft_stats_of(&dp).reclaimed[FT_RECLAIM_REUSE], 1);
	cr_assert_eq(dp.zones[0].count, 1);
}

/*
 * A full bucket of split connections: the victim's directions belong to
 * both CPUs, so it becomes a tombstone and the newcomer waits for it, and
 * nobody else is evicted meanwhile.
 */
Test(xcpu, evicting_another_cpus_connection_leaves_a_tombstone_for_the_grace)
{
	struct ft_spec newcomer = udp_req(40), oldest;
	struct ft_stats st;

	ft_test_load(&dp, FT_SLOTS, 1, 2);
	for (int i = 0; i < FT_SLOTS; i++) {
		struct ft_spec req = udp_req(20 + i), rep = reply_of(req, 0);

		cr_assert_eq(on(0, &req), FT_XDP_PASS);
		cr_assert_eq(on(1, &rep), FT_XDP_PASS);
		usleep(5000); /* distinct ages: the first is the least recently seen */
	}
	cr_assert_eq(on(0, &newcomer), FT_XDP_PASS, "untracked, not dropped");
	st = ft_stats_of(&dp);
	cr_assert_eq(st.evicted[FT_EVICT_LRU], 1);
	cr_assert_eq(st.insert_failed[FT_FAIL_BUSY], 1);
	cr_assert_eq(ft_count_live(&dp), FT_SLOTS - 1);
	cr_assert_eq(dp.zones[0].count, FT_SLOTS - 1);
	oldest = udp_req(20);
	cr_assert_null(ft_find(&dp, &oldest, 0, NULL, NULL, NULL), "the least recently seen went");
	cr_assert_null(ft_find(&dp, &newcomer, 0, NULL, NULL, NULL));

	cr_assert_eq(on(0, &newcomer), FT_XDP_PASS);
	st = ft_stats_of(&dp);
	cr_assert_eq(st.evicted[FT_EVICT_LRU], 1, "no second eviction while a slot cools down");
	cr_assert_eq(st.insert_failed[FT_FAIL_BUSY], 2);

	usleep(GRACE_US);
	cr_assert_eq(on(0, &newcomer), FT_XDP_PASS);
	assert_conn(&newcomer, FT_STATE_NEW, 1, UDP_LEN(10), 0, 0);
	cr_assert_eq(ft_count_live(&dp), FT_SLOTS);
	cr_assert_eq(dp.zones[0].count, FT_SLOTS);
	cr_assert_eq(ft_stats_of(&dp).evicted[FT_EVICT_LRU], 1);
}

/* A creator that finds its bucket's lock held (a stalled holder) goes on after its tries. */
Test(xcpu, a_creation_goes_ahead_when_the_bucket_lock_stays_held)
{
	struct ft_spec req = udp_req(12);
	__u32 bucket;
	int slot;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	cr_assert_not_null(ft_find(&dp, &req, 0, NULL, &bucket, &slot));
	ft_test_reset(&dp);
	/* Two choices: the first bucket is bucket, or the other one of the pair. */
	for (__u32 b = 0; b < dp.nr_buckets; b++)
		dp.buckets[b].slot[0].lock = 77;
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	assert_conn(&req, FT_STATE_NEW, 1, UDP_LEN(10), 0, 0);
	cr_assert_eq(ft_stats_of(&dp).lock_timeouts, 1);
	for (__u32 b = 0; b < dp.nr_buckets; b++)
		cr_assert_eq(dp.buckets[b].slot[0].lock, 77, "a lock it did not take stays");
}

struct racer {
	int cpu;
	int n;
	int reply;
	int errors;
	int *arrived; /* both racers add one before each step, then wait for each other */
};

/* Sends the first packet of connection i in step with the other racer. */
static void *race(void *arg)
{
	struct racer *r = arg;
	cpu_set_t set;
	__u8 buf[FT_FRAME_MAX];

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		r->errors++;
	for (int i = 0; i < r->n; i++) {
		char addr[32];
		struct ft_spec s = udp_req_in(i, addr);
		size_t len;
		__u32 ret;

		if (r->reply)
			s = reply_of(s, 0);
		len = ft_build(&s, buf);
		__atomic_add_fetch(r->arrived, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(r->arrived, __ATOMIC_ACQUIRE) < 2 * (i + 1))
			;
		if (ft_test_try_run(&dp, FT_T_XDP, buf, len, &ret, NULL, NULL) ||
		    ret != FT_XDP_PASS)
			r->errors++;
	}
	return NULL;
}

/*
 * Both CPUs send the first packet of the same new connection at the same
 * moment, 2,000 times: every connection is one entry with both packets.
 */
Test(xcpu, two_cpus_creating_one_connection_at_once_make_one_entry)
{
	enum { N = 2000 };
	int arrived = 0;
	struct racer r[2] = {
		{ .cpu = 0, .n = N, .reply = 0, .arrived = &arrived },
		{ .cpu = 1, .n = N, .reply = 1, .arrived = &arrived },
	};
	pthread_t t[2];
	struct ft_stats st;

	ft_test_load(&dp, 16384, 1, 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(r[0].errors + r[1].errors, 0);
	st = ft_stats_of(&dp);
	for (int i = 0; i < N; i++) {
		struct ft_spec s = udp_req(i);
		struct ft_ct *c = conn_of(&s, NULL);

		cr_assert_eq(c->state, FT_STATE_ESTABLISHED, "connection %d", i);
		cr_assert_eq(c->dir[0].packets + c->dir[1].packets, 2, "connection %d", i);
	}
	cr_assert_eq(st.created, N, "%llu created for %d connections (%llu races seen)",
		     (unsigned long long)st.created, N, (unsigned long long)st.create_races);
	cr_assert_eq(dp.zones[0].count, N);
	cr_assert_eq(st.lock_timeouts, 0);
	fprintf(stderr, "xcpu: %llu of %d creations met the other CPU's at the lock\n",
		(unsigned long long)st.create_races, N);
}

struct hammer {
	int cpu;
	int n;
	const struct ft_spec *s;
	int errors;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	__u8 buf[FT_FRAME_MAX];
	size_t len = ft_build(h->s, buf);
	cpu_set_t set;
	__u32 ret;

	CPU_ZERO(&set);
	CPU_SET(h->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		h->errors++;
	for (int i = 0; i < h->n; i++)
		if (ft_test_try_run(&dp, FT_T_XDP, buf, len, &ret, NULL, NULL) ||
		    ret != FT_XDP_PASS)
			h->errors++;
	return NULL;
}

/* Both CPUs at once on one connection, each direction on one and then on both: exact. */
Test(xcpu, both_cpus_at_once_on_one_connection_lose_no_packet)
{
	enum { N = 20000 };
	struct ft_spec req = udp_req(13), rep = reply_of(req, 0);
	struct hammer h[3] = {
		{ .cpu = 0, .n = N, .s = &req },
		{ .cpu = 1, .n = N, .s = &rep },
		{ .cpu = 1, .n = N, .s = &req },
	};
	pthread_t t[3];

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(on(0, &req), FT_XDP_PASS);
	cr_assert_eq(on(1, &rep), FT_XDP_PASS);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(h[0].errors + h[1].errors + h[2].errors, 0);
	assert_conn(&req, FT_STATE_ESTABLISHED, 2 * N + 1, (2 * N + 1) * UDP_LEN(10), N + 1,
		    (N + 1) * UDP_LEN(0));
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}

/*
 * The controller killed between scans and started again: a new scanner's
 * first reading of the table gives every packet once, on whichever CPUs.
 */
Test(xcpu, a_restarted_scanner_reads_every_packet_once)
{
	struct ft_spec req = udp_req(14), rep = reply_of(req, 0);
	const struct ft_flow *f;
	int side;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_scan_new(&scan, dp.nr_buckets * FT_SLOTS, 1000), 0);
	on_n(0, &req, 3);
	on_n(1, &rep, 2);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 1000), 0);
	on_n(1, &req, 2);
	on_n(0, &rep, 1);
	ft_scan_free(scan); /* as kill -9 leaves it: no last scan */
	cr_assert_eq(ft_scan_new(&scan, dp.nr_buckets * FT_SLOTS, 1000), 0);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 5000), 0);
	f = ft_scan_find(scan, &conn_of(&req, &side)->key);
	cr_assert_not_null(f);
	cr_assert_eq(f->total_packets[side], 5);
	cr_assert_eq(f->total_packets[!side], 3);
	cr_assert_eq(f->total_bytes[side], 5 * UDP_LEN(10));
	cr_assert_eq(f->state, FT_STATE_ESTABLISHED);
}
