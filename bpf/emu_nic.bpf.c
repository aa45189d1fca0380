// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The emulated NIC of the testbed: an XDP program on the port where
 * traffic arrives, with an exact-match flow table of limited size, like a
 * NIC's tc flower offload. A packet matching a rule is dropped here or sent
 * straight out of another NIC port (toward the sink); any other packet goes
 * on to the host port, where flowtier's software tier sees it.
 *
 * Like the tc rules flowtier installs (TCP flags mask FIN|SYN|RST, value
 * 0), TCP packets that set up or tear down a connection never match, so the
 * software tier keeps seeing them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowtier/abi.h"
#include "flowtier/emu_nic.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EMU_ETH_P_IP	 0x0800
#define EMU_ETH_P_IPV6	 0x86DD
#define EMU_ETH_P_8021Q	 0x8100
#define EMU_ETH_P_8021AD 0x88A8
#define EMU_TCP		 6
#define EMU_UDP		 17
#define EMU_TCP_CONTROL	 0x07 /* FIN | SYN | RST */

/* The loader sets the size of both (its --capacity) before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FT_EMU_DEFAULT_CAPACITY);
	__type(key, struct ft_emu_key);
	__type(value, struct ft_emu_rule);
} emu_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FT_EMU_DEFAULT_CAPACITY);
	__type(key, __u32);
	__type(value, struct ft_emu_counters);
} emu_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ft_emu_config);
} emu_config SEC(".maps");

/* Every port the NIC may send out of, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} emu_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ft_emu_stats);
} emu_stats SEC(".maps");

struct emu_pkt {
	struct ft_emu_key key;
	__u8 tcp_flags;
	__u8 ok; /* TCP or UDP with ports: the table may hold it */
};

static __always_inline int emu_parse_l4(void *data, void *end, __u32 off, struct emu_pkt *p)
{
	struct tcphdr *th = data + off;
	struct udphdr *uh = data + off;

	if (p->key.proto == EMU_TCP) {
		if ((void *)(th + 1) > end)
			return 0;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		return 1;
	}
	if (p->key.proto == EMU_UDP) {
		if ((void *)(uh + 1) > end)
			return 0;
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
		return 1;
	}
	return 0;
}

static __always_inline int emu_parse_ipv4(void *data, void *end, __u32 off, struct emu_pkt *p)
{
	struct iphdr *ip = data + off;
	__u32 ihl;

	if ((void *)(ip + 1) > end || ip->version != 4)
		return 0;
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip) || data + off + ihl > end)
		return 0;
	/* Any fragment: a NIC with no reassembly cannot see the ports of all of them. */
	if (bpf_ntohs(ip->frag_off) & 0x3fff)
		return 0;
	p->key.family = FT_FAMILY_IPV4;
	p->key.proto = ip->protocol;
	__builtin_memcpy(p->key.src, &ip->saddr, 4);
	__builtin_memcpy(p->key.dst, &ip->daddr, 4);
	return emu_parse_l4(data, end, off + ihl, p);
}

/* No extension headers: such packets go to the host, as they would on many NICs. */
static __always_inline int emu_parse_ipv6(void *data, void *end, __u32 off, struct emu_pkt *p)
{
	struct ipv6hdr *ip6 = data + off;

	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return 0;
	p->key.family = FT_FAMILY_IPV6;
	p->key.proto = ip6->nexthdr;
	__builtin_memcpy(p->key.src, &ip6->saddr, 16);
	__builtin_memcpy(p->key.dst, &ip6->daddr, 16);
	return emu_parse_l4(data, end, off + sizeof(*ip6), p);
}

/* Ethernet, at most one VLAN tag (802.1Q or 802.1ad), IPv4 or IPv6, TCP or UDP. */
static __always_inline int emu_parse(void *data, void *end, struct emu_pkt *p)
{
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = data + sizeof(*eth);
	__u32 off = sizeof(*eth);
	__u16 proto;

	if ((void *)(eth + 1) > end)
		return 0;
	proto = bpf_ntohs(eth->h_proto);
	if (proto == EMU_ETH_P_8021Q || proto == EMU_ETH_P_8021AD) {
		if ((void *)(vh + 1) > end)
			return 0;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		off += sizeof(*vh);
	}
	if (proto == EMU_ETH_P_IP)
		return emu_parse_ipv4(data, end, off, p);
	if (proto == EMU_ETH_P_IPV6)
		return emu_parse_ipv6(data, end, off, p);
	return 0;
}

/* The rule for this packet: one for its own port first, then one for any port. */
static __always_inline struct ft_emu_rule *emu_lookup(struct emu_pkt *p, __u32 ingress)
{
	struct ft_emu_rule *r;

	p->key.ifindex = ingress;
	r = bpf_map_lookup_elem(&emu_flows, &p->key);
	if (r)
		return r;
	p->key.ifindex = 0;
	return bpf_map_lookup_elem(&emu_flows, &p->key);
}

static __always_inline void emu_count(const struct ft_emu_rule *r, __u64 len)
{
	__u32 slot = r->slot;
	struct ft_emu_counters *c = bpf_map_lookup_elem(&emu_counters, &slot);

	/* Per CPU: nothing else writes this CPU's copy while the program runs. */
	if (!c)
		return;
	c->packets++;
	c->bytes += len;
	c->last_ns = bpf_ktime_get_ns();
}

static __always_inline int emu_mac_set(const __u8 *m)
{
	return m[0] | m[1] | m[2] | m[3] | m[4] | m[5];
}

/* Rewrites the Ethernet addresses for the port's peer, then sends the frame out of it. */
static __always_inline int emu_send(struct xdp_md *ctx, const struct ft_emu_port *port,
				    __u32 ifindex, struct ft_emu_stats *st)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	long ret;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (port && emu_mac_set(port->dst_mac))
		__builtin_memcpy(eth->h_dest, port->dst_mac, 6);
	if (port && emu_mac_set(port->src_mac))
		__builtin_memcpy(eth->h_source, port->src_mac, 6);
	ret = bpf_redirect_map(&emu_ports, ifindex, 0);
	if (ret != XDP_REDIRECT) {
		st->no_port++;
		return XDP_DROP;
	}
	return XDP_REDIRECT;
}

static __always_inline const struct ft_emu_port *emu_port_of(const struct ft_emu_config *cfg,
							     __u32 ifindex)
{
	if (cfg->port[FT_EMU_PORT_SINK].ifindex == ifindex)
		return &cfg->port[FT_EMU_PORT_SINK];
	if (cfg->port[FT_EMU_PORT_HOST].ifindex == ifindex)
		return &cfg->port[FT_EMU_PORT_HOST];
	return 0;
}

static __always_inline int emu_apply(struct xdp_md *ctx, const struct ft_emu_rule *r,
				     const struct ft_emu_config *cfg, struct ft_emu_stats *st)
{
	__u32 out = r->out_ifindex ? r->out_ifindex : cfg->port[FT_EMU_PORT_SINK].ifindex;
	int ret;

	if (r->action == FT_EMU_DROP) {
		st->dropped++;
		return XDP_DROP;
	}
	ret = emu_send(ctx, emu_port_of(cfg, out), out, st);
	if (ret == XDP_REDIRECT)
		st->redirected++;
	return ret;
}

SEC("xdp")
int emu_nic(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct emu_pkt p = {};
	const struct ft_emu_config *cfg;
	struct ft_emu_stats *st;
	struct ft_emu_rule *r;
	__u32 zero = 0;
	int ret;

	cfg = bpf_map_lookup_elem(&emu_config, &zero);
	st = bpf_map_lookup_elem(&emu_stats, &zero);
	if (!cfg || !st)
		return XDP_ABORTED;
	st->rx++;
	if (!emu_parse(data, end, &p)) {
		st->unparsed++;
	} else if (p.key.proto == EMU_TCP && (p.tcp_flags & EMU_TCP_CONTROL)) {
		st->tcp_control++;
	} else {
		r = emu_lookup(&p, ctx->ingress_ifindex);
		if (r) {
			emu_count(r, end - data);
			return emu_apply(ctx, r, cfg, st);
		}
	}
	ret = emu_send(ctx, &cfg->port[FT_EMU_PORT_HOST], cfg->port[FT_EMU_PORT_HOST].ifindex, st);
	if (ret == XDP_REDIRECT)
		st->to_host++;
	return ret;
}

/*
 * For the peers of the NIC's ports: a veth accepts frames redirected into
 * it only while its peer runs an XDP program (or has GRO on).
 */
SEC("xdp")
int emu_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}
