/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Packet parsing shared by the XDP and TC programs. */
#ifndef FT_PARSE_H
#define FT_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowtier/abi.h"

#define FT_ETH_P_IP	 0x0800
#define FT_ETH_P_IPV6	 0x86DD
#define FT_ETH_P_ARP	 0x0806
#define FT_ETH_P_8021Q	 0x8100
#define FT_ETH_P_8021AD	 0x88A8
#define FT_ETH_P_LLDP	 0x88CC
#define FT_ETH_P_MPLS_UC 0x8847
#define FT_ETH_P_MPLS_MC 0x8848

#define FT_IPPROTO_ICMP	    1
#define FT_IPPROTO_TCP	    6
#define FT_IPPROTO_UDP	    17
#define FT_IPPROTO_AH	    51
#define FT_IPPROTO_ICMPV6   58
#define FT_IPPROTO_SCTP	    132
#define FT_IPPROTO_UDPLITE  136
#define FT_NEXTHDR_HOP	    0
#define FT_NEXTHDR_ROUTING  43
#define FT_NEXTHDR_FRAGMENT 44
#define FT_NEXTHDR_DEST	    60

#define FT_MAX_VLAN 2
/* Enough for hop-by-hop, routing, fragment, destination options, AH and one spare. */
#define FT_MAX_EXTHDR 6

#define FT_TCP_FIN 0x01
#define FT_TCP_SYN 0x02
#define FT_TCP_RST 0x04
#define FT_TCP_ACK 0x10

struct ft_pkt {
	__u64 src[2]; /* addresses as two 64-bit words, IPv4 in the low 4 bytes */
	__u64 dst[2];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 tcp_flags;
	__u8 fragment; /* non-first fragment: no ports */
	__u16 vlan_id;
	__u8 vlan_depth;
	__u8 pad;
};

enum ft_parse_result {
	FT_PARSED_IP = 0,
	FT_PARSED_NONIP,
	FT_PARSED_MALFORMED,
};

/* Parse result plus the reason when it is not FT_PARSED_IP. */
struct ft_parse_out {
	int result;
	int reason; /* enum ft_malformed or enum ft_nonip */
};

#define FT_FAIL(out, res, why)                                                                     \
	({                                                                                         \
		(out)->result = (res);                                                             \
		(out)->reason = (why);                                                             \
		-1;                                                                                \
	})

static __always_inline int ft_nonip_class(__u16 proto)
{
	if (proto < 0x0600)
		return FT_NONIP_8023;
	switch (proto) {
	case FT_ETH_P_ARP:
		return FT_NONIP_ARP;
	case FT_ETH_P_LLDP:
		return FT_NONIP_LLDP;
	case FT_ETH_P_MPLS_UC:
	case FT_ETH_P_MPLS_MC:
		return FT_NONIP_MPLS;
	}
	return FT_NONIP_OTHER;
}

/*
 * Walks Ethernet and up to FT_MAX_VLAN tags. A tag that the NIC or the
 * stack already stripped into skb metadata counts as the outer one.
 */
static __always_inline int ft_parse_eth(void *data, void *end, __u32 *off, __u16 *proto,
					struct ft_pkt *p, struct ft_parse_out *out)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_ETH_TRUNC);
	*proto = bpf_ntohs(eth->h_proto);
	*off = sizeof(*eth);

#pragma unroll
	for (int i = 0; i < FT_MAX_VLAN; i++) {
		struct vlan_hdr *vh = data + *off;

		if (*proto != FT_ETH_P_8021Q && *proto != FT_ETH_P_8021AD)
			return 0;
		if (p->vlan_depth >= FT_MAX_VLAN)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_VLAN_DEPTH);
		if ((void *)(vh + 1) > end)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_VLAN_TRUNC);
		if (p->vlan_depth == 0)
			p->vlan_id = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		p->vlan_depth++;
		*proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		*off += sizeof(*vh);
	}
	if (*proto == FT_ETH_P_8021Q || *proto == FT_ETH_P_8021AD)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_VLAN_DEPTH);
	return 0;
}

static __always_inline int ft_parse_ipv4(void *data, void *end, __u32 *off, struct ft_pkt *p,
					 struct ft_parse_out *out)
{
	struct iphdr *ip = data + *off;
	__u32 ihl;

	if ((void *)(ip + 1) > end)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP4_TRUNC);
	if (ip->version != 4)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP4_VERSION);
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip))
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP4_IHL);
	if (data + *off + ihl > end)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP4_TRUNC);
	if (bpf_ntohs(ip->tot_len) < ihl)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP4_LEN);

	p->family = FT_FAMILY_IPV4;
	p->proto = ip->protocol;
	p->src[0] = ip->saddr;
	p->dst[0] = ip->daddr;
	p->fragment = (bpf_ntohs(ip->frag_off) & 0x1fff) != 0;
	*off += ihl;
	return 0;
}

static __always_inline int ft_is_exthdr(__u8 nh)
{
	return nh == FT_NEXTHDR_HOP || nh == FT_NEXTHDR_ROUTING || nh == FT_NEXTHDR_DEST ||
	       nh == FT_NEXTHDR_FRAGMENT || nh == FT_IPPROTO_AH;
}

/* One IPv6 extension header; returns 1 when *nh is no longer one. */
static __always_inline int ft_ipv6_ext(void *data, void *end, __u32 *off, __u8 *nh,
				       struct ft_pkt *p, struct ft_parse_out *out)
{
	struct ipv6_opt_hdr *oh = data + *off;
	struct frag_hdr *fh = data + *off;

	switch (*nh) {
	case FT_NEXTHDR_HOP:
	case FT_NEXTHDR_ROUTING:
	case FT_NEXTHDR_DEST:
		if ((void *)(oh + 1) > end)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_EXTHDR_TRUNC);
		*nh = oh->nexthdr;
		*off += (oh->hdrlen + 1) * 8;
		/* All of it, not only its first two bytes: a cut in the last one is no L4 fault. */
		if (data + *off > end)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_EXTHDR_TRUNC);
		return 0;
	case FT_IPPROTO_AH:
		if ((void *)(oh + 1) > end)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_EXTHDR_TRUNC);
		*nh = oh->nexthdr;
		*off += (oh->hdrlen + 2) * 4;
		if (data + *off > end)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_EXTHDR_TRUNC);
		return 0;
	case FT_NEXTHDR_FRAGMENT:
		if ((void *)(fh + 1) > end)
			return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_EXTHDR_TRUNC);
		*nh = fh->nexthdr;
		*off += sizeof(*fh);
		/* What follows a non-first fragment is payload, not headers. */
		if (bpf_ntohs(fh->frag_off) & 0xfff8) {
			p->fragment = 1;
			return 1;
		}
		return 0;
	}
	return 1;
}

static __always_inline int ft_parse_ipv6(void *data, void *end, __u32 *off, struct ft_pkt *p,
					 struct ft_parse_out *out)
{
	struct ipv6hdr *ip6 = data + *off;
	__u8 nh;
	int r;

	if ((void *)(ip6 + 1) > end)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP6_TRUNC);
	if (ip6->version != 6)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_IP6_VERSION);
	p->family = FT_FAMILY_IPV6;
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	nh = ip6->nexthdr;
	*off += sizeof(*ip6);

#pragma unroll
	for (int i = 0; i < FT_MAX_EXTHDR; i++) {
		r = ft_ipv6_ext(data, end, off, &nh, p, out);
		if (r < 0)
			return r;
		if (r > 0) {
			p->proto = nh;
			return 0;
		}
	}
	if (ft_is_exthdr(nh))
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_EXTHDR_DEPTH);
	p->proto = nh;
	return 0;
}

static __always_inline int ft_l4_has(void *l4, void *end, __u32 need, struct ft_parse_out *out)
{
	if (l4 + need > end)
		return FT_FAIL(out, FT_PARSED_MALFORMED, FT_MAL_L4_TRUNC);
	return 0;
}

static __always_inline void ft_l4_ports(const __u8 *l4, struct ft_pkt *p)
{
	__builtin_memcpy(&p->sport, l4, 2);
	__builtin_memcpy(&p->dport, l4 + 2, 2);
}

/* The echo identifier stands in for both ports; other ICMP messages have none. */
static __always_inline void ft_l4_icmp(const __u8 *l4, struct ft_pkt *p)
{
	__u8 type = l4[0];
	int echo = p->proto == FT_IPPROTO_ICMP ? (type == 8 || type == 0)
					       : (type == 128 || type == 129);

	if (echo) {
		__builtin_memcpy(&p->sport, l4 + 4, 2);
		p->dport = p->sport;
	}
}

/* Each case checks its own constant length so the verifier keeps exact bounds. */
static __always_inline int ft_parse_l4(void *data, void *end, __u32 off, struct ft_pkt *p,
				       struct ft_parse_out *out)
{
	__u8 *l4 = data + off;

	if (p->fragment)
		return 0;
	switch (p->proto) {
	case FT_IPPROTO_TCP:
		if (ft_l4_has(l4, end, 20, out))
			return -1;
		ft_l4_ports(l4, p);
		p->tcp_flags = l4[13];
		return 0;
	case FT_IPPROTO_UDP:
	case FT_IPPROTO_UDPLITE:
		if (ft_l4_has(l4, end, 8, out))
			return -1;
		ft_l4_ports(l4, p);
		return 0;
	case FT_IPPROTO_SCTP:
		if (ft_l4_has(l4, end, 12, out))
			return -1;
		ft_l4_ports(l4, p);
		return 0;
	case FT_IPPROTO_ICMP:
	case FT_IPPROTO_ICMPV6:
		if (ft_l4_has(l4, end, 8, out))
			return -1;
		ft_l4_icmp(l4, p);
		return 0;
	}
	return 0;
}

/* What ft_lane4 takes from the frame. */
struct ft_lane {
	__u32 saddr;
	__u32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 tcp_flags;
};

/*
 * The common case without the general parser's stores and branches: an
 * untagged IPv4 TCP or UDP packet without options, not a non-first
 * fragment, with 20 bytes after its IP header. Returns 1 and fills l when
 * the frame is one. ft_parse reads such a frame exactly so, and it must:
 * the two paths count the same connections.
 */
static __always_inline int ft_lane4(void *data, void *end, int vlan_tci_meta, struct ft_lane *l)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	/* TCP keeps its ports where UDP does. */
	struct udphdr *ports = (void *)(ip + 1);
	__u8 *l4 = (void *)ports;

	if (vlan_tci_meta >= 0 || (void *)(l4 + 20) > end)
		return 0;
	if (eth->h_proto != bpf_htons(FT_ETH_P_IP) || *(__u8 *)ip != 0x45)
		return 0;
	if (bpf_ntohs(ip->tot_len) < sizeof(*ip) || (ip->frag_off & bpf_htons(0x1fff)))
		return 0;
	l->proto = ip->protocol;
	if (l->proto != FT_IPPROTO_TCP && l->proto != FT_IPPROTO_UDP)
		return 0;
	l->saddr = ip->saddr;
	l->daddr = ip->daddr;
	l->sport = ports->source;
	l->dport = ports->dest;
	l->tcp_flags = l->proto == FT_IPPROTO_TCP ? l4[13] : 0;
	return 1;
}

/*
 * Fills p from the frame. vlan_tci_meta is the tag the stack already
 * removed (TC), or -1 when there is none.
 */
static __always_inline void ft_parse(void *data, void *end, int vlan_tci_meta, struct ft_pkt *p,
				     struct ft_parse_out *out)
{
	__u16 proto = 0;
	__u32 off = 0;

	out->result = FT_PARSED_IP;
	out->reason = 0;
	if (vlan_tci_meta >= 0) {
		p->vlan_id = vlan_tci_meta & 0x0fff;
		p->vlan_depth = 1;
	}
	if (ft_parse_eth(data, end, &off, &proto, p, out))
		return;
	if (proto == FT_ETH_P_IP) {
		if (ft_parse_ipv4(data, end, &off, p, out))
			return;
	} else if (proto == FT_ETH_P_IPV6) {
		if (ft_parse_ipv6(data, end, &off, p, out))
			return;
	} else {
		FT_FAIL(out, FT_PARSED_NONIP, ft_nonip_class(proto));
		return;
	}
	ft_parse_l4(data, end, off, p, out);
}

#endif
