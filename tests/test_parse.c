// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The parser, through the XDP and TC programs: every protocol it knows, in
 * IPv4 and IPv6, untagged and behind VLAN tags; non-IP frames; each
 * malformed reason; frames cut at every length the kernel lets through; and
 * the TC programs agreeing with the XDP program on the same frames.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "ft_test.h"

#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define ETH_HLEN 14

/* Stands for ICMP of the case's family: 1 in IPv4, 58 in IPv6. */
#define ICMP_ANY 255

static struct ft_datapath dp, dp_tc;

static void teardown(void)
{
	ft_dp_close(&dp);
	ft_dp_close(&dp_tc);
}

TestSuite(parse, .fini = teardown);

static const char *const prog_names[] = {
	[FT_T_XDP] = "xdp",
	[FT_T_TC_IN] = "tc ingress",
	[FT_T_TC_OUT] = "tc egress",
};

/* clang-format off */
static const char *const mal_names[FT_MAL_MAX] = {
	[FT_MAL_ETH_TRUNC] = "ETH_TRUNC",	  [FT_MAL_VLAN_TRUNC] = "VLAN_TRUNC",
	[FT_MAL_VLAN_DEPTH] = "VLAN_DEPTH",	  [FT_MAL_IP4_TRUNC] = "IP4_TRUNC",
	[FT_MAL_IP4_VERSION] = "IP4_VERSION",	  [FT_MAL_IP4_IHL] = "IP4_IHL",
	[FT_MAL_IP4_LEN] = "IP4_LEN",		  [FT_MAL_IP6_TRUNC] = "IP6_TRUNC",
	[FT_MAL_IP6_VERSION] = "IP6_VERSION",	  [FT_MAL_EXTHDR_TRUNC] = "EXTHDR_TRUNC",
	[FT_MAL_EXTHDR_DEPTH] = "EXTHDR_DEPTH", [FT_MAL_L4_TRUNC] = "L4_TRUNC",
};
/* clang-format on */

static int hook_of(enum ft_test_prog prog)
{
	return prog == FT_T_XDP	    ? FT_HOOK_XDP
	       : prog == FT_T_TC_IN ? FT_HOOK_TC_INGRESS
				    : FT_HOOK_TC_EGRESS;
}

static __u32 pass_of(enum ft_test_prog prog)
{
	return prog == FT_T_XDP ? FT_XDP_PASS : FT_TC_OK;
}

/* Names ft_stats' 64-bit words, so a failure says which counter is off. */
static const char *stat_name(size_t word, char *buf, size_t n)
{
	/* clang-format off */
#define F(field, count) { offsetof(struct ft_stats, field) / 8, count, #field }
	static const struct {
		size_t first, count;
		const char *name;
	} f[] = {
		F(packets, FT_HOOK_MAX),	F(verdict, FT_VERDICT_MAX),
		F(malformed, FT_MAL_MAX),	F(nonip, FT_NONIP_MAX),
		F(fragments, 1),		F(created, 1),
		F(evicted, FT_EVICT_MAX),	F(reclaimed, FT_RECLAIM_MAX),
		F(insert_failed, FT_FAIL_MAX), F(redirect_failed, 1),
		F(zone_sweeps, 1),		F(foreign, 1),
		F(owner_moves, 1),		F(create_races, 1),
		F(lock_timeouts, 1),
	};
#undef F
	/* clang-format on */
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (word < f[i].first || word >= f[i].first + f[i].count)
			continue;
		if (f[i].count == 1)
			snprintf(buf, n, "%s", f[i].name);
		else if (f[i].first == offsetof(struct ft_stats, malformed) / 8)
			snprintf(buf, n, "malformed[%s]", mal_names[word - f[i].first]);
		else
			snprintf(buf, n, "%s[%zu]", f[i].name, word - f[i].first);
		return buf;
	}
	snprintf(buf, n, "word %zu", word);
	return buf;
}

/*
 * Every counter, not only the expected ones: nothing else may move. Fails
 * on the first that differs; a match asserts nothing, because the sweeps
 * compare thousands of times and run.sh's --full-stats records each
 * passing assertion.
 */
static void assert_stats(const struct ft_stats *got, const struct ft_stats *want, const char *ctx)
{
	const __u64 *g = (const __u64 *)got, *w = (const __u64 *)want;
	char name[48];

	for (size_t i = 0; i < sizeof(*got) / sizeof(__u64); i++)
		if (g[i] != w[i])
			cr_assert_fail("%s: stats.%s is %llu, expected %llu", ctx,
				       stat_name(i, name, sizeof(name)), (unsigned long long)g[i],
				       (unsigned long long)w[i]);
}

/*
 * The lengths BPF_PROG_TEST_RUN refuses with EINVAL, measured on 6.18:
 * anything shorter than an Ethernet header, and for the skb (TC) runner an
 * untagged IPv4 or IPv6 frame without room for the fixed network header.
 * The skb runner decides by the outer EtherType only: tagged frames, and
 * the IP header's own version and IHL, make no difference.
 */
static int kernel_refuses(enum ft_test_prog prog, const __u8 *frame, size_t len)
{
	__u16 type;

	if (len < ETH_HLEN)
		return 1;
	if (prog == FT_T_XDP)
		return 0;
	type = frame[12] << 8 | frame[13];
	return (type == 0x0800 && len < ETH_HLEN + 20) || (type == 0x86dd && len < ETH_HLEN + 40);
}

/*
 * Runs a frame the parser must reject: it passes, comes back untouched,
 * moves malformed[reason] by one and creates nothing. want accumulates.
 */
static void expect_malformed(struct ft_datapath *d, enum ft_test_prog prog, const __u8 *frame,
			     size_t len, int reason, struct ft_stats *want, const char *ctx)
{
	__u8 out[FT_FRAME_MAX];
	__u32 ret = ~0u, out_len = 0;
	struct ft_stats got;
	int err;

	err = ft_test_try_run(d, prog, frame, len, &ret, out, &out_len);
	cr_assert_eq(err, 0, "%s: BPF_PROG_TEST_RUN refused %zu bytes: %s", ctx, len,
		     strerror(-err));
	cr_assert_eq(ret, pass_of(prog), "%s: verdict %u, expected pass", ctx, ret);
	cr_assert_eq(out_len, len, "%s: %u bytes came back", ctx, out_len);
	cr_assert(!memcmp(out, frame, len), "%s: the frame was modified", ctx);
	want->packets[hook_of(prog)]++;
	want->verdict[FT_VERDICT_PASS]++;
	want->malformed[reason]++;
	got = ft_stats_of(d);
	assert_stats(&got, want, ctx);
	cr_assert_eq(ft_count_live(d), 0, "%s: a malformed frame created a connection", ctx);
}

/*
 * The parsing cases. Each runs in IPv4 and IPv6 and behind every tag stack
 * in `vlans`; fields that belong to one family are ignored by the other.
 */
struct parse_case {
	const char *name;
	__u8 proto; /* ICMP_ANY: ICMP of the family */
	__u16 sport, dport;
	__u8 tcp_flags;
	int echo; /* ICMP: echo request; otherwise destination unreachable */
	int ip4_opt_words;
	int nexthdrs, ah, frag;
	int payload;
	/* The key's ports on the request sender's side and on the other, host order. */
	__u16 key_sport, key_dport;
};

/* clang-format off */
static const struct parse_case cases[] = {
	{ .name = "tcp", .proto = 6, .sport = 40000, .dport = 443, .tcp_flags = TCP_SYN,
	  .key_sport = 40000, .key_dport = 443 },
	{ .name = "udp", .proto = 17, .sport = 40001, .dport = 53, .payload = 20,
	  .key_sport = 40001, .key_dport = 53 },
	{ .name = "udplite", .proto = 136, .sport = 40002, .dport = 5004, .payload = 20,
	  .key_sport = 40002, .key_dport = 5004 },
	{ .name = "sctp", .proto = 132, .sport = 40003, .dport = 38412, .payload = 16,
	  .key_sport = 40003, .key_dport = 38412 },
	/* The echo identifier stands in for both ports. */
	{ .name = "icmp echo", .proto = ICMP_ANY, .sport = 0x1234, .echo = 1, .payload = 56,
	  .key_sport = 0x1234, .key_dport = 0x1234 },
	/* Bytes 4-5 hold 0x1234 here too: only an echo may use them. */
	{ .name = "icmp unreachable", .proto = ICMP_ANY, .sport = 0x1234, .payload = 28 },
	/* The payload is 0xab: a parser reading ports from it would show 0xabab. */
	{ .name = "gre", .proto = 47, .payload = 24 },
	{ .name = "tcp behind ip options / 4 extension headers", .proto = 6, .sport = 40004,
	  .dport = 22, .tcp_flags = TCP_SYN, .ip4_opt_words = 10, .nexthdrs = 3, .ah = 1,
	  .key_sport = 40004, .key_dport = 22 },
	/* FT_MAX_EXTHDR is 6: the most the parser walks. */
	{ .name = "udp behind ip options / 6 extension headers", .proto = 17, .sport = 40005,
	  .dport = 4789, .ip4_opt_words = 1, .nexthdrs = 5, .ah = 1, .payload = 8,
	  .key_sport = 40005, .key_dport = 4789 },
	/* A first fragment carries the L4 header: ports as usual, no fragment flag. */
	{ .name = "udp first fragment", .proto = 17, .sport = 40006, .dport = 123, .frag = 1,
	  .payload = 40, .key_sport = 40006, .key_dport = 123 },
	{ .name = "udp non-first fragment", .proto = 17, .sport = 40007, .dport = 123, .frag = 2,
	  .payload = 40 },
	{ .name = "tcp non-first fragment behind options / 6 extension headers", .proto = 6,
	  .sport = 40008, .dport = 80, .ip4_opt_words = 2, .nexthdrs = 5, .frag = 2,
	  .payload = 32 },
	{ .name = "icmp echo non-first fragment", .proto = ICMP_ANY, .sport = 0x4321, .echo = 1,
	  .frag = 2, .payload = 32 },
};
/* clang-format on */

struct vlan_case {
	const char *name;
	int n;
	__u16 tci[2];
	__u16 tpid[2];
	__u16 zone; /* the outer VLAN ID, without priority and DEI bits */
};

/* clang-format off */
static const struct vlan_case vlans[] = {
	{ "untagged", 0, { 0 }, { 0 }, 0 },
	{ "802.1Q prio 5", 1, { 0xa000 | 100 }, { 0x8100 }, 100 },
	{ "802.1ad DEI", 1, { 0x1000 | 4094 }, { 0x88a8 }, 4094 },
	{ "802.1ad+802.1Q", 2, { 300, 0xe000 | 42 }, { 0x88a8, 0x8100 }, 300 },
	{ "802.1Q+802.1Q", 2, { 7, 8 }, { 0x8100, 0x8100 }, 7 },
};
/* clang-format on */

#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define NVLANS (sizeof(vlans) / sizeof(vlans[0]))

/* The request of a case, or its reply: swapped ends, longer payload, so bytes tell them apart. */
static struct ft_spec spec_of(const struct parse_case *c, int family, const struct vlan_case *v,
			      int reply)
{
	const char *a = family == 4 ? "198.18.2.10" : "2001:db8::10";
	const char *b = family == 4 ? "198.19.100.20" : "2001:db8:1::20";
	int icmp = c->proto == ICMP_ANY;
	struct ft_spec s = {
		.family = family,
		.src = reply ? b : a,
		.dst = reply ? a : b,
		.proto = icmp ? (family == 4 ? 1 : 58) : c->proto,
		.sport = reply && !icmp ? c->dport : c->sport,
		.dport = reply && !icmp ? c->sport : c->dport,
		.tcp_flags = reply ? c->tcp_flags | TCP_ACK : c->tcp_flags,
		.nvlan = v->n,
		.ip4_opt_words = c->ip4_opt_words,
		.nexthdrs = c->nexthdrs,
		.ah = c->ah,
		.frag = c->frag,
		.payload = c->payload + (reply ? 100 : 0),
	};

	for (int i = 0; i < v->n; i++) {
		s.vlan_id[i] = v->tci[i];
		s.vlan_proto[i] = v->tpid[i];
	}
	if (icmp && family == 4)
		s.icmp_type = c->echo ? (reply ? 0 : 8) : 3;
	else if (icmp)
		s.icmp_type = c->echo ? (reply ? 129 : 128) : 1;
	return s;
}

/*
 * Two requests through req_prog and one reply through rep_prog: one
 * connection with exact key, zone, per-direction packets and bytes (the
 * whole frame), fragment flag, and exact stats.
 */
static void check_case(const struct parse_case *c, int family, const struct vlan_case *v,
		       enum ft_test_prog req_prog, enum ft_test_prog rep_prog)
{
	struct ft_spec req = spec_of(c, family, v, 0), rep = spec_of(c, family, v, 1);
	__u8 buf[FT_FRAME_MAX];
	size_t req_len = ft_build(&req, buf), rep_len = ft_build(&rep, buf);
	struct ft_stats want = {}, got;
	struct ft_ct *conn;
	char ctx[160];
	int side;

	snprintf(ctx, sizeof(ctx), "%s, IPv%d, %s, %s then %s", c->name, family, v->name,
		 prog_names[req_prog], prog_names[rep_prog]);
	ft_test_reset(&dp);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(ft_send(&dp, req_prog, &req), pass_of(req_prog), "%s: request", ctx);
	cr_assert_eq(ft_send(&dp, rep_prog, &rep), pass_of(rep_prog), "%s: reply", ctx);

	conn = ft_find(&dp, &req, v->zone, &side, NULL, NULL);
	cr_assert_not_null(conn, "%s: no connection with the expected key in zone %u", ctx,
			   v->zone);
	cr_assert_eq(ft_count_live(&dp), 1, "%s: the reply made a second connection", ctx);
	cr_assert_eq(conn->key.family, family, "%s", ctx);
	cr_assert_eq(conn->key.proto, req.proto, "%s", ctx);
	cr_assert_eq(conn->key.zone, v->zone, "%s", ctx);
	cr_assert_eq(ntohs(conn->key.port[side]), c->key_sport, "%s: sender's port %u", ctx,
		     ntohs(conn->key.port[side]));
	cr_assert_eq(ntohs(conn->key.port[!side]), c->key_dport, "%s: receiver's port %u", ctx,
		     ntohs(conn->key.port[!side]));
	cr_assert_eq(conn->dir[side].packets, 2, "%s", ctx);
	cr_assert_eq(conn->dir[side].bytes, 2 * req_len, "%s: %llu request bytes", ctx,
		     (unsigned long long)conn->dir[side].bytes);
	cr_assert_eq(conn->dir[!side].packets, 1, "%s", ctx);
	cr_assert_eq(conn->dir[!side].bytes, rep_len, "%s: %llu reply bytes", ctx,
		     (unsigned long long)conn->dir[!side].bytes);
	cr_assert_eq(conn->flags & FT_CONN_FRAGMENT, c->frag == 2 ? FT_CONN_FRAGMENT : 0,
		     "%s: fragment flag", ctx);

	want.packets[hook_of(req_prog)] += 2;
	want.packets[hook_of(rep_prog)] += 1;
	want.verdict[FT_VERDICT_PASS] = 3;
	want.created = 1;
	want.fragments = c->frag == 2 ? 3 : 0;
	got = ft_stats_of(&dp);
	assert_stats(&got, &want, ctx);
}

static void check_all_cases(enum ft_test_prog req_prog, enum ft_test_prog rep_prog)
{
	ft_test_load(&dp, 1024, 11, 12);
	for (size_t i = 0; i < NCASES; i++)
		for (int family = 4; family <= 6; family += 2)
			for (size_t v = 0; v < NVLANS; v++)
				check_case(&cases[i], family, &vlans[v], req_prog, rep_prog);
}

Test(parse, every_protocol_in_both_families_and_any_tag_stack_counts_to_one_connection)
{
	check_all_cases(FT_T_XDP, FT_T_XDP);
}

/* The reply leaves through egress: it must land in the entry ingress made. */
Test(parse, tc_egress_reply_lands_in_the_connection_tc_ingress_made)
{
	check_all_cases(FT_T_TC_IN, FT_T_TC_OUT);
}

struct nonip_case {
	const char *name;
	__u16 ethertype;
	int nvlan;
	int class;
	int payload;
};

/* clang-format off */
static const struct nonip_case nonip_cases[] = {
	{ "arp", 0x0806, 0, FT_NONIP_ARP, 28 },
	{ "arp in a vlan", 0x0806, 1, FT_NONIP_ARP, 28 },
	{ "arp in two vlans", 0x0806, 2, FT_NONIP_ARP, 28 },
	{ "lldp", 0x88cc, 0, FT_NONIP_LLDP, 40 },
	{ "mpls unicast", 0x8847, 0, FT_NONIP_MPLS, 44 },
	{ "mpls multicast in a vlan", 0x8848, 1, FT_NONIP_MPLS, 44 },
	/* 802.3 frames carry a length (up to 1500) where the EtherType goes. */
	{ "802.3 llc (stp)", 0x0026, 0, FT_NONIP_8023, 38 },
	{ "802.3 length 1500", 0x05dc, 0, FT_NONIP_8023, 46 },
	{ "802.3 in a vlan", 0x0026, 1, FT_NONIP_8023, 38 },
	/* 0x05ff is below the first EtherType; 0x0600 is one. */
	{ "below the first ethertype", 0x05ff, 0, FT_NONIP_8023, 46 },
	{ "the first ethertype", 0x0600, 0, FT_NONIP_OTHER, 46 },
	{ "pppoe session", 0x8864, 0, FT_NONIP_OTHER, 46 },
	{ "local experimental in a vlan", 0x88b5, 1, FT_NONIP_OTHER, 46 },
};
/* clang-format on */

Test(parse, non_ip_frames_pass_untouched_counted_by_class)
{
	static const enum ft_test_prog progs[] = { FT_T_XDP, FT_T_TC_IN, FT_T_TC_OUT };
	__u8 frame[FT_FRAME_MAX], out[FT_FRAME_MAX];

	ft_test_load(&dp, 1024, 13, 14);
	for (size_t p = 0; p < 3; p++) {
		for (size_t i = 0; i < sizeof(nonip_cases) / sizeof(nonip_cases[0]); i++) {
			const struct nonip_case *c = &nonip_cases[i];
			struct ft_spec s = { .ethertype = c->ethertype,
					     .nvlan = c->nvlan,
					     .vlan_id = { 10, 20 },
					     .payload = c->payload };
			size_t len = ft_build(&s, frame);
			struct ft_stats want = {}, got;
			__u32 ret = ~0u, out_len = 0;
			char ctx[96];

			snprintf(ctx, sizeof(ctx), "%s, %s", c->name, prog_names[progs[p]]);
			ft_test_reset(&dp);
			cr_assert_eq(
				ft_test_try_run(&dp, progs[p], frame, len, &ret, out, &out_len), 0,
				"%s", ctx);
			cr_assert_eq(ret, pass_of(progs[p]), "%s: verdict %u", ctx, ret);
			cr_assert_eq(out_len, len, "%s", ctx);
			cr_assert(!memcmp(out, frame, len), "%s: the frame was modified", ctx);
			cr_assert_eq(ft_count_live(&dp), 0, "%s", ctx);
			want.packets[hook_of(progs[p])] = 1;
			want.verdict[FT_VERDICT_PASS] = 1;
			want.nonip[c->class] = 1;
			got = ft_stats_of(&dp);
			assert_stats(&got, &want, ctx);
		}
	}
}

/* A frame built from spec, then bytes changed relative to the IP header, then cut. */
struct bad_case {
	const char *name;
	struct ft_spec spec;
	struct {
		int off; /* from the start of the IP header */
		__u8 val;
	} patch[2];
	int npatch;
	size_t len; /* not 0: cut the frame to this length */
	int reason;
};

/* clang-format off */
#define UDP4(...)                                                                                  \
	{ .family = 4, .src = "198.18.2.1", .dst = "198.18.2.2", .proto = 17, .sport = 1000,        \
	  .dport = 2000, .payload = 8, __VA_ARGS__ }
#define IP6(p, ...)                                                                                \
	{ .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2", .proto = (p), .sport = 1000,    \
	  .dport = 2000, __VA_ARGS__ }
/* clang-format on */

/* clang-format off */
static const struct bad_case bad_cases[] = {
	{ .name = "a third 802.1Q tag", .spec = UDP4(.nvlan = 3, .vlan_id = { 10, 20, 30 }),
	  .reason = FT_MAL_VLAN_DEPTH },
	{ .name = "a third tag after 802.1ad+802.1Q",
	  .spec = UDP4(.nvlan = 3, .vlan_id = { 10, 20, 30 },
		       .vlan_proto = { 0x88a8, 0x8100, 0x88a8 }),
	  .reason = FT_MAL_VLAN_DEPTH },
	{ .name = "ipv4 ethertype, version 6", .spec = UDP4(), .patch = { { 0, 0x65 } },
	  .npatch = 1, .reason = FT_MAL_IP4_VERSION },
	{ .name = "ipv4 ihl 4", .spec = UDP4(), .patch = { { 0, 0x44 } }, .npatch = 1,
	  .reason = FT_MAL_IP4_IHL },
	{ .name = "ipv4 ihl 0 behind a tag", .spec = UDP4(.nvlan = 1, .vlan_id = { 5 }),
	  .patch = { { 0, 0x40 } }, .npatch = 1, .reason = FT_MAL_IP4_IHL },
	{ .name = "ipv4 total length 19", .spec = UDP4(), .patch = { { 2, 0 }, { 3, 19 } },
	  .npatch = 2, .reason = FT_MAL_IP4_LEN },
	/* 20 would do without options; with one option word the header is 24. */
	{ .name = "ipv4 total length 20 below ihl 24", .spec = UDP4(.ip4_opt_words = 1),
	  .patch = { { 2, 0 }, { 3, 20 } }, .npatch = 2, .reason = FT_MAL_IP4_LEN },
	/* IHL 15 claims 60 bytes; the frame has 20 of header and 16 of UDP. */
	{ .name = "ipv4 ihl beyond the frame", .spec = UDP4(), .patch = { { 0, 0x4f } },
	  .npatch = 1, .reason = FT_MAL_IP4_TRUNC },
	/* Behind a tag, so that the skb runner takes it too (see kernel_refuses). */
	{ .name = "ipv4 header cut behind a tag", .spec = UDP4(.nvlan = 1, .vlan_id = { 5 }),
	  .len = ETH_HLEN + 4 + 19, .reason = FT_MAL_IP4_TRUNC },
	{ .name = "ipv6 ethertype, version 4", .spec = IP6(6), .patch = { { 0, 0x45 } },
	  .npatch = 1, .reason = FT_MAL_IP6_VERSION },
	{ .name = "ipv6 header cut behind a tag", .spec = IP6(6, .nvlan = 1, .vlan_id = { 5 }),
	  .len = ETH_HLEN + 4 + 39, .reason = FT_MAL_IP6_TRUNC },
	{ .name = "seven extension headers", .spec = IP6(6, .nexthdrs = 7),
	  .reason = FT_MAL_EXTHDR_DEPTH },
	{ .name = "six extension headers and an ah", .spec = IP6(6, .nexthdrs = 6, .ah = 1),
	  .reason = FT_MAL_EXTHDR_DEPTH },
	/* Hop-by-hop length 255 claims 2048 bytes; TCP would follow it. */
	{ .name = "hop-by-hop header longer than the frame",
	  .spec = IP6(6, .nexthdrs = 1, .payload = 64), .patch = { { 41, 255 } }, .npatch = 1,
	  .reason = FT_MAL_EXTHDR_TRUNC },
	/* GRE needs no L4 bytes, so only the header walk can see the cut. */
	{ .name = "ah longer than the frame before gre", .spec = IP6(47, .ah = 1, .payload = 64),
	  .patch = { { 41, 200 } }, .npatch = 1, .reason = FT_MAL_EXTHDR_TRUNC },
};
/* clang-format on */

/* Builds bad case c into frame; returns its length. */
static size_t build_bad(const struct bad_case *c, __u8 *frame)
{
	size_t len = ft_build(&c->spec, frame);
	size_t l3 = ETH_HLEN + 4 * c->spec.nvlan;

	for (int k = 0; k < c->npatch; k++)
		frame[l3 + c->patch[k].off] = c->patch[k].val;
	if (c->len) {
		cr_assert_lt(c->len, len, "%s: the cut must shorten the frame", c->name);
		len = c->len;
	}
	return len;
}

Test(parse, each_malformed_reason_passes_and_is_counted_by_that_reason)
{
	static const enum ft_test_prog progs[] = { FT_T_XDP, FT_T_TC_IN, FT_T_TC_OUT };
	__u8 frame[FT_FRAME_MAX];

	ft_test_load(&dp, 1024, 15, 16);
	for (size_t p = 0; p < 3; p++) {
		for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
			const struct bad_case *c = &bad_cases[i];
			size_t len = build_bad(c, frame);
			struct ft_stats want = {};
			char ctx[96];

			snprintf(ctx, sizeof(ctx), "%s, %s", c->name, prog_names[progs[p]]);
			ft_test_reset(&dp);
			expect_malformed(&dp, progs[p], frame, len, c->reason, &want, ctx);
		}
	}
}

/*
 * Each L4 protocol reads its own header and no more: one byte short is
 * L4_TRUNC, exactly the header parses. GRE has no ports and needs none.
 */
Test(parse, each_l4_protocol_needs_exactly_its_own_header)
{
	static const struct {
		__u8 proto;
		size_t need;
	} l4[] = { { 6, 20 }, { 17, 8 }, { 136, 8 }, { 132, 12 }, { ICMP_ANY, 8 }, { 47, 0 } };
	__u8 frame[FT_FRAME_MAX];

	ft_test_load(&dp, 1024, 17, 18);
	for (int family = 4; family <= 6; family += 2) {
		for (size_t i = 0; i < sizeof(l4) / sizeof(l4[0]); i++) {
			__u8 proto = l4[i].proto == ICMP_ANY ? (family == 4 ? 1 : 58) : l4[i].proto;
			struct ft_spec s = {
				.family = family,
				.src = family == 4 ? "198.18.2.1" : "2001:db8::1",
				.dst = family == 4 ? "198.18.2.2" : "2001:db8::2",
				.proto = proto,
				/* GRE has no ports: its key has zeros. */
				.sport = proto == 47 ? 0 : 7,
				.dport = proto == 47 ? 0 : 9,
				.icmp_type = family == 4 ? 8 : 128,
			};
			size_t len = ft_build(&s, frame);
			struct ft_stats want = {}, got;
			char ctx[64];

			snprintf(ctx, sizeof(ctx), "proto %u, IPv%d", proto, family);
			cr_assert_eq(len, ETH_HLEN + (family == 4 ? 20 : 40) + l4[i].need, "%s",
				     ctx);
			ft_test_reset(&dp);
			if (l4[i].need)
				expect_malformed(&dp, FT_T_XDP, frame, len - 1, FT_MAL_L4_TRUNC,
						 &want, ctx);
			cr_assert_eq(ft_test_run(&dp, FT_T_XDP, frame, len), FT_XDP_PASS, "%s",
				     ctx);
			cr_assert_not_null(ft_find(&dp, &s, 0, NULL, NULL, NULL),
					   "%s: the whole header did not make a connection", ctx);
			want.packets[FT_HOOK_XDP]++;
			want.verdict[FT_VERDICT_PASS]++;
			want.created = 1;
			got = ft_stats_of(&dp);
			assert_stats(&got, &want, ctx);
		}
	}
}

/*
 * Truncation fixtures, byte for byte, so that each header's boundary is
 * an offsetof. Multi-byte fields are big-endian.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BE16(x) __builtin_bswap16(x)
#define BE32(x) __builtin_bswap32(x)
#else
#define BE16(x) (x)
#define BE32(x) (x)
#endif

struct fx_eth {
	__u8 dst[6], src[6];
	__u16 type;
} __attribute__((packed));

struct fx_vlan {
	__u16 tci, type;
} __attribute__((packed));

struct fx_ip4 {
	__u8 ver_ihl, tos;
	__u16 len, id, frag;
	__u8 ttl, proto;
	__u16 csum;
	__u8 src[4], dst[4];
} __attribute__((packed));

struct fx_udp {
	__u16 sport, dport, len, csum;
} __attribute__((packed));

struct fx_ip6 {
	__u32 ver_tc_flow;
	__u16 plen;
	__u8 next, hlim;
	__u8 src[16], dst[16];
} __attribute__((packed));

struct fx_tcp {
	__u16 sport, dport;
	__u32 seq, ack;
	__u8 doff, flags;
	__u16 win, csum, urg;
} __attribute__((packed));

#define FX_MACS .dst = { 2, 0, 0, 0, 0, 2 }, .src = { 2, 0, 0, 0, 0, 1 }

/* The example: one 802.1Q tag, IPv4 without options, UDP. */
struct fx_vlan_udp4 {
	struct fx_eth eth;
	struct fx_vlan vlan;
	struct fx_ip4 ip;
	struct fx_udp udp;
} __attribute__((packed));

/* clang-format off */
static const struct fx_vlan_udp4 vlan_udp4 = {
	.eth = { FX_MACS, .type = BE16(0x8100) },
	.vlan = { .tci = BE16(100), .type = BE16(0x0800) },
	.ip = { .ver_ihl = 0x45, .len = BE16(28), .ttl = 64, .proto = 17,
		.src = { 198, 18, 2, 1 }, .dst = { 198, 18, 2, 2 } },
	.udp = { .sport = BE16(40000), .dport = BE16(53), .len = BE16(8) },
};
/* clang-format on */

/* Two tags and an IPv4 option (router alert), so cuts land in each. */
struct fx_qinq_udp4 {
	struct fx_eth eth;
	struct fx_vlan outer, inner;
	struct fx_ip4 ip;
	__u8 opt[4];
	struct fx_udp udp;
} __attribute__((packed));

/* clang-format off */
static const struct fx_qinq_udp4 qinq_udp4 = {
	.eth = { FX_MACS, .type = BE16(0x88a8) },
	.outer = { .tci = BE16(200), .type = BE16(0x8100) },
	.inner = { .tci = BE16(201), .type = BE16(0x0800) },
	.ip = { .ver_ihl = 0x46, .len = BE16(32), .ttl = 64, .proto = 17,
		.src = { 198, 18, 2, 3 }, .dst = { 198, 18, 2, 4 } },
	.opt = { 0x94, 0x04, 0, 0 },
	.udp = { .sport = BE16(40001), .dport = BE16(53), .len = BE16(8) },
};
/* clang-format on */

/*
 * TCP/IPv6 behind FT_MAX_EXTHDR (6) extension headers in RFC 8200 order,
 * of four different lengths: hop-by-hop, destination options, routing
 * (one address), first fragment, AH (96-bit ICV), destination options.
 */
struct fx_tcp6_ext {
	struct fx_eth eth;
	struct fx_ip6 ip;
	struct {
		__u8 next, len, opt[6];
	} __attribute__((packed)) hop, dst1;
	struct {
		__u8 next, len, type, left, rsvd[4], addr[16];
	} __attribute__((packed)) rt;
	struct {
		__u8 next, rsvd;
		__u16 frag;
		__u32 id;
	} __attribute__((packed)) frag;
	struct {
		__u8 next, len;
		__u16 rsvd;
		__u32 spi, seq;
		__u8 icv[12];
	} __attribute__((packed)) ah;
	struct {
		__u8 next, len, opt[14];
	} __attribute__((packed)) dst2;
	struct fx_tcp tcp;
} __attribute__((packed));

/* clang-format off */
#define FX_PADN(n) { 1, (n) - 2 } /* PadN option filling n bytes */
/* clang-format on */

/* clang-format off */
static const struct fx_tcp6_ext tcp6_ext = {
	.eth = { FX_MACS, .type = BE16(0x86dd) },
	.ip = { .ver_tc_flow = BE32(0x60000000),
		.plen = BE16(sizeof(struct fx_tcp6_ext) - offsetof(struct fx_tcp6_ext, hop)),
		.next = 0, .hlim = 64,
		.src = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		.dst = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } },
	.hop = { .next = 60, .len = 0, .opt = FX_PADN(6) },
	.dst1 = { .next = 43, .len = 0, .opt = FX_PADN(6) },
	.rt = { .next = 44, .len = 2, .type = 4, .left = 0,
		.addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 } },
	.frag = { .next = 51, .frag = BE16(1), .id = BE32(0xf00d) }, /* offset 0, M */
	.ah = { .next = 60, .len = 4, .spi = BE32(0x100), .seq = BE32(1) },
	.dst2 = { .next = 6, .len = 1, .opt = FX_PADN(14) },
	.tcp = { .sport = BE16(40002), .dport = BE16(443), .doff = 5 << 4,
		 .flags = TCP_ACK | TCP_PSH, .win = BE16(512) },
};
/* clang-format on */

_Static_assert(sizeof(struct fx_vlan_udp4) == 46, "VLAN UDP/IPv4 fixture layout");
_Static_assert(sizeof(struct fx_qinq_udp4) == 54, "QinQ UDP/IPv4 fixture layout");
_Static_assert(sizeof(struct fx_tcp6_ext) == 14 + 40 + 8 + 8 + 24 + 8 + 24 + 16 + 20,
	       "TCP/IPv6 extension header fixture layout");

/* A frame cut below `below` bytes is malformed for `reason`; cuts are in order. */
struct cut {
	size_t below;
	int reason;
};

static const struct cut vlan_udp4_cuts[] = {
	{ offsetof(struct fx_vlan_udp4, ip), FT_MAL_VLAN_TRUNC },
	{ offsetof(struct fx_vlan_udp4, udp), FT_MAL_IP4_TRUNC },
	{ sizeof(struct fx_vlan_udp4), FT_MAL_L4_TRUNC },
};

static const struct cut qinq_udp4_cuts[] = {
	{ offsetof(struct fx_qinq_udp4, ip), FT_MAL_VLAN_TRUNC },
	{ offsetof(struct fx_qinq_udp4, udp), FT_MAL_IP4_TRUNC }, /* options included */
	{ sizeof(struct fx_qinq_udp4), FT_MAL_L4_TRUNC },
};

static const struct cut tcp6_ext_cuts[] = {
	{ offsetof(struct fx_tcp6_ext, hop), FT_MAL_IP6_TRUNC },
	{ offsetof(struct fx_tcp6_ext, tcp), FT_MAL_EXTHDR_TRUNC },
	{ sizeof(struct fx_tcp6_ext), FT_MAL_L4_TRUNC },
};

static int reason_at(const struct cut *cuts, size_t n, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (len < cuts[i].below)
			return cuts[i].reason;
	cr_assert_fail("no cut covers %zu bytes", len);
	return -1;
}

/*
 * Runs every prefix of frame, from 0 bytes to all but one, through prog on
 * an empty table. Each length the kernel refuses must be refused with
 * EINVAL and count nothing; each it takes must pass untouched and move
 * exactly malformed[reason of the header the cut falls in] by one. Last,
 * the whole frame must parse, so the cuts were the only fault.
 */
static void sweep(enum ft_test_prog prog, const char *name, const void *frame, size_t len,
		  const struct cut *cuts, size_t ncuts, const struct ft_spec *whole, __u16 zone)
{
	struct ft_stats want = {}, got;
	__u8 out[FT_FRAME_MAX];
	char ctx[96];

	ft_test_reset(&dp);
	for (size_t l = 0; l < len; l++) {
		snprintf(ctx, sizeof(ctx), "%s cut to %zu bytes, %s", name, l, prog_names[prog]);
		if (kernel_refuses(prog, frame, l)) {
			__u32 ret, out_len;
			int err = ft_test_try_run(&dp, prog, frame, l, &ret, out, &out_len);

			cr_assert_eq(err, -EINVAL, "%s: expected EINVAL from the kernel, got %s",
				     ctx, err ? strerror(-err) : "a run");
			got = ft_stats_of(&dp);
			assert_stats(&got, &want, ctx);
			continue;
		}
		expect_malformed(&dp, prog, frame, l, reason_at(cuts, ncuts, l), &want, ctx);
	}
	snprintf(ctx, sizeof(ctx), "whole %s, %s", name, prog_names[prog]);
	cr_assert_eq(ft_test_run(&dp, prog, frame, len), pass_of(prog), "%s", ctx);
	cr_assert_not_null(ft_find(&dp, whole, zone, NULL, NULL, NULL), "%s: no connection", ctx);
	cr_assert_eq(ft_count_live(&dp), 1, "%s", ctx);
	want.packets[hook_of(prog)]++;
	want.verdict[FT_VERDICT_PASS]++;
	want.created = 1;
	got = ft_stats_of(&dp);
	assert_stats(&got, &want, ctx);
}

static const struct ft_spec vlan_udp4_spec = {
	.family = 4,
	.src = "198.18.2.1",
	.dst = "198.18.2.2",
	.proto = 17,
	.sport = 40000,
	.dport = 53,
};
static const struct ft_spec qinq_udp4_spec = {
	.family = 4,
	.src = "198.18.2.3",
	.dst = "198.18.2.4",
	.proto = 17,
	.sport = 40001,
	.dport = 53,
};
static const struct ft_spec tcp6_ext_spec = {
	.family = 6,
	.src = "2001:db8::1",
	.dst = "2001:db8::2",
	.proto = 6,
	.sport = 40002,
	.dport = 443,
};

static const enum ft_test_prog sweep_progs[] = { FT_T_XDP, FT_T_TC_IN, FT_T_TC_OUT };

Test(parse, vlan_udp4_cut_at_every_length_passes_counted_by_the_header_it_ends_in)
{
	ft_test_load(&dp, 1024, 19, 20);
	for (size_t p = 0; p < 3; p++)
		sweep(sweep_progs[p], "802.1Q UDP/IPv4", &vlan_udp4, sizeof(vlan_udp4),
		      vlan_udp4_cuts, 3, &vlan_udp4_spec, 100);
}

Test(parse, qinq_udp4_with_options_cut_at_every_length_passes_counted_by_the_header_it_ends_in)
{
	ft_test_load(&dp, 1024, 21, 22);
	for (size_t p = 0; p < 3; p++)
		sweep(sweep_progs[p], "802.1ad+802.1Q UDP/IPv4 with options", &qinq_udp4,
		      sizeof(qinq_udp4), qinq_udp4_cuts, 3, &qinq_udp4_spec, 200);
}

Test(parse, tcp6_with_extension_headers_cut_at_every_length_passes_counted_by_the_header_it_ends_in)
{
	ft_test_load(&dp, 1024, 23, 24);
	for (size_t p = 0; p < 3; p++)
		sweep(sweep_progs[p], "TCP/IPv6 with 6 extension headers", &tcp6_ext,
		      sizeof(tcp6_ext), tcp6_ext_cuts, 3, &tcp6_ext_spec, 0);
}

/*
 * The sweeps skip exactly what kernel_refuses() names; hold that model to
 * the kernel at every length, for frames of each outer EtherType it looks at.
 */
Test(parse, bpf_prog_test_run_refuses_exactly_the_lengths_the_sweeps_skip)
{
	static const struct ft_spec frames[] = {
		{ .ethertype = 0x0806, .payload = 66 },
		{ .family = 4,
		  .src = "198.18.2.1",
		  .dst = "198.18.2.2",
		  .proto = 17,
		  .payload = 38 },
		{ .family = 6,
		  .src = "2001:db8::1",
		  .dst = "2001:db8::2",
		  .proto = 17,
		  .payload = 18 },
		{ .family = 4,
		  .src = "198.18.2.1",
		  .dst = "198.18.2.2",
		  .proto = 17,
		  .payload = 34,
		  .nvlan = 1,
		  .vlan_id = { 5 } },
		{ .family = 6,
		  .src = "2001:db8::1",
		  .dst = "2001:db8::2",
		  .proto = 17,
		  .payload = 14,
		  .nvlan = 1,
		  .vlan_id = { 5 } },
	};
	__u8 frame[FT_FRAME_MAX];
	__u32 ret;

	ft_test_load(&dp, 1024, 25, 26);
	for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
		size_t len = ft_build(&frames[f], frame);

		cr_assert_eq(len, 80);
		for (size_t p = 0; p < 3; p++) {
			for (size_t l = 0; l <= len; l++) {
				int err = ft_test_try_run(&dp, sweep_progs[p], frame, l, &ret, NULL,
							  NULL);

				cr_assert_eq(
					err, kernel_refuses(sweep_progs[p], frame, l) ? -EINVAL : 0,
					"frame %zu cut to %zu bytes, %s: %s", f, l,
					prog_names[sweep_progs[p]], err ? strerror(-err) : "taken");
			}
		}
	}
}

static __u32 tc_verdict_of(__u32 xdp)
{
	return xdp == FT_XDP_PASS ? FT_TC_OK : xdp == FT_XDP_DROP ? FT_TC_SHOT : ~0u;
}

/*
 * Every bucket and slot, except the times, which differ by when each ran,
 * and the arrival device: BPF_PROG_TEST_RUN gives XDP loopback's ifindex
 * and TC none. Like assert_stats, asserts only on a difference.
 */
static void assert_same_tables(const struct ft_datapath *a, const struct ft_datapath *b,
			       const char *ctx)
{
	cr_assert_eq(a->nr_buckets, b->nr_buckets, "%s", ctx);
	for (__u32 i = 0; i < a->nr_buckets; i++) {
		const struct ft_bucket *x = &a->buckets[i], *y = &b->buckets[i];

		for (int s = 0; s < FT_SLOTS; s++) {
			struct ft_conn cx = x->slot[s], cy = y->slot[s];

			if (x->meta[s] != y->meta[s])
				cr_assert_fail("%s: bucket %u slot %d: slot use differs", ctx, i,
					       s);
			cx.first_ns = cy.first_ns = 0;
			for (int d = 0; d < 2; d++) {
				cx.dir[d].in_ifindex = cy.dir[d].in_ifindex = 0;
				cx.dir[d].last_ns = cy.dir[d].last_ns = 0;
				cx.dir[d].shared_last_ns = cy.dir[d].shared_last_ns = 0;
			}
			if (memcmp(&cx, &cy, sizeof(cx)))
				cr_assert_fail("%s: bucket %u slot %d differs", ctx, i, s);
		}
	}
}

/* One frame through XDP on dp and TC ingress on dp_tc; both must still agree. */
static void agree_on(const void *frame, size_t len, const char *what, unsigned int *drops)
{
	__u32 rx = ft_test_run(&dp, FT_T_XDP, frame, len);
	__u32 rt = ft_test_run(&dp_tc, FT_T_TC_IN, frame, len);
	struct ft_stats sx = ft_stats_of(&dp), st = ft_stats_of(&dp_tc);

	cr_assert(rx == FT_XDP_PASS || rx == FT_XDP_DROP, "%s: xdp returned %u", what, rx);
	cr_assert_eq(rt, tc_verdict_of(rx), "%s: xdp returned %u, tc %u", what, rx, rt);
	*drops += rx == FT_XDP_DROP;
	cr_assert_eq(sx.packets[FT_HOOK_XDP], st.packets[FT_HOOK_TC_INGRESS], "%s", what);
	sx.packets[FT_HOOK_XDP] = 0;
	st.packets[FT_HOOK_TC_INGRESS] = 0;
	assert_stats(&st, &sx, what);
	assert_same_tables(&dp, &dp_tc, what);
}

static void agree_on_sweep(const void *frame, size_t len, const char *name, unsigned int *drops)
{
	char what[96];

	for (size_t l = 0; l < len; l++) {
		/* Only what both runners take; XDP takes a superset. */
		if (kernel_refuses(FT_T_TC_IN, frame, l))
			continue;
		snprintf(what, sizeof(what), "%s cut to %zu bytes", name, l);
		agree_on(frame, l, what, drops);
	}
}

/*
 * TC ingress and XDP share the parser and the tracker: two loads with the
 * same seed, fed the same frames, must hold the same table and the same
 * counters (each its own hook's packet count) and return matching
 * verdicts. A rule drops UDP to port 9, so drops are compared too.
 */
Test(parse, tc_ingress_agrees_with_xdp_on_tables_counters_and_verdicts)
{
	struct ft_rule drop9 = {
		.proto = 17, .dport_lo = 9, .dport_hi = 9, .verdict = FT_VERDICT_DROP
	};
	const struct parse_case udp9 = { .name = "udp to the dropped port",
					 .proto = 17,
					 .sport = 40100,
					 .dport = 9,
					 .payload = 10 };
	__u8 frame[FT_FRAME_MAX];
	unsigned int drops = 0;
	struct ft_stats end;
	char what[192];

	ft_test_load(&dp, 1024, 27, 28);
	ft_test_load(&dp_tc, 1024, 27, 28);
	cr_assert_eq(ft_dp_set_rules(&dp, &drop9, 1), 0);
	cr_assert_eq(ft_dp_set_rules(&dp_tc, &drop9, 1), 0);

	for (size_t i = 0; i <= NCASES; i++) {
		const struct parse_case *c = i < NCASES ? &cases[i] : &udp9;

		for (int family = 4; family <= 6; family += 2) {
			for (size_t v = 0; v < NVLANS; v++) {
				for (int reply = 0; reply < 2; reply++) {
					struct ft_spec s = spec_of(c, family, &vlans[v], reply);
					size_t len = ft_build(&s, frame);

					snprintf(what, sizeof(what), "%s, IPv%d, %s, %s", c->name,
						 family, vlans[v].name,
						 reply ? "reply" : "request");
					agree_on(frame, len, what, &drops);
				}
			}
		}
	}
	for (size_t i = 0; i < sizeof(nonip_cases) / sizeof(nonip_cases[0]); i++) {
		const struct nonip_case *c = &nonip_cases[i];
		struct ft_spec s = { .ethertype = c->ethertype,
				     .nvlan = c->nvlan,
				     .vlan_id = { 10, 20 },
				     .payload = c->payload };
		size_t len = ft_build(&s, frame);

		agree_on(frame, len, c->name, &drops);
	}
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		agree_on(frame, build_bad(&bad_cases[i], frame), bad_cases[i].name, &drops);
	}
	agree_on_sweep(&vlan_udp4, sizeof(vlan_udp4), "802.1Q UDP/IPv4", &drops);
	agree_on_sweep(&qinq_udp4, sizeof(qinq_udp4), "QinQ UDP/IPv4", &drops);
	agree_on_sweep(&tcp6_ext, sizeof(tcp6_ext), "TCP/IPv6 extension headers", &drops);
	cr_assert(!memcmp(dp.zones, dp_tc.zones, FT_MAX_ZONES * sizeof(*dp.zones)),
		  "zone counts differ");

	/*
	 * The frames reached what they are meant to compare: drops, fragments,
	 * each non-IP class, each malformed reason a test run can produce
	 * (ETH_TRUNC cannot: the kernel refuses frames that short).
	 */
	end = ft_stats_of(&dp);
	cr_assert_eq(drops, 2 * 2 * NVLANS, "a request and a reply per family and tag stack");
	cr_assert_eq(end.verdict[FT_VERDICT_DROP], drops);
	cr_assert_gt(end.fragments, 0);
	for (int n = 0; n < FT_NONIP_MAX; n++)
		cr_assert_gt(end.nonip[n], 0, "no non-IP frame of class %d", n);
	for (int r = 0; r < FT_MAL_MAX; r++)
		if (r != FT_MAL_ETH_TRUNC)
			cr_assert_gt(end.malformed[r], 0, "no frame was %s", mal_names[r]);
}
