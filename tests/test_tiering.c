// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Between the tiers: a table written as the datapath would, scanned, fed
 * to the real offload manager driving the simulated NIC; the rules that
 * come out, and the marks that go back into the table.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_sim.h"
#include "metrics.h"
#include "offload.h"
#include "scan.h"
#include "tiering.h"

#define NS(ms)	 ((__u64)(ms)*1000000)
#define TICK(ms) ((__u32)(NS(ms) >> FT_TICK_SHIFT))
#define IF_IN	 7
#define IF_OUT	 9

static struct ft_bucket tbl[8];
static struct ft_scan *scan;
static struct ft_hw_sim *sim;
static struct ft_offload *mgr;
static struct ft_tiering *tier;

static void setup(void)
{
	struct ft_hw_sim_cfg hc = { .capacity = 1 };
	struct ft_offload_cfg oc;

	memset(tbl, 0, sizeof(tbl));
	cr_assert_eq(ft_scan_new(&scan, 8 * FT_SLOTS, 0), 0);
	cr_assert_eq(ft_hw_sim_new(&sim, &hc), 0);
	ft_offload_cfg_default(&oc);
	oc.hw_stats_lag_ms = 0;
	cr_assert_eq(ft_offload_new(&mgr, &oc, ft_hw_sim_hw(sim)), 0);
	cr_assert_eq(ft_tiering_new(&tier, mgr), 0);
}

static void teardown(void)
{
	ft_tiering_free(tier);
	ft_offload_free(mgr);
	ft_scan_free(scan);
}

TestSuite(tiering, .init = setup, .fini = teardown);

/* An established UDP connection 198.18.0.<i>:1000 <-> 198.19.0.1:80, opened by side 0. */
static struct ft_conn *conn(__u32 slot, __u8 i, __u8 verdict)
{
	struct ft_conn *c = &tbl[slot / FT_SLOTS].slot[slot % FT_SLOTS];
	const __u8 a0[4] = { 198, 18, 0, i }, a1[4] = { 198, 19, 0, 1 };

	memset(c, 0, sizeof(*c));
	memcpy(c->key.addr[0], a0, 4);
	memcpy(c->key.addr[1], a1, 4);
	c->key.port[0] = htons(1000);
	c->key.port[1] = htons(80);
	c->key.proto = 17;
	c->key.family = FT_FAMILY_IPV4;
	c->verdict = verdict;
	c->redirect_ifindex = verdict == FT_VERDICT_REDIRECT ? IF_OUT : 0;
	c->dir[0].in_ifindex = c->dir[1].in_ifindex = IF_IN;
	c->first_ns = NS(10);
	tbl[slot / FT_SLOTS].meta[slot % FT_SLOTS] = FT_META(0x77u + i, FT_TO_UDP_ESTABLISHED, 1);
	return c;
}

/* Slot 3's last_tick, in its bucket's index line: conn(3, ...) below. */
static __u32 *tick_of_slot3(void)
{
	return &tbl[3 / FT_SLOTS].last_tick[3 % FT_SLOTS];
}

/* Both directions carried packets_per_s since the last step; one scan and one tick at ms. */
static void step(struct ft_conn **c, int n, const __u64 *pps, __u64 ms)
{
	for (int i = 0; i < n; i++)
		for (int d = 0; d < 2; d++) {
			c[i]->dir[d].packets += pps[i];
			c[i]->dir[d].bytes += pps[i] * 100;
			c[i]->dir[d].last_ns = NS(ms);
		}
	ft_hw_sim_set_time(sim, ms);
	cr_assert_eq(ft_scan_run(scan, tbl, 8, ms), 0);
	cr_assert_eq(ft_tiering_tick(tier, scan, tbl, ms, TICK(ms)), 0);
}

Test(tiering, the_hottest_drop_direction_goes_to_the_nic_and_is_marked_in_the_table)
{
	struct ft_conn *c[2] = { conn(3, 1, FT_VERDICT_DROP), conn(20, 2, FT_VERDICT_DROP) };
	const __u64 pps[2] = { 5000, 300 };
	__u64 hp, hb;

	for (__u64 ms = 2000; ms <= 5000; ms += 1000)
		step(c, 2, pps, ms);

	/* Capacity 1: the hottest direction, on the device it arrives on. */
	cr_assert(ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 0)) ||
		  ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 1)));
	cr_assert(!ft_hw_sim_has(sim, ft_flow_id(&c[1]->key, 0)));
	cr_assert(!ft_hw_sim_has(sim, ft_flow_id(&c[1]->key, 1)));
	cr_assert_eq(c[0]->hw, FT_HW_OFFLOADED);
	cr_assert_eq(c[1]->hw, FT_HW_NONE);
	cr_assert_eq(ft_tiering_tier(tier, &c[1]->key, 0, NULL, NULL), FT_TIER_PENDING);

	/* The NIC counts the installed direction; its connection is kept alive. */
	int d = ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 0)) ? 0 : 1;
	cr_assert_eq(ft_hw_sim_hit(sim, ft_flow_id(&c[0]->key, d), 40, 4000), 1);
	*tick_of_slot3() = 1;
	step(c, 2, pps, 6000);
	cr_assert_eq(ft_tiering_tier(tier, &c[0]->key, d, &hp, &hb), FT_TIER_HARDWARE);
	cr_assert_eq(hp, 40);
	cr_assert_eq(hb, 4000);
	cr_assert_eq(*tick_of_slot3(), TICK(6000), "the NIC's packets keep the connection alive");
}

/* One scan and tick at ms after each direction d of c[i] carried pps[i][d] in software. */
static void step_dirs(struct ft_conn **c, int n, const __u64 (*pps)[2], __u64 ms)
{
	for (int i = 0; i < n; i++)
		for (int d = 0; d < 2; d++) {
			c[i]->dir[d].packets += pps[i][d];
			c[i]->dir[d].bytes += pps[i][d] * 100;
			if (pps[i][d])
				c[i]->dir[d].last_ns = NS(ms);
		}
	ft_hw_sim_set_time(sim, ms);
	cr_assert_eq(ft_scan_run(scan, tbl, 8, ms), 0);
	cr_assert_eq(ft_tiering_tick(tier, scan, tbl, ms, TICK(ms)), 0);
}

Test(tiering, cold_flows_are_not_listed_but_a_rule_whose_software_rate_fell_to_zero_is)
{
	struct ft_conn *c[3] = { conn(3, 1, FT_VERDICT_REDIRECT), conn(20, 2, FT_VERDICT_DROP),
				 conn(40, 3, FT_VERDICT_DROP) };
	const __u64 before[3][2] = { { 5000, 0 }, { 99, 99 }, { 0, 150 } };
	const __u64 after[3][2] = { { 0, 0 }, { 99, 99 }, { 0, 150 } };
	__u64 id = ft_flow_id(&c[0]->key, 0), hp;

	/* The first tick adopts: it lists every direction the NIC could carry. */
	step_dirs(c, 3, before, 2000);
	cr_assert_eq(ft_tiering_listed(tier), 5);
	for (__u64 ms = 3000; ms <= 5000; ms += 1000)
		step_dirs(c, 3, before, ms);
	cr_assert_eq(ft_hw_sim_has(sim, id), 1);
	/* c[1] is below the default min_pps of 100 both ways; a flow is read whole. */
	cr_assert_eq(ft_tiering_listed(tier), 3, "c[0] forward and c[2] both ways, not c[1]");

	/* Its packets now go through the NIC: software sees none. */
	for (__u64 ms = 6000; ms <= 9000; ms += 1000) {
		cr_assert_eq(ft_hw_sim_hit(sim, id, 5000, 500000), 1);
		step_dirs(c, 3, after, ms);
		cr_assert_eq(ft_tiering_listed(tier), 3);
		cr_assert_eq(ft_hw_sim_has(sim, id), 1, "the rule stays at %llu ms",
			     (unsigned long long)ms);
	}
	cr_assert_eq(ft_tiering_tier(tier, &c[0]->key, 0, &hp, NULL), FT_TIER_HARDWARE);
	cr_assert_eq(hp, 20000);
}

Test(tiering, redirect_offloads_only_the_direction_that_opened_the_connection)
{
	struct ft_conn *c[1] = { conn(3, 1, FT_VERDICT_REDIRECT) };
	const __u64 pps[1] = { 5000 };

	for (__u64 ms = 2000; ms <= 5000; ms += 1000)
		step(c, 1, pps, ms);
	cr_assert_eq(ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 0)), 1);
	cr_assert_eq(ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 1)), 0,
		     "replies pass: the NIC cannot redirect them");
	cr_assert_eq(ft_tiering_tier(tier, &c[0]->key, 1, NULL, NULL), FT_TIER_SOFTWARE);
}

Test(tiering, a_direction_not_seen_at_an_ingress_hook_stays_in_software)
{
	struct ft_conn *c[1] = { conn(3, 1, FT_VERDICT_DROP) };
	const __u64 pps[1] = { 5000 };

	c[0]->dir[0].in_ifindex = c[0]->dir[1].in_ifindex = 0;
	for (__u64 ms = 2000; ms <= 5000; ms += 1000)
		step(c, 1, pps, ms);
	cr_assert_eq(ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 0)), 0);
	cr_assert_eq(ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 1)), 0);
	cr_assert_eq(c[0]->hw, FT_HW_NONE);
}

Test(tiering, flow_ids_are_stable_and_differ_by_direction)
{
	struct ft_conn *a = conn(3, 1, FT_VERDICT_DROP);
	struct ft_key k = a->key;

	cr_assert_eq(ft_flow_id(&a->key, 0), ft_flow_id(&k, 0));
	cr_assert_neq(ft_flow_id(&k, 0), ft_flow_id(&k, 1));
	k.zone = 1;
	cr_assert_neq(ft_flow_id(&k, 0), ft_flow_id(&a->key, 0));
}

/* /metrics' top series rank and count as flows does: software plus hardware. */
static void top_series_count_the_nic(const struct ft_conn *c, int d)
{
	struct ft_zone *zones = calloc(FT_MAX_ZONES, sizeof(*zones));
	struct ft_stats stats = { 0 };
	struct ft_metrics_src src = {
		.buckets = tbl,
		.nr_buckets = 8,
		.zones = zones,
		.stats = &stats,
		.scan = scan,
		.top = 1,
		.tiering = tier,
	};
	struct ft_textbuf out = { 0 };
	char want[256], src_addr[16];

	cr_assert_not_null(zones);
	cr_assert_eq(ft_metrics_render(&src, &out), 0);
	snprintf(src_addr, sizeof(src_addr), "%u.%u.%u.%u", c->key.addr[d][0], c->key.addr[d][1],
		 c->key.addr[d][2], c->key.addr[d][3]);
	/* 4 s of 5000 in software before the rule, then 4 s of 8000 in the NIC. */
	snprintf(want, sizeof(want), "flowtier_top_flow_packets_total{src=\"%s\",sport=\"%u\",",
		 src_addr, ntohs(c->key.port[d]));
	cr_assert(strstr(out.data, want), "%s not in\n%s", want, out.data);
	cr_assert(strstr(strstr(out.data, want), "} 52000\n"), "%s", out.data);
	ft_textbuf_free(&out);
	free(zones);
}

/*
 * A direction the NIC carries has almost no software rate; the ranking
 * still puts it first, by software plus hardware, and lists it once.
 */
Test(tiering, a_direction_in_hardware_ranks_by_what_the_nic_carries)
{
	struct ft_conn *c[2] = { conn(3, 1, FT_VERDICT_DROP), conn(20, 2, FT_VERDICT_DROP) };
	__u64 pps[2] = { 5000, 300 };
	struct ft_ranked top[4];
	size_t n;
	int d;

	for (__u64 ms = 2000; ms <= 5000; ms += 1000)
		step(c, 2, pps, ms);
	d = ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, 0)) ? 0 : 1;
	cr_assert(ft_hw_sim_has(sim, ft_flow_id(&c[0]->key, d)));
	/* From now on the NIC takes that direction: 8000 packets a second. */
	for (__u64 ms = 6000; ms <= 9000; ms += 1000) {
		cr_assert_eq(ft_hw_sim_hit(sim, ft_flow_id(&c[0]->key, d), 8000, 800000), 1);
		c[0]->dir[d].packets -= 5000; /* step() adds 5000 to both; the NIC took these */
		c[0]->dir[d].bytes -= 500000;
		step(c, 2, pps, ms);
	}
	n = ft_tiering_rank(tier, scan, FT_SORT_PPS, 4, top);
	cr_assert_eq(n, 4, "two flows, two directions each");
	cr_assert_eq(memcmp(top[0].key, &c[0]->key, sizeof(c[0]->key)), 0);
	cr_assert_eq(top[0].dir, d, "the NIC's direction first");
	cr_assert_float_eq(ft_tiering_value(tier, &top[0], FT_SORT_PPS), 8000, 1);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			cr_assert(top[i].flow != top[j].flow || top[i].dir != top[j].dir,
				  "listed once");
	top_series_count_the_nic(c[0], d);
}
