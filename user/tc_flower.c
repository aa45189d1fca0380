// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc flower requests and replies, per iproute2's tc/f_flower.c and the
 * kernel's net/sched/cls_flower.c, which define the attributes and their
 * encoding. Nothing here touches a socket.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>

#include "tc_flower.h"

/* tcf_t ages are in clock ticks (jiffies_to_clock_t): USER_HZ, 100 on every arch flowtier runs on.
 */
#define FT_TC_USER_HZ 100

#define FT_TC_ATTRS_OFF MNL_ALIGN(sizeof(struct tcmsg))

/* ---- building ---- */

static int ft_tc_rule_ok(const struct ft_tc_place *p, const struct ft_hw_rule *r)
{
	/* Handle 0 would make the kernel pick one, and delete a whole prio. */
	if (!r->ifindex || !r->handle || r->dir > 1)
		return -EINVAL;
	if (r->key.family != FT_FAMILY_IPV4 && r->key.family != FT_FAMILY_IPV6)
		return -EINVAL;
	if (r->key.proto != IPPROTO_TCP && r->key.proto != IPPROTO_UDP)
		return -EINVAL;
	if (r->verdict != FT_VERDICT_DROP &&
	    (r->verdict != FT_VERDICT_REDIRECT || !r->redirect_ifindex))
		return -EINVAL;
	return (r->key.family == FT_FAMILY_IPV4 ? p->prio4 : p->prio6) ? 0 : -EINVAL;
}

static __u16 ft_tc_eth_type(int family)
{
	return htons(family == FT_FAMILY_IPV4 ? ETH_P_IP : ETH_P_IPV6);
}

static struct nlmsghdr *ft_tc_header(void *buf, size_t len, __u16 type, __u16 flags,
				     const struct ft_tc_place *p, __u32 ifindex, int family,
				     __u32 handle, __u32 seq)
{
	__u32 prio = family == FT_FAMILY_IPV4 ? p->prio4 : p->prio6;
	struct nlmsghdr *nlh;
	struct tcmsg *t;

	if (len < MNL_NLMSG_HDRLEN + FT_TC_ATTRS_OFF)
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_handle = handle;
	t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	t->tcm_info = TC_H_MAKE(prio << 16, ft_tc_eth_type(family));
	return nlh;
}

static int ft_tc_put_keys(struct nlmsghdr *nlh, size_t len, const struct ft_tc_place *p,
			  const struct ft_hw_rule *r)
{
	int v4 = r->key.family == FT_FAMILY_IPV4, tcp = r->key.proto == IPPROTO_TCP;
	size_t alen = v4 ? 4 : 16;
	int s = r->dir, d = !r->dir;
	bool ok;

	ok = mnl_attr_put_u32_check(nlh, len, TCA_FLOWER_FLAGS, p->flags) &&
	     mnl_attr_put_u16_check(nlh, len, TCA_FLOWER_KEY_ETH_TYPE,
				    ft_tc_eth_type(r->key.family)) &&
	     mnl_attr_put_u8_check(nlh, len, TCA_FLOWER_KEY_IP_PROTO, r->key.proto) &&
	     mnl_attr_put_check(nlh, len, v4 ? TCA_FLOWER_KEY_IPV4_SRC : TCA_FLOWER_KEY_IPV6_SRC,
				alen, r->key.addr[s]) &&
	     mnl_attr_put_check(nlh, len, v4 ? TCA_FLOWER_KEY_IPV4_DST : TCA_FLOWER_KEY_IPV6_DST,
				alen, r->key.addr[d]) &&
	     mnl_attr_put_u16_check(nlh, len, tcp ? TCA_FLOWER_KEY_TCP_SRC : TCA_FLOWER_KEY_UDP_SRC,
				    r->key.port[s]) &&
	     mnl_attr_put_u16_check(nlh, len, tcp ? TCA_FLOWER_KEY_TCP_DST : TCA_FLOWER_KEY_UDP_DST,
				    r->key.port[d]);
	if (ok && tcp)
		ok = mnl_attr_put_u16_check(nlh, len, TCA_FLOWER_KEY_TCP_FLAGS, 0) &&
		     mnl_attr_put_u16_check(nlh, len, TCA_FLOWER_KEY_TCP_FLAGS_MASK,
					    htons(FT_TC_TCP_FLAGS_MASK));
	return ok ? 0 : -ENOSPC;
}

static bool ft_tc_put_parms(struct nlmsghdr *nlh, size_t len, const struct ft_hw_rule *r)
{
	struct tc_mirred m = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = r->redirect_ifindex,
	};
	struct tc_gact g = { .action = TC_ACT_SHOT };

	if (r->verdict == FT_VERDICT_DROP)
		return mnl_attr_put_check(nlh, len, TCA_GACT_PARMS, sizeof(g), &g);
	return mnl_attr_put_check(nlh, len, TCA_MIRRED_PARMS, sizeof(m), &m);
}

/* The cookie is the flow id in network order, so that tc prints it as the id in hex. */
static int ft_tc_put_action(struct nlmsghdr *nlh, size_t len, const struct ft_hw_rule *r)
{
	const char *kind = r->verdict == FT_VERDICT_DROP ? "gact" : "mirred";
	__u64 cookie = htobe64(r->cookie);
	struct nlattr *acts, *act, *opts;

	acts = mnl_attr_nest_start_check(nlh, len, TCA_FLOWER_ACT);
	act = acts ? mnl_attr_nest_start_check(nlh, len, 1) : NULL;
	if (!act || !mnl_attr_put_strz_check(nlh, len, TCA_ACT_KIND, kind))
		return -ENOSPC;
	opts = mnl_attr_nest_start_check(nlh, len, TCA_ACT_OPTIONS);
	if (!opts || !ft_tc_put_parms(nlh, len, r))
		return -ENOSPC;
	mnl_attr_nest_end(nlh, opts);
	if (!mnl_attr_put_check(nlh, len, TCA_ACT_COOKIE, sizeof(cookie), &cookie))
		return -ENOSPC;
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	return 0;
}

int ft_tc_build_add(void *buf, size_t len, const struct ft_tc_place *p, const struct ft_hw_rule *r,
		    __u32 seq)
{
	const __u16 flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	struct nlmsghdr *nlh;
	struct nlattr *opts;
	int err = ft_tc_rule_ok(p, r);

	if (err)
		return err;
	nlh = ft_tc_header(buf, len, RTM_NEWTFILTER, flags, p, r->ifindex, r->key.family, r->handle,
			   seq);
	if (!nlh || !mnl_attr_put_strz_check(nlh, len, TCA_KIND, "flower"))
		return -ENOSPC;
	opts = mnl_attr_nest_start_check(nlh, len, TCA_OPTIONS);
	if (!opts || ft_tc_put_keys(nlh, len, p, r) || ft_tc_put_action(nlh, len, r))
		return -ENOSPC;
	mnl_attr_nest_end(nlh, opts);
	return nlh->nlmsg_len;
}

/* The kind makes the kernel refuse to delete a filter of another kind at that handle. */
int ft_tc_build_del(void *buf, size_t len, const struct ft_tc_place *p, const struct ft_hw_rule *r,
		    __u32 seq)
{
	const __u16 flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO;
	struct nlmsghdr *nlh;
	int err = ft_tc_rule_ok(p, r);

	if (err)
		return err;
	nlh = ft_tc_header(buf, len, RTM_DELTFILTER, flags, p, r->ifindex, r->key.family, r->handle,
			   seq);
	if (!nlh || !mnl_attr_put_strz_check(nlh, len, TCA_KIND, "flower"))
		return -ENOSPC;
	return nlh->nlmsg_len;
}

int ft_tc_build_dump(void *buf, size_t len, const struct ft_tc_place *p, __u32 ifindex, int family,
		     __u32 seq)
{
	struct nlmsghdr *nlh;

	if (!ifindex || (family != FT_FAMILY_IPV4 && family != FT_FAMILY_IPV6))
		return -EINVAL;
	nlh = ft_tc_header(buf, len, RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, p, ifindex, family,
			   0, seq);
	return nlh ? (int)nlh->nlmsg_len : -ENOSPC;
}

/* ---- parsing ---- */

/*
 * The next attribute of [*pos, *pos + *left): 1 with *a set, 0 at the
 * end, -EBADMSG when an attribute claims more than is there.
 */
static int ft_tc_next(const void **pos, size_t *left, const struct nlattr **a)
{
	size_t step;

	if (*left == 0)
		return 0;
	*a = *pos;
	if (*left < sizeof(**a) || (*a)->nla_len < sizeof(**a) || (*a)->nla_len > *left)
		return -EBADMSG;
	step = MNL_ALIGN((*a)->nla_len);
	if (step > *left)
		step = *left; /* the last attribute's padding may be left out */
	*pos = (const char *)*pos + step;
	*left -= step;
	return 1;
}

/* Indexes attributes by type; every byte must belong to a well-formed attribute. */
static int ft_tc_attrs(const void *data, size_t len, const struct nlattr **tb, unsigned int max)
{
	const struct nlattr *a;
	int ret;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while ((ret = ft_tc_next(&data, &len, &a)) > 0)
		if (mnl_attr_get_type(a) <= max)
			tb[mnl_attr_get_type(a)] = a;
	return ret;
}

static int ft_tc_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned int max)
{
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	return ft_tc_attrs(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), tb, max);
}

/* -EBADMSG unless a is absent or exactly len bytes long. */
static int ft_tc_len(const struct nlattr *a, size_t len)
{
	return !a || mnl_attr_validate2(a, MNL_TYPE_BINARY, len) == 0 ? 0 : -EBADMSG;
}

/* 1 when a is absent or all ones (an exact match), 0 when another mask. */
static int ft_tc_exact(const struct nlattr *a)
{
	const __u8 *b = a ? mnl_attr_get_payload(a) : NULL;
	size_t i;

	for (i = 0; a && i < mnl_attr_get_payload_len(a); i++)
		if (b[i] != 0xff)
			return 0;
	return 1;
}

/* Orders the two ends as the datapath's ft_make_key does, so a rule maps back to its key. */
static void ft_tc_set_key(struct ft_hw_rule *r, const void *src, const void *dst, size_t alen,
			  __u16 sport, __u16 dport)
{
	__u8 s[16] = { 0 }, d[16] = { 0 };
	__u64 sw[2], dw[2];
	int swap;

	memcpy(s, src, alen);
	memcpy(d, dst, alen);
	memcpy(sw, s, 16);
	memcpy(dw, d, 16);
	if (sw[0] != dw[0])
		swap = sw[0] > dw[0];
	else if (sw[1] != dw[1])
		swap = sw[1] > dw[1];
	else
		swap = sport > dport;
	memcpy(r->key.addr[swap], s, 16);
	memcpy(r->key.addr[!swap], d, 16);
	r->key.port[swap] = sport;
	r->key.port[!swap] = dport;
	r->dir = swap;
}

struct ft_tc_keyattrs {
	int src, src_mask, dst, dst_mask;
};

static const struct ft_tc_keyattrs ft_tc_v4 = {
	TCA_FLOWER_KEY_IPV4_SRC,
	TCA_FLOWER_KEY_IPV4_SRC_MASK,
	TCA_FLOWER_KEY_IPV4_DST,
	TCA_FLOWER_KEY_IPV4_DST_MASK,
};
static const struct ft_tc_keyattrs ft_tc_v6 = {
	TCA_FLOWER_KEY_IPV6_SRC,
	TCA_FLOWER_KEY_IPV6_SRC_MASK,
	TCA_FLOWER_KEY_IPV6_DST,
	TCA_FLOWER_KEY_IPV6_DST_MASK,
};

/* 1 and r's key filled when the keys are an exact 5-tuple of flowtier's shape. */
static int ft_tc_parse_keys(const struct nlattr **tb, int family, struct ft_hw_rule *r)
{
	const struct ft_tc_keyattrs *k = family == FT_FAMILY_IPV4 ? &ft_tc_v4 : &ft_tc_v6;
	size_t alen = family == FT_FAMILY_IPV4 ? 4 : 16;
	int tcp, sp, spm, dp, dpm, i;
	__u16 sport, dport;
	__u8 proto;

	if (ft_tc_len(tb[TCA_FLOWER_KEY_ETH_TYPE], 2) || ft_tc_len(tb[TCA_FLOWER_KEY_IP_PROTO], 1))
		return -EBADMSG;
	if (!tb[TCA_FLOWER_KEY_ETH_TYPE] || !tb[TCA_FLOWER_KEY_IP_PROTO] ||
	    mnl_attr_get_u16(tb[TCA_FLOWER_KEY_ETH_TYPE]) != ft_tc_eth_type(family))
		return 0;
	proto = mnl_attr_get_u8(tb[TCA_FLOWER_KEY_IP_PROTO]);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	tcp = proto == IPPROTO_TCP;
	sp = tcp ? TCA_FLOWER_KEY_TCP_SRC : TCA_FLOWER_KEY_UDP_SRC;
	spm = tcp ? TCA_FLOWER_KEY_TCP_SRC_MASK : TCA_FLOWER_KEY_UDP_SRC_MASK;
	dp = tcp ? TCA_FLOWER_KEY_TCP_DST : TCA_FLOWER_KEY_UDP_DST;
	dpm = tcp ? TCA_FLOWER_KEY_TCP_DST_MASK : TCA_FLOWER_KEY_UDP_DST_MASK;
	const int sized[][2] = {
		{ k->src, alen },
		{ k->src_mask, alen },
		{ k->dst, alen },
		{ k->dst_mask, alen },
		{ sp, 2 },
		{ spm, 2 },
		{ dp, 2 },
		{ dpm, 2 },
		{ TCA_FLOWER_KEY_TCP_FLAGS, 2 },
		{ TCA_FLOWER_KEY_TCP_FLAGS_MASK, 2 },
	};
	for (i = 0; i < (int)(sizeof(sized) / sizeof(sized[0])); i++)
		if (ft_tc_len(tb[sized[i][0]], sized[i][1]))
			return -EBADMSG;
	if (!tb[k->src] || !tb[k->dst] || !tb[sp] || !tb[dp] || !ft_tc_exact(tb[k->src_mask]) ||
	    !ft_tc_exact(tb[k->dst_mask]) || !ft_tc_exact(tb[spm]) || !ft_tc_exact(tb[dpm]))
		return 0;
	if (tcp != !!tb[TCA_FLOWER_KEY_TCP_FLAGS] || tcp != !!tb[TCA_FLOWER_KEY_TCP_FLAGS_MASK])
		return 0;
	if (tcp &&
	    (mnl_attr_get_u16(tb[TCA_FLOWER_KEY_TCP_FLAGS]) != 0 ||
	     mnl_attr_get_u16(tb[TCA_FLOWER_KEY_TCP_FLAGS_MASK]) != htons(FT_TC_TCP_FLAGS_MASK)))
		return 0;
	sport = mnl_attr_get_u16(tb[sp]);
	dport = mnl_attr_get_u16(tb[dp]);
	ft_tc_set_key(r, mnl_attr_get_payload(tb[k->src]), mnl_attr_get_payload(tb[k->dst]), alen,
		      sport, dport);
	r->key.proto = proto;
	r->key.family = family;
	return 1;
}

static int ft_tc_parse_basic(const struct nlattr *a, __u64 *bytes, __u64 *packets)
{
	__u32 p;

	if (mnl_attr_get_payload_len(a) < offsetof(struct gnet_stats_basic, packets) + 4)
		return -EBADMSG;
	memcpy(bytes, mnl_attr_get_payload(a), sizeof(*bytes));
	memcpy(&p,
	       (const char *)mnl_attr_get_payload(a) + offsetof(struct gnet_stats_basic, packets),
	       sizeof(p));
	*packets = p;
	return 0;
}

/*
 * Counters: TCA_STATS_BASIC (software and hardware), TCA_STATS_BASIC_HW
 * (hardware), each followed by TCA_STATS_PKT64 once its packets pass 2^32.
 * Software flower counts bytes from the network header (skb->len at
 * ingress), while flowtier's tier and NICs count whole frames: the software
 * part gets its Ethernet headers back, so software plus hardware is exact.
 */
static int ft_tc_parse_stats(const struct nlattr *nest, struct ft_hw_stat *st)
{
	const void *pos = mnl_attr_get_payload(nest);
	size_t left = mnl_attr_get_payload_len(nest);
	__u64 hw_bytes, hw_packets = 0;
	const struct nlattr *a;
	int last = 0, ret;

	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	while ((ret = ft_tc_next(&pos, &left, &a)) > 0) {
		switch (mnl_attr_get_type(a)) {
		case TCA_STATS_BASIC:
			if (ft_tc_parse_basic(a, &st->bytes, &st->packets))
				return -EBADMSG;
			break;
		case TCA_STATS_BASIC_HW:
			if (ft_tc_parse_basic(a, &hw_bytes, &hw_packets))
				return -EBADMSG;
			break;
		case TCA_STATS_PKT64:
			if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				return -EBADMSG;
			if (last == TCA_STATS_BASIC)
				st->packets = mnl_attr_get_u64(a);
			else if (last == TCA_STATS_BASIC_HW)
				hw_packets = mnl_attr_get_u64(a);
			break;
		}
		last = mnl_attr_get_type(a);
	}
	if (!ret && st->packets > hw_packets)
		st->bytes += ETH_HLEN * (st->packets - hw_packets);
	return ret;
}

/* 1 when the action is flowtier's drop or redirect; r->verdict and lastuse filled. */
static int ft_tc_parse_verdict(const char *kind, const struct nlattr *opts, struct ft_hw_stat *st)
{
	const struct nlattr
		*tb[TCA_GACT_MAX + 1 > TCA_MIRRED_MAX + 1 ? TCA_GACT_MAX + 1 : TCA_MIRRED_MAX + 1];
	int gact = strcmp(kind, "gact") == 0, tm, parms;
	struct tc_mirred m;
	struct tc_gact g;
	struct tcf_t t;

	if (!gact && strcmp(kind, "mirred") != 0)
		return 0;
	if (!opts || ft_tc_nested(opts, tb, gact ? TCA_GACT_MAX : TCA_MIRRED_MAX))
		return opts ? -EBADMSG : 0;
	tm = gact ? TCA_GACT_TM : TCA_MIRRED_TM;
	parms = gact ? TCA_GACT_PARMS : TCA_MIRRED_PARMS;
	if (!tb[parms] || mnl_attr_get_payload_len(tb[parms]) < (gact ? sizeof(g) : sizeof(m)))
		return -EBADMSG;
	if (tb[tm]) {
		if (mnl_attr_get_payload_len(tb[tm]) < offsetof(struct tcf_t, lastuse) + 8)
			return -EBADMSG;
		memcpy(&t, mnl_attr_get_payload(tb[tm]), offsetof(struct tcf_t, lastuse) + 8);
		st->lastuse_ms = t.lastuse * (1000 / FT_TC_USER_HZ);
	}
	if (gact) {
		memcpy(&g, mnl_attr_get_payload(tb[parms]), sizeof(g));
		st->rule.verdict = FT_VERDICT_DROP;
		return g.action == TC_ACT_SHOT;
	}
	memcpy(&m, mnl_attr_get_payload(tb[parms]), sizeof(m));
	st->rule.verdict = FT_VERDICT_REDIRECT;
	st->rule.redirect_ifindex = m.ifindex;
	return m.eaction == TCA_EGRESS_REDIR && m.action == TC_ACT_STOLEN;
}

/* Exactly one action, with flowtier's 8-byte cookie. */
static int ft_tc_parse_action(const struct nlattr *acts, struct ft_hw_stat *st)
{
	const struct nlattr *prio[TCA_ACT_MAX_PRIO + 1], *tb[TCA_ACT_MAX + 1];
	__u64 cookie;
	int i, ret;

	if (ft_tc_nested(acts, prio, TCA_ACT_MAX_PRIO))
		return -EBADMSG;
	for (i = 2; i <= TCA_ACT_MAX_PRIO; i++)
		if (prio[i])
			return 0;
	if (!prio[1])
		return 0;
	if (ft_tc_nested(prio[1], tb, TCA_ACT_MAX) || !tb[TCA_ACT_KIND] ||
	    mnl_attr_validate(tb[TCA_ACT_KIND], MNL_TYPE_NUL_STRING) < 0)
		return -EBADMSG;
	if (tb[TCA_ACT_COOKIE] &&
	    (mnl_attr_get_payload_len(tb[TCA_ACT_COOKIE]) == 0 ||
	     mnl_attr_get_payload_len(tb[TCA_ACT_COOKIE]) > TC_COOKIE_MAX_SIZE))
		return -EBADMSG;
	if (tb[TCA_ACT_STATS] && (ret = ft_tc_parse_stats(tb[TCA_ACT_STATS], st)) < 0)
		return ret;
	ret = ft_tc_parse_verdict(mnl_attr_get_str(tb[TCA_ACT_KIND]), tb[TCA_ACT_OPTIONS], st);
	if (ret <= 0)
		return ret;
	if (!tb[TCA_ACT_COOKIE] || mnl_attr_get_payload_len(tb[TCA_ACT_COOKIE]) != sizeof(cookie))
		return 0;
	memcpy(&cookie, mnl_attr_get_payload(tb[TCA_ACT_COOKIE]), sizeof(cookie));
	st->rule.cookie = be64toh(cookie);
	return 1;
}

static int ft_tc_parse_options(const struct nlattr *opts, int family, struct ft_hw_stat *st)
{
	const struct nlattr *tb[TCA_FLOWER_MAX + 1];
	int ret;

	if (ft_tc_nested(opts, tb, TCA_FLOWER_MAX) || ft_tc_len(tb[TCA_FLOWER_FLAGS], 4))
		return -EBADMSG;
	ret = ft_tc_parse_keys(tb, family, &st->rule);
	if (ret <= 0)
		return ret;
	return tb[TCA_FLOWER_ACT] ? ft_tc_parse_action(tb[TCA_FLOWER_ACT], st) : 0;
}

int ft_tc_parse_filter(const struct nlmsghdr *nlh, const struct ft_tc_place *p,
		       struct ft_hw_stat *st)
{
	const struct nlattr *tb[TCA_MAX + 1];
	const struct tcmsg *t;
	__u32 prio;
	int family, ret;

	memset(st, 0, sizeof(*st));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + FT_TC_ATTRS_OFF)
		return -EBADMSG;
	t = mnl_nlmsg_get_payload(nlh);
	if (ft_tc_attrs((const char *)t + FT_TC_ATTRS_OFF,
			nlh->nlmsg_len - MNL_NLMSG_HDRLEN - FT_TC_ATTRS_OFF, tb, TCA_MAX))
		return -EBADMSG;
	if (tb[TCA_KIND] && mnl_attr_validate(tb[TCA_KIND], MNL_TYPE_NUL_STRING) < 0)
		return -EBADMSG;
	prio = TC_H_MAJ(t->tcm_info) >> 16;
	if (t->tcm_parent != TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) || !t->tcm_handle || !prio ||
	    (prio != p->prio4 && prio != p->prio6))
		return 0;
	family = prio == p->prio4 ? FT_FAMILY_IPV4 : FT_FAMILY_IPV6;
	if (TC_H_MIN(t->tcm_info) != ft_tc_eth_type(family) || !tb[TCA_KIND] ||
	    strcmp(mnl_attr_get_str(tb[TCA_KIND]), "flower") || !tb[TCA_OPTIONS])
		return 0;
	ret = ft_tc_parse_options(tb[TCA_OPTIONS], family, st);
	if (ret <= 0) {
		memset(st, 0, sizeof(*st));
		return ret;
	}
	st->rule.ifindex = t->tcm_ifindex;
	st->rule.handle = t->tcm_handle;
	return 1;
}

int ft_tc_parse_ack(const struct nlmsghdr *nlh, char *extack)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const struct nlmsgerr *e;
	size_t off = sizeof(*e);

	extack[0] = '\0';
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e))
		return -EBADMSG;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error > 0 || e->error < -4095)
		return -EBADMSG;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return e->error;
	/* Unless capped, the request comes back between the error and the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < MNL_NLMSG_HDRLEN)
			return -EBADMSG;
		off += e->msg.nlmsg_len - MNL_NLMSG_HDRLEN;
	}
	off = MNL_ALIGN(off);
	if (MNL_NLMSG_HDRLEN + off > nlh->nlmsg_len ||
	    ft_tc_attrs((const char *)e + off, nlh->nlmsg_len - MNL_NLMSG_HDRLEN - off, tb,
			NLMSGERR_ATTR_MAX))
		return -EBADMSG;
	if (tb[NLMSGERR_ATTR_MSG]) {
		if (mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) < 0)
			return -EBADMSG;
		strncpy(extack, mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]), FT_HW_EXTACK_LEN - 1);
		extack[FT_HW_EXTACK_LEN - 1] = '\0';
	}
	return e->error;
}

/* NLMSG_DONE carries the dump's error, if any, as an int. */
static int ft_tc_done(const struct nlmsghdr *nlh)
{
	int err;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(err))
		return 1;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err < -4095)
		return -EBADMSG;
	return err < 0 ? err : 1;
}

static int ft_tc_dump_one(const struct nlmsghdr *nlh, const struct ft_tc_place *p,
			  int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx, int *cb_ret)
{
	char extack[FT_HW_EXTACK_LEN];
	struct ft_hw_stat st;
	int ret;

	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		return ft_tc_done(nlh);
	case NLMSG_ERROR:
		ret = ft_tc_parse_ack(nlh, extack);
		return ret ? ret : -EBADMSG;
	case RTM_NEWTFILTER:
		ret = ft_tc_parse_filter(nlh, p, &st);
		if (ret == 1 && !*cb_ret)
			*cb_ret = cb(&st, ctx);
		return ret < 0 ? ret : 0;
	default:
		return 0;
	}
}

int ft_tc_msg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (__u32)len;
}

int ft_tc_parse_dump_buf(const void *buf, size_t len, __u32 seq, __u32 portid,
			 const struct ft_tc_place *p,
			 int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx, int *cb_ret)
{
	const struct nlmsghdr *nlh = buf;
	int ret = 0;

	while (len > 0) {
		if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return -EBADMSG;
		/* Another request's late replies are not this dump's. */
		if (nlh->nlmsg_seq == seq && (!portid || nlh->nlmsg_pid == portid)) {
			ret = ft_tc_dump_one(nlh, p, cb, ctx, cb_ret);
			if (ret)
				return ret;
		}
		if (MNL_ALIGN(nlh->nlmsg_len) >= len)
			break;
		len -= MNL_ALIGN(nlh->nlmsg_len);
		nlh = (const struct nlmsghdr *)((const char *)nlh + MNL_ALIGN(nlh->nlmsg_len));
	}
	return 0;
}
