// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ft_ifaces: on an interface where ft_xdp runs, ft_tc_ingress leaves the
 * packet alone, so XDP and TC ingress together count each packet once.
 */
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ft_test.h"
#include "flowtier.skel.h"

static struct ft_datapath dp;

static void teardown(void)
{
	ft_dp_close(&dp);
}

TestSuite(ifaces, .fini = teardown);

static const struct ft_spec udp = {
	.family = 4,
	.src = "198.18.0.1",
	.dst = "198.18.0.2",
	.proto = 17,
	.sport = 1000,
	.dport = 53,
	.payload = 18,
};

/* BPF_PROG_TEST_RUN runs every program as if on the loopback device, ifindex 1. */
static void set_flags(__u32 flags)
{
	struct ft_iface i = { .flags = flags };
	__u32 ifindex = 1;

	cr_assert_eq(
		bpf_map_update_elem(bpf_map__fd(dp.skel->maps.ft_ifaces), &ifindex, &i, BPF_ANY),
		0);
}

static __u64 packets_of(const struct ft_spec *s)
{
	int side;
	struct ft_ct *c = ft_find(&dp, s, 0, &side, NULL, NULL);

	cr_assert_not_null(c);
	return c->dir[side].packets;
}

Test(ifaces, xdp_and_tc_ingress_on_one_interface_count_each_packet_once)
{
	ft_test_load(&dp, 1024, 1, 2);
	set_flags(FT_IF_XDP | FT_IF_TC_INGRESS | FT_IF_TC_EGRESS);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp), FT_XDP_PASS);
		cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &udp), FT_TC_OK);
	}
	cr_assert_eq(packets_of(&udp), 3);
	cr_assert_eq(ft_stats_of(&dp).packets[FT_HOOK_XDP], 3);
	cr_assert_eq(ft_stats_of(&dp).packets[FT_HOOK_TC_INGRESS], 0);
	/* Egress is another packet: it still counts. */
	cr_assert_eq(ft_send(&dp, FT_T_TC_OUT, &udp), FT_TC_OK);
	cr_assert_eq(packets_of(&udp), 4);
	cr_assert_eq(ft_stats_of(&dp).packets[FT_HOOK_TC_EGRESS], 1);
}

Test(ifaces, tc_ingress_counts_where_xdp_is_not_attached)
{
	ft_test_load(&dp, 1024, 1, 2);
	set_flags(FT_IF_TC_INGRESS | FT_IF_TC_EGRESS);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &udp), FT_TC_OK);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &udp), FT_TC_OK);
	cr_assert_eq(packets_of(&udp), 2);
	cr_assert_eq(ft_stats_of(&dp).packets[FT_HOOK_TC_INGRESS], 2);
	/* Records without FT_IF_XDP leave TC ingress counting. */
	set_flags(0);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &udp), FT_TC_OK);
	cr_assert_eq(packets_of(&udp), 3);
}

Test(ifaces, a_drop_verdict_drops_once_in_xdp_and_tc_ingress_lets_it_be)
{
	struct ft_rule r = {
		.family = 4, .proto = 17, .verdict = FT_VERDICT_DROP, .dport_lo = 53, .dport_hi = 53
	};

	ft_test_load(&dp, 1024, 1, 2);
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	set_flags(FT_IF_XDP);
	cr_assert_eq(ft_send(&dp, FT_T_XDP, &udp), FT_XDP_DROP);
	cr_assert_eq(ft_send(&dp, FT_T_TC_IN, &udp), FT_TC_OK);
	cr_assert_eq(packets_of(&udp), 1);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_DROP], 1);
}
