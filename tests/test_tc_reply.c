// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Parsing what the kernel reports: filters (dumps and a delete's echo),
 * acks, whole dump buffers. The replies are built here the way Linux 6.1's
 * tcf_fill_node, fl_dump and tcf_action_dump_1 build them, masks, pads and
 * queue statistics included; then truncated and corrupted.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>

#include "tc_flower.h"

static const struct ft_tc_place place = {
	.flags = TCA_CLS_FLAGS_SKIP_SW,
	.prio4 = FT_TC_PRIO_IPV4,
	.prio6 = FT_TC_PRIO_IPV6,
};

enum flaw {
	F_NONE = 0,
	/* malformed: -EBADMSG */
	F_SRC_LEN3,
	F_BASIC_LEN8,
	F_KIND_NO_NUL,
	F_TM_LEN8,
	F_COOKIE_EMPTY,
	F_PKT64_LEN4,
	F_NLA_LEN2,
	F_ACT_PAST_OPTIONS,
	F_PARMS_SHORT,
	F_PORT_LEN4,
	F_FLAGS_LEN2,
	/* well formed, not flowtier's: 0 */
	F_SRC_MASK_24,
	F_TCP_MASK_SYN,
	F_COOKIE_16,
	F_NO_COOKIE,
	F_TWO_ACTIONS,
	F_GACT_PASS,
	F_KIND_U32,
	F_ETH_TYPE_V6,
	F_MIRRED_INGRESS,
	F_NO_TCP_FLAGS,
	/* counters */
	F_PKT64,
	F_SW_PART, /* 400 of the 1000 packets counted in hardware, 600 by software flower */
};

struct spec {
	int family, proto, verdict;
	__u16 prio;
	__u32 handle;
	enum flaw flaw;
};

static const __u8 v4a[4] = { 198, 18, 0, 1 }, v4b[4] = { 198, 18, 0, 2 };
static const __u8 v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const __u8 v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

#define IFINDEX	 7
#define REDIR	 9
#define COOKIE	 0x1122334455667788ull
#define PACKETS	 1000
#define BYTES	 64000
#define LASTUSE	 150 /* clock ticks: 1.5 s */
#define SEQ	 77
#define PORTID	 4242
#define PKTS_BIG 0x100000005ull

static void put_stats(struct nlmsghdr *nlh, enum flaw f)
{
	struct gnet_stats_basic b, hw;
	struct gnet_stats_queue q = { 0 };
	struct nlattr *n = mnl_attr_nest_start(nlh, TCA_ACT_STATS);

	/* The struct's 4 bytes of tail padding go out too: zero, as the kernel's. */
	memset(&b, 0, sizeof(b));
	memset(&hw, 0, sizeof(hw));
	b.bytes = hw.bytes = BYTES;
	b.packets = hw.packets = PACKETS;
	if (f == F_PKT64)
		b.packets = (__u32)PKTS_BIG;
	if (f == F_SW_PART) {
		hw.bytes = 400 * 64;
		hw.packets = 400;
	}
	mnl_attr_put(nlh, TCA_STATS_BASIC, f == F_BASIC_LEN8 ? 8 : sizeof(b), &b);
	if (f == F_PKT64)
		mnl_attr_put_u64(nlh, TCA_STATS_PKT64, PKTS_BIG);
	if (f == F_PKT64_LEN4)
		mnl_attr_put_u32(nlh, TCA_STATS_PKT64, 5);
	mnl_attr_put(nlh, TCA_STATS_BASIC_HW, sizeof(hw), &hw);
	if (f == F_PKT64)
		mnl_attr_put_u64(nlh, TCA_STATS_PKT64, 99); /* BASIC_HW's: not what is reported */
	mnl_attr_put(nlh, TCA_STATS_QUEUE, sizeof(q), &q);
	mnl_attr_nest_end(nlh, n);
}

static void put_action(struct nlmsghdr *nlh, const struct spec *s, int index)
{
	struct tc_mirred m = { .action = TC_ACT_STOLEN,
			       .eaction = TCA_EGRESS_REDIR,
			       .ifindex = REDIR };
	struct tc_gact g = { .action = s->flaw == F_GACT_PASS ? TC_ACT_OK : TC_ACT_SHOT };
	struct tcf_t tm = { .install = 900, .lastuse = LASTUSE, .firstuse = 800 };
	__u8 cookie[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	int gact = s->verdict == FT_VERDICT_DROP && s->flaw != F_MIRRED_INGRESS;
	struct nlattr *act = mnl_attr_nest_start(nlh, index), *opts;

	if (s->flaw == F_MIRRED_INGRESS)
		m.eaction = TCA_INGRESS_REDIR;
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, gact ? "gact" : "mirred");
	put_stats(nlh, s->flaw);
	if (s->flaw != F_NO_COOKIE)
		mnl_attr_put(nlh, TCA_ACT_COOKIE,
			     s->flaw == F_COOKIE_EMPTY ? 0
			     : s->flaw == F_COOKIE_16  ? 16
						       : 8,
			     cookie);
	mnl_attr_put_u32(nlh, TCA_ACT_IN_HW_COUNT, 1);
	opts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	if (gact)
		mnl_attr_put(nlh, TCA_GACT_PARMS, s->flaw == F_PARMS_SHORT ? 12 : sizeof(g), &g);
	else
		mnl_attr_put(nlh, TCA_MIRRED_PARMS, s->flaw == F_PARMS_SHORT ? 12 : sizeof(m), &m);
	mnl_attr_put(nlh, gact ? TCA_GACT_PAD : TCA_MIRRED_PAD, 0, &tm);
	mnl_attr_put(nlh, gact ? TCA_GACT_TM : TCA_MIRRED_TM, s->flaw == F_TM_LEN8 ? 8 : sizeof(tm),
		     &tm);
	mnl_attr_nest_end(nlh, opts);
	mnl_attr_nest_end(nlh, act);
}

static void put_keys(struct nlmsghdr *nlh, const struct spec *s)
{
	__u8 ones[16], mask24[16] = { 0xff, 0xff, 0xff, 0 };
	int v4 = s->family == 4, tcp = s->proto == IPPROTO_TCP;
	size_t alen = v4 ? 4 : 16;
	__u16 eth = htons(v4 && s->flaw != F_ETH_TYPE_V6 ? ETH_P_IP : ETH_P_IPV6);

	memset(ones, 0xff, sizeof(ones));
	mnl_attr_put_u16(nlh, TCA_FLOWER_KEY_ETH_TYPE, eth);
	/* the packet's source is the key's side 1 */
	mnl_attr_put(nlh, v4 ? TCA_FLOWER_KEY_IPV4_SRC : TCA_FLOWER_KEY_IPV6_SRC,
		     s->flaw == F_SRC_LEN3 ? 3 : alen, v4 ? v4b : v6b);
	mnl_attr_put(nlh, v4 ? TCA_FLOWER_KEY_IPV4_SRC_MASK : TCA_FLOWER_KEY_IPV6_SRC_MASK, alen,
		     s->flaw == F_SRC_MASK_24 ? mask24 : ones);
	mnl_attr_put(nlh, v4 ? TCA_FLOWER_KEY_IPV4_DST : TCA_FLOWER_KEY_IPV6_DST, alen,
		     v4 ? v4a : v6a);
	mnl_attr_put(nlh, v4 ? TCA_FLOWER_KEY_IPV4_DST_MASK : TCA_FLOWER_KEY_IPV6_DST_MASK, alen,
		     ones);
	mnl_attr_put_u8(nlh, TCA_FLOWER_KEY_IP_PROTO, s->proto);
	if (s->flaw == F_PORT_LEN4)
		mnl_attr_put_u32(nlh, tcp ? TCA_FLOWER_KEY_TCP_SRC : TCA_FLOWER_KEY_UDP_SRC, 443);
	else
		mnl_attr_put_u16(nlh, tcp ? TCA_FLOWER_KEY_TCP_SRC : TCA_FLOWER_KEY_UDP_SRC,
				 htons(443));
	mnl_attr_put_u16(nlh, tcp ? TCA_FLOWER_KEY_TCP_SRC_MASK : TCA_FLOWER_KEY_UDP_SRC_MASK,
			 0xffff);
	mnl_attr_put_u16(nlh, tcp ? TCA_FLOWER_KEY_TCP_DST : TCA_FLOWER_KEY_UDP_DST, htons(40000));
	mnl_attr_put_u16(nlh, tcp ? TCA_FLOWER_KEY_TCP_DST_MASK : TCA_FLOWER_KEY_UDP_DST_MASK,
			 0xffff);
	if (tcp && s->flaw != F_NO_TCP_FLAGS) {
		mnl_attr_put_u16(nlh, TCA_FLOWER_KEY_TCP_FLAGS, 0);
		mnl_attr_put_u16(nlh, TCA_FLOWER_KEY_TCP_FLAGS_MASK,
				 htons(s->flaw == F_TCP_MASK_SYN ? 0x02 : 0x07));
	}
}

/* A filter as Linux 6.1 reports it; returns its length. */
static size_t build(void *buf, const struct spec *s)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	__u16 prio = s->prio ? s->prio : s->family == 4 ? FT_TC_PRIO_IPV4 : FT_TC_PRIO_IPV6;
	struct nlattr *opts, *acts, *bad;

	nlh->nlmsg_type = RTM_NEWTFILTER;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORTID;
	t->tcm_ifindex = IFINDEX;
	t->tcm_handle = s->handle;
	t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	t->tcm_info = TC_H_MAKE((__u32)prio << 16, htons(s->family == 4 ? ETH_P_IP : ETH_P_IPV6));
	if (s->flaw == F_KIND_NO_NUL)
		mnl_attr_put(nlh, TCA_KIND, 6, "flower");
	else
		mnl_attr_put_strz(nlh, TCA_KIND, s->flaw == F_KIND_U32 ? "u32" : "flower");
	mnl_attr_put_u32(nlh, TCA_CHAIN, 0);
	if (!s->handle)
		return nlh->nlmsg_len; /* a prio's header: no filter */
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	put_keys(nlh, s);
	if (s->flaw == F_FLAGS_LEN2)
		mnl_attr_put_u16(nlh, TCA_FLOWER_FLAGS, 2);
	else
		mnl_attr_put_u32(nlh, TCA_FLOWER_FLAGS,
				 TCA_CLS_FLAGS_SKIP_SW | TCA_CLS_FLAGS_IN_HW);
	mnl_attr_put_u32(nlh, TCA_FLOWER_IN_HW_COUNT, 1);
	if (s->flaw == F_NLA_LEN2) {
		bad = mnl_nlmsg_get_payload_tail(nlh);
		mnl_attr_put_u32(nlh, TCA_FLOWER_KEY_VLAN_ID, 0);
		bad->nla_len = 2;
	}
	acts = mnl_attr_nest_start(nlh, TCA_FLOWER_ACT);
	put_action(nlh, s, 1);
	if (s->flaw == F_TWO_ACTIONS)
		put_action(nlh, s, 2);
	mnl_attr_nest_end(nlh, acts);
	mnl_attr_nest_end(nlh, opts);
	if (s->flaw == F_ACT_PAST_OPTIONS)
		acts->nla_len += 8;
	return nlh->nlmsg_len;
}

static int parse(const struct spec *s, struct ft_hw_stat *st)
{
	static __u8 buf[4096];

	memset(buf, 0, sizeof(buf));
	build(buf, s);
	return ft_tc_parse_filter((struct nlmsghdr *)buf, &place, st);
}

/* What a rule of spec s must come back as. */
static struct ft_hw_stat expected(const struct spec *s)
{
	struct ft_hw_stat st;

	memset(&st, 0, sizeof(st));
	memcpy(st.rule.key.addr[0], s->family == 4 ? v4a : v6a, s->family == 4 ? 4 : 16);
	memcpy(st.rule.key.addr[1], s->family == 4 ? v4b : v6b, s->family == 4 ? 4 : 16);
	st.rule.key.port[0] = htons(40000);
	st.rule.key.port[1] = htons(443);
	st.rule.key.proto = s->proto;
	st.rule.key.family = s->family;
	st.rule.dir = 1;
	st.rule.verdict = s->verdict;
	st.rule.ifindex = IFINDEX;
	st.rule.redirect_ifindex = s->verdict == FT_VERDICT_REDIRECT ? REDIR : 0;
	st.rule.handle = s->handle;
	st.rule.cookie = COOKIE;
	st.packets = PACKETS;
	st.bytes = BYTES;
	st.lastuse_ms = LASTUSE * 10;
	return st;
}

static void expect_rule(const struct spec *s)
{
	struct ft_hw_stat st, want = expected(s);

	cr_assert_eq(parse(s, &st), 1);
	cr_expect_arr_eq(&st.rule.key, &want.rule.key, sizeof(want.rule.key));
	cr_expect_eq(st.rule.dir, want.rule.dir);
	cr_expect_eq(st.rule.verdict, want.rule.verdict);
	cr_expect_eq(st.rule.ifindex, want.rule.ifindex);
	cr_expect_eq(st.rule.redirect_ifindex, want.rule.redirect_ifindex);
	cr_expect_eq(st.rule.handle, want.rule.handle);
	cr_expect_eq(st.rule.cookie, want.rule.cookie);
	cr_expect_eq(st.packets, want.packets);
	cr_expect_eq(st.bytes, want.bytes);
	cr_expect_eq(st.lastuse_ms, want.lastuse_ms);
	cr_expect_arr_eq(&st, &want, sizeof(st));
}

Test(reply, ipv4_tcp_drop_comes_back_as_its_rule_with_counters)
{
	expect_rule(&(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0x10, F_NONE });
}

Test(reply, ipv4_udp_redirect_comes_back_as_its_rule_with_counters)
{
	expect_rule(&(struct spec){ 4, IPPROTO_UDP, FT_VERDICT_REDIRECT, 0, 0x11, F_NONE });
}

Test(reply, ipv6_tcp_redirect_comes_back_as_its_rule_with_counters)
{
	expect_rule(&(struct spec){ 6, IPPROTO_TCP, FT_VERDICT_REDIRECT, 0, 0x12, F_NONE });
}

Test(reply, ipv6_udp_drop_comes_back_as_its_rule_with_counters)
{
	expect_rule(&(struct spec){ 6, IPPROTO_UDP, FT_VERDICT_DROP, 0, 0x13, F_NONE });
}

Test(reply, packets_past_2_to_the_32_come_from_pkt64)
{
	struct spec s = { 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0x10, F_PKT64 };
	struct ft_hw_stat st;

	cr_assert_eq(parse(&s, &st), 1);
	cr_expect_eq(st.packets, PKTS_BIG);
	/* BASIC_HW's PKT64 (99) tells the hardware part: the rest gets its Ethernet headers */
	cr_expect_eq(st.bytes, BYTES + 14 * (PKTS_BIG - 99));
}

/* Software flower counts from the network header; flowtier counts whole frames. */
Test(reply, software_flower_bytes_get_their_ethernet_headers_back)
{
	struct spec s = { 4, IPPROTO_UDP, FT_VERDICT_DROP, 0, 0x10, F_SW_PART };
	struct ft_hw_stat st;

	cr_assert_eq(parse(&s, &st), 1);
	cr_expect_eq(st.packets, PACKETS);
	cr_expect_eq(st.bytes, BYTES + 14 * 600);
}

Test(reply, a_rule_built_by_flowtier_parses_back_to_itself)
{
	struct ft_hw_rule r;
	struct ft_hw_stat st;
	__u8 buf[FT_TC_MSG_MAX];

	memset(&r, 0, sizeof(r));
	memcpy(r.key.addr[0], v6a, 16);
	memcpy(r.key.addr[1], v6b, 16);
	r.key.port[0] = htons(40000);
	r.key.port[1] = htons(443);
	r.key.proto = IPPROTO_TCP;
	r.key.family = 6;
	r.dir = 1;
	r.verdict = FT_VERDICT_REDIRECT;
	r.ifindex = 3;
	r.redirect_ifindex = 4;
	r.handle = 99;
	r.cookie = 0xfeedfacecafebeefull;
	cr_assert_gt(ft_tc_build_add(buf, sizeof(buf), &place, &r, 1), 0);
	/* What was asked, read back as a reply would be: no counters yet. */
	cr_assert_eq(ft_tc_parse_filter((struct nlmsghdr *)buf, &place, &st), 1);
	cr_expect_arr_eq(&st.rule, &r, sizeof(r));
	cr_expect_eq(st.packets, 0);
	cr_expect_eq(st.bytes, 0);
	cr_expect_eq(st.lastuse_ms, 0);
}

static void expect_ret(enum flaw f, int want)
{
	struct spec s = { 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0x10, f };
	struct ft_hw_stat st, zero;

	memset(&zero, 0, sizeof(zero));
	cr_expect_eq(parse(&s, &st), want, "flaw %d: got %d, want %d", f, parse(&s, &st), want);
	cr_expect_arr_eq(&st, &zero, sizeof(st), "flaw %d left a partial rule", f);
	s.verdict = FT_VERDICT_REDIRECT;
	s.family = 6;
	if (f != F_ETH_TYPE_V6)
		cr_expect_eq(parse(&s, &st), want, "flaw %d (ipv6 redirect)", f);
}

Test(reply, malformed_attributes_are_ebadmsg)
{
	expect_ret(F_SRC_LEN3, -EBADMSG);
	expect_ret(F_BASIC_LEN8, -EBADMSG);
	expect_ret(F_KIND_NO_NUL, -EBADMSG);
	expect_ret(F_TM_LEN8, -EBADMSG);
	expect_ret(F_COOKIE_EMPTY, -EBADMSG);
	expect_ret(F_PKT64_LEN4, -EBADMSG);
	expect_ret(F_NLA_LEN2, -EBADMSG);
	expect_ret(F_ACT_PAST_OPTIONS, -EBADMSG);
	expect_ret(F_PARMS_SHORT, -EBADMSG);
	expect_ret(F_PORT_LEN4, -EBADMSG);
	expect_ret(F_FLAGS_LEN2, -EBADMSG);
}

Test(reply, filters_of_another_shape_are_not_reported)
{
	expect_ret(F_SRC_MASK_24, 0);
	expect_ret(F_TCP_MASK_SYN, 0);
	expect_ret(F_COOKIE_16, 0);
	expect_ret(F_NO_COOKIE, 0);
	expect_ret(F_TWO_ACTIONS, 0);
	expect_ret(F_KIND_U32, 0);
	expect_ret(F_ETH_TYPE_V6, 0);
	expect_ret(F_MIRRED_INGRESS, 0);
	expect_ret(F_NO_TCP_FLAGS, 0);
}

Test(reply, a_gact_that_does_not_drop_is_not_reported)
{
	struct spec s = { 4, IPPROTO_UDP, FT_VERDICT_DROP, 0, 0x10, F_GACT_PASS };
	struct ft_hw_stat st;

	cr_expect_eq(parse(&s, &st), 0);
}

Test(reply, other_prios_and_prio_headers_are_not_reported)
{
	struct ft_hw_stat st;

	cr_expect_eq(parse(&(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 1, 0x10, F_NONE }, &st),
		     0);
	cr_expect_eq(parse(&(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, FT_TC_PRIO_IPV6, 0x10,
					   F_NONE },
			   &st),
		     0, "an IPv4 filter in the IPv6 prio");
	cr_expect_eq(parse(&(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0, F_NONE }, &st),
		     0);
}

/* Every cut of a reply: -EBADMSG, but 0 where the cut falls between whole attributes before the
 * options. */
Test(reply, every_truncation_is_ebadmsg_or_not_a_rule)
{
	struct spec s = { 6, IPPROTO_TCP, FT_VERDICT_REDIRECT, 0, 0x10, F_NONE };
	static __u8 buf[4096];
	size_t full = build(buf, &s), len, off, ends[8], nends = 0, i;
	struct nlmsghdr *nlh = (void *)buf;
	const struct nlattr *a;
	struct ft_hw_stat st;
	int want, got;

	/* where the attributes before TCA_OPTIONS end, with and without their padding */
	ends[nends++] = off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct tcmsg));
	for (a = (void *)(buf + off); mnl_attr_get_type(a) != TCA_OPTIONS; a = mnl_attr_next(a)) {
		ends[nends++] = (const __u8 *)a - buf + a->nla_len;
		ends[nends++] = (const __u8 *)a - buf + MNL_ALIGN(a->nla_len);
	}
	for (len = 0; len < full; len++) {
		nlh->nlmsg_len = len;
		want = -EBADMSG;
		for (i = 0; i < nends; i++)
			if (len == ends[i])
				want = 0;
		got = ft_tc_parse_filter(nlh, &place, &st);
		cr_expect_eq(got, want, "cut at %zu of %zu: got %d, want %d", len, full, got, want);
	}
	nlh->nlmsg_len = full;
	cr_expect_eq(ft_tc_parse_filter(nlh, &place, &st), 1);
}

/* ---- acks ---- */

static struct nlmsghdr *put_ack(void *buf, int error, const char *msg, int capped)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf), *req;
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = (msg ? NLM_F_ACK_TLVS : 0) | (capped ? NLM_F_CAPPED : 0);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = capped ? MNL_NLMSG_HDRLEN : MNL_NLMSG_HDRLEN + 24;
	e->msg.nlmsg_type = RTM_NEWTFILTER;
	if (!capped) {
		req = (void *)mnl_nlmsg_put_extra_header(nlh, 24); /* the request's body */
		memset(req, 0xab, 24);
	}
	if (msg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	return nlh;
}

Test(ack, error_and_extack_capped_or_not)
{
	__u8 buf[512];
	char ext[FT_HW_EXTACK_LEN];

	cr_expect_eq(ft_tc_parse_ack(put_ack(buf, -ENOSPC, "mlx5_core: rule table full", 1), ext),
		     -ENOSPC);
	cr_expect_str_eq(ext, "mlx5_core: rule table full");
	cr_expect_eq(ft_tc_parse_ack(put_ack(buf, -ENOENT, "TC classifier not found", 0), ext),
		     -ENOENT);
	cr_expect_str_eq(ext, "TC classifier not found");
	cr_expect_eq(ft_tc_parse_ack(put_ack(buf, 0, NULL, 1), ext), 0);
	cr_expect_str_eq(ext, "");
}

Test(ack, long_extack_is_cut_to_fit)
{
	char msg[300], ext[FT_HW_EXTACK_LEN];
	__u8 buf[1024];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	cr_expect_eq(ft_tc_parse_ack(put_ack(buf, -EINVAL, msg, 1), ext), -EINVAL);
	cr_expect_eq(strlen(ext), FT_HW_EXTACK_LEN - 1);
}

Test(ack, malformed_acks_are_ebadmsg)
{
	char ext[FT_HW_EXTACK_LEN];
	struct nlmsghdr *nlh;
	__u8 buf[512];

	nlh = put_ack(buf, -EINVAL, "abc", 1);
	((struct nlattr *)((__u8 *)nlh + nlh->nlmsg_len - 8))->nla_len = 7; /* "abc" without NUL */
	cr_expect_eq(ft_tc_parse_ack(nlh, ext), -EBADMSG);
	nlh = put_ack(buf, -EINVAL, "abc", 1);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 8; /* shorter than struct nlmsgerr */
	cr_expect_eq(ft_tc_parse_ack(nlh, ext), -EBADMSG);
	nlh = put_ack(buf, -EINVAL, "abc", 0);
	((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->msg.nlmsg_len = 400; /* past the end */
	cr_expect_eq(ft_tc_parse_ack(nlh, ext), -EBADMSG);
	nlh = put_ack(buf, 5, NULL, 1); /* errors are negative */
	cr_expect_eq(ft_tc_parse_ack(nlh, ext), -EBADMSG);
}

/* ---- dump buffers ---- */

struct seen {
	int calls;
	__u32 handles[8];
	int stop_after;
};

static int on_rule(const struct ft_hw_stat *st, void *ctx)
{
	struct seen *s = ctx;

	s->handles[s->calls++] = st->rule.handle;
	return s->calls == s->stop_after ? 7 : 0;
}

static size_t put_done(void *buf, __u32 seq, int err)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = PORTID;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = err;
	return nlh->nlmsg_len;
}

/* A header of the prio, rules 0x21 and 0x22, another seq's rule 0x23, rule 0x24. */
static size_t dump_buf(__u8 *buf, int done)
{
	size_t len = 0, other;

	len += build(buf + len, &(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0, F_NONE });
	len += build(buf + len, &(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0x21, F_NONE });
	len += build(buf + len,
		     &(struct spec){ 4, IPPROTO_UDP, FT_VERDICT_REDIRECT, 0, 0x22, F_NONE });
	other = len;
	len += build(buf + len, &(struct spec){ 4, IPPROTO_UDP, FT_VERDICT_DROP, 0, 0x23, F_NONE });
	((struct nlmsghdr *)(buf + other))->nlmsg_seq = SEQ + 1;
	len += build(buf + len, &(struct spec){ 4, IPPROTO_UDP, FT_VERDICT_DROP, 0, 0x24, F_NONE });
	if (done)
		len += put_done(buf + len, SEQ, 0);
	return len;
}

Test(dump, every_rule_of_the_dump_reaches_the_callback)
{
	static __u8 buf[16384];
	struct seen s = { 0 };
	size_t len = dump_buf(buf, 1);
	int cb_ret = 0;

	cr_expect_eq(ft_tc_parse_dump_buf(buf, len, SEQ, PORTID, &place, on_rule, &s, &cb_ret), 1);
	cr_expect_eq(cb_ret, 0);
	cr_assert_eq(s.calls, 3);
	cr_expect_eq(s.handles[0], 0x21);
	cr_expect_eq(s.handles[1], 0x22);
	cr_expect_eq(s.handles[2], 0x24);
}

Test(dump, a_buffer_without_done_asks_for_more)
{
	static __u8 buf[16384];
	struct seen s = { 0 };
	int cb_ret = 0;

	cr_expect_eq(ft_tc_parse_dump_buf(buf, dump_buf(buf, 0), SEQ, PORTID, &place, on_rule, &s,
					  &cb_ret),
		     0);
	cr_expect_eq(s.calls, 3);
}

Test(dump, a_callback_that_stops_is_not_called_again)
{
	static __u8 buf[16384];
	struct seen s = { .stop_after = 1 };
	int cb_ret = 0;

	cr_expect_eq(ft_tc_parse_dump_buf(buf, dump_buf(buf, 1), SEQ, PORTID, &place, on_rule, &s,
					  &cb_ret),
		     1);
	cr_expect_eq(cb_ret, 7);
	cr_expect_eq(s.calls, 1);
}

Test(dump, errors_in_the_dump_are_returned)
{
	static __u8 buf[16384];
	struct seen s = { 0 };
	struct nlmsghdr *nlh;
	int cb_ret = 0;
	size_t len;

	len = put_done(buf, SEQ, -EINTR);
	cr_expect_eq(ft_tc_parse_dump_buf(buf, len, SEQ, PORTID, &place, on_rule, &s, &cb_ret),
		     -EINTR);
	nlh = put_ack(buf, -EINVAL, "Parent Qdisc doesn't exists", 1);
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORTID;
	cr_expect_eq(ft_tc_parse_dump_buf(buf, nlh->nlmsg_len, SEQ, PORTID, &place, on_rule, &s,
					  &cb_ret),
		     -EINVAL);
	len = dump_buf(buf, 1);
	cr_expect_eq(ft_tc_parse_dump_buf(buf, len - 5, SEQ, PORTID, &place, on_rule, &s, &cb_ret),
		     -EBADMSG, "a buffer cut inside its last message");
	cr_expect_eq(ft_tc_parse_dump_buf(buf, 10, SEQ, PORTID, &place, on_rule, &s, &cb_ret),
		     -EBADMSG, "a buffer shorter than a header");
	s.calls = 0;
	build(buf, &(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0x21, F_SRC_LEN3 });
	cr_expect_eq(ft_tc_parse_dump_buf(buf, ((struct nlmsghdr *)buf)->nlmsg_len, SEQ, PORTID,
					  &place, on_rule, &s, &cb_ret),
		     -EBADMSG);
	cr_expect_eq(s.calls, 0);
}

/*
 * Random damage (AddressSanitizer watching): whatever a reply says about
 * its own lengths, the parser reads only inside the message and answers
 * 1, 0 or -EBADMSG.
 */
Test(reply, random_damage_never_reads_outside_the_message)
{
	struct spec s = { 6, IPPROTO_TCP, FT_VERDICT_REDIRECT, 0, 0x10, F_PKT64 };
	static __u8 good[4096];
	size_t full = build(good, &s), i;
	unsigned int seed = 1;
	struct ft_hw_stat st;
	int n, ret, counts[3] = { 0 };
	__u8 *msg;

	for (n = 0; n < 20000; n++) {
		/* an exact-size heap copy, so that ASan sees any read past its end */
		msg = malloc(full);
		cr_assert_not_null(msg);
		memcpy(msg, good, full);
		for (i = 0; i < 1 + (size_t)(rand_r(&seed) % 4); i++)
			msg[MNL_NLMSG_HDRLEN + rand_r(&seed) % (full - MNL_NLMSG_HDRLEN)] =
				rand_r(&seed);
		ret = ft_tc_parse_filter((struct nlmsghdr *)msg, &place, &st);
		cr_assert(ret == 1 || ret == 0 || ret == -EBADMSG, "damage %d: %d", n, ret);
		counts[ret == -EBADMSG ? 2 : ret]++;
		free(msg);
	}
	/* damage lands everywhere: some in values, some in lengths, some in the shape */
	cr_expect_gt(counts[0], 0);
	cr_expect_gt(counts[1], 0);
	cr_expect_gt(counts[2], 0);
}

/* The same for whole dump buffers, message headers included. */
Test(dump, random_damage_never_reads_outside_the_buffer)
{
	static __u8 good[16384];
	size_t full = dump_buf(good, 1), i;
	unsigned int seed = 7;
	struct seen s;
	int n, ret, cb_ret;
	__u8 *buf;

	for (n = 0; n < 5000; n++) {
		buf = malloc(full);
		cr_assert_not_null(buf);
		memcpy(buf, good, full);
		for (i = 0; i < 1 + (size_t)(rand_r(&seed) % 4); i++)
			buf[rand_r(&seed) % full] = rand_r(&seed);
		memset(&s, 0, sizeof(s));
		cb_ret = 0;
		ret = ft_tc_parse_dump_buf(buf, full, SEQ, PORTID, &place, on_rule, &s, &cb_ret);
		cr_assert(ret == 1 || (ret <= 0 && ret >= -4095), "damage %d: %d", n, ret);
		cr_assert_leq(s.calls, 4, "damage %d: %d rules from a buffer of 4", n, s.calls);
		free(buf);
	}
}

/*
 * The netlink fuzz target's seeds (tests/fuzz/corpus/netlink) are replies
 * built here, so they cannot drift from what the kernel sends and the
 * parser reads. FT_FUZZ_SEEDS=1 writes them afresh instead of comparing.
 */
static void seed_check(const char *name, const void *buf, size_t len)
{
	static __u8 have[16384];
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/netlink/%s", name);
	f = fopen(path, getenv("FT_FUZZ_SEEDS") ? "wb" : "rb");
	cr_assert_not_null(f, "%s (run from the top of the repository)", path);
	if (getenv("FT_FUZZ_SEEDS")) {
		cr_assert_eq(fwrite(buf, 1, len, f), len);
		fclose(f);
		return;
	}
	n = fread(have, 1, sizeof(have), f);
	fclose(f);
	cr_assert(n == len && !memcmp(have, buf, len),
		  "%s (%zu bytes) differs from the reply built here (%zu): FT_FUZZ_SEEDS=1 %s "
		  "--filter 'seeds/*' "
		  "writes it again",
		  path, n, len, "build/tests/test_tc_reply");
}

Test(seeds, the_netlink_fuzz_seeds_are_replies_built_here)
{
	static __u8 buf[16384];

	seed_check("dump", buf, dump_buf(buf, 1));
	seed_check(
		"filter6_redirect", buf,
		build(buf, &(struct spec){ 6, IPPROTO_TCP, FT_VERDICT_REDIRECT, 0, 0x31, F_NONE }));
	seed_check(
		"filter4_sw_part", buf,
		build(buf, &(struct spec){ 4, IPPROTO_UDP, FT_VERDICT_DROP, 0, 0x32, F_SW_PART }));
	seed_check(
		"filter4_bad_src", buf,
		build(buf, &(struct spec){ 4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 0x33, F_SRC_LEN3 }));
	seed_check("done_error", buf, put_done(buf, SEQ, -ENOENT));
}

/* Found by the fuzz target: libmnl's check takes a length of 2^31 or more for a small one. */
Test(dump, a_message_length_over_2g_ends_the_walk)
{
	static __u8 buf[64];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	nlh->nlmsg_len = 0x9c000000u;
	nlh->nlmsg_type = NLMSG_ERROR;
	cr_expect(mnl_nlmsg_ok(nlh, sizeof(buf)), "libmnl's own check lets it through");
	cr_assert_eq(ft_tc_msg_ok(nlh, sizeof(buf)), 0);
	nlh->nlmsg_len = sizeof(buf);
	cr_assert_eq(ft_tc_msg_ok(nlh, sizeof(buf)), 1);
	cr_assert_eq(ft_tc_msg_ok(nlh, sizeof(buf) - 1), 0);
}
