// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Zones: where they come from, their limits, and exact counts. */
#define _GNU_SOURCE
#include <errno.h>
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "ft_test.h"

static struct ft_datapath dp;

static void teardown(void)
{
	ft_dp_close(&dp);
}

TestSuite(zones, .fini = teardown);

/* UDP flow i, tagged with VLAN `vlan` (0: untagged). */
static struct ft_spec flow(int i, __u16 vlan)
{
	static char addrs[64][32];
	struct ft_spec s = {
		.family = 4,
		.dst = "198.18.0.2",
		.proto = 17,
		.sport = 2000 + i,
		.dport = 53,
		.nvlan = vlan ? 1 : 0,
		.vlan_id = { vlan },
	};

	snprintf(addrs[i % 64], sizeof(addrs[0]), "198.18.2.%d", i % 250 + 1);
	s.src = addrs[i % 64];
	return s;
}

/* Live connections of one zone, counted by scanning the table. */
static __u64 live_in_zone(__u16 zone)
{
	__u64 n = 0;

	for (__u32 b = 0; b < dp.nr_buckets; b++)
		for (int i = 0; i < FT_SLOTS; i++)
			n += FT_META_TAG(dp.buckets[b].meta[i]) &&
			     dp.buckets[b].slot[i].key.zone == zone;
	return n;
}

Test(zones, the_zone_is_the_outer_vlan_id)
{
	struct ft_spec s = flow(1, 100);

	ft_test_load(&dp, 1024, 1, 2);
	s.nvlan = 2;
	s.vlan_id[1] = 200;
	s.vlan_proto[0] = 0x88a8;
	ft_send(&dp, FT_T_XDP, &s);
	cr_assert_not_null(ft_find(&dp, &s, 100, NULL, NULL, NULL));
	cr_assert_eq(dp.zones[100].count, 1);
	cr_assert_eq(dp.zones[0].count, 0);
}

Test(zones, untagged_traffic_takes_the_zone_of_its_ingress_interface)
{
	struct ft_spec s = flow(2, 0);

	ft_test_load(&dp, 1024, 1, 2);
	/* BPF_PROG_TEST_RUN runs XDP as if received on the loopback device (ifindex 1). */
	cr_assert_eq(ft_dp_set_if_zone(&dp, 1, 7), 0);
	ft_send(&dp, FT_T_XDP, &s);
	cr_assert_not_null(ft_find(&dp, &s, 7, NULL, NULL, NULL));
	cr_assert_eq(dp.zones[7].count, 1);
	cr_assert_eq(ft_dp_set_if_zone(&dp, FT_MAX_IFINDEX, 7), -ERANGE);
}

Test(zones, a_zone_limit_refuses_exactly_past_the_limit_and_counts_per_zone)
{
	struct ft_spec extra = flow(3, 100), other = flow(4, 101);
	struct ft_zone z;

	ft_test_load(&dp, 1024, 1, 2);
	ft_dp_set_zone_limit(&dp, 100, 3);
	for (int i = 10; i < 13; i++) {
		struct ft_spec s = flow(i, 100);

		cr_assert_eq(ft_send(&dp, FT_T_XDP, &s), FT_XDP_PASS);
	}
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &extra), FT_XDP_DROP);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &extra), FT_TC_SHOT);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &other), FT_XDP_PASS, "other zones are not limited");
	{
		struct ft_spec known = flow(10, 100);

		cr_assert_eq(ft_send(&dp, FT_T_XDP, &known), FT_XDP_PASS,
			     "connections already admitted keep flowing");
	}
	cr_assert_null(ft_find(&dp, &extra, 100, NULL, NULL, NULL));
	ft_dp_read_zone(&dp, 100, &z);
	cr_assert_eq(z.count, 3);
	cr_assert_eq(z.refused, 2);
	cr_assert_eq(live_in_zone(100), 3);
	cr_assert_eq(ft_stats_of(&dp).insert_failed[FT_FAIL_ZONE_LIMIT], 2);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_DROP], 2);

	/* Raising the limit at run time admits it. */
	ft_dp_set_zone_limit(&dp, 100, 4);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &extra), FT_XDP_PASS);
	cr_assert_eq(dp.zones[100].count, 4);
}

Test(zones, a_zone_filled_only_by_stale_entries_on_another_cpu_admits_new_connections)
{
	struct ft_timeouts to = ft_default_timeouts;
	struct ft_spec fresh = flow(20, 100);

	ft_test_load(&dp, 1024, 1, 2);
	to.secs[FT_TO_UDP_NEW] = 1;
	cr_assert_eq(ft_dp_set_timeouts(&dp, &to), 0);
	ft_dp_set_zone_limit(&dp, 100, 2);

	ft_test_pin(1);
	for (int i = 21; i < 23; i++) {
		struct ft_spec s = flow(i, 100);

		cr_assert_eq(ft_send(&dp, FT_T_XDP, &s), FT_XDP_PASS);
	}
	cr_assert_eq(dp.zones[100].count, 2);
	usleep(1200 * 1000);

	ft_test_pin(0);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &fresh), FT_XDP_PASS);
	cr_assert_eq(ft_stats_of(&dp).reclaimed[FT_RECLAIM_ZONE_SWEEP], 2);
	cr_assert_eq(ft_stats_of(&dp).insert_failed[FT_FAIL_ZONE_LIMIT], 0);
	cr_assert_eq(dp.zones[100].count, 1);
	cr_assert_eq(live_in_zone(100), 1);
	cr_assert_eq(dp.zones[100].refused, 0);
}

Test(zones, a_flood_into_a_full_zone_sweeps_at_most_once_per_tick)
{
	struct timespec t0, t1;
	double ticks;

	ft_test_load(&dp, 1024, 1, 2);
	ft_dp_set_zone_limit(&dp, 100, 2);
	for (int i = 0; i < 2; i++) {
		struct ft_spec s = flow(30 + i, 100);

		cr_assert_eq(ft_send(&dp, FT_T_XDP, &s), FT_XDP_PASS);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 500; i++) {
		struct ft_spec s = flow(40 + i % 60, 100);

		cr_assert_eq(ft_send(&dp, FT_T_XDP, &s), FT_XDP_DROP);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Ticks are 2^20 ns; the coarse clock may start the run mid-tick. */
	ticks = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (1 << 20);
	cr_assert_leq(ft_stats_of(&dp).zone_sweeps, (__u64)ticks + 2, "%llu sweeps in %.1f ticks",
		      (unsigned long long)ft_stats_of(&dp).zone_sweeps, ticks);
	cr_assert_geq(ft_stats_of(&dp).zone_sweeps, 1);
	cr_assert_eq(dp.zones[100].refused, 500, "every refusal is counted");
	cr_assert_eq(dp.zones[100].count, 2);
}

Test(zones, zone_counts_stay_exact_through_evictions_and_reclaims)
{
	struct ft_timeouts to = ft_default_timeouts;

	/* One bucket, so that connections evict each other. */
	ft_test_load(&dp, FT_SLOTS, 1, 2);
	to.secs[FT_TO_UDP_NEW] = 1;
	cr_assert_eq(ft_dp_set_timeouts(&dp, &to), 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 40; i++) {
			struct ft_spec s = flow(round * 40 + i, 1 + i % 3);

			ft_send(&dp, FT_T_XDP, &s);
			for (__u16 z = 0; z < 5; z++)
				cr_assert_eq(dp.zones[z].count, live_in_zone(z),
					     "zone %u after packet %d of round %d", z, i, round);
		}
		usleep(1100 * 1000);
	}
	cr_assert_gt(ft_stats_of(&dp).evicted[FT_EVICT_NOT_ESTABLISHED], 0);
	cr_assert_gt(ft_stats_of(&dp).reclaimed[FT_RECLAIM_LOOKUP], 0);
}
