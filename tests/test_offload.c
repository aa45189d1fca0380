// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The offload manager against the simulated NIC: a world of flows with
 * set rates, advanced one second a tick. Each tick every flow sends its
 * rate's packets, to the NIC when its rule is there and to the software
 * tier otherwise, then the manager ticks.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <string.h>

#include <stdio.h>
#include <unistd.h>

#include "bpffs.h"
#include "hw_base.h"
#include "hw_sim.h"
#include "offload.h"

#define IF_A	 100001
#define IF_B	 100002
#define MAXF	 512
#define PKT_SIZE 100

struct world {
	struct ft_hw_sim *sim;
	struct ft_offload *m;
	struct ft_offload_cfg cfg;
	size_t n;
	double pps[MAXF];
	int listed[MAXF];
	__u64 sent[MAXF];
	struct ft_offload_flow f[MAXF];
	__u64 now;
};

static struct world w;

static void flow_init(size_t i, __u32 ifindex)
{
	struct ft_offload_flow *f = &w.f[i];

	memset(f, 0, sizeof(*f));
	f->id = 1000 + i;
	f->rule.key.family = FT_FAMILY_IPV4;
	f->rule.key.proto = 6;
	f->rule.key.addr[0][0] = 198;
	f->rule.key.addr[0][1] = 18;
	f->rule.key.addr[0][2] = i >> 8;
	f->rule.key.addr[0][3] = i & 0xff;
	f->rule.key.addr[1][0] = 198;
	f->rule.key.addr[1][1] = 19;
	f->rule.key.port[0] = htobe16(10000 + i);
	f->rule.key.port[1] = htobe16(80);
	f->rule.verdict = FT_VERDICT_DROP;
	f->rule.ifindex = ifindex;
	f->state = FT_STATE_ESTABLISHED;
	f->age_ms = 60000;
}

/* n flows on IF_A with the given rates, none listed yet. */
static void world_new(__u32 capacity, __u64 lag_ms)
{
	struct ft_hw_sim_cfg sc = { .capacity = capacity, .lag_ms = lag_ms };

	memset(&w, 0, sizeof(w));
	cr_assert_eq(ft_hw_sim_new(&w.sim, &sc), 0);
	ft_offload_cfg_default(&w.cfg);
	w.cfg.min_age_ms = 0;
	w.cfg.hw_stats_lag_ms = lag_ms;
	w.cfg.oor_probe_ms = 1000000;
	w.now = 1000000;
}

static void world_start(void)
{
	ft_hw_sim_set_time(w.sim, w.now);
	cr_assert_eq(ft_offload_new(&w.m, &w.cfg, ft_hw_sim_hw(w.sim)), 0);
}

static void add_flow(double pps)
{
	flow_init(w.n, IF_A);
	w.pps[w.n] = pps;
	w.listed[w.n] = 1;
	w.n++;
}

/* One second: every listed flow sends, then the manager ticks. */
static void step(void)
{
	w.now += 1000;
	ft_hw_sim_set_time(w.sim, w.now);
	struct ft_offload_flow list[MAXF];
	size_t k = 0;

	for (size_t i = 0; i < w.n; i++) {
		__u64 p = (__u64)w.pps[i];

		if (!w.listed[i])
			continue;
		w.sent[i] += p;
		if (ft_hw_sim_hit(w.sim, w.f[i].id, p, p * PKT_SIZE)) {
			w.f[i].sw_pps = 0;
		} else {
			w.f[i].sw_packets += p;
			w.f[i].sw_bytes += p * PKT_SIZE;
			w.f[i].sw_pps = w.pps[i];
		}
		list[k++] = w.f[i];
	}
	cr_assert_eq(ft_offload_tick(w.m, list, k, w.now), 0);
}

static void steps(int n)
{
	while (n--)
		step();
}

static enum ft_tier tier(size_t i)
{
	return ft_offload_tier(w.m, w.f[i].id, NULL, NULL);
}

static const struct ft_offload_dev_stats *dev(__u32 ifindex)
{
	struct ft_offload_stats st;

	ft_offload_stats(w.m, &st);
	for (__u32 i = 0; i < st.ndevs; i++)
		if (st.devs[i].ifindex == ifindex)
			return &st.devs[i];
	cr_assert_fail("no device %u", ifindex);
	return NULL;
}

/* The flows in hardware, as a bit mask over the first 64. */
static __u64 in_hw(void)
{
	__u64 mask = 0;

	for (size_t i = 0; i < w.n && i < 64; i++) {
		if (tier(i) == FT_TIER_HARDWARE) {
			cr_assert(ft_hw_sim_has(w.sim, w.f[i].id),
				  "flow %zu: manager and NIC disagree", i);
			mask |= 1ull << i;
		} else {
			cr_assert(!ft_hw_sim_has(w.sim, w.f[i].id), "flow %zu left behind in NIC",
				  i);
		}
	}
	return mask;
}

/* The NIC holds `mask` after `swaps` swaps, and still does 20 intervals later. */
static void assert_settled(__u64 mask, __u64 swaps)
{
	cr_assert_eq(in_hw(), mask);
	cr_assert_eq(dev(IF_A)->swaps, swaps);
	steps(20);
	cr_assert_eq(in_hw(), mask);
	cr_assert_eq(dev(IF_A)->swaps, swaps);
}

/*
 * Software plus hardware is exactly what each flow sent, once the
 * hardware counters are final (the rule was deleted); while a rule is in
 * the NIC its counters lag, so they may only fall short.
 */
static void assert_exact(void)
{
	for (size_t i = 0; i < w.n; i++) {
		__u64 hp, hb;

		if (ft_offload_tier(w.m, w.f[i].id, &hp, &hb) == FT_TIER_HARDWARE) {
			cr_assert_leq(w.f[i].sw_packets + hp, w.sent[i], "flow %zu", i);
			continue;
		}
		cr_assert_eq(w.f[i].sw_packets + hp, w.sent[i], "flow %zu: %llu + %llu != %llu", i,
			     (unsigned long long)w.f[i].sw_packets, (unsigned long long)hp,
			     (unsigned long long)w.sent[i]);
		cr_assert_eq(w.f[i].sw_bytes + hb, w.sent[i] * PKT_SIZE, "flow %zu bytes", i);
	}
}

static void world_end(void)
{
	ft_offload_free(w.m);
	ft_hw_sim_hw(w.sim)->ops->close(ft_hw_sim_hw(w.sim));
}

static void quiet(void)
{
	cr_redirect_stderr();
}

TestSuite(offload, .init = quiet);

Test(offload, exhaustion_at_capacity_learns_it_and_keeps_the_hottest)
{
	struct ft_hw_sim_stats ss;

	world_new(4, 2000);
	world_start();
	for (int i = 0; i < 10; i++)
		add_flow(1000 + 1000 * i);
	step();
	cr_assert_eq(dev(IF_A)->rules, 4);
	cr_assert_eq(dev(IF_A)->capacity, 4);
	cr_assert_eq(dev(IF_A)->oor, 1);
	cr_assert_eq(dev(IF_A)->oor_enter, 1);
	cr_assert_eq(dev(IF_A)->installs, 4);
	/* One batch of 10 went out: the 6 past the capacity came back ENOSPC. */
	cr_assert_eq(dev(IF_A)->failures[FT_HWC_EXHAUSTED], 6);
	cr_assert_str_eq(dev(IF_A)->last_extack, "rule table full");
	cr_assert_eq(in_hw(), 0x3c0);
	cr_assert_eq(tier(0), FT_TIER_PENDING);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.rules, 4);
	/* Full and nothing hotter waiting: no further add is even tried. */
	steps(5);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.adds, 4);
	cr_assert_eq(ss.add_refused, 6);
	/* Last interval: the 4 hottest through the NIC (as its lagged counters tell), 6 in
	 * software. */
	struct ft_offload_stats st;
	ft_offload_stats(w.m, &st);
	cr_assert_eq(st.intervals, 6);
	cr_assert_eq(st.hw_packets, 7000 + 8000 + 9000 + 10000);
	cr_assert_eq(st.sw_packets, 1000 + 2000 + 3000 + 4000 + 5000 + 6000);
	cr_assert_float_eq(st.coverage, 34000.0 / 55000.0, 1e-12);
	/* The daemon keeps these connections alive: their rules counted this second. */
	const __u64 *ids;
	cr_assert_eq(ft_offload_moved(w.m, &ids), 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ids[i] >= w.f[6].id && ids[i] <= w.f[9].id, 1);
	world_end();
}

Test(offload, late_hot_flows_converge_to_the_top_c)
{
	world_new(4, 2000);
	w.cfg.dwell_ms = 3000;
	world_start();
	for (int i = 0; i < 5; i++)
		add_flow(500 + i); /* cold, first come: 4 fit, the 5th finds it full */
	step();
	cr_assert_eq(in_hw(), 0x1e);
	cr_assert_eq(dev(IF_A)->oor, 1);
	step();
	for (int i = 0; i < 4; i++)
		add_flow(5000 + 1000 * i);
	step();
	cr_assert_eq(in_hw(), 0x1e, "the cold rules are 2 s old: the 3 s dwell is not over");
	step();
	/* Every pair is clearly apart: all four swap at once. */
	cr_assert_eq(in_hw(), 0x1e0);
	cr_assert_eq(dev(IF_A)->swaps, 4);
	steps(10);
	cr_assert_eq(in_hw(), 0x1e0);
	cr_assert_eq(dev(IF_A)->swaps, 4);
	cr_assert_eq(dev(IF_A)->rollbacks, 0);
	assert_exact();
	world_end();
}

Test(offload, rebalances_after_the_hot_set_changes)
{
	world_new(4, 2000);
	w.cfg.dwell_ms = 5000;
	world_start();
	for (int i = 0; i < 8; i++)
		add_flow(i < 4 ? 1000 : 10000 + i);
	step();
	cr_assert_eq(in_hw(), 0xf0);
	steps(3);
	for (int i = 0; i < 8; i++)
		w.pps[i] = i < 4 ? 20000 + i : 1000;
	/* The new rates show in software at once, in hardware after the lag. */
	step();
	cr_assert_eq(in_hw(), 0xf0, "the dwell time of 5 s still holds the old set");
	step();
	assert_settled(0x0f, 4);
	assert_exact();
	world_end();
}

/* Flows 0-3 cold, 4-7 hot and in the NIC (4 rules, counters 2 s late). */
static void hot_world(int guess)
{
	world_new(4, 2000);
	w.cfg.shift_guess = guess;
	world_start();
	for (int i = 0; i < 8; i++)
		add_flow(i < 4 ? 1000 : 10000 + i);
	steps(10);
	cr_assert_eq(in_hw(), 0xf0);
}

/* The same, then the hot set moves to 0-3. */
static void shifted_world(int guess)
{
	hot_world(guess);
	/* As hot as the old set was: only their counters could tell them apart. */
	for (int i = 0; i < 8; i++)
		w.pps[i] = i < 4 ? 10000 + i : 10;
}

Test(offload, after_a_shift_the_new_hot_set_is_in_the_nic_an_interval_later)
{
	shifted_world(1);
	/* The rules' counters still say 10,000 pps; 40,000 moved to software says otherwise. */
	step();
	assert_settled(0x0f, 4);
	assert_exact();
	world_end();
}

Test(offload, without_the_shift_guess_the_new_hot_set_waits_for_the_counters)
{
	shifted_world(0);
	step();
	cr_assert_eq(in_hw(), 0xf0, "the counters, 2 s late, still show the old set hot");
	step();
	cr_assert_eq(in_hw(), 0xf0);
	step();
	cr_assert_eq(in_hw(), 0x0f);
	cr_assert_eq(dev(IF_A)->swaps, 4);
	assert_exact();
	world_end();
}

Test(offload, a_surge_beside_the_hot_rules_costs_one_wrong_swap_and_its_return)
{
	hot_world(1);
	/* New traffic: 0-3 rise to 7,000 pps while 4-7 keep their 10,000 in the NIC. */
	for (int i = 0; i < 4; i++)
		w.pps[i] = 7000 + i;
	step();
	cr_assert_eq(in_hw(), 0x0f, "taken for a shift: the rules look half as hot as they were");
	/* The evicted flows count in software at once; the newcomers keep their 5 s dwell. */
	steps(5);
	assert_settled(0xf0, 8);
	assert_exact();
	world_end();
}

Test(offload, two_near_equal_flows_do_not_ping_pong)
{
	world_new(1, 2000);
	w.cfg.dwell_ms = 0;
	world_start();
	add_flow(1000);
	add_flow(1150); /* hotter, but within the 20% margin */
	step();
	cr_assert_eq(in_hw(), 0x2);
	/* The one left out reads 1000 pps in software; the one in reads 0 during the lag. */
	w.pps[0] = 1150;
	w.pps[1] = 1000;
	steps(30);
	cr_assert_eq(in_hw(), 0x2);
	cr_assert_eq(dev(IF_A)->swaps, 0);
	cr_assert_eq(dev(IF_A)->installs, 1);
	cr_assert_eq(dev(IF_A)->removals, 0);
	assert_exact();
	world_end();
}

Test(offload, the_churn_budget_holds)
{
	struct ft_hw_sim_stats ss;

	world_new(40, 2000);
	w.cfg.dwell_ms = 0;
	w.cfg.churn_per_s = 10;
	w.cfg.churn_burst = 20;
	world_start();
	for (int i = 0; i < 41; i++)
		add_flow(200); /* 40 fit, the 41st makes the device OOR */
	step();
	cr_assert_eq(dev(IF_A)->oor, 1);
	for (int i = 0; i < 40; i++)
		add_flow(100000 + i);
	/* A swap is a delete and an add: the burst pays 10, each second 5 more. */
	step();
	cr_assert_eq(dev(IF_A)->swaps, 10);
	step();
	cr_assert_eq(dev(IF_A)->swaps, 15);
	steps(3);
	cr_assert_eq(dev(IF_A)->swaps, 30);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.adds, 40 + 30);
	cr_assert_eq(ss.dels, 30);
	steps(2);
	cr_assert_eq(dev(IF_A)->swaps, 40);
	steps(5);
	cr_assert_eq(dev(IF_A)->swaps, 40);
	cr_assert_eq(in_hw() >> 41, 0xffffffffffull >> 17);
	world_end();
}

Test(offload, a_failed_add_after_an_eviction_rolls_back)
{
	world_new(1, 2000);
	w.cfg.dwell_ms = 0;
	world_start();
	add_flow(500);
	add_flow(400);
	step();
	cr_assert_eq(in_hw(), 0x1);
	cr_assert_eq(dev(IF_A)->oor, 1);
	add_flow(50000);
	cr_assert_eq(ft_hw_sim_fail_next(w.sim, -EBUSY, "firmware command queue full"), 0);
	step();
	cr_assert_eq(dev(IF_A)->rollbacks, 1);
	cr_assert_eq(dev(IF_A)->swaps, 0);
	cr_assert_eq(dev(IF_A)->failures[FT_HWC_TRANSIENT], 1);
	cr_assert_str_eq(dev(IF_A)->last_extack, "firmware command queue full");
	cr_assert_eq(in_hw(), 0x1);
	cr_assert_eq(tier(2), FT_TIER_PENDING);
	/* Retried after the backoff (1 s): the swap goes through. */
	step();
	cr_assert_eq(in_hw(), 0x4);
	cr_assert_eq(dev(IF_A)->swaps, 1);
	cr_assert_eq(dev(IF_A)->rollbacks, 1);
	steps(3);
	assert_exact();
	world_end();
}

/*
 * A NIC that inserts 64 rules a second, full with 192 cold rules, and 192
 * hotter flows: the first batch of 64 swaps goes through, the second
 * batch's adds are refused as busy after its deletes (and so are the
 * rollbacks), and the rebalance stops there instead of deleting a third
 * batch it cannot replace. The next second fills the 64 free places with
 * hot flows and spends the NIC's insertions: its rebalance loses one rule,
 * not a batch. Then one swap at a time until every hot flow is in.
 */
Test(offload, a_busy_device_stops_the_rebalance_before_it_empties_more_rules)
{
	struct ft_hw_sim_cfg sc = { .capacity = 192, .lag_ms = 2000, .insert_rate = 64 };
	struct ft_hw_sim_stats ss;

	world_new(192, 2000);
	ft_hw_sim_hw(w.sim)->ops->close(ft_hw_sim_hw(w.sim));
	cr_assert_eq(ft_hw_sim_new(&w.sim, &sc), 0);
	w.cfg.dwell_ms = 0;
	world_start();
	for (int i = 0; i < 193; i++)
		add_flow(200);
	steps(3);
	cr_assert_eq(dev(IF_A)->oor, 1);
	cr_assert_eq(dev(IF_A)->rules, 192);
	for (int i = 0; i < 192; i++)
		add_flow(100000 + i);
	step();
	cr_assert_eq(dev(IF_A)->swaps, 64);
	cr_assert_eq(dev(IF_A)->rollbacks, 64);
	cr_assert_eq(dev(IF_A)->rules, 128);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.rules, 128);
	cr_assert_eq(ss.dels, 128);
	step();
	cr_assert_eq(dev(IF_A)->rules, 191);
	cr_assert_eq(dev(IF_A)->swaps, 64);
	cr_assert_eq(dev(IF_A)->rollbacks, 65);
	steps(3);
	cr_assert_eq(dev(IF_A)->rules, 192);
	for (int i = 193; i < 385; i++)
		cr_assert_eq(tier(i), FT_TIER_HARDWARE, "hot flow %d", i);
	assert_exact();
	world_end();
}

Test(offload, a_fresh_rule_is_neither_idle_nor_cold_during_the_lag)
{
	world_new(1, 3000);
	w.cfg.dwell_ms = 0;
	w.cfg.idle_ms = 1000;
	world_start();
	add_flow(5000);
	step();
	cr_assert_eq(in_hw(), 0x1);
	/* Its counters read 0 for 3 s; judged by them it would be idle and colder than 1000. */
	add_flow(1000);
	for (int i = 0; i < 10; i++) {
		step();
		cr_assert_eq(in_hw(), 0x1, "tick %d", i);
	}
	cr_assert_eq(dev(IF_A)->removals, 0);
	cr_assert_eq(dev(IF_A)->swaps, 0);
	/* Silent from now: idle once its lastuse, seen through the lag, passes 1 s. */
	w.pps[0] = 0;
	steps(3);
	cr_assert_eq(tier(0), FT_TIER_HARDWARE);
	step();
	cr_assert_neq(tier(0), FT_TIER_HARDWARE);
	cr_assert_eq(dev(IF_A)->removals, 1);
	cr_assert_eq(in_hw(), 0x2);
	assert_exact();
	world_end();
}

Test(offload, leaves_oor_when_every_candidate_is_in_hardware)
{
	world_new(2, 2000);
	world_start();
	add_flow(3000);
	add_flow(2000);
	add_flow(1000);
	step();
	cr_assert_eq(dev(IF_A)->oor, 1);
	w.f[2].state = FT_STATE_CLOSING;
	step();
	cr_assert_eq(dev(IF_A)->oor, 0);
	cr_assert_eq(dev(IF_A)->oor_leave, 1);
	cr_assert_eq(dev(IF_A)->capacity, 2);
	cr_assert_eq(in_hw(), 0x3);
	world_end();
}

Test(offload, a_probe_past_the_capacity_leaves_oor_when_room_appears)
{
	world_new(2, 2000);
	w.cfg.oor_probe_ms = 5000;
	world_start();
	add_flow(3000);
	add_flow(2000);
	add_flow(1000);
	add_flow(900);
	step();
	cr_assert_eq(dev(IF_A)->oor, 1);
	ft_hw_sim_set_capacity(w.sim, 4); /* another user of the NIC freed two */
	steps(4);
	cr_assert_eq(dev(IF_A)->oor, 1, "no probe before 5 s");
	cr_assert_eq(dev(IF_A)->failures[FT_HWC_EXHAUSTED], 2);
	step();
	cr_assert_eq(dev(IF_A)->oor, 0);
	cr_assert_eq(dev(IF_A)->oor_leave, 1);
	cr_assert_eq(in_hw(), 0x7);
	step();
	cr_assert_eq(in_hw(), 0xf);
	cr_assert_eq(dev(IF_A)->oor, 0);
	cr_assert_eq(dev(IF_A)->rules, 4);
	world_end();
}

Test(offload, restart_adopts_live_flows_rules_and_deletes_the_rest)
{
	struct ft_hw_sim_stats ss;
	__u32 ifs[] = { IF_A };
	__u64 hp;

	world_new(8, 0);
	world_start();
	for (int i = 0; i < 3; i++)
		add_flow(1000 * (i + 1));
	steps(3);
	cr_assert_eq(in_hw(), 0x7);
	/* The controller dies: its rules stay in the NIC and keep counting. */
	ft_offload_free(w.m);
	cr_assert_eq(ft_offload_new(&w.m, &w.cfg, ft_hw_sim_hw(w.sim)), 0);
	w.listed[1] = 0; /* this connection ended meanwhile */
	struct ft_offload_flow list[2] = { w.f[0], w.f[2] };
	list[0].sw_pps = list[1].sw_pps = 0; /* in hardware: software sees nothing */
	cr_assert_eq(ft_offload_adopt(w.m, ifs, 1, list, 2, w.now), 0);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.rules, 2);
	cr_assert_eq(ss.dels, 1);
	cr_assert(!ft_hw_sim_has(w.sim, w.f[1].id));
	cr_assert_eq(tier(0), FT_TIER_HARDWARE);
	cr_assert_eq(tier(2), FT_TIER_HARDWARE);
	cr_assert_eq(dev(IF_A)->rules, 2);
	cr_assert_eq(ft_offload_tier(w.m, w.f[2].id, &hp, NULL), FT_TIER_HARDWARE);
	cr_assert_eq(hp, 2 * 3000, "what the rule counted before the restart is the flow's");
	steps(3);
	cr_assert_eq(ft_hw_sim_has(w.sim, w.f[0].id) + ft_hw_sim_has(w.sim, w.f[2].id), 2);
	cr_assert_eq(dev(IF_A)->installs, 0);
	cr_assert_eq(ft_offload_tier(w.m, w.f[0].id, &hp, NULL), FT_TIER_HARDWARE);
	cr_assert_eq(w.f[0].sw_packets + hp, w.sent[0]);
	cr_assert_eq(ft_offload_flush(w.m), 0);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.rules, 0);
	cr_assert_eq(ft_offload_tier(w.m, w.f[2].id, &hp, NULL), FT_TIER_SOFTWARE);
	cr_assert_eq(w.f[2].sw_packets + hp, w.sent[2]);
	world_end();
}

Test(offload, an_unsupported_device_is_said_once_and_stays_in_software)
{
	world_new(8, 2000);
	world_start();
	cr_assert_eq(ft_hw_sim_unsupported(w.sim, IF_B), 0);
	add_flow(1000);
	add_flow(2000);
	flow_init(w.n, IF_B);
	w.pps[w.n] = 5000;
	w.listed[w.n++] = 1;
	flow_init(w.n, IF_B);
	w.pps[w.n] = 6000;
	w.listed[w.n++] = 1;
	steps(10);
	cr_assert_eq(in_hw(), 0x3);
	cr_assert_eq(dev(IF_B)->failures[FT_HWC_UNSUPPORTED], 2, "one batch, never again");
	cr_assert_eq(dev(IF_B)->rules, 0);
	cr_assert_eq(dev(IF_B)->oor, 0);
	cr_assert_eq(tier(2), FT_TIER_PENDING);
	cr_assert_eq(dev(IF_A)->rules, 2);
	assert_exact();
	world_end();
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"flowtier: warning: offload: #100002 cannot offload flows (Operation not "
		"supported: "
		"device does not support flower offload); its flows stay in software\n");
}

Test(offload, eexist_resyncs_and_the_add_is_retried)
{
	world_new(4, 2000);
	world_start();
	add_flow(1000);
	cr_assert_eq(ft_hw_sim_fail_next(w.sim, -EEXIST, "filter already exists"), 0);
	step();
	cr_assert_eq(dev(IF_A)->failures[FT_HWC_EXISTS], 1);
	cr_assert_eq(tier(0), FT_TIER_PENDING);
	step();
	cr_assert_eq(in_hw(), 0x1);
	cr_assert_eq(dev(IF_A)->installs, 1);
	world_end();
}

Test(offload, accounting_is_exact_across_moves)
{
	world_new(4, 2000);
	w.cfg.dwell_ms = 2000;
	world_start();
	for (int i = 0; i < 12; i++)
		add_flow(100 * (i + 1) + 7 * i);
	steps(5);
	/* Shift the hot set twice, evicting and re-admitting flows. */
	for (int i = 0; i < 12; i++)
		w.pps[i] = 100 * (12 - i) + 3 * i;
	steps(8);
	for (int i = 0; i < 12; i++)
		w.pps[i] = i % 3 ? 150 : 5000 + i;
	steps(8);
	cr_assert_eq(in_hw(), 0x249, "the four hottest: 0, 3, 6 and 9");
	/* The shift guess swaps more here than the counters alone would (7). */
	cr_assert_eq(dev(IF_A)->swaps, 10);
	cr_assert_eq(dev(IF_A)->installs, 4 + 10);
	cr_assert_eq(dev(IF_A)->removals, 10);
	assert_exact();
	/* Close them all: the final counters come with the deletes. */
	for (int i = 0; i < 12; i++)
		w.f[i].state = FT_STATE_CLOSING;
	step();
	cr_assert_eq(dev(IF_A)->rules, 0);
	cr_assert_eq(dev(IF_A)->removals, 4 + 10);
	cr_assert_eq(in_hw(), 0);
	assert_exact();
	world_end();
}

static int collect_cb(const struct ft_hw_stat *st, void *ctx)
{
	char *s = ctx;
	size_t l = strlen(s);

	snprintf(s + l, 256 - l, "%llu:%u/%u ", (unsigned long long)st->rule.cookie,
		 st->rule.key.family, st->rule.handle);
	return 0;
}

Test(offload, handles_are_chosen_per_device_and_family)
{
	struct ft_hw *hw;
	char a[256] = "", b[256] = "";

	world_new(8, 2000);
	world_start();
	add_flow(5000);
	add_flow(4000);
	add_flow(3000);
	w.f[2].rule.key.family = FT_FAMILY_IPV6;
	add_flow(2000);
	w.f[3].rule.key.family = FT_FAMILY_IPV6;
	flow_init(w.n, IF_B);
	w.pps[w.n] = 1000;
	w.listed[w.n++] = 1;
	step();
	hw = ft_hw_sim_hw(w.sim);
	cr_assert_eq(hw->ops->dump(hw, IF_A, collect_cb, a), 0);
	cr_assert_eq(hw->ops->dump(hw, IF_B, collect_cb, b), 0);
	cr_assert_str_eq(a, "1000:4/1 1001:4/2 1002:6/1 1003:6/2 ");
	cr_assert_str_eq(b, "1004:4/1 ");
	world_end();
}

Test(offload, an_unsupported_shape_after_a_success_stays_in_software_alone)
{
	world_new(8, 2000);
	world_start();
	add_flow(5000);
	step();
	cr_assert_eq(in_hw(), 0x1);
	add_flow(4000);
	w.f[1].rule.verdict = FT_VERDICT_REDIRECT;
	add_flow(3000);
	w.f[2].rule.verdict = FT_VERDICT_REDIRECT;
	add_flow(2000);
	/* Both redirects go out in this tick's batch, hottest first. */
	cr_assert_eq(ft_hw_sim_fail_next(w.sim, -EOPNOTSUPP, "mirred to this device"), 0);
	cr_assert_eq(ft_hw_sim_fail_next(w.sim, -EOPNOTSUPP, "mirred to this device"), 0);
	steps(5);
	/* Redirects on this device are never tried again; drops still go in. */
	cr_assert_eq(in_hw(), 0x9);
	cr_assert_eq(tier(2), FT_TIER_PENDING);
	cr_assert_eq(dev(IF_A)->failures[FT_HWC_UNSUPPORTED], 2);
	cr_assert_eq(dev(IF_A)->installs, 2);
	world_end();
}

Test(offload, a_vanished_flow_leaves_hardware_with_its_final_counters)
{
	__u64 hp, hb;

	world_new(8, 2000);
	world_start();
	add_flow(1000);
	add_flow(2000);
	steps(4);
	cr_assert_eq(in_hw(), 0x3);
	w.listed[1] = 0; /* the datapath timed it out, or it was evicted */
	step();
	cr_assert_eq(dev(IF_A)->removals, 1);
	cr_assert_eq(dev(IF_A)->rules, 1);
	cr_assert(!ft_hw_sim_has(w.sim, w.f[1].id));
	/* Sent in 4 s, 3 of them through the NIC: the final counters, not the lagged ones. */
	cr_assert_eq(ft_offload_tier(w.m, w.f[1].id, &hp, &hb), FT_TIER_SOFTWARE);
	cr_assert_eq(hp, 3 * 2000);
	cr_assert_eq(hb, 3 * 2000 * PKT_SIZE);
	cr_assert_eq(w.f[1].sw_packets + hp, w.sent[1]);
	step();
	ft_offload_tier(w.m, w.f[1].id, &hp, NULL);
	cr_assert_eq(hp, 0, "forgotten one interval later");
	world_end();
}

Test(offload, restart_deletes_a_rule_whose_id_now_names_another_connection)
{
	struct ft_hw_sim_stats ss;
	__u32 ifs[] = { IF_A };

	world_new(8, 0);
	world_start();
	add_flow(1000);
	add_flow(2000);
	steps(2);
	cr_assert_eq(in_hw(), 0x3);
	ft_offload_free(w.m);
	cr_assert_eq(ft_offload_new(&w.m, &w.cfg, ft_hw_sim_hw(w.sim)), 0);
	/* Same ids; flow 1's now names another port, flow 0's verdict changed. */
	struct ft_offload_flow list[2] = { w.f[0], w.f[1] };
	list[0].rule.verdict = FT_VERDICT_REDIRECT;
	list[0].rule.redirect_ifindex = IF_B;
	list[1].rule.key.port[0] = htobe16(9);
	cr_assert_eq(ft_offload_adopt(w.m, ifs, 1, list, 2, w.now), 0);
	ft_hw_sim_stats(w.sim, &ss);
	cr_assert_eq(ss.rules, 0);
	cr_assert_eq(ss.dels, 2);
	cr_assert_eq(dev(IF_A)->rules, 0);
	/* Their software rates read 0 while the rules ran: not candidates yet. */
	cr_assert_eq(tier(0), FT_TIER_SOFTWARE);
	cr_assert_eq(tier(1), FT_TIER_SOFTWARE);
	/* What those rules counted belongs to the connections they matched, not these. */
	__u64 hp;
	ft_offload_tier(w.m, w.f[1].id, &hp, NULL);
	cr_assert_eq(hp, 0);
	world_end();
}

/* A restarted manager: the previous one's memory is gone, the NIC and fd (when >= 0) stay. */
static void restart_with(int fd, const struct ft_offload_flow *list, size_t n)
{
	__u32 ifs[] = { IF_A };

	ft_offload_free(w.m);
	cr_assert_eq(ft_offload_new(&w.m, &w.cfg, ft_hw_sim_hw(w.sim)), 0);
	if (fd >= 0)
		ft_offload_set_base(w.m, fd);
	cr_assert_eq(ft_offload_adopt(w.m, ifs, 1, list, n, w.now), 0);
}

Test(offload, counters_of_deleted_rules_survive_a_restart_through_the_pinned_map)
{
	char dir[64], path[96];
	__u64 hp, hb, p, b;
	int fd;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/ftv-base-%d", getpid());
	snprintf(path, sizeof(path), "%s/%s", dir, FT_MAP_HW_BASE);
	cr_assert_eq(ft_bpffs_prepare(dir), 0);
	fd = ft_hw_base_open(dir);
	cr_assert_geq(fd, 0);
	world_new(8, 0);
	world_start();
	ft_offload_set_base(w.m, fd);
	add_flow(1000);
	add_flow(2000);
	steps(3);
	cr_assert_eq(in_hw(), 0x3);
	/* Both close: their rules leave with final counters; they keep sending to software. */
	w.f[0].state = w.f[1].state = FT_STATE_CLOSING;
	steps(2);
	cr_assert_eq(in_hw(), 0);
	assert_exact();
	ft_hw_base_get(fd, w.f[0].id, &p, &b);
	/* Installed by the 1st tick, its rule counted seconds 2 and 3, and 4 (closing) until
	 * that tick deleted it. */
	cr_assert_eq(p, 3 * 1000, "%llu", (unsigned long long)p);
	cr_assert_eq(b, 3 * 1000 * PKT_SIZE);

	/* Flow 1 ended during the restart: only flow 0 is listed. */
	struct ft_offload_flow list[1] = { w.f[0] };

	restart_with(fd, list, 1);
	cr_assert_eq(ft_offload_tier(w.m, w.f[0].id, &hp, &hb), FT_TIER_SOFTWARE);
	cr_assert_eq(w.f[0].sw_packets + hp, w.sent[0], "%llu + %llu != %llu",
		     (unsigned long long)w.f[0].sw_packets, (unsigned long long)hp,
		     (unsigned long long)w.sent[0]);
	cr_assert_eq(w.f[0].sw_bytes + hb, w.sent[0] * PKT_SIZE);
	ft_hw_base_get(fd, w.f[1].id, &p, &b);
	cr_assert_eq(p + b, 0, "a gone flow's counters are dropped");

	/* Without the map (the old behaviour) the restart forgets them. */
	restart_with(-1, list, 1);
	ft_offload_tier(w.m, w.f[0].id, &hp, NULL);
	cr_assert_eq(hp, 0);
	world_end();
	close(fd);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(rmdir(dir), 0);
}

/*
 * A NIC that refreshes its counters every other interval shows the same
 * reading twice: that is not an idle rule. The rate stays the average over
 * the span, never 0, while the counters stand still for less than the lag.
 */
Test(offload, counters_refreshed_in_steps_are_not_read_as_idle)
{
	double seen_min = 1e9, seen_max = 0;
	struct ft_offload_stats st;

	world_new(1, 0);
	w.cfg.hw_stats_lag_ms = 2000;
	add_flow(1000);
	add_flow(500); /* stays in software: the NIC holds one rule */
	world_start();
	step();
	step();
	cr_assert_eq(tier(0), FT_TIER_HARDWARE);
	for (int t = 0; t < 12; t++) {
		w.pps[0] = t % 2 ? 2000 : 0; /* what the NIC's counters show move */
		step();
		if (t >= 4) {
			double r = ft_offload_hw_pps(w.m, w.f[0].id);

			seen_min = r < seen_min ? r : seen_min;
			seen_max = r > seen_max ? r : seen_max;
			/* The truth is 1000 / 1500; one interval alone said 0.8 or 0. */
			ft_offload_stats(w.m, &st);
			cr_assert(st.coverage > 0.55 && st.coverage < 0.75, "coverage %f",
				  st.coverage);
		}
	}
	cr_assert_float_eq(seen_min, 1000, 1, "never read as idle: %f", seen_min);
	cr_assert_float_eq(seen_max, 1000, 1, "the average over the span: %f", seen_max);
	ft_offload_free(w.m);
}

/* Counters that stand still past the lag do say idle. */
Test(offload, counters_still_past_the_lag_read_as_idle)
{
	world_new(1, 0);
	w.cfg.hw_stats_lag_ms = 2000;
	add_flow(1000);
	world_start();
	for (int t = 0; t < 6; t++)
		step();
	cr_assert_eq(tier(0), FT_TIER_HARDWARE);
	cr_assert_float_eq(ft_offload_hw_pps(w.m, w.f[0].id), 1000, 1);
	w.pps[0] = 0;
	for (int t = 0; t < 4; t++)
		step();
	cr_assert_float_eq(ft_offload_hw_pps(w.m, w.f[0].id), 0, 1e-9);
	ft_offload_free(w.m);
}
