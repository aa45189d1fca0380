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

/* What flowtier keeps per flow direction: packets, bytes, last seen. */
struct bench_count {
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct bench_tuple);
	__type(value, __u64);
	__uint(max_entries, BENCH_TABLE_ENTRIES);
} percpu_bare SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct bench_tuple);
	__type(value, struct bench_count);
	__uint(max_entries, BENCH_TABLE_ENTRIES);
} percpu_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct bench_tuple);
	__type(value, struct bench_conn);
	__uint(max_entries, BENCH_TABLE_ENTRIES);
} lru_conns SEC(".maps");

/* The same for two CPUs at once: any CPU may count either direction, atomically. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct bench_tuple);
	__type(value, struct bench_conn);
	__uint(max_entries, BENCH_TABLE_ENTRIES);
} lru_ct_conns SEC(".maps");

/*
 * Rewrites the runner's Ethernet/IPv4/UDP packet (no IP options) into the
 * next flow of the sequence, then runs the program under test: the source
 * of an original packet (from BENCH_SRC_NET), the destination of a reply
 * (from BENCH_DST_ADDR), so that two CPUs running the two packets carry
 * the two directions of the same flows. The IP checksum is left stale:
 * nothing here checks it.
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
	if (ip->saddr == bpf_htonl(BENCH_DST_ADDR)) {
		ip->daddr = bpf_htonl(BENCH_SRC_NET + (idx >> 16));
		udp->dest = bpf_htons(idx & 0xffff);
	} else {
		ip->saddr = bpf_htonl(BENCH_SRC_NET + (idx >> 16));
		udp->source = bpf_htons(idx & 0xffff);
	}
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

/* The floor: one bare packet counter per flow and direction in a PERCPU_HASH. */
SEC("xdp")
int bench_percpu_bare(struct xdp_md *ctx)
{
	struct bench_tuple t = {};
	__u64 one = 1, *v;

	if (bench_parse(ctx, &t) < 0)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&percpu_bare, &t);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&percpu_bare, &t, &one, BPF_NOEXIST);
	return XDP_PASS;
}

/* Packets, bytes and last seen per flow and direction in a PERCPU_HASH: flowtier's work. */
SEC("xdp")
int bench_percpu_hash(struct xdp_md *ctx)
{
	struct bench_count fresh = { .packets = 1 };
	struct bench_tuple t = {};
	struct bench_count *v;
	__u64 now;
	int len;

	len = bench_parse(ctx, &t);
	if (len < 0)
		return XDP_PASS;
	now = bpf_ktime_get_coarse_ns();
	v = bpf_map_lookup_elem(&percpu_counts, &t);
	if (v) {
		v->packets++;
		v->bytes += len;
		v->last_ns = now;
		return XDP_PASS;
	}
	fresh.bytes = len;
	fresh.last_ns = now;
	bpf_map_update_elem(&percpu_counts, &t, &fresh, BPF_NOEXIST);
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

/* The packet's tuple in canonical order, its side in *side; returns its length, or -1. */
static __always_inline int bench_parse_conn(struct xdp_md *ctx, struct bench_tuple *t, int *side)
{
	int len = bench_parse(ctx, t);

	if (len >= 0)
		*side = bench_canonical(t) & 1;
	return len;
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

	len = bench_parse_conn(ctx, &t, &side);
	if (len < 0)
		return XDP_PASS;
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

/*
 * What Cilium does: an LRU_HASH connection table with a canonical key and
 * atomic per-direction counters, so that any CPU may count either
 * direction of any connection.
 */
SEC("xdp")
int bench_lru_ct(struct xdp_md *ctx)
{
	struct bench_conn fresh = {};
	struct bench_tuple t = {};
	struct bench_conn *c;
	struct bench_dir *d;
	int len, side;
	__u64 now;

	len = bench_parse_conn(ctx, &t, &side);
	if (len < 0)
		return XDP_PASS;
	now = bpf_ktime_get_coarse_ns();
	c = bpf_map_lookup_elem(&lru_ct_conns, &t);
	if (c) {
		d = &c->dir[side];
		__sync_fetch_and_add(&d->packets, 1);
		__sync_fetch_and_add(&d->bytes, len);
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
	bpf_map_update_elem(&lru_ct_conns, &t, &fresh, BPF_NOEXIST);
	return XDP_PASS;
}

struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *ctx, struct bpf_sock_tuple *tuple, __u32 tuple__sz,
				  struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
struct nf_conn *bpf_xdp_ct_alloc(struct xdp_md *ctx, struct bpf_sock_tuple *tuple, __u32 tuple__sz,
				 struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
struct nf_conn *bpf_ct_insert_entry(struct nf_conn *nfct) __ksym;
void bpf_ct_set_timeout(struct nf_conn *nfct, __u32 timeout) __ksym;
void bpf_ct_release(struct nf_conn *nfct) __ksym;

/* Milliseconds a kernel conntrack entry of the benchmark lives: past one run, not the next. */
#define BENCH_CT_TIMEOUT_MS 60000

/*
 * The kernel's own conntrack, through its XDP kfuncs: a lookup, or an
 * allocation and insertion on a miss, then the reference released. It
 * keeps no counters of its own here: that is the kernel stack's job.
 */
SEC("xdp")
int bench_kernel_ct(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = BENCH_PROTO_UDP };
	struct bpf_sock_tuple tup = {};
	struct bench_tuple t = {};
	struct nf_conn *ct;

	if (bench_parse(ctx, &t) < 0 || t.proto != BENCH_PROTO_UDP)
		return XDP_PASS;
	tup.ipv4.saddr = t.saddr;
	tup.ipv4.daddr = t.daddr;
	tup.ipv4.sport = t.sport;
	tup.ipv4.dport = t.dport;
	ct = bpf_xdp_ct_lookup(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	if (ct) {
		bpf_ct_release(ct);
		return XDP_PASS;
	}
	opts.error = 0;
	ct = bpf_xdp_ct_alloc(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	if (!ct)
		return XDP_PASS;
	bpf_ct_set_timeout(ct, BENCH_CT_TIMEOUT_MS);
	ct = bpf_ct_insert_entry(ct);
	if (ct)
		bpf_ct_release(ct);
	return XDP_PASS;
}

/*
 * The probes (ft-bench -p): what the memory of a 1M-flow table costs per
 * packet with almost nothing done around it. No timeouts, states, zones,
 * verdicts or statistics: not baselines a user would write, but a measure
 * of how much of flowtier's time the table's accesses themselves take.
 */

/* A flow and its counters in one cache line. */
struct probe_line {
	struct bench_tuple t;
	__u64 packets[2];
	__u64 bytes[2];
	__u64 last_ns[2];
};

/* flowtier's bucket geometry: an index line of 8 tags, then 8 one-line slots. */
struct probe_bucket {
	__u32 tag[8];
	__u32 last_tick[8];
	struct probe_line slot[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct probe_line);
	__uint(max_entries, BENCH_PROBE_LINES);
} probe_lines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct probe_bucket);
	__uint(max_entries, BENCH_PROBE_BUCKETS);
} probe_buckets SEC(".maps");

static __always_inline __u64 probe_hash(const struct bench_tuple *t)
{
	const __u64 *w = (const __u64 *)t;
	__u64 h = (w[0] + 0x243F6A8885A308D3ull) * (w[1] + 0x13198A2E03707344ull);

	h ^= h >> 29;
	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 32);
}

static __always_inline int probe_eq(const struct bench_tuple *a, const struct bench_tuple *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

static __always_inline void probe_count(struct probe_line *l, const struct bench_tuple *t,
					int fresh, int side, int len, __u64 now)
{
	if (fresh) {
		l->t = *t;
		l->packets[0] = l->packets[1] = 0;
		l->bytes[0] = l->bytes[1] = 0;
	}
	l->packets[side]++;
	l->bytes[side] += len;
	l->last_ns[side] = now;
}

/* One line per flow, direct-mapped: a packet reads one line, a collision overwrites it. */
SEC("xdp")
int bench_probe_direct(struct xdp_md *ctx)
{
	struct bench_tuple t = {};
	struct probe_line *l;
	int len, side;
	__u32 i;

	len = bench_parse_conn(ctx, &t, &side);
	if (len < 0)
		return XDP_PASS;
	i = probe_hash(&t) & (BENCH_PROBE_LINES - 1);
	l = bpf_map_lookup_elem(&probe_lines, &i);
	if (l)
		probe_count(l, &t, !probe_eq(&l->t, &t), side, len, bpf_ktime_get_coarse_ns());
	return XDP_PASS;
}

/* Adds slot number base + i for each slot of b tagged tag, without a branch. */
static __always_inline void probe_scan(const struct probe_bucket *b, __u32 tag, __u64 base,
				       __u64 *sum, __u64 *cnt)
{
#pragma unroll
	for (int i = 0; i < 8; i++) {
		__u64 x = b->tag[i] ^ tag;

		asm volatile("" : "+r"(x)); /* or the compiler makes x == 0 a branch */
		x = (x - 1) >> 63;
		*sum += x * (base + i);
		*cnt += x;
	}
}

/* The first free slot of b, else -1. */
static __always_inline int probe_free(const struct probe_bucket *b)
{
#pragma unroll
	for (int i = 0; i < 8; i++) {
		if (!b->tag[i])
			return i;
	}
	return -1;
}

/*
 * Two buckets per flow, as in flowtier: both index lines, then the one
 * slot whose tag matches. A new flow takes a free slot of either bucket,
 * else the home slot of the first.
 */
SEC("xdp")
int bench_probe_2way(struct xdp_md *ctx)
{
	struct probe_bucket *b0, *b1, *b;
	__u64 h, now, sum = 0, cnt = 0;
	struct bench_tuple t = {};
	__u32 n0, n1, tag;
	int len, side, i;

	len = bench_parse_conn(ctx, &t, &side);
	if (len < 0)
		return XDP_PASS;
	now = bpf_ktime_get_coarse_ns();
	h = probe_hash(&t);
	n0 = h & (BENCH_PROBE_BUCKETS - 1);
	n1 = (((h ^ (h >> 31)) * 0xD6E8FEB86659FD93ull) >> 40) & (BENCH_PROBE_BUCKETS - 1);
	tag = (h >> 48) | 1;
	b0 = bpf_map_lookup_elem(&probe_buckets, &n0);
	b1 = bpf_map_lookup_elem(&probe_buckets, &n1);
	if (!b0 || !b1)
		return XDP_PASS;
	probe_scan(b0, tag, 0, &sum, &cnt);
	probe_scan(b1, tag, 8, &sum, &cnt);
	if (cnt == 1) {
		n0 ^= (n0 ^ n1) & -(__u32)(sum >> 3);
		b = bpf_map_lookup_elem(&probe_buckets, &n0);
		i = sum & 7;
		if (b && probe_eq(&b->slot[i].t, &t)) {
			probe_count(&b->slot[i], &t, 0, side, len, now);
			b->last_tick[i] = now >> 20;
			return XDP_PASS;
		}
	}
	b = b0;
	i = probe_free(b0);
	if (i < 0) {
		b = b1;
		i = probe_free(b1);
	}
	if (i < 0) {
		b = b0;
		i = (h >> 32) & 7;
	}
	i &= 7;
	b->tag[i] = tag;
	probe_count(&b->slot[i], &t, 1, side, len, now);
	b->last_tick[i] = now >> 20;
	return XDP_PASS;
}
