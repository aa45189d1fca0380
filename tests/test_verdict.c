// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Verdict rules: default pass, drop, redirect, and rule changes on live connections. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ft_test.h"

static struct ft_datapath dp;

static void teardown(void)
{
	ft_dp_close(&dp);
}

TestSuite(verdict, .fini = teardown);

static const struct ft_spec web = {
	.family = 4,
	.src = "198.18.0.1",
	.dst = "198.18.0.80",
	.proto = 6,
	.sport = 40000,
	.dport = 443,
	.tcp_flags = 0x02,
};
static const struct ft_spec web_reply = {
	.family = 4,
	.src = "198.18.0.80",
	.dst = "198.18.0.1",
	.proto = 6,
	.sport = 443,
	.dport = 40000,
	.tcp_flags = 0x12,
};

static struct ft_rule rule(int family, const char *dst, int dst_len, __u8 proto, __u16 lo, __u16 hi,
			   __u8 verdict)
{
	struct ft_rule r = {
		.family = family,
		.proto = proto,
		.dst_len = dst_len,
		.dport_lo = lo,
		.dport_hi = hi,
		.verdict = verdict,
	};

	cr_assert_eq(inet_pton(family == 6 ? AF_INET6 : AF_INET, dst, r.dst), 1);
	return r;
}

static __u8 verdict_of(const struct ft_spec *s)
{
	struct ft_ct *c = ft_find(&dp, s, 0, NULL, NULL, NULL);

	cr_assert_not_null(c);
	return c->verdict;
}

Test(verdict, without_rules_everything_passes)
{
	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &web_reply), FT_TC_OK);
	cr_assert_eq(verdict_of(&web), FT_VERDICT_PASS);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_PASS], 2);
}

Test(verdict, a_drop_rule_matches_family_prefix_protocol_and_port_range)
{
	struct ft_rule r = rule(4, "198.18.0.64", 26, 6, 400, 500, FT_VERDICT_DROP);
	struct ft_spec other_port = web, other_net = web, udp = web;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	other_port.dport = 501;
	other_net.dst = "198.18.0.128";
	udp.proto = 17;

	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web), FT_XDP_DROP);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &web), FT_TC_SHOT);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web_reply), FT_XDP_DROP, "both directions drop");
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &other_port), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &other_net), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp), FT_XDP_PASS);
	cr_assert_eq(verdict_of(&web), FT_VERDICT_DROP);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_DROP], 3);
}

Test(verdict, the_first_matching_rule_wins_and_ipv6_prefixes_match)
{
	struct ft_rule rules[2] = {
		rule(6, "2001:db8:0:1::", 64, 0, 0, 65535, FT_VERDICT_PASS),
		rule(6, "2001:db8::", 32, 0, 0, 65535, FT_VERDICT_DROP),
	};
	struct ft_spec in_64 = { .family = 6,
				 .src = "2001:db8::1",
				 .dst = "2001:db8:0:1::9",
				 .proto = 17,
				 .sport = 1,
				 .dport = 2 };
	struct ft_spec in_32 = in_64;

	in_32.dst = "2001:db8:ffff::9";
	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_dp_set_rules(&dp, rules, 2), 0);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &in_64), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &in_32), FT_XDP_DROP);
}

Test(verdict, rule_changes_reach_existing_connections)
{
	struct ft_rule drop = rule(4, "198.18.0.80", 32, 0, 0, 65535, FT_VERDICT_DROP);
	struct ft_config cfg;

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web_reply), FT_XDP_PASS);

	cr_assert_eq(ft_dp_set_rules(&dp, &drop, 1), 0);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web), FT_XDP_DROP);
	cr_assert_eq(verdict_of(&web), FT_VERDICT_DROP);
	ft_dp_read_config(&dp, &cfg);
	cr_assert_eq(ft_find(&dp, &web, 0, NULL, NULL, NULL)->rule_gen, (__u16)cfg.rule_gen);

	cr_assert_eq(ft_dp_set_rules(&dp, NULL, 0), 0);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web_reply), FT_XDP_PASS);
	cr_assert_eq(verdict_of(&web), FT_VERDICT_PASS);
	cr_assert_eq(ft_count_live(&dp), 1, "a rule change flushes nothing");
	cr_assert_eq(ft_stats_of(&dp).created, 1);
}

/* A veth pair in a private network namespace: a real redirect target. */
static __u32 make_veth(void)
{
	__u32 ifindex;

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "cannot create a network namespace");
	cr_assert_eq(system("ip link add ftv0 type veth peer name ftv1 && ip link set ftv0 up &&"
			    " ip link set ftv1 up"),
		     0);
	ifindex = if_nametoindex("ftv0");
	cr_assert_neq(ifindex, 0);
	return ifindex;
}

Test(verdict, redirect_sends_the_original_direction_to_the_target_and_passes_replies)
{
	struct ft_rule r = rule(4, "198.18.0.80", 32, 6, 443, 443, FT_VERDICT_REDIRECT);
	__u32 ifindex = make_veth();

	ft_test_load(&dp, 1024, 1, 2);
	r.redirect_ifindex = ifindex;
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	cr_assert_eq(ft_dp_add_tx_port(&dp, ifindex), 0);

	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web), FT_XDP_REDIRECT);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &web), FT_TC_REDIRECT);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web_reply), FT_XDP_PASS);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &web_reply), FT_TC_OK);
	cr_assert_eq(ft_find(&dp, &web, 0, NULL, NULL, NULL)->redirect_ifindex, ifindex);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_REDIRECT], 2);
	cr_assert_eq(ft_stats_of(&dp).redirect_failed, 0);
}

Test(verdict, an_xdp_redirect_to_an_unregistered_port_passes_and_is_counted)
{
	struct ft_rule r = rule(4, "198.18.0.80", 32, 6, 443, 443, FT_VERDICT_REDIRECT);

	ft_test_load(&dp, 1024, 1, 2);
	r.redirect_ifindex = 4242;
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &web), FT_XDP_PASS);
	cr_assert_eq(ft_stats_of(&dp).redirect_failed, 1);
}
