// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The benchmark's BPF side: a driver that turns the one test packet into
 * many flows, and the baselines flowtier's ft_xdp is measured against.
 * Each baseline parses the packet itself, as a standalone program would.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

#define BENCH_ETH_P_IP	0x0800
#define BENCH_PROTO_TCP 6
#define BENCH_PROTO_UDP 17

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Number of flows minus one; the runner only uses powers of two. */
const volatile __u32 flow_mask = 0;

/* Whose packet counter the driver advances; set by the runner. */
__u32 target = 0;

/* Packets sent so far, per target, so each one sees its own flow sequence. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, BENCH_NR_TARGETS);
} sent SEC(".maps");

/*
 * Slot 0 holds the program under test. A constant slot lets the JIT
 * patch the tail call into a direct jump.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} under_test SEC(".maps");

/* 5-tuple, as the baselines key their maps. */
struct bench_tuple {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct bench_dir {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;
	__u64 last_ns;
};

/* A connection with counters per direction, as most users would write it. */
struct bench_conn {
	struct bench_dir dir[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct bench_tuple);
	__type(value, __u64);
	__uint(max_entries, BENCH_TABLE_ENTRIES);
} percpu_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct bench_tuple);
	__type(value, struct bench_conn);
	__uint(max_entries, BENCH_TABLE_ENTRIES);
} lru_conns SEC(".maps");

/*
 * Rewrites the source of the runner's Ethernet/IPv4/UDP packet (no IP
 * options) into the next flow of the sequence, then runs the program
 * under test. The IP checksum is left stale: nothing here checks it.
 */
SEC("xdp")
int bench_driver(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 key = target, idx;
	__u64 *n;

	if ((void *)(udp + 1) > end)
		return XDP_ABORTED;
	n = bpf_map_lookup_elem(&sent, &key);
	if (!n)
		return XDP_ABORTED;
	idx = ((__u32)*n * BENCH_STRIDE) & flow_mask;
	*n += 1;
	ip->saddr = bpf_htonl(BENCH_SRC_NET + (idx >> 16));
	udp->source = bpf_htons(idx & 0xffff);
	bpf_tail_call(ctx, &under_test, 0);
	return XDP_ABORTED; /* the runner checks for XDP_PASS */
}

SEC("xdp")
int bench_empty(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

/* Returns the packet's length, or -1 when it is not IPv4 TCP/UDP. */
static __always_inline int bench_parse(struct xdp_md *ctx, struct bench_tuple *t)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *l4;
	struct iphdr *ip;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(BENCH_ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return -1;
	if (ip->protocol != BENCH_PROTO_UDP && ip->protocol != BENCH_PROTO_TCP)
		return -1;
	/* TCP and UDP keep their ports at the same offsets. */
	l4 = (void *)ip + ip->ihl * 4;
	if ((void *)(l4 + 1) > end)
		return -1;
	t->saddr = ip->saddr;
	t->daddr = ip->daddr;
	t->sport = l4->source;
	t->dport = l4->dest;
	t->proto = ip->protocol;
	return end - data;
}

/* One counter per flow and direction in a PERCPU_HASH. */
SEC("xdp")
int bench_percpu_hash(struct xdp_md *ctx)
{
	struct bench_tuple t = {};
	__u64 one = 1, *v;

	if (bench_parse(ctx, &t) < 0)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&percpu_counts, &t);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&percpu_counts, &t, &one, BPF_NOEXIST);
	return XDP_PASS;
}

/* Orders the tuple so both directions share an entry; returns the packet's side. */
static __always_inline int bench_canonical(struct bench_tuple *t)
{
	__u32 a;
	__u16 p;

	if (t->saddr < t->daddr || (t->saddr == t->daddr && t->sport <= t->dport))
		return 0;
	a = t->saddr, t->saddr = t->daddr, t->daddr = a;
	p = t->sport, t->sport = t->dport, t->dport = p;
	return 1;
}

/* A bidirectional connection table in an LRU_HASH: lookup, then update or insert. */
SEC("xdp")
int bench_lru_hash(struct xdp_md *ctx)
{
	struct bench_conn fresh = {};
	struct bench_tuple t = {};
	struct bench_conn *c;
	struct bench_dir *d;
	int len, side;
	__u64 now;

	len = bench_parse(ctx, &t);
	if (len < 0)
		return XDP_PASS;
	side = bench_canonical(&t) & 1;
	now = bpf_ktime_get_ns();
	c = bpf_map_lookup_elem(&lru_conns, &t);
	if (c) {
		d = &c->dir[side];
		d->packets++;
		d->bytes += len;
		if (!d->first_ns)
			d->first_ns = now;
		d->last_ns = now;
		return XDP_PASS;
	}
	d = &fresh.dir[side];
	d->packets = 1;
	d->bytes = len;
	d->first_ns = now;
	d->last_ns = now;
	bpf_map_update_elem(&lru_conns, &t, &fresh, BPF_NOEXIST);
	return XDP_PASS;
}
