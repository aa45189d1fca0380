// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier's software tier: one XDP program and two TC programs, thin
 * wrappers over the same parse / track / verdict path.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "flowtier/abi.h"
#include "maps.h"
#include "parse.h"
#include "clock.h"
#include "conntrack.h"
#include "verdict.h"

#define FT_TC_ACT_OK   0
#define FT_TC_ACT_SHOT 2

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* What the parser hands to the tracker, and the verdict it gets back. */
struct ft_job {
	struct ft_pkt pkt;
	struct ft_parse_out parsed;
	__u32 len;
	__u32 ifindex;
	__u32 hook;
	__u32 redirect_ifindex; /* out */
	__u8 verdict;		/* out */
	__u8 has_ctx;		/* c below is filled in */
	__u8 pad[6];
	struct ft_lane lane;
	struct ft_ctx c;
};

/*
 * The packet's job, per CPU rather than on the stack: the stack is 512
 * bytes for every frame of a call chain together (Debian 12's 6.1 rounds
 * each up to 32), and the full path inlined into ft_handle needs its own. A
 * CPU runs one of these programs at a time: XDP and TC run with bottom
 * halves disabled.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_job);
	__uint(max_entries, 1);
} ft_jobs SEC(".maps");

/* The zone of untagged traffic: its interface's, when any interface has one. */
static __always_inline __u16 ft_if_zone_of(__u32 ifindex, const struct ft_config *cfg)
{
	__u32 *z;

	if (!cfg->if_zones || ifindex >= FT_MAX_IFINDEX)
		return 0;
	z = bpf_map_lookup_elem(&ft_if_zone, &ifindex);
	return z ? (__u16)*z : 0;
}

static __always_inline __u16 ft_zone_of(const struct ft_pkt *p, __u32 ifindex,
					const struct ft_config *cfg)
{
	return p->vlan_depth ? p->vlan_id : ft_if_zone_of(ifindex, cfg);
}

static __always_inline void ft_count_parse_failure(struct ft_stats *st,
						   const struct ft_parse_out *out)
{
	__u32 r = out->reason;

	if (out->result == FT_PARSED_NONIP) {
		if (r < FT_NONIP_MAX)
			st->nonip[r]++;
	} else if (r < FT_MAL_MAX) {
		st->malformed[r]++;
	}
}

/* The clock first: after a call, the key would be loaded back for the hash. */
static __always_inline void ft_ctx_start(struct ft_ctx *c)
{
	c->now_ns = ft_now_ns();
	c->now_tick = c->now_ns >> FT_TICK_SHIFT;
}

/* What the tracker needs besides the key and the clock. */
static __always_inline void ft_ctx_finish(const struct ft_job *job, const struct ft_config *cfg,
					  struct ft_ctx *c)
{
	c->hash = ft_hash(&c->key, cfg);
	c->len = job->len;
	c->refused = 0;
	c->in_ifindex = 0;
	if (job->hook != FT_HOOK_TC_EGRESS && job->ifindex < FT_MAX_IFINDEX)
		c->in_ifindex = job->ifindex;
	c->cpu = bpf_get_smp_processor_id() + 1;
}

/* The tracker's view of a parsed IP packet. */
static __always_inline void ft_ctx_of(const struct ft_job *job, const struct ft_config *cfg,
				      struct ft_ctx *c)
{
	ft_ctx_start(c);
	ft_make_key(&job->pkt, ft_zone_of(&job->pkt, job->ifindex, cfg), c);
	ft_ctx_finish(job, cfg, c);
}

/* The same for a packet ft_lane4 took: what ft_ctx_of makes of ft_parse's fields. */
static __always_inline void ft_lane_ctx(const struct ft_job *job, const struct ft_config *cfg,
					struct ft_ctx *c)
{
	const struct ft_lane *l = &job->lane;
	__u64 zone = ft_if_zone_of(job->ifindex, cfg);

	ft_ctx_start(c);
	ft_key_from(l->saddr, 0, l->daddr, 0, l->sport, l->dport,
		    l->proto | FT_FAMILY_IPV4 << 8 | zone << 16, c);
	c->tcp_flags = l->tcp_flags;
	c->fragment = 0;
	ft_ctx_finish(job, cfg, c);
}

/*
 * Everything after parsing: zone, connection, verdict. A global function:
 * the verifier checks it once, on its own, instead of once per parse path.
 * Inlined, it passes on 6.18 but takes 92% of the verifier's budget on
 * Debian 12's 6.1. ft_fast spares most packets the call.
 */
__noinline int ft_handle(struct ft_job *job)
{
	struct ft_timeouts *to;
	struct ft_config *cfg;
	struct ft_stats *st;
	struct ft_vals v;
	struct ft_conn *s;
	int created;

	if (!job || ft_vals_get(&v))
		return 0;
	st = v.st, cfg = v.cfg, to = v.to;
	if (job->hook < FT_HOOK_MAX)
		st->packets[job->hook]++;
	/* Whatever does not parse passes, counted by its reason. */
	if (job->parsed.result != FT_PARSED_IP) {
		ft_count_parse_failure(st, &job->parsed);
		st->verdict[FT_VERDICT_PASS]++;
		return 0;
	}
	if (!job->has_ctx)
		ft_ctx_of(job, cfg, &job->c);
	s = ft_track(cfg, &job->c, st, &created);
	if (s) {
		job->verdict = ft_conn_verdict(s, cfg, job->c.dir, created);
		job->redirect_ifindex = s->redirect_ifindex;
	} else if (job->c.refused) {
		/* A packet no slot could be had for passes; only a zone refusal drops. */
		job->verdict = FT_VERDICT_DROP;
	}
	st->verdict[job->verdict & 3]++;
	return 0;
}

/*
 * The common case without the call: a packet of a live connection found
 * in its home slot. Nothing is written before it is found, so a miss
 * leaves the packet to ft_handle untouched. lane: ft_lane4 took it, so
 * job->pkt is not filled in. Returns 1 when it handled the packet; either
 * way job->c is filled in, unless the array values are missing.
 */
static __always_inline int ft_fast(struct ft_job *job, int lane)
{
	struct ft_bucket *b;
	struct ft_vals v;
	struct ft_conn *s;
	int i;

	if (ft_vals_get(&v))
		return 0;
	if (lane) {
		ft_lane_ctx(job, v.cfg, &job->c);
	} else {
		if (job->parsed.result != FT_PARSED_IP)
			return 0;
		ft_ctx_of(job, v.cfg, &job->c);
	}
	job->has_ctx = 1;
	i = ft_home_hit(v.cfg, v.to, &job->c, &b);
	if (i < 0)
		return 0;
	if (job->hook < FT_HOOK_MAX)
		v.st->packets[job->hook]++;
	ft_home_account(b, i, &job->c);
	if (job->c.fragment)
		v.st->fragments++;
	s = &b->slot[i & (FT_SLOTS - 1)];
	job->verdict = ft_dir_verdict(s, job->c.dir);
	job->redirect_ifindex = s->redirect_ifindex;
	v.st->verdict[job->verdict & 3]++;
	return 1;
}

/* Parses and tracks one packet; the verdict is left in job. */
static __always_inline void ft_process(void *data, void *end, __u32 len, __u32 ifindex,
				       int vlan_tci_meta, int hook, struct ft_job *job)
{
	job->len = len;
	job->ifindex = ifindex;
	job->hook = hook;
	job->redirect_ifindex = 0;
	job->verdict = FT_VERDICT_PASS;
	job->has_ctx = 0;
	if (ft_lane4(data, end, vlan_tci_meta, &job->lane)) {
		if (ft_fast(job, 1))
			return;
		/*
		 * ft_handle reads the context, not job->pkt. Without it (no
		 * array values) it returns before reading either.
		 */
		job->parsed.result = FT_PARSED_IP;
		job->parsed.reason = 0;
		ft_handle(job);
		return;
	}
	__builtin_memset(job, 0, __builtin_offsetof(struct ft_job, len));
	ft_parse(data, end, vlan_tci_meta, &job->pkt, &job->parsed);
	if (!ft_fast(job, 0))
		ft_handle(job);
}

SEC("xdp")
int ft_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct ft_job *job = bpf_map_lookup_elem(&ft_jobs, &zero);
	struct ft_stats *st;
	long ret;

	if (!job)
		return XDP_PASS;
	ft_process(data, end, end - data, ctx->ingress_ifindex, -1, FT_HOOK_XDP, job);
	if (job->verdict == FT_VERDICT_PASS)
		return XDP_PASS;
	if (job->verdict == FT_VERDICT_DROP)
		return XDP_DROP;
	/* A target missing from the devmap makes this return the flags: XDP_PASS. */
	ret = bpf_redirect_map(&ft_tx_ports, job->redirect_ifindex, XDP_PASS);
	if (ret != XDP_REDIRECT) {
		st = bpf_map_lookup_elem(&ft_stats, &zero);
		if (st)
			st->redirect_failed++;
	}
	return ret;
}

static __always_inline int ft_tc(struct __sk_buff *skb, __u32 ifindex, int hook)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	int vlan = skb->vlan_present ? (int)(skb->vlan_tci & 0xffff) : -1;
	__u32 zero = 0;
	struct ft_job *job = bpf_map_lookup_elem(&ft_jobs, &zero);

	if (!job)
		return FT_TC_ACT_OK;
	ft_process(data, end, skb->len, ifindex, vlan, hook, job);
	if (job->verdict == FT_VERDICT_PASS)
		return FT_TC_ACT_OK;
	if (job->verdict == FT_VERDICT_DROP)
		return FT_TC_ACT_SHOT;
	return bpf_redirect(job->redirect_ifindex, 0);
}

/* 1 when ft_xdp runs on the device the packet arrived on: it counted the packet already. */
static __always_inline int ft_xdp_saw(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct ft_iface *i = bpf_map_lookup_elem(&ft_ifaces, &ifindex);

	return i && (i->flags & FT_IF_XDP);
}

SEC("tc")
int ft_tc_ingress(struct __sk_buff *skb)
{
	if (ft_xdp_saw(skb))
		return FT_TC_ACT_OK;
	return ft_tc(skb, skb->ingress_ifindex, FT_HOOK_TC_INGRESS);
}

SEC("tc")
int ft_tc_egress(struct __sk_buff *skb)
{
	return ft_tc(skb, skb->ifindex, FT_HOOK_TC_EGRESS);
}
