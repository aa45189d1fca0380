// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The scanner and the ranking: synthetic tables in memory, whose slots the
 * tests write as the datapath would, then one real datapath table.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ft_test.h"
#include "rank.h"
#include "scan.h"

#define NS(ms) ((__u64)(ms)*1000000)

static struct ft_scan *scan;
static struct ft_bucket *tbl;
static __u32 tbl_buckets;
static struct ft_datapath dp;
static struct ft_ranked *all, *top;

static void teardown(void)
{
	free(all);
	free(top);
	all = top = NULL;
	ft_scan_free(scan);
	scan = NULL;
	free(tbl);
	tbl = NULL;
	ft_dp_close(&dp);
}

TestSuite(scan, .fini = teardown);

/* A table of nr_buckets empty buckets and a scanner for it. */
static void setup_table(__u32 nr_buckets, __u32 half_life_ms)
{
	int err;

	tbl = calloc(nr_buckets, sizeof(*tbl));
	cr_assert_not_null(tbl);
	tbl_buckets = nr_buckets;
	err = ft_scan_new(&scan, nr_buckets * FT_SLOTS, half_life_ms);
	cr_assert_eq(err, 0, "ft_scan_new: %s", strerror(-err));
}

static void run_at(__u64 now_ms)
{
	int err = ft_scan_run(scan, tbl, tbl_buckets, now_ms);

	cr_assert_eq(err, 0, "ft_scan_run at %llu ms: %s", (unsigned long long)now_ms,
		     strerror(-err));
}

/* UDP 198.18.x.y:(1000 + i / 65536) -> 198.19.0.1:80, canonical as the datapath keeps it. */
static struct ft_key key_of(__u32 i)
{
	struct ft_key k = { .proto = 17, .family = FT_FAMILY_IPV4 };
	const __u8 a0[4] = { 198, 18, (i >> 8) & 0xff, i & 0xff };
	const __u8 a1[4] = { 198, 19, 0, 1 };

	memcpy(k.addr[0], a0, 4);
	memcpy(k.addr[1], a1, 4);
	k.port[0] = htons(1000 + (i >> 16));
	k.port[1] = htons(80);
	return k;
}

static struct ft_conn *slot_at(__u32 slot)
{
	return &tbl[slot / FT_SLOTS].slot[slot % FT_SLOTS];
}

/* The slot's meta word and last_tick, in its bucket's index line. */
static __u32 *meta_at(__u32 slot)
{
	return &tbl[slot / FT_SLOTS].meta[slot % FT_SLOTS];
}

static __u32 *tick_at(__u32 slot)
{
	return &tbl[slot / FT_SLOTS].last_tick[slot % FT_SLOTS];
}

/*
 * Writes a new connection into a slot, as ft_slot_init does: counters zero,
 * side 0 opened it at created_ns, reuse sequence seq.
 */
static struct ft_conn *put(__u32 slot, const struct ft_key *k, __u8 seq, __u64 created_ns)
{
	struct ft_conn *c = slot_at(slot);

	memset(c, 0, sizeof(*c));
	c->key = *k;
	c->first_ns = created_ns;
	c->dir[0].last_ns = created_ns;
	*meta_at(slot) = FT_META(0x1234u, FT_TO_UDP_NEW, seq);
	return c;
}

static void count(struct ft_conn *c, int d, __u64 packets, __u64 bytes, __u64 last_ns)
{
	c->dir[d].packets = packets;
	c->dir[d].bytes = bytes;
	c->dir[d].last_ns = last_ns;
}

/* A state change, as the datapath makes it: the meta word's class, tag and sequence kept. */
static void set_class(__u32 slot, __u32 cls)
{
	__u32 m = *meta_at(slot);

	*meta_at(slot) = FT_META(FT_META_TAG(m), cls, FT_META_SEQ(m));
}

/* As ft_slot_free does: the tag goes, the reuse sequence stays. */
static void free_slot(__u32 slot)
{
	*meta_at(slot) = FT_META_SEQ(*meta_at(slot));
}

static const struct ft_flow *flow_of(const struct ft_key *k)
{
	const struct ft_flow *f = ft_scan_find(scan, k);

	cr_assert_not_null(f, "the flow is missing");
	return f;
}

Test(scan, deltas_and_rates_are_exact_over_an_interval)
{
	struct ft_key k = key_of(1);
	struct ft_conn *c;
	const struct ft_flow *f;

	setup_table(4, 1000);
	c = put(5, &k, 1, NS(1));
	count(c, 0, 10, 1000, NS(2));
	count(c, 1, 4, 600, NS(3));
	run_at(1000);
	f = flow_of(&k);
	cr_assert_eq(f->packets[0], 10);
	cr_assert_eq(f->bytes[1], 600);
	cr_assert_eq(f->total_packets[0], 10, "a flow's first scan counts what it had");
	cr_assert_eq(f->total_bytes[1], 600);
	cr_assert_eq(f->pps[0], 0, "no interval yet, no rate");
	cr_assert_eq(ft_scan_stats(scan)->new_flows, 1);
	cr_assert_eq(ft_scan_stats(scan)->slots, 1);

	count(c, 0, 310, 31000, NS(400));
	count(c, 1, 54, 5600, NS(400));
	run_at(1500);
	f = flow_of(&k);
	cr_assert_eq(ft_scan_stats(scan)->dt_ms, 500);
	cr_assert_eq(ft_scan_stats(scan)->new_slots, 0);
	cr_assert_eq(f->packets[0], 310);
	cr_assert_eq(f->packets[1], 54);
	cr_assert_eq(f->total_packets[0], 310);
	cr_assert_eq(f->total_bytes[1], 5600);
	/* The first rate is the instantaneous one: 300 packets in 500 ms. */
	cr_assert_eq(f->pps[0], 600.0);
	cr_assert_eq(f->bps[0], 60000.0);
	cr_assert_eq(f->pps[1], 100.0);
	cr_assert_eq(f->bps[1], 10000.0);

	/* One half-life later: halfway between the old rate and the new. */
	count(c, 0, 410, 41000, NS(1400));
	run_at(2500);
	f = flow_of(&k);
	cr_assert_eq(f->pps[0], 350.0);
	cr_assert_eq(f->bps[0], 35000.0);
	cr_assert_eq(f->pps[1], 50.0);
	cr_assert_eq(f->total_packets[0], 410);
}

Test(scan, a_reused_slot_is_a_new_connection_and_no_delta_is_negative)
{
	struct ft_key k = key_of(2);
	struct ft_conn *c;
	const struct ft_flow *f;

	setup_table(4, 1000);
	c = put(3, &k, 1, NS(1));
	count(c, 0, 1000, 100000, NS(900));
	run_at(1000);

	/* Same key, same slot: closed and opened again, counting afresh. */
	c = put(3, &k, 2, NS(1500));
	count(c, 0, 3, 300, NS(1600));
	run_at(2000);
	f = flow_of(&k);
	cr_assert_eq(ft_scan_stats(scan)->new_slots, 1);
	cr_assert_eq(ft_scan_stats(scan)->new_flows, 0, "the key's flow carries on");
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 0);
	cr_assert_eq(f->packets[0], 3);
	cr_assert_eq(f->total_packets[0], 1003);
	cr_assert_eq(f->total_bytes[0], 100300);
	cr_assert_eq(f->pps[0], 3.0, "the new connection's packets, not 3 - 1000");

	/* Reused again with the same sequence and creation time: the counters going back tell. */
	c->dir[0].packets = 1;
	c->dir[0].bytes = 100;
	run_at(3000);
	f = flow_of(&k);
	cr_assert_eq(ft_scan_stats(scan)->new_slots, 1);
	cr_assert_eq(f->packets[0], 1);
	cr_assert_eq(f->total_packets[0], 1004);
	cr_assert_eq(f->pps[0], 0.5 * 3.0 + 0.5 * 1.0);
}

Test(scan, a_connection_256_reuses_later_is_told_by_its_creation_tick)
{
	struct ft_key k = key_of(6);
	struct ft_conn *c;
	const struct ft_flow *f;

	setup_table(4, 1000);
	c = put(5, &k, 7, NS(1));
	count(c, 0, 10, 1000, NS(2));
	run_at(1000);

	/* The sequence wrapped back to 7 and the tag is the same; only the creation tick differs.
	 */
	c = put(5, &k, 7, NS(1500));
	count(c, 0, 25, 2500, NS(1600));
	run_at(2000);
	f = flow_of(&k);
	cr_assert_eq(ft_scan_stats(scan)->new_slots, 1);
	cr_assert_eq(f->packets[0], 25);
	cr_assert_eq(f->total_packets[0], 35,
		     "all 25 of the new connection's packets, not 25 - 10");
	cr_assert_eq(f->pps[0], 25.0);
}

Test(scan, a_slot_reused_by_another_key_moves_to_another_flow)
{
	struct ft_key a = key_of(3), b = key_of(4);
	struct ft_conn *c;
	const struct ft_flow *f;

	setup_table(4, 1000);
	c = put(7, &a, 1, NS(1));
	count(c, 0, 50, 5000, NS(2));
	run_at(1000);
	c = put(7, &b, 2, NS(1200));
	count(c, 0, 8, 800, NS(1300));
	run_at(2000);
	cr_assert_null(ft_scan_find(scan, &a));
	f = flow_of(&b);
	cr_assert_eq(f->total_packets[0], 8);
	cr_assert_eq(f->pps[0], 8.0);
	cr_assert_eq(ft_scan_count(scan), 1);
	cr_assert_eq(ft_scan_stats(scan)->new_flows, 1);
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 1);
}

Test(scan, two_entries_of_one_key_are_one_flow)
{
	struct ft_key k = key_of(5);
	struct ft_conn *a, *b;
	const struct ft_flow *f;

	/* Two entries of one key, in slots 2 and 38 (two CPUs made one each: a lock timed out). */
	setup_table(8, 1000);
	a = put(2, &k, 1, NS(10));
	count(a, 0, 7, 700, NS(20));
	/* Slot 38 only saw the replies: there side 1 opened the connection. */
	b = put(38, &k, 1, NS(11));
	b->dir[0].last_ns = 0;
	b->flags = FT_CONN_ORIG_IS_1;
	count(b, 1, 5, 900, NS(30));
	b->verdict = FT_VERDICT_DROP;
	b->hw = FT_HW_OFFLOADED;
	run_at(1000);
	f = flow_of(&k);
	cr_assert_eq(ft_scan_count(scan), 1);
	cr_assert_eq(ft_scan_stats(scan)->slots, 2);
	cr_assert_eq(f->packets[0], 7);
	cr_assert_eq(f->packets[1], 5);
	cr_assert_eq(f->bytes[0], 700);
	cr_assert_eq(f->bytes[1], 900);
	cr_assert_eq(f->last_ns, NS(30));
	cr_assert_eq(f->verdict, FT_VERDICT_DROP, "from the copy seen last");
	cr_assert_eq(f->hw, FT_HW_OFFLOADED);
	cr_assert_eq(f->flags, FT_CONN_ORIG_IS_1);

	/* Slot 2 sees a packet later than slot 38's last one: its copy is the newer. */
	count(a, 0, 17, 1700, NS(40));
	count(b, 1, 6, 1000, NS(35));
	run_at(2000);
	f = flow_of(&k);
	cr_assert_eq(f->verdict, FT_VERDICT_PASS);
	cr_assert_eq(f->flags, 0);
	cr_assert_eq(f->pps[0], 10.0);
	cr_assert_eq(f->pps[1], 1.0);
	cr_assert_eq(f->total_packets[0], 17);
	cr_assert_eq(f->total_packets[1], 6);

	/* Slot 38's copy times out: the flow keeps slot 2's and its totals. */
	free_slot(38);
	count(a, 0, 27, 2700, NS(1500));
	run_at(3000);
	f = flow_of(&k);
	cr_assert_eq(f->packets[0], 27);
	cr_assert_eq(f->packets[1], 0);
	cr_assert_eq(f->total_packets[1], 6);
	cr_assert_eq(f->pps[0], 10.0);
	cr_assert_eq(f->pps[1], 0.5);
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 0);
}

/* Rates are kept as floats: 24 bits, 6e-8 relative, and a few roundings. */
static void assert_near(double got, double want)
{
	double tol = 1e-6 * (want > 0 ? want : -want);

	cr_assert(got - want <= tol && want - got <= tol, "%.17g is not %.17g", got, want);
}

Test(scan, a_step_in_traffic_shows_half_after_one_half_life)
{
	const __u32 half_life = 2000;
	struct ft_key k = key_of(6);
	struct ft_conn *c;
	__u64 now = 1000, packets = 0;

	setup_table(2, half_life);
	c = put(0, &k, 1, NS(1));
	run_at(now);
	/* Idle for one interval: the first rate, 0. */
	run_at(now += 1000);
	cr_assert_eq(flow_of(&k)->pps[0], 0);

	/* 1000 packets per second from now on, scanned every eighth of a half-life. */
	for (int i = 0; i < 8; i++) {
		packets += 250;
		count(c, 0, packets, packets * 100, NS(now + 250));
		run_at(now += 250);
	}
	assert_near(flow_of(&k)->pps[0], 500);
	assert_near(flow_of(&k)->bps[0], 50000);

	/* One more half-life in a single interval: half of the way left. */
	packets += 2000;
	count(c, 0, packets, packets * 100, NS(now + 2000));
	run_at(now += 2000);
	assert_near(flow_of(&k)->pps[0], 750);

	/* Then silence: the rate halves each half-life. */
	run_at(now += 2000);
	assert_near(flow_of(&k)->pps[0], 375);
	run_at(now += 1000);
	assert_near(flow_of(&k)->pps[0], 375 * 0.70710678118654752440);
}

Test(scan, a_half_life_of_zero_keeps_the_last_interval_only)
{
	struct ft_key k = key_of(7);
	struct ft_conn *c;

	setup_table(1, 0);
	c = put(0, &k, 1, NS(1));
	run_at(1000);
	count(c, 0, 40, 4000, NS(1500));
	run_at(2000);
	count(c, 0, 50, 5000, NS(2500));
	run_at(3000);
	cr_assert_eq(flow_of(&k)->pps[0], 10.0);
}

Test(scan, flows_leave_when_no_slot_holds_them)
{
	struct ft_key k[3] = { key_of(10), key_of(11), key_of(12) };
	__u32 slots[3] = { 0, 9, 17 };
	const struct ft_flow *f;
	struct ft_ranked r[4];
	struct ft_conn *c;

	setup_table(4, 1000);
	for (int i = 0; i < 3; i++)
		count(put(slots[i], &k[i], 1, NS(1)), 0, 10 + i, 1000, NS(2));
	run_at(1000);
	cr_assert_eq(ft_scan_count(scan), 3);

	free_slot(9);
	run_at(2000);
	cr_assert_eq(ft_scan_count(scan), 2);
	cr_assert_null(ft_scan_find(scan, &k[1]));
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 1);

	/* Ended in one slot and opened again in another within one interval: still the flow. */
	free_slot(0);
	c = put(30, &k[0], 1, NS(1800));
	count(c, 0, 4, 400, NS(1900));
	run_at(3000);
	f = flow_of(&k[0]);
	cr_assert_eq(ft_scan_count(scan), 2);
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 0);
	cr_assert_eq(ft_scan_stats(scan)->new_flows, 0);
	cr_assert_eq(f->packets[0], 4);
	cr_assert_eq(f->total_packets[0], 14);

	cr_assert_eq(ft_rank_top(scan, FT_SORT_PACKETS, 4, r), 2, "only live flows rank");
	cr_assert(r[0].flow == ft_scan_find(scan, &k[2]) && r[1].flow == f);
	free_slot(17);
	free_slot(30);
	run_at(4000);
	cr_assert_eq(ft_rank_top(scan, FT_SORT_PACKETS, 4, r), 0);
	cr_assert_eq(ft_scan_count(scan), 0);
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 2);
	cr_assert_null(ft_scan_find(scan, &k[0]));

	/* The freed entries serve new keys. */
	count(put(5, &k[1], 2, NS(4500)), 0, 1, 100, NS(4500));
	run_at(5000);
	cr_assert_eq(flow_of(&k[1])->total_packets[0], 1);
	cr_assert_eq(ft_scan_count(scan), 1);
}

/* xorshift64: the same flows on every run. */
static __u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static __u64 rnd(__u64 n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

/* What the flow of key should hold: its live slots' counters, summed; 0: no slot holds it. */
static int expect_sums(const struct ft_key *k, __u32 nslots, __u64 packets[2], __u64 bytes[2])
{
	int held = 0;

	packets[0] = packets[1] = bytes[0] = bytes[1] = 0;
	for (__u32 i = 0; i < nslots; i++) {
		const struct ft_conn *c = slot_at(i);

		if (!FT_META_TAG(*meta_at(i)) || memcmp(&c->key, k, sizeof(*k)))
			continue;
		held = 1;
		for (int d = 0; d < 2; d++) {
			packets[d] += c->dir[d].packets;
			bytes[d] += c->dir[d].bytes;
		}
	}
	return held;
}

/* Checks with one assertion per round: Criterion chokes on millions. */
static __u32 check_flows(__u32 nslots, __u32 keys, int round)
{
	__u32 held_keys = 0;

	for (__u32 id = 0; id < keys; id++) {
		struct ft_key k = key_of(id);
		const struct ft_flow *f = ft_scan_find(scan, &k);
		__u64 packets[2], bytes[2];
		int held = expect_sums(&k, nslots, packets, bytes);

		if (!held != !f)
			cr_assert_fail("round %d: key %u %s in the table but %s a flow", round, id,
				       held ? "is" : "is not", f ? "has" : "has no");
		if (!f)
			continue;
		held_keys++;
		if (memcmp(f->packets, packets, sizeof(packets)) ||
		    memcmp(f->bytes, bytes, sizeof(bytes)) || f->total_packets[0] < packets[0] ||
		    f->total_packets[1] < packets[1] || memcmp(ft_flow_key(scan, f), &k, sizeof(k)))
			cr_assert_fail("round %d: key %u: the flow is not its slots' sum", round,
				       id);
	}
	return held_keys;
}

Test(scan, flows_match_the_table_through_heavy_churn)
{
	const __u32 nslots = 64 * FT_SLOTS, keys = 700;

	setup_table(nslots / FT_SLOTS, 1000);
	for (int round = 1; round <= 60; round++) {
		size_t n, live = 0;
		struct ft_flow v;
		__u32 held_keys;

		/* A fifth of the slots change: freed, or given a key from a pool that repeats. */
		for (int i = 0; i < (int)nslots / 5; i++) {
			__u32 slot = rnd(nslots);
			__u8 seq = FT_META_SEQ(*meta_at(slot)) + 1;
			struct ft_key k = key_of(rnd(keys));

			if (rnd(3) == 0)
				free_slot(slot);
			else
				put(slot, &k, seq, NS(round * 1000));
		}
		for (__u32 i = 0; i < nslots; i++) {
			struct ft_conn *c = slot_at(i);
			int d = rnd(2);
			__u64 p = rnd(5);

			if (FT_META_TAG(*meta_at(i)))
				count(c, d, c->dir[d].packets + p, c->dir[d].bytes + 60 * p,
				      NS(round * 1000 + 1));
		}
		run_at(round * 1000);
		held_keys = check_flows(nslots, keys, round);
		n = ft_scan_entries(scan);
		for (size_t i = 0; i < n; i++)
			live += !ft_scan_read(scan, i, &v);
		cr_assert_eq(ft_scan_count(scan), held_keys, "round %d", round);
		cr_assert_eq(live, held_keys, "round %d", round);
	}
}

#define RACE_SLOTS 64

static int race_stop;

/*
 * Writes the table as the datapath does while the test scans it: counters
 * with plain stores, and now and then a connection reopened in its slot,
 * the meta word cleared first and written last.
 */
static void *race_writer(void *arg)
{
	(void)arg;
	for (__u64 n = 1; !__atomic_load_n(&race_stop, __ATOMIC_RELAXED); n++) {
		struct ft_conn *c = slot_at(n % RACE_SLOTS);
		__u32 *mp = meta_at(n % RACE_SLOTS);
		__u32 m = *mp;

		if (n % 97 == 0) {
			__atomic_store_n(mp, FT_META_SEQ(m), __ATOMIC_RELEASE);
			__atomic_thread_fence(__ATOMIC_RELEASE);
			memset(&c->dir, 0, sizeof(c->dir));
			c->first_ns = n;
			__atomic_store_n(mp, FT_META(0x1234u, 0, (FT_META_SEQ(m) + 1) & 0xff),
					 __ATOMIC_RELEASE);
			continue;
		}
		__atomic_store_n(&c->dir[n & 1].packets, c->dir[n & 1].packets + 1,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&c->dir[n & 1].bytes, c->dir[n & 1].bytes + 100, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(scan, scans_racing_the_writer_never_lose_counts_or_go_back)
{
	__u64 last_total[RACE_SLOTS][2] = { 0 };
	__u32 went_back = 0, negative = 0, reopened = 0;
	pthread_t writer;

	setup_table(RACE_SLOTS / FT_SLOTS, 1000);
	for (__u32 i = 0; i < RACE_SLOTS; i++) {
		struct ft_key k = key_of(i);

		put(i, &k, 1, NS(1));
	}
	cr_assert_eq(pthread_create(&writer, NULL, race_writer, NULL), 0);
	for (int round = 1; round <= 2000; round++) {
		run_at(round);
		reopened += ft_scan_stats(scan)->new_slots;
		for (__u32 i = 0; i < RACE_SLOTS; i++) {
			struct ft_key k = key_of(i);
			const struct ft_flow *f = ft_scan_find(scan, &k);

			/* A flow whose slot was free during the scan has left: it starts over. */
			for (int d = 0; d < 2; d++) {
				__u64 t = f ? f->total_packets[d] : 0;

				went_back += f && t < last_total[i][d];
				negative += f && (f->pps[d] < 0 || f->bps[d] < 0);
				last_total[i][d] = t;
			}
		}
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	pthread_join(writer, NULL);
	cr_assert_gt(reopened, RACE_SLOTS, "the writer reopened no connection while scanned");
	cr_assert_eq(went_back, 0, "a flow's total went back %u times", went_back);
	cr_assert_eq(negative, 0);

	/* At rest, the flows hold what the table holds. */
	run_at(3000);
	cr_assert_eq(check_flows(RACE_SLOTS, RACE_SLOTS, 3000), RACE_SLOTS);
}

Test(scan, refuses_another_table_size_and_a_clock_that_did_not_advance)
{
	struct ft_scan *s;

	cr_assert_eq(ft_scan_new(&s, 12, 1000), -EINVAL);
	cr_assert_null(s);
	setup_table(2, 1000);
	cr_assert_eq(ft_scan_run(scan, tbl, 3, 1000), -EINVAL);
	run_at(1000);
	cr_assert_eq(ft_scan_run(scan, tbl, tbl_buckets, 1000), -EINVAL);
	cr_assert_eq(ft_scan_run(scan, tbl, tbl_buckets, 999), -EINVAL);
	run_at(1001);
}

static enum ft_sort qsort_key;

static int by_rank(const void *a, const void *b)
{
	if (ft_rank_before(a, b, qsort_key))
		return -1;
	return ft_rank_before(b, a, qsort_key) ? 1 : 0;
}

/* Every ranked direction of the scan, fully sorted. */
static size_t sort_all(enum ft_sort key, struct ft_ranked *out)
{
	size_t n = ft_scan_entries(scan), m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ft_flow *f = ft_scan_view(scan, i);

		for (int d = 0; d < 2; d++)
			if (f && f->total_packets[d])
				out[m++] = (struct ft_ranked){ f, ft_flow_key(scan, f), d };
	}
	qsort_key = key;
	qsort(out, m, sizeof(*out), by_rank);
	return m;
}

/*
 * Small ranges, so that many values tie and the tie-break is exercised;
 * every third flow never answers, so its direction 1 is not ranked.
 */
static void random_counters(__u32 nslots, int round)
{
	for (__u32 i = 0; i < nslots; i++) {
		struct ft_conn *c = slot_at(i);

		for (int d = 0; d < 2 - (i % 3 == 0); d++) {
			__u64 p = rnd(4) ? rnd(40) : 0; /* a quarter stay silent */

			count(c, d, c->dir[d].packets + p, c->dir[d].bytes + p * (64 + rnd(3)),
			      NS(1000 * (round + 1)));
		}
	}
}

Test(scan, top_k_is_the_head_of_a_full_sort_for_every_key)
{
	const __u32 nflows = 10000;
	const size_t ks[] = { 1, 10, 100, 2 * 10000 + 1 };

	all = calloc(2 * nflows, sizeof(*all));
	top = calloc(2 * nflows + 1, sizeof(*top));
	cr_assert(all && top);
	setup_table(nflows / FT_SLOTS, 3000);
	for (__u32 i = 0; i < nflows; i++) {
		struct ft_key k = key_of(i);

		put(i, &k, 1, NS(1));
	}
	for (int round = 0; round < 3; round++) {
		random_counters(nflows, round);
		run_at(1000 * (round + 1));
	}
	cr_assert_eq(ft_scan_count(scan), nflows);
	for (int key = 0; key < FT_SORT_MAX; key++) {
		size_t n = sort_all(key, all);

		cr_assert_gt(n, nflows, "some directions carry packets, some do not");
		cr_assert_lt(n, 2 * nflows);
		for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
			size_t want = ks[j] < n ? ks[j] : n;
			size_t got = ft_rank_top(scan, key, ks[j], top);

			cr_assert_eq(got, want, "%s, k = %zu", ft_sort_name(key), ks[j]);
			/* One assertion per ranking: Criterion chokes on millions. */
			for (size_t i = 0; i < got; i++)
				if (top[i].flow != all[i].flow || top[i].dir != all[i].dir)
					cr_assert_fail("%s, k = %zu: rank %zu differs",
						       ft_sort_name(key), ks[j], i);
		}
	}
	cr_assert_eq(ft_rank_top(scan, FT_SORT_PPS, 0, top), 0);
}

Test(scan, sort_names_parse_both_ways)
{
	enum ft_sort s;

	for (int i = 0; i < FT_SORT_MAX; i++) {
		cr_assert_eq(ft_sort_parse(ft_sort_name(i), &s), 0);
		cr_assert_eq((int)s, i);
	}
	cr_assert_eq(ft_sort_parse("flows", &s), -EINVAL);
}

Test(scan, reads_the_counters_the_datapath_wrote)
{
	const struct ft_spec ab = { .family = 4,
				    .src = "198.18.0.1",
				    .dst = "198.18.0.2",
				    .proto = 17,
				    .sport = 40000,
				    .dport = 53,
				    .payload = 10 };
	const struct ft_spec ba = { .family = 4,
				    .src = "198.18.0.2",
				    .dst = "198.18.0.1",
				    .proto = 17,
				    .sport = 53,
				    .dport = 40000,
				    .payload = 100 };
	const struct ft_flow *f;
	struct ft_ranked best[2];
	struct ft_ct *c;
	int side, err;

	ft_test_load(&dp, 1024, 1, 2);
	err = ft_scan_new(&scan, dp.nr_buckets * FT_SLOTS, 1000);
	cr_assert_eq(err, 0, "ft_scan_new: %s", strerror(-err));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, &ab), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &ba), FT_XDP_PASS);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 1000), 0);

	c = ft_find(&dp, &ab, 0, &side, NULL, NULL);
	cr_assert_not_null(c);
	f = flow_of(&c->key);
	cr_assert_eq(ft_scan_count(scan), 1);
	/* 14 Ethernet + 20 IPv4 + 8 UDP + payload */
	cr_assert_eq(f->packets[side], 3);
	cr_assert_eq(f->bytes[side], 3 * 52);
	cr_assert_eq(f->packets[!side], 1);
	cr_assert_eq(f->bytes[!side], 142);
	cr_assert_eq(f->state, FT_STATE_ESTABLISHED);
	cr_assert_eq(f->flags & FT_CONN_ORIG_IS_1, side ? FT_CONN_ORIG_IS_1 : 0);
	cr_assert_eq(f->last_ns, c->dir[!side].last_ns);

	for (int i = 0; i < 4; i++)
		ft_send(&dp, FT_T_XDP, &ab);
	cr_assert_eq(ft_scan_run(scan, dp.buckets, dp.nr_buckets, 2000), 0);
	f = flow_of(&c->key);
	cr_assert_eq(f->packets[side], 7);
	cr_assert_eq(f->total_packets[side], 7);
	cr_assert_eq(f->pps[side], 4.0);
	cr_assert_eq(f->bps[side], 4 * 52.0);
	cr_assert_eq(f->pps[!side], 0);
	cr_assert_eq(ft_rank_top(scan, FT_SORT_PPS, 2, best), 2);
	cr_assert(best[0].flow == f && best[0].dir == side);
}

/*
 * The controller's writes into the table: the hw mark follows the flow on
 * every slot holding it, a touch refreshes last_tick, and a slot the
 * datapath recycled since the scan is left alone.
 */
Test(scan, marks_reach_every_slot_of_a_flow_and_spare_a_recycled_slot)
{
	struct ft_key k = key_of(1), other = key_of(2);
	__u8 marks[64] = { 0 };

	setup_table(8, 1000);
	count(put(2, &k, 1, NS(10)), 0, 3, 300, NS(10));
	count(put(38, &k, 1, NS(11)), 1, 2, 200, NS(11));
	count(put(5, &other, 1, NS(12)), 0, 1, 100, NS(12));
	run_at(1000);
	cr_assert_leq(ft_scan_entries(scan), sizeof(marks));
	marks[flow_of(&k)->id] = FT_MARK_HW | FT_MARK_TOUCH;

	ft_scan_mark(scan, tbl, marks, 777);
	cr_assert_eq(slot_at(2)->hw, FT_HW_OFFLOADED);
	cr_assert_eq(slot_at(38)->hw, FT_HW_OFFLOADED);
	cr_assert_eq(*tick_at(2), 777);
	cr_assert_eq(*tick_at(38), 777);
	cr_assert_eq(slot_at(5)->hw, FT_HW_NONE);
	cr_assert_neq(*tick_at(5), 777, "an unmarked flow keeps its age");

	/* The flow left hardware; slot 38 now holds another connection. */
	run_at(2000);
	put(38, &other, 2, NS(20));
	slot_at(38)->hw = FT_HW_OFFLOADED;
	memset(marks, 0, sizeof(marks));
	ft_scan_mark(scan, tbl, marks, 900);
	cr_assert_eq(slot_at(2)->hw, FT_HW_NONE);
	cr_assert_eq(*tick_at(2), 777);
	cr_assert_eq(slot_at(38)->hw, FT_HW_OFFLOADED, "not the connection the scan saw");
}

/*
 * The scanner reads a flow's key and state from its slots when asked, so a
 * slot the datapath recycled since the scan is left out, and a flow none of
 * whose slots holds its connection any more is gone to every caller.
 */
Test(scan, a_flow_whose_slots_were_recycled_since_the_scan_is_gone)
{
	struct ft_key k = key_of(1), k2 = key_of(2), other = key_of(3);
	struct ft_conn *c;
	struct ft_flow v;
	struct ft_ranked r[2];
	size_t id, id2;

	setup_table(8, 1000);
	c = put(2, &k, 1, NS(10));
	count(c, 0, 3, 300, NS(10));
	set_class(2, FT_TO_UDP_ESTABLISHED);
	c = put(38, &k, 1, NS(11));
	count(c, 1, 2, 200, NS(20));
	set_class(38, FT_TO_TCP_CLOSING);
	c->dir[1].in_ifindex = 7;
	count(put(5, &k2, 1, NS(12)), 0, 50, 5000, NS(12));
	run_at(1000);
	id = flow_of(&k)->id;
	/* k2's entry, read without a view: a view, once handed out, stays until the next scan. */
	for (id2 = 0; !ft_scan_read(scan, id2, &v) && !memcmp(&v.key, &k, sizeof(k)); id2++)
		;
	cr_assert_eq(ft_scan_read(scan, id2, &v), 0);
	cr_assert_eq(memcmp(&v.key, &k2, sizeof(k2)), 0);
	cr_assert_eq(flow_of(&k)->state, FT_STATE_CLOSING, "the slot that saw the latest packet");
	cr_assert_eq(flow_of(&k)->in_ifindex[1], 7);
	cr_assert_eq(flow_of(&k)->created_tick, NS(10) >> FT_TICK_SHIFT);
	cr_assert_eq(ft_scan_read(scan, ft_scan_entries(scan), &v), -ENOENT);

	/* Slot 38 now holds another connection: the flow is slot 2's, its counters the scan's. */
	put(38, &other, 2, NS(30));
	cr_assert_eq(ft_scan_read(scan, id, &v), 0);
	cr_assert_eq(v.state, FT_STATE_ESTABLISHED);
	cr_assert_eq(v.in_ifindex[1], 0);
	cr_assert_eq(v.last_ns, NS(10));
	cr_assert_eq(v.packets[0], 3);
	cr_assert_eq(v.packets[1], 2, "the counters read at the scan");
	cr_assert_eq(memcmp(&v.key, &k, sizeof(k)), 0);

	/* Both slots recycled or freed: gone, and no ranking lists it. */
	free_slot(2);
	free_slot(5);
	cr_assert_eq(ft_scan_read(scan, id, &v), -ESTALE);
	cr_assert_eq(ft_scan_view(scan, id), flow_of(&k), "the view handed out before stays");
	cr_assert_eq(ft_scan_read(scan, id2, &v), -ESTALE);
	cr_assert_null(ft_scan_view(scan, id2));
	cr_assert_null(ft_scan_find(scan, &k2));
	cr_assert_eq(ft_scan_lookup(scan, &k2), (long)id2, "the entry stays until the next scan");
	cr_assert_eq(ft_scan_lookup(scan, &other), -ENOENT, "not scanned yet");
	cr_assert_eq(ft_rank_top(scan, FT_SORT_PACKETS, 2, r), 0, "ranking reads the table");

	/* The next scan lets them go, and a connection of k back in a slot is a new flow. */
	count(put(9, &k, 2, NS(40)), 0, 4, 400, NS(40));
	run_at(2000);
	cr_assert_eq(ft_scan_stats(scan)->gone_flows, 1, "k2's");
	cr_assert_eq(ft_scan_count(scan), 2);
	cr_assert_eq(flow_of(&k)->packets[0], 4);
	cr_assert_eq(flow_of(&k)->total_packets[0], 3 + 4, "k's flow carries on by its hashes");
}
