/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The connection table: per-CPU parts of one mmapable array of buckets.
 *
 * A CPU only ever writes connections in its own part, so a packet of a
 * known connection takes no lock and no atomic operation. The one
 * exception is the zone sweep, which may reclaim a *stale* entry anywhere;
 * reclaiming always goes through a compare-and-swap on the slot's meta
 * word, so the owner and a sweeper never both free (and uncount) a slot.
 *
 * Every slot's meta word and last_tick sit in its bucket's index line, so
 * a search costs the index line plus the one slot whose tag matches, and
 * picking a victim costs the index lines alone.
 */
#ifndef FT_CONNTRACK_H
#define FT_CONNTRACK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "flowtier/abi.h"
#include "maps.h"
#include "parse.h"

/*
 * A sweeper judging another CPU's slot waits this much past the timeout,
 * so the owner, which reads the same last_tick, already agrees the entry
 * is stale and cannot be refreshing it.
 */
#define FT_SWEEP_GRACE_TICKS 16

/* Where the sweep before a zone refusal resumes; a shared hint, races are harmless. */
__u32 ft_sweep_cursor = 0;
/*
 * The tick of the last sweep: at most one per tick (~1 ms), so a flood
 * into a full zone costs one bounded sweep per millisecond, not per packet.
 */
__u32 ft_sweep_tick = 0;

/* Per-packet working state. */
struct ft_ctx {
	struct ft_key key;
	__u64 hash; /* ft_hash(key) */
	__u64 now_ns;
	__u32 now_tick;
	__u32 len;
	__u8 dir; /* the side of the key that sent this packet */
	__u8 tcp_flags;
	__u8 fragment;
	__u8 refused;	  /* set when the zone limit refused a new connection */
	__u16 in_ifindex; /* ingress hooks: the device it arrived on; egress: 0 */
};

static __always_inline void ft_key_from(__u64 s0, __u64 s1, __u64 d0, __u64 d1, __u32 sport,
					__u32 dport, __u64 rest, struct ft_ctx *c)
{
	__u64 *a0 = (__u64 *)c->key.addr[0], *a1 = (__u64 *)c->key.addr[1];
	__u32 ports;
	int swap;

	/* Any total order works as long as both directions agree on it. */
	if (s0 != d0)
		swap = s0 > d0;
	else if (s1 != d1)
		swap = s1 > d1;
	else
		swap = sport > dport;

	if (swap) {
		a0[0] = d0, a0[1] = d1;
		a1[0] = s0, a1[1] = s1;
		ports = dport | sport << 16;
	} else {
		a0[0] = s0, a0[1] = s1;
		a1[0] = d0, a1[1] = d1;
		ports = sport | dport << 16;
	}
	/*
	 * Ports, proto, family and zone in one store: the hash and the compare
	 * read this word back at once, and a load that spans several smaller
	 * stores waits for them to leave the store buffer (~5 ns each time).
	 */
	*(__u64 *)&c->key.port = ports | rest << 32;
	c->dir = swap;
}

static __always_inline void ft_make_key(const struct ft_pkt *p, __u16 zone, struct ft_ctx *c)
{
	ft_key_from(p->src[0], p->src[1], p->dst[0], p->dst[1], p->sport, p->dport,
		    p->proto | (__u64)p->family << 8 | (__u64)zone << 16, c);
	c->tcp_flags = p->tcp_flags;
	c->fragment = p->fragment;
}

/*
 * NH (as in UMAC) over the key's ten 32-bit words, keyed by the table's
 * random seed: five independent multiplies, so the latency is about one.
 * NH is almost-universal, so without the seed nobody can aim connections
 * at one bucket; the final multiply spreads its bits over tag and index.
 */
static __always_inline __u64 ft_hash(const struct ft_key *k, const struct ft_config *cfg)
{
	const __u32 *w = (const __u32 *)k;
	const __u32 *s = (const __u32 *)cfg->seed;
	__u64 h = 0;

#pragma unroll
	for (int i = 0; i < 10; i += 2)
		h += (__u64)(__u32)(w[i] + s[i]) * (__u32)(w[i + 1] + s[i + 1]);
	h ^= cfg->seed[5];
	h *= 0x9E3779B97F4A7C15ull;
	h ^= h >> 29;
	return h;
}

static __always_inline __u32 ft_tag(__u64 h)
{
	__u32 t = h >> 48;

	return t ? t : 1;
}

/* One branch, not five: the loads can all be in flight at once. */
static __always_inline int ft_key_eq(const struct ft_key *a, const struct ft_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

static __always_inline __u32 ft_timeout_class(__u8 proto, __u8 state)
{
	int est = state == FT_STATE_ESTABLISHED;

	switch (proto) {
	case FT_IPPROTO_TCP:
		if (state == FT_STATE_ESTABLISHED)
			return FT_TO_TCP_ESTABLISHED;
		if (state == FT_STATE_CLOSING)
			return FT_TO_TCP_CLOSING;
		if (state == FT_STATE_CLOSED)
			return FT_TO_TCP_CLOSED;
		return FT_TO_TCP_SYN_SENT;
	case FT_IPPROTO_UDP:
	case FT_IPPROTO_UDPLITE:
		return est ? FT_TO_UDP_ESTABLISHED : FT_TO_UDP_NEW;
	case FT_IPPROTO_ICMP:
	case FT_IPPROTO_ICMPV6:
		return est ? FT_TO_ICMP_ESTABLISHED : FT_TO_ICMP_NEW;
	}
	return est ? FT_TO_OTHER_ESTABLISHED : FT_TO_OTHER_NEW;
}

static __always_inline int ft_class_established(__u32 class)
{
	return class == FT_TO_TCP_ESTABLISHED || class == FT_TO_UDP_ESTABLISHED ||
	       class == FT_TO_ICMP_ESTABLISHED || class == FT_TO_OTHER_ESTABLISHED;
}

static __always_inline __u32 ft_timeout_ticks(const struct ft_timeouts *to, __u32 class)
{
	/* ft_timeouts is 16 words, so masking keeps any class in bounds. */
	__u64 secs = ((const __u32 *)to)[class & 15];

	return (secs * 1000000000ull) >> FT_TICK_SHIFT;
}

/* Unsigned age: a slot not seen for 52 days reads young again only for one timeout. */
static __always_inline int ft_stale(const struct ft_timeouts *to, __u32 meta, __u32 last, __u32 now,
				    __u32 grace)
{
	return now - last > ft_timeout_ticks(to, FT_META_CLASS(meta)) + grace;
}

/* Frees slot i if its meta is still m; returns 1 when this caller freed it. */
static __always_inline int ft_slot_free(struct ft_bucket *b, __u32 i, __u32 m)
{
	struct ft_zone *z;
	__u32 zone;

	i &= FT_SLOTS - 1;
	zone = b->slot[i].key.zone;
	if (__sync_val_compare_and_swap(&b->meta[i], m, FT_META_SEQ(m)) != m)
		return 0;
	z = bpf_map_lookup_elem(&ft_zones, &zone);
	if (z)
		__sync_fetch_and_add(&z->count, -1);
	return 1;
}

struct ft_sweep {
	__u32 now_tick;
	__u32 total;
	__u32 cursor;
	__u32 freed;
};

static long ft_sweep_bucket(__u32 n __attribute__((unused)), void *arg)
{
	struct ft_sweep *sw = arg;
	struct ft_timeouts *to;
	struct ft_bucket *b;
	__u32 idx = sw->cursor;
	__u32 zero = 0;

	sw->cursor = idx + 1 >= sw->total ? 0 : idx + 1;
	b = bpf_map_lookup_elem(&ft_conns, &idx);
	to = bpf_map_lookup_elem(&ft_timeouts, &zero);
	if (!b || !to)
		return 1;
#pragma unroll
	for (int i = 0; i < FT_SLOTS; i++) {
		__u32 m = b->meta[i];

		if (FT_META_TAG(m) &&
		    ft_stale(to, m, b->last_tick[i], sw->now_tick, FT_SWEEP_GRACE_TICKS) &&
		    ft_slot_free(b, i, m))
			sw->freed++;
	}
	return 0;
}

/* Bounded pass over the whole table that frees stale entries of any zone. */
static __always_inline __u32 ft_zone_sweep(const struct ft_config *cfg, struct ft_ctx *c)
{
	struct ft_sweep sw = {
		.now_tick = c->now_tick,
		.total = cfg->nr_cpus * cfg->cpu_buckets,
		.cursor = ft_sweep_cursor,
	};
	__u32 n = cfg->zone_sweep_buckets;

	if (!sw.total)
		return 0;
	if (sw.cursor >= sw.total)
		sw.cursor = 0;
	if (n > sw.total)
		n = sw.total;
	bpf_loop(n, ft_sweep_bucket, &sw, 0);
	ft_sweep_cursor = sw.cursor;
	return sw.freed;
}

/* Counts a new connection in its zone, or refuses it; the count never overshoots. */
static __always_inline int ft_zone_admit(const struct ft_config *cfg, struct ft_ctx *c,
					 struct ft_stats *st)
{
	__u32 zk = c->key.zone;
	struct ft_zone *z = bpf_map_lookup_elem(&ft_zones, &zk);
	__u64 limit, cur;

	if (!z)
		return 0;
	limit = z->limit;
	if (!limit) {
		__sync_fetch_and_add(&z->count, 1);
		return 1;
	}
	if (z->count >= limit && ft_sweep_tick != c->now_tick) {
		ft_sweep_tick = c->now_tick;
		st->zone_sweeps++;
		st->reclaimed[FT_RECLAIM_ZONE_SWEEP] += ft_zone_sweep(cfg, c);
	}
#pragma unroll
	for (int i = 0; i < 4; i++) {
		cur = z->count;
		if (cur >= limit)
			break;
		if (__sync_val_compare_and_swap(&z->count, cur, cur + 1) == cur)
			return 1;
	}
	__sync_fetch_and_add(&z->refused, 1);
	st->insert_failed[FT_FAIL_ZONE_LIMIT]++;
	return 0;
}

/*
 * Where a connection may live: two buckets of the CPU's part, and in each a
 * home slot, which a new connection takes when it is free and a search
 * tries first.
 */
struct ft_place {
	struct ft_bucket *b[2];
	__u32 tag;
	__u32 home;
};

/*
 * The slot of b holding key k, or -1; only a slot whose tag matches is
 * read. The home slot first: most connections sit there, so for a flow
 * seen again and again the branch is predicted, where the position a scan
 * stops at would not be.
 */
static __always_inline int ft_bucket_find(struct ft_bucket *b, const struct ft_key *k, __u32 tag,
					  __u32 home)
{
	home &= FT_SLOTS - 1;
	if (FT_META_TAG(b->meta[home]) == tag && ft_key_eq(&b->slot[home].key, k))
		return home;
#pragma unroll
	for (int i = 0; i < FT_SLOTS; i++) {
		if (i != (int)home && FT_META_TAG(b->meta[i]) == tag &&
		    ft_key_eq(&b->slot[i].key, k))
			return i;
	}
	return -1;
}

/* Eviction rule: not-established before established, then least recently seen. */
struct ft_pick {
	int nfree; /* free slots, stale ones reclaimed by the pick included */
	int free;
	int victim;
	int victim_est;
	__u32 victim_age;
};

struct ft_pick_pair {
	struct ft_pick pk[2];
};

/*
 * Where the pick keeps its state: in a map value rather than on the stack,
 * because the verifier tracks stack values exactly and would explore every
 * combination of free and victim slots over both buckets as its own state.
 * Map memory reads back as unknown values, so those paths merge.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ft_pick_pair);
	__uint(max_entries, 1);
} ft_picks SEC(".maps");

static __always_inline void ft_pick_consider(struct ft_pick *pk, int i, __u32 class, __u32 age)
{
	int est = ft_class_established(class);

	if (pk->victim < 0 || (!est && pk->victim_est) ||
	    (est == pk->victim_est && age > pk->victim_age)) {
		pk->victim = i;
		pk->victim_est = est;
		pk->victim_age = age;
	}
}

/* One pass over the slots: reclaims stale ones, finds a free one and a victim. */
static __always_inline void ft_bucket_pick(struct ft_bucket *b, __u32 home,
					   const struct ft_timeouts *to, const struct ft_ctx *c,
					   struct ft_stats *st, struct ft_pick *pk)
{
	pk->nfree = 0;
	pk->free = -1;
	pk->victim = -1;
	pk->victim_est = 1;
	pk->victim_age = 0;
#pragma unroll
	for (int i = 0; i < FT_SLOTS; i++) {
		__u32 m = b->meta[i];
		__u32 age = c->now_tick - b->last_tick[i];

		if (FT_META_TAG(m)) {
			if (!ft_stale(to, m, b->last_tick[i], c->now_tick, 0) ||
			    !ft_slot_free(b, i, m)) {
				ft_pick_consider(pk, i, FT_META_CLASS(m), age);
				continue;
			}
			st->reclaimed[FT_RECLAIM_LOOKUP]++;
		}
		pk->nfree++;
		if (pk->free < 0 || i == (int)home)
			pk->free = i;
	}
}

static __always_inline __u8 ft_initial_state(const struct ft_ctx *c)
{
	if (c->key.proto != FT_IPPROTO_TCP)
		return FT_STATE_NEW;
	if (c->tcp_flags & FT_TCP_RST)
		return FT_STATE_CLOSED;
	if (c->tcp_flags & FT_TCP_FIN)
		return FT_STATE_CLOSING;
	return FT_STATE_SYN_SENT;
}

static __always_inline void ft_slot_init(struct ft_bucket *b, __u32 i, __u32 tag,
					 const struct ft_ctx *c)
{
	__u8 state = ft_initial_state(c);
	struct ft_conn *s;
	__u32 seq;
	__u64 *w;

	i &= FT_SLOTS - 1;
	s = &b->slot[i];
	w = (__u64 *)s;
	seq = FT_META_SEQ(b->meta[i]) + 1;

#pragma unroll
	for (int j = 0; j < (int)(sizeof(*s) / 8); j++)
		w[j] = 0;
	__builtin_memcpy(&s->key, &c->key, sizeof(s->key));
	s->state = state;
	s->flags = c->dir ? FT_CONN_ORIG_IS_1 : 0;
	b->last_tick[i] = c->now_tick;
	/* meta last: a reader that sees the tag sees the key behind it. */
	b->meta[i] = FT_META(tag, ft_timeout_class(c->key.proto, state), seq & 0xff);
}

/* 1 when victim a should go before victim b: not established first, then the oldest. */
static __always_inline int ft_pick_worse(const struct ft_pick *a, const struct ft_pick *b)
{
	if (a->victim_est != b->victim_est)
		return !a->victim_est;
	return a->victim_age >= b->victim_age;
}

/*
 * Creates the connection: in the emptier of its two buckets, else in
 * place of the worse of the two buckets' victims. Returns its slot and
 * puts its bucket in *bo; -1 when its zone refuses it.
 */
static __always_inline int ft_conn_create(const struct ft_place *pl, const struct ft_config *cfg,
					  const struct ft_timeouts *to, struct ft_ctx *c,
					  struct ft_stats *st, struct ft_bucket **bo)
{
	__u32 zero = 0;
	struct ft_pick_pair *pp = bpf_map_lookup_elem(&ft_picks, &zero);
	struct ft_pick *pk = pp ? pp->pk : NULL;
	struct ft_bucket *b;
	__u32 m;
	int w;

	if (!pk)
		return -1;
	ft_bucket_pick(pl->b[0], pl->home, to, c, st, &pk[0]);
	if (pl->b[1] != pl->b[0])
		ft_bucket_pick(pl->b[1], pl->home, to, c, st, &pk[1]);
	else
		pk[1] = pk[0];
	if (!ft_zone_admit(cfg, c, st)) {
		c->refused = 1;
		return -1;
	}
	if (pk[0].nfree || pk[1].nfree) {
		/* The emptier bucket, so that both fill evenly. */
		w = pk[0].nfree >= pk[1].nfree ? 0 : 1;
	} else {
		w = ft_pick_worse(&pk[0], &pk[1]) ? 0 : 1;
		b = pl->b[w];
		pk[w].free = pk[w].victim & (FT_SLOTS - 1);
		m = b->meta[pk[w].free & (FT_SLOTS - 1)];
		/* Tag 0: a sweeper freed it since the pick, and uncounted it already. */
		if (FT_META_TAG(m))
			ft_slot_free(b, pk[w].free, m);
		st->evicted[pk[w].victim_est ? FT_EVICT_LRU : FT_EVICT_NOT_ESTABLISHED]++;
	}
	st->created++;
	*bo = pl->b[w];
	ft_slot_init(pl->b[w], pk[w].free, pl->tag, c);
	return pk[w].free & (FT_SLOTS - 1);
}

static __always_inline __u8 ft_next_state(struct ft_conn *s, const struct ft_ctx *c)
{
	int orig = s->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;
	int reply = c->dir != orig;
	__u8 st = s->state;

	if (s->key.proto == FT_IPPROTO_TCP) {
		__u8 f = c->tcp_flags;

		if (f & FT_TCP_RST || st == FT_STATE_CLOSED)
			return FT_STATE_CLOSED;
		if ((s->tcp_flags[0] & FT_TCP_FIN) && (s->tcp_flags[1] & FT_TCP_FIN))
			return FT_STATE_CLOSED;
		if (f & FT_TCP_FIN || st == FT_STATE_CLOSING)
			return FT_STATE_CLOSING;
		if (st == FT_STATE_SYN_SENT && reply)
			return FT_STATE_ESTABLISHED;
		return st;
	}
	if (st == FT_STATE_NEW && reply)
		return FT_STATE_ESTABLISHED;
	return st;
}

/* The owner's update of the live connection in slot i of b: plain stores only. */
static __always_inline void ft_conn_account(struct ft_bucket *b, __u32 i, const struct ft_ctx *c,
					    struct ft_stats *st)
{
	struct ft_conn *s = &b->slot[i & (FT_SLOTS - 1)];
	struct ft_dir *d = &s->dir[c->dir & 1];
	__u8 state;

	d->packets++;
	d->bytes += c->len;
	if (!d->first_ns)
		d->first_ns = c->now_ns;
	d->last_ns = c->now_ns;
	i &= FT_SLOTS - 1;
	b->last_tick[i] = c->now_tick;
	if (c->fragment) {
		s->flags |= FT_CONN_FRAGMENT;
		st->fragments++;
	}
	s->tcp_flags[c->dir & 1] |= c->tcp_flags;
	/* The offload manager puts a direction's rule on the device it arrives on. */
	if (c->in_ifindex && s->in_ifindex[c->dir & 1] != c->in_ifindex)
		s->in_ifindex[c->dir & 1] = c->in_ifindex;
	state = ft_next_state(s, c);
	if (state != s->state) {
		__u32 m = b->meta[i];

		s->state = state;
		b->meta[i] = FT_META(FT_META_TAG(m), ft_timeout_class(s->key.proto, state),
				     FT_META_SEQ(m));
	}
}

/* A SYN on a closed TCP connection opens a new one in its place. */
static __always_inline int ft_reopens(const struct ft_conn *s, const struct ft_ctx *c)
{
	return s->state == FT_STATE_CLOSED &&
	       (c->tcp_flags & (FT_TCP_SYN | FT_TCP_ACK)) == FT_TCP_SYN;
}

/* A stale entry, or a SYN on a closed TCP connection, starts a new connection. */
static __always_inline int ft_conn_expired(struct ft_bucket *b, __u32 i,
					   const struct ft_timeouts *to, const struct ft_ctx *c,
					   struct ft_stats *st)
{
	const struct ft_conn *s;
	__u32 m;

	i &= FT_SLOTS - 1;
	s = &b->slot[i];
	m = b->meta[i];
	if (ft_stale(to, m, b->last_tick[i], c->now_tick, 0)) {
		if (ft_slot_free(b, i, m))
			st->reclaimed[FT_RECLAIM_REUSE]++;
		return 1;
	}
	if (ft_reopens(s, c)) {
		if (ft_slot_free(b, i, m))
			st->reclaimed[FT_RECLAIM_TCP_REOPEN]++;
		return 1;
	}
	return 0;
}

/* Maps x onto [0, n) with a multiply and a shift instead of a division. */
static __always_inline __u32 ft_fastrange(__u32 x, __u32 n)
{
	return ((__u64)x * n) >> 32;
}

static __always_inline __u32 ft_home_of(__u64 h)
{
	return (h >> 32) & (FT_SLOTS - 1);
}

/* The key's first bucket in this CPU's part. */
static __always_inline struct ft_bucket *ft_first_bucket(const struct ft_config *cfg, __u32 cpu,
							 __u64 h)
{
	__u32 i0 = cpu * cfg->cpu_buckets + ft_fastrange(h, cfg->cpu_buckets);

	return bpf_map_lookup_elem(&ft_conns, &i0);
}

/* The two buckets and the home slot of a key, in this CPU's part. */
static __always_inline int ft_place_of(const struct ft_config *cfg, __u64 h, struct ft_place *pl)
{
	__u32 cpu = bpf_get_smp_processor_id();
	/* The second bucket comes from a remix, so it is independent of tag and first. */
	__u64 h2 = (h ^ (h >> 31)) * 0xD6E8FEB86659FD93ull;
	__u32 i1 = cpu * cfg->cpu_buckets + ft_fastrange(h2 >> 32, cfg->cpu_buckets);

	if (cpu >= cfg->nr_cpus)
		return -1;
	pl->tag = ft_tag(h);
	pl->home = ft_home_of(h);
	pl->b[0] = ft_first_bucket(cfg, cpu, h);
	pl->b[1] = bpf_map_lookup_elem(&ft_conns, &i1);
	return pl->b[0] && pl->b[1] ? 0 : -1;
}

/*
 * The home slot of the packet's connection in its first bucket (the
 * bucket in *bo), when the packet changes nothing there but counters:
 * live, not a SYN reopening it, its verdict current. -1 sends the packet
 * down the full path, which finds it again.
 */
static __always_inline int ft_home_hit(const struct ft_config *cfg, const struct ft_timeouts *to,
				       const struct ft_ctx *c, struct ft_bucket **bo)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u32 i = ft_home_of(c->hash), m;
	struct ft_bucket *b;
	struct ft_conn *s;

	if (cpu >= cfg->nr_cpus)
		return -1;
	b = ft_first_bucket(cfg, cpu, c->hash);
	if (!b)
		return -1;
	s = &b->slot[i];
	m = b->meta[i];
	if (FT_META_TAG(m) != ft_tag(c->hash) || !ft_key_eq(&s->key, &c->key))
		return -1;
	if (ft_stale(to, m, b->last_tick[i], c->now_tick, 0) || s->rule_gen != (__u16)cfg->rule_gen)
		return -1;
	if (ft_reopens(s, c))
		return -1;
	*bo = b;
	return i;
}

/*
 * The slot holding key k, its bucket in *bo; -1 when neither bucket has it.
 * The second bucket's index line is fetched first, unused, so that its miss
 * overlaps the first bucket's instead of following it.
 */
static __always_inline int ft_conn_lookup(const struct ft_place *pl, const struct ft_key *k,
					  struct ft_bucket **bo)
{
	int slot;

	asm volatile("" ::"r"(*(volatile __u32 *)&pl->b[1]->meta[0]));
	*bo = pl->b[0];
	slot = ft_bucket_find(pl->b[0], k, pl->tag, pl->home);
	if (slot < 0 && pl->b[1] != pl->b[0]) {
		*bo = pl->b[1];
		slot = ft_bucket_find(pl->b[1], k, pl->tag, pl->home);
	}
	return slot;
}

/*
 * Finds or creates the packet's connection and counts the packet.
 * Returns the connection, or NULL when it was refused (zone limit) or
 * the table has no part for this CPU.
 */
static __always_inline struct ft_conn *ft_track(const struct ft_config *cfg,
						const struct ft_timeouts *to, struct ft_ctx *c,
						struct ft_stats *st, int *created)
{
	struct ft_place pl;
	struct ft_bucket *b;
	int slot;

	*created = 0;
	if (ft_place_of(cfg, c->hash, &pl)) {
		st->insert_failed[FT_FAIL_NO_CPU_PART]++;
		return NULL;
	}
	slot = ft_conn_lookup(&pl, &c->key, &b);
	if (slot >= 0 && !ft_conn_expired(b, slot, to, c, st)) {
		ft_conn_account(b, slot, c, st);
		return &b->slot[slot & (FT_SLOTS - 1)];
	}
	slot = ft_conn_create(&pl, cfg, to, c, st, &b);
	if (slot < 0)
		return NULL;
	*created = 1;
	ft_conn_account(b, slot, c, st);
	return &b->slot[slot & (FT_SLOTS - 1)];
}

#endif
