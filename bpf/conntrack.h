/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The connection table: one mmapable array of buckets that every CPU
 * shares, one entry per connection whatever CPUs carry its packets.
 *
 * Each direction of a connection has a cache line of its own, written per
 * packet only by the CPU that owns the direction (the first to count it),
 * so a packet of a known connection on that CPU takes no lock and no
 * atomic operation. A packet on any other CPU adds to the direction's
 * shared counters atomically. Everything else another CPU writes is an
 * event: creating, freeing, a state change, a new TCP flag, a verdict
 * after a rule change, the index line's last-seen tick at most once per
 * tick. The README's "Across CPUs" says who writes which word, and why
 * each handover is safe.
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

/* Tries at a bucket's creation lock before a creator goes ahead without it. */
#define FT_LOCK_SPINS 512

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
	__u16 cpu;	  /* this CPU + 1, as owner words hold it */
	/* Where the connection may live and where it was found (the full path's). */
	__u32 idx[2]; /* its two buckets */
	__u32 tag;
	__u32 home;
	__u32 w;    /* which of the two holds it */
	__u32 slot; /* its slot there */
	__u32 meta; /* the slot's meta word when found */
	__u32 pad;
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

/*
 * Ticks since last. Another CPU may have stored a tick later than the one
 * this packet read the clock at: a tick up to FT_AHEAD_TICKS ahead is age
 * 0, not a wrapped age of 52 days. Otherwise unsigned: a slot not seen for
 * 52 days reads young again only for one timeout.
 */
#define FT_AHEAD_TICKS 65536

static __always_inline __u32 ft_age(__u32 now, __u32 last)
{
	return last - now < FT_AHEAD_TICKS ? 0 : now - last;
}

static __always_inline int ft_stale(const struct ft_timeouts *to, __u32 meta, __u32 last, __u32 now,
				    __u32 grace)
{
	return ft_age(now, last) > ft_timeout_ticks(to, FT_META_CLASS(meta)) + grace;
}

static __always_inline void ft_zone_uncount(__u32 zone)
{
	struct ft_zone *z = bpf_map_lookup_elem(&ft_zones, &zone);

	if (z)
		__sync_fetch_and_add(&z->count, -1);
}

/*
 * Frees live slot i if its meta is still m; returns 1 when this caller
 * freed it. Only for entries no CPU can still be writing: stale past the
 * grace, since no CPU counts into an entry it finds stale.
 */
static __always_inline int ft_slot_free(struct ft_bucket *b, __u32 i, __u32 m)
{
	__u32 zone;

	i &= FT_SLOTS - 1;
	zone = b->slot[i].key.zone;
	if (__sync_val_compare_and_swap(&b->meta[i], m, FT_META(0, 0, FT_META_SEQ(m))) != m)
		return 0;
	ft_zone_uncount(zone);
	return 1;
}

/*
 * Takes live slot i (meta m) out of every search by marking it claimed;
 * returns 1 when this CPU did. The zone gets the connection's place back.
 */
static __always_inline int ft_slot_claim_live(struct ft_bucket *b, __u32 i, __u32 m)
{
	__u32 zone;

	i &= FT_SLOTS - 1;
	zone = b->slot[i].key.zone;
	if (__sync_val_compare_and_swap(&b->meta[i], m,
					FT_META(0, FT_CLASS_CLAIMED, FT_META_SEQ(m))) != m)
		return 0;
	ft_zone_uncount(zone);
	return 1;
}

/*
 * Whether only this CPU can be writing slot s: every owned direction is
 * this CPU's and no other CPU ever counted there. Read after the meta word
 * was swapped: a CPU that became an owner or a foreign counter later sees
 * the swap and backs off (ft_dir_role).
 */
static __always_inline int ft_slot_mine(const struct ft_conn *s, __u16 cpu)
{
#pragma unroll
	for (int d = 0; d < 2; d++) {
		const struct ft_owner *o = &s->dir[d].owner;

		if (o->flags & (FT_OWN_PENDING | FT_OWN_SHARED))
			return 0;
		if (o->cpu && o->cpu != cpu)
			return 0;
	}
	return 1;
}

/*
 * After ft_slot_claim_live: 1 when the slot may be reused at once. Else it
 * becomes a tombstone, free FT_GRACE_TICKS from now; its age is written
 * before the meta word that makes it one.
 */
static __always_inline int ft_slot_settle(struct ft_bucket *b, __u32 i, __u32 seq,
					  const struct ft_ctx *c)
{
	i &= FT_SLOTS - 1;
	if (ft_slot_mine(&b->slot[i], c->cpu))
		return 1;
	b->last_tick[i] = c->now_tick;
	/* A plain store: nobody swaps a claimed slot's meta word, and x86 keeps stores in order. */
	*(volatile __u32 *)&b->meta[i] = FT_META(0, FT_CLASS_TOMB, seq);
	return 0;
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
		    ft_stale(to, m, b->last_tick[i], sw->now_tick, FT_GRACE_TICKS) &&
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
		.total = cfg->buckets,
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
	__u32 free_meta; /* the free slot's meta word, which claiming it swaps */
	int busy;	 /* slots being written, or tombstones: free soon */
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

static __always_inline void ft_pick_free(struct ft_pick *pk, int i, __u32 m, __u32 home)
{
	pk->nfree++;
	if (pk->free < 0 || i == (int)home) {
		pk->free = i;
		pk->free_meta = m;
	}
}

/*
 * One pass over the slots: frees entries stale past the grace, finds a
 * free slot, counts the busy ones and picks a victim.
 */
static __always_inline void ft_bucket_pick(struct ft_bucket *b, __u32 home,
					   const struct ft_timeouts *to, const struct ft_ctx *c,
					   struct ft_stats *st, struct ft_pick *pk)
{
	pk->nfree = 0;
	pk->free = -1;
	pk->free_meta = 0;
	pk->busy = 0;
	pk->victim = -1;
	pk->victim_est = 1;
	pk->victim_age = 0;
#pragma unroll
	for (int i = 0; i < FT_SLOTS; i++) {
		__u32 m = b->meta[i];
		__u32 age = ft_age(c->now_tick, b->last_tick[i]);

		if (!FT_META_TAG(m)) {
			if (FT_META_CLASS(m) == FT_CLASS_CLAIMED ||
			    (FT_META_CLASS(m) == FT_CLASS_TOMB && age <= FT_GRACE_TICKS))
				pk->busy++;
			else
				ft_pick_free(pk, i, m, home);
			continue;
		}
		if (ft_stale(to, m, b->last_tick[i], c->now_tick, FT_GRACE_TICKS) &&
		    ft_slot_free(b, i, m)) {
			st->reclaimed[FT_RECLAIM_LOOKUP]++;
			ft_pick_free(pk, i, FT_META(0, 0, FT_META_SEQ(m)), home);
			continue;
		}
		ft_pick_consider(pk, i, FT_META_CLASS(m), age);
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

/* A direction's owner word, for swapping whole. */
static __always_inline __u64 *ft_owner_word(struct ft_dir *d)
{
	return (__u64 *)&d->owner;
}

static __always_inline __u64 ft_owner(__u32 seq, __u32 flags, __u32 cpu, __u32 since)
{
	return (seq & 0xff) | (flags & 0xff) << 8 | (__u64)(cpu & 0xffff) << 16 |
	       (__u64)since << 32;
}

static __always_inline void ft_dir_init(struct ft_dir *d, __u32 seq, __u16 cpu)
{
	__u64 *w = (__u64 *)d;

#pragma unroll
	for (int j = 1; j < (int)(sizeof(*d) / 8); j++)
		w[j] = 0;
	*ft_owner_word(d) = ft_owner(seq, 0, cpu, 0);
}

/*
 * Writes a new connection into claimed slot i and publishes it. The lock
 * word of slot 0 is not touched: it belongs to the bucket, not the slot.
 */
static __always_inline void ft_slot_init(struct ft_bucket *b, __u32 i, __u32 tag, __u32 seq,
					 const struct ft_ctx *c)
{
	__u8 state = ft_initial_state(c);
	__u32 cls = ft_timeout_class(c->key.proto, state);
	struct ft_conn *s;

	i &= FT_SLOTS - 1;
	s = &b->slot[i];
	seq = (seq + 1) & 0xff;
	if (c->tcp_flags & FT_TCP_FIN)
		cls |= 1 << (4 + (c->dir & 1));
	__builtin_memcpy(&s->key, &c->key, sizeof(s->key));
	*(__u64 *)&s->redirect_ifindex = 0;
	*(__u32 *)s->tcp_flags = c->dir ? FT_CONN_ORIG_IS_1 << 16 : 0;
	s->first_ns = c->now_ns;
	ft_dir_init(&s->dir[c->dir & 1], seq, c->cpu);
	ft_dir_init(&s->dir[(c->dir & 1) ^ 1], seq, 0);
	b->last_tick[i] = c->now_tick;
	/*
	 * The tag last: a CPU that sees it sees everything above, since x86
	 * keeps stores in order. A plain store, not an exchange: nobody else
	 * writes a claimed slot's meta word, and a locked operation here would
	 * wait for the slot's three lines to arrive instead of letting the next
	 * packet's misses overlap them.
	 */
	*(volatile __u32 *)&b->meta[i] = FT_META(tag, cls, seq);
}

/* 1 when victim a should go before victim b: not established first, then the oldest. */
static __always_inline int ft_pick_worse(const struct ft_pick *a, const struct ft_pick *b)
{
	if (a->victim_est != b->victim_est)
		return !a->victim_est;
	return a->victim_age >= b->victim_age;
}

/* Claims free slot pk->free of b; 1 when this CPU did. */
static __always_inline int ft_claim_free(struct ft_bucket *b, const struct ft_pick *pk)
{
	__u32 m = pk->free_meta;

	return __sync_val_compare_and_swap(&b->meta[pk->free & (FT_SLOTS - 1)], m,
					   FT_META(0, FT_CLASS_CLAIMED, FT_META_SEQ(m))) == m;
}

/* The array values every step of the full path reads. */
struct ft_vals {
	struct ft_stats *st;
	struct ft_config *cfg;
	struct ft_timeouts *to;
};

/* 0 when all three are there (constant keys: the verifier inlines each lookup). */
static __always_inline int ft_vals_get(struct ft_vals *v)
{
	__u32 zero = 0;

	v->st = bpf_map_lookup_elem(&ft_stats, &zero);
	v->cfg = bpf_map_lookup_elem(&ft_config, &zero);
	v->to = bpf_map_lookup_elem(&ft_timeouts, &zero);
	return v->st && v->cfg && v->to ? 0 : -1;
}

/*
 * Bucket w (0 or 1) of the connection. Looked up again rather than picked
 * from an array of two pointers: the verifier loses a pointer loaded from
 * a stack slot chosen at run time.
 */
static __always_inline struct ft_bucket *ft_bucket_at(const struct ft_ctx *c, __u32 w)
{
	__u32 i = c->idx[w & 1];

	return bpf_map_lookup_elem(&ft_conns, &i);
}

/* The connection's two buckets, from c->idx. */
static __always_inline int ft_buckets_of(const struct ft_ctx *c, struct ft_bucket *bk[2])
{
	__u32 i0 = c->idx[0], i1 = c->idx[1];

	bk[0] = bpf_map_lookup_elem(&ft_conns, &i0);
	bk[1] = bpf_map_lookup_elem(&ft_conns, &i1);
	return bk[0] && bk[1] ? 0 : -1;
}

/*
 * Claims the worse of the two buckets' victims (b's); 1 when it may be
 * reused now. Else it was ended all the same, and turned into a tombstone.
 */
static __always_inline int ft_claim_victim(struct ft_bucket *b, struct ft_pick *pk,
					   const struct ft_ctx *c, struct ft_stats *st, __u32 *seq)
{
	__u32 i = pk->victim & (FT_SLOTS - 1);
	__u32 m = b->meta[i];

	/*
	 * Start the misses on the victim's direction lines now, with its head's:
	 * ft_slot_settle reads them after the swap, which no load may pass.
	 */
	asm volatile("" ::"r"(*(volatile __u8 *)&b->slot[i].dir[0].owner.flags),
		     "r"(*(volatile __u8 *)&b->slot[i].dir[1].owner.flags));
	if (!FT_META_TAG(m) || !ft_slot_claim_live(b, i, m))
		return 0;
	st->evicted[pk->victim_est ? FT_EVICT_LRU : FT_EVICT_NOT_ESTABLISHED]++;
	*seq = FT_META_SEQ(m);
	pk->free = i;
	return ft_slot_settle(b, i, *seq, c);
}

/*
 * The slot a new connection takes, claimed (its index, its bucket in *w
 * and its sequence in *seq); -1 when none can be had now (busy).
 */
static __always_inline int ft_conn_slot(struct ft_pick *pk, const struct ft_ctx *c,
					struct ft_stats *st, __u32 *w, __u32 *seq)
{
	struct ft_bucket *b;

	if (pk[0].nfree || pk[1].nfree) {
		/* The emptier bucket, so that both fill evenly. */
		*w = pk[0].nfree >= pk[1].nfree ? 0 : 1;
		b = ft_bucket_at(c, *w);
		if (!b || !ft_claim_free(b, &pk[*w & 1]))
			return -1;
		*seq = FT_META_SEQ(pk[*w & 1].free_meta);
		return pk[*w & 1].free & (FT_SLOTS - 1);
	}
	/* A slot comes free soon: evict nobody else meanwhile. */
	if (pk[0].busy || pk[1].busy || pk[0].victim < 0)
		return -1;
	*w = ft_pick_worse(&pk[0], &pk[1]) ? 0 : 1;
	b = ft_bucket_at(c, *w);
	if (!b || !ft_claim_victim(b, &pk[*w & 1], c, st, seq))
		return -1;
	return pk[*w & 1].free & (FT_SLOTS - 1);
}

/*
 * Creates the connection, with its first bucket's lock held: in the
 * emptier of its two buckets, else in place of the worse of the two
 * buckets' victims. Returns its slot, with c->w, c->slot and c->meta set;
 * -1 when its zone refuses it (c->refused) or no slot can be had now.
 */
static __always_inline int ft_create(struct ft_ctx *c)
{
	__u32 zero = 0, seq = 0, w = 0;
	struct ft_pick_pair *pp = bpf_map_lookup_elem(&ft_picks, &zero);
	struct ft_bucket *b;
	struct ft_pick *pk;
	struct ft_vals v;
	int slot;

	if (!c || !pp || ft_vals_get(&v))
		return -1;
	pk = pp->pk;
	b = ft_bucket_at(c, 0);
	if (!b)
		return -1;
	ft_bucket_pick(b, c->home, v.to, c, v.st, &pk[0]);
	b = ft_bucket_at(c, 1);
	if (!b)
		return -1;
	if (c->idx[1] != c->idx[0])
		ft_bucket_pick(b, c->home, v.to, c, v.st, &pk[1]);
	else
		pk[1] = pk[0];
	if (!pk[0].nfree && !pk[1].nfree && (pk[0].busy || pk[1].busy)) {
		v.st->insert_failed[FT_FAIL_BUSY]++;
		return -1;
	}
	if (!ft_zone_admit(v.cfg, c, v.st)) {
		c->refused = 1;
		return -1;
	}
	slot = ft_conn_slot(pk, c, v.st, &w, &seq);
	b = ft_bucket_at(c, w);
	if (slot < 0 || !b) {
		ft_zone_uncount(c->key.zone);
		v.st->insert_failed[FT_FAIL_BUSY]++;
		return -1;
	}
	v.st->created++;
	ft_slot_init(b, slot, c->tag, seq, c);
	c->w = w & 1;
	c->slot = slot & (FT_SLOTS - 1);
	c->meta = b->meta[slot & (FT_SLOTS - 1)];
	return slot;
}

/* The class byte after this packet: timeout class and which sides sent a FIN. */
static __always_inline __u32 ft_next_cls(__u32 cls, const struct ft_conn *s, const struct ft_ctx *c)
{
	int orig = s->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;
	int reply = c->dir != orig;
	__u32 fins = (cls >> 4) & 3;
	__u8 st = ft_class_state(cls & 15), next = st;

	if (s->key.proto == FT_IPPROTO_TCP) {
		__u8 f = c->tcp_flags;

		if (f & FT_TCP_FIN)
			fins |= 1 << (c->dir & 1);
		if (f & FT_TCP_RST || st == FT_STATE_CLOSED || fins == 3)
			next = FT_STATE_CLOSED;
		else if (f & FT_TCP_FIN || st == FT_STATE_CLOSING)
			next = FT_STATE_CLOSING;
		else if (st == FT_STATE_SYN_SENT && reply)
			next = FT_STATE_ESTABLISHED;
	} else if (st == FT_STATE_NEW && reply) {
		next = FT_STATE_ESTABLISHED;
	}
	if (next == st && fins == ((cls >> 4) & 3))
		return cls;
	return ft_timeout_class(s->key.proto, next) | fins << 4;
}

/*
 * Moves the state on by compare-and-swap of the meta word, which any CPU
 * may be changing at once: a loser reads it again and applies its packet
 * once more. A slot that changed hands since m fails on its sequence.
 */
static __always_inline void ft_conn_advance(struct ft_bucket *b, __u32 i, __u32 m,
					    const struct ft_ctx *c)
{
	struct ft_conn *s;

	i &= FT_SLOTS - 1;
	s = &b->slot[i];
#pragma unroll
	for (int t = 0; t < 2; t++) {
		__u32 cls = FT_META_CLS(m), next = ft_next_cls(cls, s, c), seen;

		if (next == cls)
			return;
		seen = __sync_val_compare_and_swap(&b->meta[i], m,
						   FT_META(FT_META_TAG(m), next, FT_META_SEQ(m)));
		if (seen == m || FT_META_TAG(seen) != FT_META_TAG(m) ||
		    FT_META_SEQ(seen) != FT_META_SEQ(m))
			return;
		m = seen;
	}
}

/*
 * How this CPU counts direction dir of the connection in slot i (meta m):
 * 1 as its owner, plain stores; 0 in the shared counters, atomically; -1
 * when the slot no longer holds the connection (look again).
 *
 * Becoming an owner or a foreign counter is a compare-and-swap of the
 * owner word followed by a fresh read of the meta word: a CPU freeing the
 * slot swaps the meta word and then reads the owner words, so one of the
 * two sees the other (ft_slot_mine).
 */
static __always_inline int ft_dir_role(struct ft_bucket *b, __u32 i, __u32 m, struct ft_dir *d,
				       const struct ft_ctx *c, struct ft_stats *st)
{
	__u64 *ow = ft_owner_word(d), o = *(volatile __u64 *)ow;
	__u32 seq = FT_META_SEQ(m), flags = (o >> 8) & 0xff, cpu = (o >> 16) & 0xffff;

	i &= FT_SLOTS - 1;
	if ((o & 0xff) != seq)
		return -1;
	if (cpu == c->cpu && !(flags & FT_OWN_PENDING))
		return 1;
	if (!cpu) {
		if (__sync_val_compare_and_swap(ow, o, ft_owner(seq, flags, c->cpu, 0)) != o)
			return -1;
		return b->meta[i] == m ? 1 : -1;
	}
	if (cpu == c->cpu && ft_age(c->now_tick, o >> 32) > FT_GRACE_TICKS) {
		/* A pending move is done: the old owner has had time to finish. */
		if (__sync_val_compare_and_swap(
			    ow, o, ft_owner(seq, flags & ~FT_OWN_PENDING, c->cpu, 0)) != o)
			return -1;
		st->owner_moves++;
		return 1;
	}
	if (!(flags & FT_OWN_SHARED)) {
		flags |= FT_OWN_SHARED;
		if (__sync_val_compare_and_swap(ow, o, ft_owner(seq, flags, cpu, o >> 32)) != o ||
		    b->meta[i] != m)
			return -1;
		o = ft_owner(seq, flags, cpu, o >> 32);
	}
	/* The owner has gone quiet: this CPU takes over once the grace has passed. */
	if (!(flags & FT_OWN_PENDING) &&
	    ft_age(c->now_tick, d->last_ns >> FT_TICK_SHIFT) > FT_GRACE_TICKS)
		__sync_val_compare_and_swap(
			ow, o, ft_owner(seq, flags | FT_OWN_PENDING, c->cpu, c->now_tick));
	return 0;
}

/* Adds the packet to its direction's counters: the owner's, or the shared ones. */
static __always_inline void ft_dir_count(struct ft_dir *d, int owner, const struct ft_ctx *c,
					 struct ft_stats *st)
{
	if (owner) {
		d->packets++;
		d->bytes += c->len;
		d->last_ns = c->now_ns;
	} else {
		__sync_fetch_and_add(&d->shared_packets, 1);
		__sync_fetch_and_add(&d->shared_bytes, c->len);
		d->shared_last_ns = c->now_ns;
		st->foreign++;
	}
	/* The offload manager puts a direction's rule on the device it arrives on. */
	if (c->in_ifindex && d->in_ifindex != c->in_ifindex)
		d->in_ifindex = c->in_ifindex;
}

/* The seen word's bits this packet adds: its TCP flags, the fragment flag. */
static __always_inline __u32 ft_seen_bits(const struct ft_ctx *c)
{
	return (__u32)c->tcp_flags << (8 * (c->dir & 1)) |
	       (c->fragment ? FT_CONN_FRAGMENT << 16 : 0);
}

/* Counts the packet in the live connection of slot i (meta m), as role says. */
static __always_inline void ft_conn_account(struct ft_bucket *b, __u32 i, __u32 m, int role,
					    const struct ft_ctx *c, struct ft_stats *st)
{
	struct ft_conn *s;
	__u32 add = ft_seen_bits(c);

	i &= FT_SLOTS - 1;
	s = &b->slot[i];
	ft_dir_count(&s->dir[c->dir & 1], role, c, st);
	if (c->fragment)
		st->fragments++;
	if ((*(__u32 *)s->tcp_flags & add) != add)
		__sync_fetch_and_or((__u32 *)s->tcp_flags, add);
	ft_conn_advance(b, i, m, c);
	if (b->last_tick[i] != c->now_tick)
		b->last_tick[i] = c->now_tick;
}

/* A SYN on a closed TCP connection opens a new one in its place. */
static __always_inline int ft_reopens(__u32 m, const struct ft_ctx *c)
{
	return FT_META_CLASS(m) == FT_TO_TCP_CLOSED &&
	       (c->tcp_flags & (FT_TCP_SYN | FT_TCP_ACK)) == FT_TCP_SYN;
}

/*
 * A stale entry, or a SYN on a closed TCP connection, ends the connection
 * and starts a new one. Returns 1 when it ended.
 */
static __always_inline int ft_conn_expired(struct ft_bucket *b, __u32 i, __u32 m,
					   const struct ft_timeouts *to, const struct ft_ctx *c,
					   struct ft_stats *st)
{
	int reopen;

	i &= FT_SLOTS - 1;
	if (ft_stale(to, m, b->last_tick[i], c->now_tick, FT_GRACE_TICKS)) {
		if (ft_slot_free(b, i, m))
			st->reclaimed[FT_RECLAIM_REUSE]++;
		return 1;
	}
	reopen = ft_reopens(m, c);
	if (!reopen && !ft_stale(to, m, b->last_tick[i], c->now_tick, 0))
		return 0;
	if (ft_slot_claim_live(b, i, m)) {
		st->reclaimed[reopen ? FT_RECLAIM_TCP_REOPEN : FT_RECLAIM_REUSE]++;
		if (ft_slot_settle(b, i, FT_META_SEQ(m), c))
			b->meta[i] = FT_META(0, 0, FT_META_SEQ(m));
	}
	return 1;
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

/* The two buckets and the home slot of the key, into c. */
static __always_inline void ft_place_of(const struct ft_config *cfg, struct ft_ctx *c)
{
	/* The second bucket comes from a remix, so it is independent of tag and first. */
	__u64 h = c->hash, h2 = (h ^ (h >> 31)) * 0xD6E8FEB86659FD93ull;

	c->idx[0] = ft_fastrange(h, cfg->buckets);
	c->idx[1] = ft_fastrange(h2 >> 32, cfg->buckets);
	c->tag = ft_tag(h);
	c->home = ft_home_of(h);
}

/*
 * The home slot of the packet's connection in its first bucket (the
 * bucket in *bo), when the packet changes nothing there but counters and
 * this CPU owns its direction: live, not stale, no SYN reopening it, its
 * verdict current, no new TCP flag, no state change. -1 sends the packet
 * down the full path, which finds it again.
 */
static __always_inline int ft_home_hit(const struct ft_config *cfg, const struct ft_timeouts *to,
				       const struct ft_ctx *c, struct ft_bucket **bo)
{
	__u32 i = ft_home_of(c->hash), idx = ft_fastrange(c->hash, cfg->buckets), m;
	struct ft_bucket *b = bpf_map_lookup_elem(&ft_conns, &idx);
	struct ft_conn *s;
	__u64 o;

	if (!b || !cfg->buckets)
		return -1;
	s = &b->slot[i];
	m = b->meta[i];
	if (FT_META_TAG(m) != ft_tag(c->hash) || !ft_key_eq(&s->key, &c->key))
		return -1;
	if (ft_stale(to, m, b->last_tick[i], c->now_tick, 0) ||
	    s->rule_gen != (__u16)cfg->rule_gen || ft_reopens(m, c))
		return -1;
	o = *(volatile __u64 *)ft_owner_word(&s->dir[c->dir & 1]);
	if ((o & 0xff) != FT_META_SEQ(m) || ((o >> 16) & 0xffff) != c->cpu ||
	    (o >> 8) & FT_OWN_PENDING)
		return -1;
	if ((*(__u32 *)s->tcp_flags & ft_seen_bits(c)) != ft_seen_bits(c) ||
	    ft_next_cls(FT_META_CLS(m), s, c) != FT_META_CLS(m))
		return -1;
	*bo = b;
	return i;
}

/* The owner's update of a connection ft_home_hit found: plain stores only. */
static __always_inline void ft_home_account(struct ft_bucket *b, __u32 i, const struct ft_ctx *c)
{
	struct ft_dir *d = &b->slot[i & (FT_SLOTS - 1)].dir[c->dir & 1];

	d->packets++;
	d->bytes += c->len;
	d->last_ns = c->now_ns;
	if (c->in_ifindex && d->in_ifindex != c->in_ifindex)
		d->in_ifindex = c->in_ifindex;
	i &= FT_SLOTS - 1;
	if (b->last_tick[i] != c->now_tick)
		b->last_tick[i] = c->now_tick;
}

/*
 * The slot holding the key (its bucket in *w); -1 when neither bucket has
 * it. The second bucket's index line is fetched first, unused, so that its
 * miss overlaps the first bucket's instead of following it.
 */
static __always_inline int ft_conn_lookup(struct ft_bucket *bk[2], const struct ft_ctx *c, __u32 *w)
{
	int slot;

	asm volatile("" ::"r"(*(volatile __u32 *)&bk[1]->meta[0]));
	*w = 0;
	slot = ft_bucket_find(bk[0], &c->key, c->tag, c->home);
	if (slot < 0 && c->idx[1] != c->idx[0]) {
		*w = 1;
		slot = ft_bucket_find(bk[1], &c->key, c->tag, c->home);
	}
	return slot;
}

/*
 * Finds the packet's live connection: 1 with c->w, c->slot and c->meta
 * set, 0 when it must be created (none, or it has just ended: stale, or a
 * SYN reopening a closed one).
 */
static __always_inline int ft_find(struct ft_ctx *c)
{
	struct ft_bucket *bk[2], *b;
	struct ft_vals v;
	__u32 w, m;
	int slot;

	if (!c || ft_vals_get(&v) || ft_buckets_of(c, bk))
		return 0;
	slot = ft_conn_lookup(bk, c, &w);
	if (slot < 0)
		return 0;
	b = ft_bucket_at(c, w);
	if (!b)
		return 0;
	slot &= FT_SLOTS - 1;
	m = b->meta[slot];
	if (!FT_META_TAG(m) || ft_conn_expired(b, slot, m, v.to, c, v.st))
		return 0;
	c->w = w & 1;
	c->slot = slot;
	c->meta = m;
	return 1;
}

/*
 * Counts the packet in the connection ft_find or ft_create left in c: as
 * the direction's owner or in its shared counters. Returns 1 or 0 (which),
 * -1 when the slot changed hands under this CPU and nothing was counted.
 */
static __always_inline int ft_count(struct ft_ctx *c)
{
	struct ft_bucket *b;
	struct ft_vals v;
	__u32 i;
	int role;

	if (!c || ft_vals_get(&v))
		return -1;
	b = ft_bucket_at(c, c->w);
	if (!b)
		return -1;
	i = c->slot & (FT_SLOTS - 1);
	role = ft_dir_role(b, i, c->meta, &b->slot[i].dir[c->dir & 1], c, v.st);
	if (role < 0)
		return -1;
	ft_conn_account(b, i, c->meta, role, c, v.st);
	return role;
}

struct ft_lock_try {
	__u32 bucket;
	__u16 cpu;
	__u16 held;
};

static long ft_lock_once(__u32 n __attribute__((unused)), void *arg)
{
	struct ft_lock_try *t = arg;
	struct ft_bucket *b = bpf_map_lookup_elem(&ft_conns, &t->bucket);

	if (!b)
		return 1;
	if (*(volatile __u32 *)&b->slot[0].lock == 0 &&
	    __sync_val_compare_and_swap(&b->slot[0].lock, 0, t->cpu) == 0) {
		t->held = 1;
		return 1;
	}
	return 0;
}

/*
 * Takes the creation lock of the key's first bucket, so that two CPUs
 * creating the same connection at once make one entry. Returns 1 when
 * held; after FT_LOCK_SPINS tries (a stalled holder) the creator goes on
 * without it.
 */
static __always_inline int ft_lock(struct ft_bucket *b0, const struct ft_ctx *c,
				   struct ft_stats *st)
{
	struct ft_lock_try t = { .bucket = c->idx[0], .cpu = c->cpu };

	if (__sync_val_compare_and_swap(&b0->slot[0].lock, 0, c->cpu) == 0)
		return 1;
	bpf_loop(FT_LOCK_SPINS, ft_lock_once, &t, 0);
	if (!t.held)
		st->lock_timeouts++;
	return t.held;
}

static __always_inline void ft_unlock(struct ft_bucket *b0, int held)
{
	if (held)
		*(volatile __u32 *)&b0->slot[0].lock = 0; /* a release on x86 */
}

/* ft_find, then ft_count: the slot, -2 when it must be created, -1 when it could not count. */
static __always_inline int ft_find_count(struct ft_ctx *c)
{
	if (!ft_find(c))
		return -2;
	return ft_count(c) < 0 ? -1 : 0;
}

/*
 * Finds or creates the packet's connection and counts the packet.
 * Returns the connection, or NULL when it was refused (zone limit) or no
 * slot could be had; *created tells a new connection.
 */
static __always_inline struct ft_conn *ft_track(const struct ft_config *cfg, struct ft_ctx *c,
						struct ft_stats *st, int *created)
{
	struct ft_bucket *b;
	int r, first, held;

	*created = 0;
	if (!cfg->buckets)
		return NULL;
	ft_place_of(cfg, c);
	first = ft_find_count(c);
	if (first == 0)
		goto found;
	b = ft_bucket_at(c, 0);
	if (!b)
		return NULL;
	held = ft_lock(b, c, st);
	/* Another CPU may have created it since the search: it counts there. */
	r = ft_find_count(c);
	if (r == 0) {
		ft_unlock(b, held);
		if (first == -2)
			st->create_races++;
		goto found;
	}
	if (r == -2)
		r = ft_create(c) < 0 ? -1 : 0;
	else
		st->insert_failed[FT_FAIL_BUSY]++;
	ft_unlock(b, held);
	if (r < 0)
		return NULL;
	*created = 1;
	ft_count(c);
found:
	b = ft_bucket_at(c, c->w);
	return b ? &b->slot[c->slot & (FT_SLOTS - 1)] : NULL;
}

#endif
