// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The testbed's sink: counts every frame it receives per flow, exactly,
 * and drops it. Also a program that only passes, for veth receivers that
 * need some XDP program so that XDP frames can be redirected into them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "gen.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86DD
#define PROTO_TCP  6
#define PROTO_UDP  17

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sink_key);
	__type(value, struct sink_val);
	__uint(max_entries, 1); /* set by ft-sink */
} sink_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* ingress ifindex */
	__type(value, struct sink_port);
	__uint(max_entries, 64);
} sink_ports SEC(".maps");

/* Parses IPv4/IPv6 TCP/UDP into k; returns the TCP flags, or -1 when not such a frame. */
static __always_inline int sink_parse(void *data, void *end, struct sink_key *k)
{
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	struct udphdr *udp;
	void *l4;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->frag_off & bpf_htons(0x3fff))
			return -1;
		k->family = 4;
		k->proto = ip->protocol;
		k->saddr[0] = ip->saddr;
		k->daddr[0] = ip->daddr;
		l4 = ip + 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		k->family = 6;
		k->proto = ip6->nexthdr;
		__builtin_memcpy(k->saddr, &ip6->saddr, 16);
		__builtin_memcpy(k->daddr, &ip6->daddr, 16);
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (k->proto == PROTO_UDP) {
		udp = l4;
		if ((void *)(udp + 1) > end)
			return -1;
		k->sport = bpf_ntohs(udp->source);
		k->dport = bpf_ntohs(udp->dest);
		return 0;
	}
	if (k->proto != PROTO_TCP)
		return -1;
	tcp = l4;
	if ((void *)(tcp + 1) > end)
		return -1;
	k->sport = bpf_ntohs(tcp->source);
	k->dport = bpf_ntohs(tcp->dest);
	return ((__u8 *)tcp)[13];
}

static __always_inline struct sink_port *sink_port_of(__u32 ifindex)
{
	struct sink_port zero = {}, *p;

	p = bpf_map_lookup_elem(&sink_ports, &ifindex);
	if (p)
		return p;
	bpf_map_update_elem(&sink_ports, &ifindex, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sink_ports, &ifindex);
}

/* Counts the flow's packet; 0, or -1 when the table is full. */
static __always_inline int sink_count(struct sink_key *k, int flags, __u64 len)
{
	struct sink_val zero = {}, *v;

	v = bpf_map_lookup_elem(&sink_flows, k);
	if (!v) {
		/* Another CPU may insert it first: NOEXIST, then look again. */
		bpf_map_update_elem(&sink_flows, k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&sink_flows, k);
		if (!v)
			return -1;
	}
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
	if (k->proto != PROTO_TCP)
		return 0;
	if ((flags & 0x12) == 0x02)
		__sync_fetch_and_add(&v->syn, 1);
	if ((flags & 0x12) == 0x12)
		__sync_fetch_and_add(&v->synack, 1);
	if (flags & 0x01)
		__sync_fetch_and_add(&v->fin, 1);
	if (flags & 0x04)
		__sync_fetch_and_add(&v->rst, 1);
	return 0;
}

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 len = end - data;
	struct sink_key k = {};
	struct sink_port *p;
	int flags;

	p = sink_port_of(ctx->ingress_ifindex);
	if (!p)
		return XDP_DROP;
	__sync_fetch_and_add(&p->packets, 1);
	__sync_fetch_and_add(&p->bytes, len);
	flags = sink_parse(data, end, &k);
	if (flags < 0)
		__sync_fetch_and_add(&p->other, 1);
	else if (sink_count(&k, flags, len))
		__sync_fetch_and_add(&p->overflow, 1);
	return XDP_DROP;
}

SEC("xdp")
int pass_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}
