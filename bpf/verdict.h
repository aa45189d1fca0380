/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Verdict rules. A connection's verdict is chosen from the rules when it
 * is created and again whenever ft_config.rule_gen has moved since, so a
 * rule change reaches existing connections without flushing anything.
 */
#ifndef FT_VERDICT_H
#define FT_VERDICT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowtier/abi.h"
#include "maps.h"

/* The connection's original direction, which rules are matched against. */
struct ft_rule_match {
	__u64 src[2];
	__u64 dst[2];
	__u16 dport; /* host order */
	__u8 proto;
	__u8 family;
	__u32 count;
	__u32 ifindex;
	__u8 verdict;
	__u8 pad[3];
};

static __always_inline __u64 ft_prefix_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 64)
		return ~0ull;
	/* Addresses are stored in network order: the prefix is the first bytes. */
	return bpf_cpu_to_be64(~0ull << (64 - bits));
}

static __always_inline int ft_prefix_match(const __u64 *addr, const __u8 *net, int len)
{
	__u64 n[2];

	__builtin_memcpy(n, net, 16);
	return ((addr[0] ^ n[0]) & ft_prefix_mask(len)) == 0 &&
	       ((addr[1] ^ n[1]) & ft_prefix_mask(len - 64)) == 0;
}

static long ft_rule_try(__u32 i, void *arg)
{
	struct ft_rule_match *m = arg;
	struct ft_rule *r;

	if (i >= m->count)
		return 1;
	r = bpf_map_lookup_elem(&ft_rules, &i);
	if (!r)
		return 1;
	if (r->family && r->family != m->family)
		return 0;
	if (r->proto && r->proto != m->proto)
		return 0;
	if (m->dport < r->dport_lo || m->dport > r->dport_hi)
		return 0;
	if (!ft_prefix_match(m->src, r->src, r->src_len) ||
	    !ft_prefix_match(m->dst, r->dst, r->dst_len))
		return 0;
	m->verdict = r->verdict < FT_VERDICT_MAX ? r->verdict : FT_VERDICT_PASS;
	m->ifindex = r->redirect_ifindex;
	return 1;
}

/*
 * Matches the rules against the connection's original direction and keeps
 * the verdict with the generation. Inlined into ft_handle, like the
 * tracker: a call costs a return thunk on CPUs that mitigate SRSO, and
 * every new connection makes this one (BENCHMARKS.md).
 */
static __always_inline int ft_choose_verdict(struct ft_conn *s, __u32 rule_count, __u32 rule_gen)
{
	struct ft_rule_match m = {
		.count = rule_count,
		.verdict = FT_VERDICT_PASS,
	};
	int o;

	if (!s)
		return 0;
	o = s->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;
	m.dport = bpf_ntohs(s->key.port[o ^ 1]);
	m.proto = s->key.proto;
	m.family = s->key.family;
	__builtin_memcpy(m.src, s->key.addr[o], 16);
	__builtin_memcpy(m.dst, s->key.addr[o ^ 1], 16);
	if (m.count > FT_MAX_RULES)
		m.count = FT_MAX_RULES;
	if (m.count)
		bpf_loop(m.count, ft_rule_try, &m, 0);
	/*
	 * One 8-byte store: any CPU may refresh it, all compute the same from
	 * the rules and the origin, and a reader never sees half of it.
	 */
	*(__u64 *)&s->redirect_ifindex =
		m.ifindex | (__u64)(__u16)rule_gen << 32 | (__u64)m.verdict << 48;
	return 0;
}

/* Redirect applies to the original direction only. */
static __always_inline __u8 ft_dir_verdict(const struct ft_conn *s, __u8 pkt_dir)
{
	int orig = s->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;

	if (s->verdict == FT_VERDICT_REDIRECT && pkt_dir != orig)
		return FT_VERDICT_PASS;
	return s->verdict;
}

/* The verdict for this packet, chosen again when the rules changed. */
static __always_inline __u8 ft_conn_verdict(struct ft_conn *s, const struct ft_config *cfg,
					    __u8 pkt_dir, int created)
{
	if (created || s->rule_gen != (__u16)cfg->rule_gen)
		ft_choose_verdict(s, cfg->rule_count, cfg->rule_gen);
	return ft_dir_verdict(s, pkt_dir);
}

#endif
