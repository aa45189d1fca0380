// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The scanner: one pass over the mmapped table per interval.
 *
 * Per slot, a shadow entry remembers which connection the slot held at the
 * last scan and the counters read then. A connection is known by its
 * creation time (its first_ns) and the slot's meta word
 * (in its bucket's index line) less its timeout class: the datapath's 16-bit tag of the key and the
 * slot's reuse sequence, which changes each time the datapath puts a new
 * connection there. The same connection gives exact deltas; any other (a
 * reused slot, even for the same key) counts everything it has, so no
 * delta is ever negative.
 *
 * Flows live in a dense array that an open-addressing index (linear
 * probing, keyed hash) finds by key. A shadow entry points into the array
 * directly, so a slot whose connection did not change costs no hash lookup
 * and no read of the key; and since a new flow takes an entry near its
 * slot's share of the array, the array is read nearly in order. A flow
 * counts the shadow entries pointing to it; one that drops to none goes on
 * a dying list and leaves at the end of the scan unless some later slot of
 * the same scan holds its key again.
 *
 * A flow entry keeps only what the table cannot give back: rates (floats),
 * totals, two hashes of its key and the first of its slots; the slots a
 * key holds are chained through next[]. The key, the counters and the
 * state are read from those slots when a caller asks (ft_scan_read), and
 * the index compares keys the same way: the slot of a flow whose shadow
 * identity still matches the slot's meta word holds the flow's connection,
 * hence its key. A flow none of whose slots does any more (its connection
 * closed, came back to its slot or moved to another since the scan before)
 * is told by its key's second hash.
 *
 * Memory: 44 bytes a slot (shadow, chain) and 4 (dying list, touched only
 * as used), 64 a flow and 10-21 a flow in the index.
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "scan.h"
#include "table.h"

#define FT_NO_FLOW 0xffffffffu
#define FT_NO_SLOT ((1u << 29) - 1) /* and the largest table: FT_MAX_FLOWS / 2 slots */
/* The meta word less the timeout class, which changes with the state. */
#define FT_META_ID(m) ((m)&0xffff00ffu)
#define FT_MAX_FLOWS  (1u << 30) /* twice the largest table the datapath makes */
/*
 * Prefetch distances, in slots. The table is read in order, but the
 * hardware's streamer stops at each 4 KiB page (32 slots), so the scan asks
 * for the table's lines FT_TABLE_AHEAD slots on. Flows and index entries
 * are scattered: asked for FT_AHEAD slots on, once that slot's meta word
 * has arrived and says which are needed. On the benchmark's 1M
 * connections the scan took 37 ms without the table's prefetch, 27 ms with.
 */
#define FT_AHEAD       16
#define FT_TABLE_AHEAD 80
/* First sizes; both double as they fill. */
#define FT_MIN_FLOWS 1024u
/* A new flow looks this many words of the free map either side of its place. */
#define FT_NEAR_WORDS 8
#define FT_MIN_INDEX  2048u

/*
 * 40 bytes a slot: the counters read last time, which exact deltas need
 * whole, and who held the slot. The creation time is kept as 8 bits of its
 * tick, in the meta word's timeout-class byte, which the identity leaves
 * out anyway (see ft_ident): the full time cost 8 bytes a slot for what
 * only tells apart connections that already share the key's tag and a
 * reuse sequence 256 reuses apart.
 */
struct ft_shadow {
	__u64 packets[2];
	__u64 bytes[2];
	__u32 flow; /* FT_NO_FLOW: the slot was free (or unreadable) last time */
	__u32 id;   /* ft_ident(): the key's tag, the slot's reuse sequence, the creation tick */
};

_Static_assert(sizeof(struct ft_shadow) == 40, "a shadow entry is 40 bytes");

/*
 * A flow entry, one cache line: what ranking reads (rates) first, and
 * nothing the table holds. Rates are floats: 8 bytes a flow fewer, and
 * ranking reads them here instead of from a copy.
 */
struct ft_entry {
	float pps[2];
	float bps[2];
	__u64 total_packets[2];
	__u64 total_bytes[2];
	/*
	 * Its key's two hashes: the index's, to leave the index without the
	 * key, and a second, independent one. Both together tell the key, with
	 * odds of 2^-64 against (the seeds are secret), when no slot holds the
	 * flow's connection any more: a connection that came back to its
	 * slot, or moved to another, since the scan before.
	 */
	__u32 hash;
	__u32 hash2;
	__u32 slot : 29; /* the first slot of its chain */
	__u32 rated : 1; /* the rates have been set once */
	__u32 fresh : 1; /* this scan sets the rates instead of smoothing them */
	__u32 dying : 1; /* on the list of flows that lost their last slot */
	__u16 nslots;	 /* shadow entries referring to it; 0: not a flow */
	__u16 gen;	 /* the scan that last added a slot's counters */
};

_Static_assert(sizeof(struct ft_entry) == 64, "a flow entry is a cache line");

/*
 * Views handed out by ft_scan_view until the next scan, in chunks that
 * never move, found by entry through a small open-addressing map.
 */
#define FT_VIEW_CHUNK 256u
struct ft_views {
	struct ft_flow **chunks;
	__u32 nchunks;
	__u32 n;
	__u32 (*map)[2]; /* entry + 1, view; 0: empty */
	__u32 mask;
};

struct ft_index_ent {
	__u32 hash;
	__u32 flow; /* index in flows + 1; 0: empty */
};

struct ft_scan {
	struct ft_shadow *shadow;
	__u32 *next; /* per slot: the next slot of its flow's chain */
	__u32 nr_slots;
	const struct ft_bucket *table; /* the last scan's */
	struct ft_entry *flows;	       /* page-aligned */
	__u32 flows_cap;
	struct ft_views *views;
	__u32 flows_used; /* entries ever handed out; the rest were never touched */
	__u32 nr_flows;	  /* entries in the index */
	/*
	 * Free entries below flows_used: bit i of free_map is flows[i]. A new
	 * flow takes one near its slot's share of the array, so that flows stay
	 * in about the order of their slots and scans read them in order however
	 * many connections come and go (taken at random, as from a free list,
	 * they cost a full table's scan 8 ms once every connection was replaced).
	 */
	__u64 *free_map;
	__u32 map_cap;
	__u32 nr_free;
	__u32 sweep; /* where the search for any free entry goes on */
	/* Flows that lost their last slot in this scan; each slot adds at most one. */
	__u32 *dying;
	__u32 nr_dying;
	struct ft_index_ent *index;
	__u32 index_mask;
	/* Keyed: the keys come from the network, so their hashes must not be guessable. */
	__u32 seed[20];
	__u32 half_life_ms;
	__u16 gen;
	int scanned; /* prev_ms is set */
	__u64 prev_ms;
	/* This scan's rate factors; rate is 0 on the first scan (no interval). */
	int rate;
	double decay;	    /* 1 - alpha = 2^(-dt / half-life) */
	double scale_fresh; /* 1000 / dt: a delta to a rate */
	double scale_ewma;  /* alpha * 1000 / dt */
	int err;
	struct ft_scan_stats st;
};

_Static_assert(sizeof(struct ft_key) == 10 * sizeof(__u32), "the hash reads the key as 10 words");

/*
 * 2^-x for x >= 0, to double precision. A series rather than exp2(): the
 * builds link no libm, and this runs once per scan.
 */
static double ft_exp2_neg(double x)
{
	const double ln2 = 0.69314718055994530942;
	double r = 1, term = 1, y;
	int n;

	if (x > 1100)
		return 0;
	n = (int)x;
	y = (x - n) * ln2; /* in [0, ln 2): the series converges fast */
	for (int i = 1; i < 24; i++) {
		term *= -y / i;
		r += term;
	}
	while (n--)
		r *= 0.5;
	return r;
}

/* NH over the key's ten words (the datapath's scheme), then a final mix. */
static __u32 ft_nh(const __u32 *seed, const struct ft_key *k)
{
	__u32 w[10];
	__u64 h = 0;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 10; i += 2)
		h += (__u64)(__u32)(w[i] + seed[i]) * (__u32)(w[i + 1] + seed[i + 1]);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h >> 32;
}

static __u32 ft_key_hash(const struct ft_scan *s, const struct ft_key *k)
{
	return ft_nh(s->seed, k);
}

/* Another NH, with seeds of its own: independent of ft_key_hash. */
static __u32 ft_key_hash2(const struct ft_scan *s, const struct ft_key *k)
{
	return ft_nh(s->seed + 10, k);
}

static const struct ft_conn *ft_slot_at(const struct ft_bucket *buckets, __u32 j)
{
	return &buckets[j / FT_SLOTS].slot[j % FT_SLOTS];
}

static const __u32 *ft_meta_at(const struct ft_bucket *buckets, __u32 j)
{
	return &buckets[j / FT_SLOTS].meta[j % FT_SLOTS];
}

/* Slot j as ft_ct_read() reads it, its meta word in *meta. */
static int ft_slot_read(const struct ft_bucket *buckets, __u32 j, struct ft_ct *c, __u32 *meta)
{
	int r = ft_ct_read(&buckets[j / FT_SLOTS], j % FT_SLOTS, c);

	*meta = r == 1 ? c->meta : 0;
	return r;
}

/*
 * Slot j's connection, when it is still the one its shadow entry knows:
 * same tag and reuse sequence. 1, or 0 for a slot recycled, freed or
 * changing too fast to read.
 */
static int ft_slot_same(const struct ft_scan *s, __u32 j, struct ft_ct *c)
{
	__u32 m;

	return ft_slot_read(s->table, j, c, &m) == 1 &&
	       FT_META_ID(m) == FT_META_ID(s->shadow[j].id);
}

/*
 * Whether flow idx's key is k (whose index hash matched): read from the
 * first of its slots that still holds its connection, or else told by the
 * second hash.
 */
static int ft_entry_has_key(const struct ft_scan *s, __u32 idx, const struct ft_key *k)
{
	struct ft_ct c;

	for (__u32 j = s->flows[idx].slot; j != FT_NO_SLOT; j = s->next[j])
		if (ft_slot_same(s, j, &c))
			return !memcmp(&c.key, k, sizeof(*k));
	return s->flows[idx].hash2 == ft_key_hash2(s, k);
}

/* The entry holding key, or the empty entry where it would go. */
static struct ft_index_ent *ft_index_lookup(const struct ft_scan *s, const struct ft_key *k,
					    __u32 h)
{
	for (__u32 i = h & s->index_mask;; i = (i + 1) & s->index_mask) {
		struct ft_index_ent *e = &s->index[i];

		if (!e->flow || (e->hash == h && ft_entry_has_key(s, e->flow - 1, k)))
			return e;
	}
}

/*
 * The arrays that grow are mapped directly: they start zeroed and
 * page-aligned, grow in place or move without a copy (mremap), and give
 * their memory back when unmapped, where freed heap blocks of every size
 * they passed through could stay resident.
 */
static void *ft_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void *ft_remap(void *p, size_t old_len, size_t len)
{
	p = mremap(p, old_len, len, MREMAP_MAYMOVE);
	return p == MAP_FAILED ? NULL : p;
}

static void ft_unmap(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* The free map's bytes for n flows (a power of two, at least 64). */
static size_t ft_map_len(__u32 n)
{
	return n / 64 * sizeof(__u64);
}

static size_t ft_index_len(__u32 mask)
{
	return ((size_t)mask + 1) * sizeof(struct ft_index_ent);
}

static int ft_index_grow(struct ft_scan *s)
{
	__u32 cap, mask;
	struct ft_index_ent *n;

	if (s->index_mask + 1 >= 2 * FT_MAX_FLOWS)
		return -E2BIG;
	cap = (s->index_mask + 1) * 2;
	mask = cap - 1;
	n = ft_map(ft_index_len(mask));
	if (!n)
		return -ENOMEM;
	for (__u32 i = 0; i <= s->index_mask; i++) {
		const struct ft_index_ent *e = &s->index[i];
		__u32 j;

		if (!e->flow)
			continue;
		for (j = e->hash & mask; n[j].flow; j = (j + 1) & mask)
			;
		n[j] = *e;
	}
	ft_unmap(s->index, ft_index_len(s->index_mask));
	s->index = n;
	s->index_mask = mask;
	return 0;
}

/*
 * Backward-shift deletion: later entries of the run move into the hole
 * when their home is not between the hole and them, so lookups never meet
 * a gap before their key and no tombstones pile up.
 */
static void ft_index_remove(struct ft_scan *s, struct ft_index_ent *e)
{
	__u32 mask = s->index_mask, i = e - s->index;

	for (__u32 j = (i + 1) & mask; s->index[j].flow; j = (j + 1) & mask) {
		__u32 home = s->index[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->index[i] = s->index[j];
			i = j;
		}
	}
	s->index[i].flow = 0;
}

/* Doubles the flows and their free map. */
static int ft_flows_grow(struct ft_scan *s)
{
	__u32 cap = s->flows_cap * 2;
	struct ft_entry *n;
	__u64 *m;

	if (cap > FT_MAX_FLOWS)
		return -E2BIG;
	if (s->map_cap < cap) {
		m = ft_remap(s->free_map, ft_map_len(s->map_cap), ft_map_len(cap));
		if (!m)
			return -ENOMEM;
		s->free_map = m;
		s->map_cap = cap;
	}
	n = ft_remap(s->flows, (size_t)s->flows_cap * sizeof(*n), (size_t)cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->flows = n;
	s->flows_cap = cap;
	return 0;
}

static __u32 ft_free_bit(struct ft_scan *s, __u32 w)
{
	__u32 b = __builtin_ctzll(s->free_map[w]);

	s->free_map[w] &= ~(1ULL << b);
	s->nr_free--;
	return w * 64 + b;
}

/*
 * A free entry for the flow of a slot (nr_free is not 0): one near the
 * slot's share of the array, or else the next one a sweep finds.
 */
static __u32 ft_free_take(struct ft_scan *s, __u32 slot)
{
	__u32 words = (s->flows_used + 63) / 64;
	__u32 w = (__u64)slot * s->flows_used / s->nr_slots / 64;
	__u32 lo = w > FT_NEAR_WORDS ? w - FT_NEAR_WORDS : 0;
	__u32 hi = w + FT_NEAR_WORDS < words ? w + FT_NEAR_WORDS + 1 : words;

	for (w = lo; w < hi; w++)
		if (s->free_map[w])
			return ft_free_bit(s, w);
	for (;;) {
		w = s->sweep < words ? s->sweep : 0;
		if (s->free_map[w])
			return ft_free_bit(s, w);
		s->sweep = w + 1;
	}
}

/*
 * The flow of key, added when missing; FT_NO_FLOW when it cannot be
 * stored. The flow array may move: pointers into it do not survive.
 */
static __u32 ft_flow_get(struct ft_scan *s, const struct ft_key *k, __u32 slot)
{
	__u32 h = ft_key_hash(s, k), idx;
	struct ft_index_ent *e = ft_index_lookup(s, k, h);
	struct ft_entry *f;

	if (e->flow)
		return e->flow - 1;
	/*
	 * At most three quarters full: runs stay short with 8 entries a cache
	 * line, and a full table's flows (1M in 2M entries), with those that
	 * leave and come within one scan on top, do not double the index.
	 */
	if ((__u64)(s->nr_flows + 1) * 4 > ((__u64)s->index_mask + 1) * 3) {
		if (ft_index_grow(s))
			return FT_NO_FLOW;
		e = ft_index_lookup(s, k, h);
	}
	if (s->nr_free) {
		idx = ft_free_take(s, slot);
	} else {
		if (s->flows_used == s->flows_cap && ft_flows_grow(s))
			return FT_NO_FLOW;
		idx = s->flows_used++;
	}
	f = &s->flows[idx];
	memset(f, 0, sizeof(*f));
	f->slot = FT_NO_SLOT;
	f->hash = h;
	f->hash2 = ft_key_hash2(s, k);
	e->hash = h;
	e->flow = idx + 1;
	s->nr_flows++;
	s->st.new_flows++;
	return idx;
}

/* Slot j no longer holds this flow; the last one puts it on the dying list. */
static void ft_flow_unref(struct ft_scan *s, __u32 idx, __u32 j)
{
	struct ft_entry *f = &s->flows[idx];
	__u32 p;

	if (f->slot == j) {
		f->slot = s->next[j];
	} else {
		for (p = f->slot; s->next[p] != j; p = s->next[p])
			;
		s->next[p] = s->next[j];
	}
	if (--f->nslots || f->dying)
		return;
	f->dying = 1;
	s->dying[s->nr_dying++] = idx;
}

static void ft_prefetch_flow(const struct ft_entry *f)
{
	__builtin_prefetch(f, 1);
}

static void ft_flow_remove(struct ft_scan *s, __u32 idx)
{
	struct ft_entry *f = &s->flows[idx];
	__u32 i = f->hash & s->index_mask;

	/* By entry, not key: the key may be gone from the table. */
	while (s->index[i].flow && s->index[i].flow != idx + 1)
		i = (i + 1) & s->index_mask;
	if (s->index[i].flow) /* always; but never shift entries around a hole */
		ft_index_remove(s, &s->index[i]);
	/* Zero values: ranking compares values before it asks whether a flow is live. */
	memset(f, 0, sizeof(*f));
	s->free_map[idx / 64] |= 1ULL << (idx % 64);
	s->nr_free++;
	s->nr_flows--;
	s->st.gone_flows++;
}

/*
 * End of scan: flows that no slot holds any more leave. Dying flows and
 * their index entries are scattered, so both are prefetched ahead.
 */
static void ft_scan_reap(struct ft_scan *s)
{
	for (__u32 i = 0; i < s->nr_dying; i++) {
		struct ft_entry *f = &s->flows[s->dying[i]];

		if (i + 2 * FT_AHEAD < s->nr_dying)
			ft_prefetch_flow(&s->flows[s->dying[i + 2 * FT_AHEAD]]);
		if (i + FT_AHEAD < s->nr_dying) {
			__u32 g = s->dying[i + FT_AHEAD];

			if (!s->flows[g].nslots)
				__builtin_prefetch(&s->index[s->flows[g].hash & s->index_mask], 1);
		}
		f->dying = 0;
		if (!f->nslots) /* else a later slot held its key again */
			ft_flow_remove(s, s->dying[i]);
	}
	s->nr_dying = 0;
}

static __u64 ft_conn_created(const struct ft_ct *c)
{
	return c->first_ns;
}

/* Who holds a slot: meta less its timeout class, and there the creation tick's low 8 bits. */
static __u32 ft_ident(__u32 meta, const struct ft_ct *c)
{
	return FT_META_ID(meta) | ((__u32)(ft_conn_created(c) >> FT_TICK_SHIFT) & 0xff) << 8;
}

/*
 * The slot holds the connection it held last time: same tag, reuse
 * sequence and creation tick (its low 8 bits), and counters that did not
 * go back (they only do for a connection the other checks could not tell
 * apart: one put there a multiple of 256 reuses later, in a tick a
 * multiple of 256 ms apart, with a key of the same tag).
 */
static int ft_shadow_same(const struct ft_shadow *sh, __u32 meta, const struct ft_ct *c)
{
	if (sh->flow == FT_NO_FLOW || sh->id != ft_ident(meta, c))
		return 0;
	for (int d = 0; d < 2; d++)
		if (c->dir[d].packets < sh->packets[d] || c->dir[d].bytes < sh->bytes[d])
			return 0;
	return 1;
}

static void ft_shadow_release(struct ft_scan *s, struct ft_shadow *sh)
{
	if (sh->flow == FT_NO_FLOW)
		return;
	ft_flow_unref(s, sh->flow, sh - s->shadow);
	sh->flow = FT_NO_FLOW;
}

/* A connection new to this slot: its counters so far are all delta. */
static int ft_shadow_attach(struct ft_scan *s, struct ft_shadow *sh, __u32 meta,
			    const struct ft_ct *c)
{
	__u32 idx, j = sh - s->shadow;

	ft_shadow_release(s, sh);
	idx = ft_flow_get(s, &c->key, j);
	if (idx == FT_NO_FLOW)
		return -ENOMEM;
	s->flows[idx].nslots++;
	s->next[j] = s->flows[idx].slot;
	s->flows[idx].slot = j;
	memset(sh, 0, sizeof(*sh));
	sh->flow = idx;
	sh->id = ft_ident(meta, c);
	s->st.new_slots++;
	return 0;
}

/* The first slot of a flow in this scan: restart the sums, age the rates. */
static void ft_flow_begin(struct ft_scan *s, struct ft_entry *f)
{
	f->gen = s->gen;
	if (!s->rate)
		return;
	/* A flow's first rate is its instantaneous rate, not a climb from 0. */
	f->fresh = !f->rated;
	f->rated = 1;
	for (int d = 0; d < 2; d++) {
		f->pps[d] = f->fresh ? 0 : (float)(f->pps[d] * s->decay);
		f->bps[d] = f->fresh ? 0 : (float)(f->bps[d] * s->decay);
	}
}

/*
 * Adds one slot's counters and deltas. The average is linear in the
 * deltas, so each slot adds its share and a flow needs no second pass:
 * rate = decay * rate + alpha * (sum of deltas) * 1000 / dt.
 */
static void ft_flow_account(struct ft_scan *s, struct ft_shadow *sh, const struct ft_ct *c)
{
	struct ft_entry *f = &s->flows[sh->flow];
	double w;

	if (f->gen != s->gen)
		ft_flow_begin(s, f);
	w = f->fresh ? s->scale_fresh : s->scale_ewma;
	for (int d = 0; d < 2; d++) {
		__u64 dp = c->dir[d].packets - sh->packets[d];
		__u64 db = c->dir[d].bytes - sh->bytes[d];

		f->total_packets[d] += dp;
		f->total_bytes[d] += db;
		if (s->rate) {
			f->pps[d] = (float)(f->pps[d] + w * dp);
			f->bps[d] = (float)(f->bps[d] + w * db);
		}
		sh->packets[d] = c->dir[d].packets;
		sh->bytes[d] = c->dir[d].bytes;
	}
}

static void ft_scan_slot(struct ft_scan *s, const struct ft_bucket *buckets, __u32 j,
			 struct ft_shadow *sh)
{
	struct ft_ct c;
	__u32 m;
	int r = ft_slot_read(buckets, j, &c, &m);

	if (r < 0) {
		/* Keep the shadow: the next scan takes the delta from last time. */
		s->st.torn++;
		return;
	}
	if (!r) {
		ft_shadow_release(s, sh);
		return;
	}
	s->st.slots++;
	if (!ft_shadow_same(sh, m, &c) && ft_shadow_attach(s, sh, m, &c)) {
		s->err = -ENOMEM;
		return;
	}
	ft_flow_account(s, sh, &c);
}

/*
 * Before slot j: the table's lines FT_TABLE_AHEAD slots on (the slot's
 * first line and its bucket's index line), and for the
 * slot FT_AHEAD on, whose meta word is then cached, its flow (the same
 * connection's, or the one it leaves) and, when its connection is new
 * there, the index entry its key needs.
 */
static void ft_scan_prefetch(const struct ft_scan *s, const struct ft_bucket *buckets, __u32 j)
{
	const struct ft_shadow *sh;
	const struct ft_conn *slot;
	__u32 m;

	if (j + FT_TABLE_AHEAD < s->nr_slots) {
		slot = ft_slot_at(buckets, j + FT_TABLE_AHEAD);
		__builtin_prefetch(slot);
		__builtin_prefetch(ft_meta_at(buckets, j + FT_TABLE_AHEAD));
	}
	if (j + FT_AHEAD >= s->nr_slots)
		return;
	slot = ft_slot_at(buckets, j + FT_AHEAD);
	sh = &s->shadow[j + FT_AHEAD];
	m = __atomic_load_n(ft_meta_at(buckets, j + FT_AHEAD), __ATOMIC_RELAXED);
	if (FT_META_TAG(m)) {
		__builtin_prefetch(&slot->dir[0]);
		__builtin_prefetch(&slot->dir[1]);
	}
	if (sh->flow != FT_NO_FLOW)
		ft_prefetch_flow(&s->flows[sh->flow]);
	if (FT_META_TAG(m) && (sh->flow == FT_NO_FLOW || FT_META_ID(sh->id) != FT_META_ID(m)))
		__builtin_prefetch(&s->index[ft_key_hash(s, &slot->key) & s->index_mask]);
}

/* Views kept from one scan to the next, to be reused: callers single out a few flows. */
#define FT_VIEW_KEEP 4u

/* The views of the scan before go; past the first chunks, their memory too. */
static void ft_views_clear(struct ft_views *v)
{
	__u32(*m)[2];

	while (v->nchunks > FT_VIEW_KEEP)
		free(v->chunks[--v->nchunks]);
	if (v->mask + 1 > 2 * FT_VIEW_KEEP * FT_VIEW_CHUNK) {
		m = calloc(2 * FT_VIEW_KEEP * FT_VIEW_CHUNK, sizeof(*m));
		if (m) {
			free(v->map);
			v->map = m;
			v->mask = 2 * FT_VIEW_KEEP * FT_VIEW_CHUNK - 1;
			v->n = 0;
		}
	}
	if (v->n)
		memset(v->map, 0, ((size_t)v->mask + 1) * sizeof(*v->map));
	v->n = 0;
}

static void ft_scan_begin(struct ft_scan *s, __u64 now_ms)
{
	__u64 dt = now_ms - s->prev_ms;

	memset(&s->st, 0, sizeof(s->st));
	s->err = 0;
	ft_views_clear(s->views);
	/* New flows start at gen 0, which a scan never has. */
	if (!++s->gen)
		s->gen = 1;
	s->rate = s->scanned;
	if (!s->rate)
		return;
	s->st.dt_ms = dt;
	s->scale_fresh = 1000.0 / dt;
	s->decay = s->half_life_ms ? ft_exp2_neg((double)dt / s->half_life_ms) : 0;
	s->scale_ewma = (1 - s->decay) * s->scale_fresh;
}

int ft_scan_run(struct ft_scan *s, const struct ft_bucket *buckets, __u32 nr_buckets, __u64 now_ms)
{
	if ((__u64)nr_buckets * FT_SLOTS != s->nr_slots)
		return -EINVAL;
	if (s->scanned && now_ms <= s->prev_ms)
		return -EINVAL;
	ft_scan_begin(s, now_ms);
	s->table = buckets;
	for (__u32 j = 0; j < s->nr_slots; j++) {
		ft_scan_prefetch(s, buckets, j);
		ft_scan_slot(s, buckets, j, &s->shadow[j]);
	}
	ft_scan_reap(s);
	s->st.flows = s->nr_flows;
	s->prev_ms = now_ms;
	s->scanned = 1;
	return s->err;
}

static void ft_views_free(struct ft_views *v)
{
	if (!v)
		return;
	for (__u32 i = 0; i < v->nchunks; i++)
		free(v->chunks[i]);
	free(v->chunks);
	free(v->map);
	free(v);
}

/* The map's slot for entry id: the one holding it, or the empty one where it goes. */
static __u32 (*ft_views_slot(const struct ft_views *v, __u32 id))[2]
{
	for (__u32 i = (id * 0x9e3779b1u) & v->mask;; i = (i + 1) & v->mask)
		if (!v->map[i][0] || v->map[i][0] == id + 1)
			return &v->map[i];
}

/* Room for one more view: the map at most half full, a chunk with space. */
static int ft_views_room(struct ft_views *v)
{
	__u32 cap = v->mask + 1;

	if (v->n % FT_VIEW_CHUNK == 0 && v->n / FT_VIEW_CHUNK == v->nchunks) {
		struct ft_flow **c = realloc(v->chunks, (v->nchunks + 1) * sizeof(*c));

		if (!c)
			return -ENOMEM;
		v->chunks = c;
		c[v->nchunks] = malloc(FT_VIEW_CHUNK * sizeof(**c));
		if (!c[v->nchunks])
			return -ENOMEM;
		v->nchunks++;
	}
	if ((v->n + 1) * 2 > cap) {
		__u32(*old)[2] = v->map, omask = v->mask;

		v->map = calloc((size_t)cap * 2, sizeof(*v->map));
		if (!v->map) {
			v->map = old;
			return -ENOMEM;
		}
		v->mask = cap * 2 - 1;
		for (__u32 i = 0; i <= omask; i++)
			if (old[i][0])
				memcpy(ft_views_slot(v, old[i][0] - 1), old[i], sizeof(old[i]));
		free(old);
	}
	return 0;
}

static __u64 ft_conn_last(const struct ft_ct *c)
{
	return c->dir[0].last_ns > c->dir[1].last_ns ? c->dir[0].last_ns : c->dir[1].last_ns;
}

/* What a slot that still holds the flow's connection tells; the latest seen wins. */
static void ft_view_add(struct ft_flow *f, const struct ft_ct *c, int first)
{
	__u32 created = ft_conn_created(c) >> FT_TICK_SHIFT;
	__u64 last = ft_conn_last(c);

	if (first || (__s32)(created - f->created_tick) < 0)
		f->created_tick = created; /* ticks wrap after 52 days */
	if (!first && last < f->last_ns)
		return;
	f->last_ns = last;
	f->key = c->key;
	f->state = c->state;
	f->verdict = c->verdict;
	f->hw = c->hw;
	f->flags = c->flags;
	f->redirect_ifindex = c->redirect_ifindex;
	f->in_ifindex[0] = c->dir[0].in_ifindex;
	f->in_ifindex[1] = c->dir[1].in_ifindex;
}

/*
 * Callers read flows in the order of their entries (every flow, for the
 * metrics or the offload candidates): what the entries FT_AHEAD on will
 * need, their slot, its meta word and its shadow, is asked for now, and
 * their own lines twice as far on: 1M flows read in 61 ms instead of 101.
 */
static void ft_read_prefetch(const struct ft_scan *s, size_t id)
{
	__u32 j;

	if (id + 2 * FT_AHEAD < s->flows_used)
		__builtin_prefetch(&s->flows[id + 2 * FT_AHEAD]);
	if (id + FT_AHEAD >= s->flows_used)
		return;
	j = s->flows[id + FT_AHEAD].slot;
	if (!s->flows[id + FT_AHEAD].nslots || j == FT_NO_SLOT)
		return;
	__builtin_prefetch(ft_meta_at(s->table, j));
	__builtin_prefetch(ft_slot_at(s->table, j));
	__builtin_prefetch(&ft_slot_at(s->table, j)->dir[0]);
	__builtin_prefetch(&ft_slot_at(s->table, j)->dir[1]);
	__builtin_prefetch(&s->shadow[j]);
}

int ft_scan_read(const struct ft_scan *s, size_t id, struct ft_flow *f)
{
	const struct ft_entry *e;
	struct ft_ct c;
	int live = 0;

	if (id >= s->flows_used)
		return -ENOENT;
	ft_read_prefetch(s, id);
	if (!s->flows[id].nslots)
		return -ENOENT;
	e = &s->flows[id];
	memset(f, 0, sizeof(*f));
	f->id = id;
	for (int d = 0; d < 2; d++) {
		f->pps[d] = e->pps[d];
		f->bps[d] = e->bps[d];
		f->total_packets[d] = e->total_packets[d];
		f->total_bytes[d] = e->total_bytes[d];
	}
	for (__u32 j = e->slot; j != FT_NO_SLOT; j = s->next[j]) {
		const struct ft_shadow *sh = &s->shadow[j];

		for (int d = 0; d < 2; d++) {
			f->packets[d] += sh->packets[d];
			f->bytes[d] += sh->bytes[d];
		}
		if (ft_slot_same(s, j, &c))
			ft_view_add(f, &c, !live++);
	}
	return live ? 0 : -ESTALE;
}

const struct ft_flow *ft_scan_view(const struct ft_scan *s, size_t id)
{
	struct ft_views *v = s->views;
	__u32(*m)[2];
	struct ft_flow *f;

	if (id >= s->flows_used)
		return NULL;
	m = ft_views_slot(v, id);
	if ((*m)[0])
		return &v->chunks[(*m)[1] / FT_VIEW_CHUNK][(*m)[1] % FT_VIEW_CHUNK];
	if (ft_views_room(v))
		return NULL;
	f = &v->chunks[v->n / FT_VIEW_CHUNK][v->n % FT_VIEW_CHUNK];
	if (ft_scan_read(s, id, f))
		return NULL;
	m = ft_views_slot(v, id); /* the map may have grown */
	(*m)[0] = id + 1;
	(*m)[1] = v->n++;
	return f;
}

int ft_scan_new(struct ft_scan **out, __u32 nr_slots, __u32 half_life_ms)
{
	struct ft_scan *s;
	int err = -ENOMEM;
	ssize_t r;

	*out = NULL;
	if (!nr_slots || nr_slots % FT_SLOTS || nr_slots >= FT_NO_SLOT)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->nr_slots = nr_slots;
	s->half_life_ms = half_life_ms;
	s->shadow = malloc((size_t)nr_slots * sizeof(*s->shadow));
	s->next = malloc((size_t)nr_slots * sizeof(*s->next));
	s->dying = malloc((size_t)nr_slots * sizeof(*s->dying));
	s->flows_cap = FT_MIN_FLOWS;
	s->flows = ft_map(FT_MIN_FLOWS * sizeof(*s->flows));
	s->map_cap = FT_MIN_FLOWS;
	s->free_map = ft_map(ft_map_len(FT_MIN_FLOWS));
	s->index_mask = FT_MIN_INDEX - 1;
	s->index = ft_map(ft_index_len(s->index_mask));
	s->views = calloc(1, sizeof(*s->views));
	if (!s->shadow || !s->next || !s->dying || !s->flows || !s->free_map || !s->index ||
	    !s->views)
		goto fail;
	s->views->mask = 63;
	s->views->map = calloc(64, sizeof(*s->views->map));
	if (!s->views->map)
		goto fail;
	for (__u32 i = 0; i < nr_slots; i++)
		s->shadow[i].flow = FT_NO_FLOW;
	r = getrandom(s->seed, sizeof(s->seed), 0);
	if (r != sizeof(s->seed)) {
		err = r < 0 ? -errno : -EIO;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	ft_scan_free(s);
	return err;
}

void ft_scan_free(struct ft_scan *s)
{
	if (!s)
		return;
	free(s->shadow);
	free(s->next);
	free(s->dying);
	ft_unmap(s->flows, (size_t)s->flows_cap * sizeof(*s->flows));
	ft_unmap(s->free_map, ft_map_len(s->map_cap));
	ft_unmap(s->index, ft_index_len(s->index_mask));
	ft_views_free(s->views);
	free(s);
}

const struct ft_scan_stats *ft_scan_stats(const struct ft_scan *s)
{
	return &s->st;
}

size_t ft_scan_count(const struct ft_scan *s)
{
	return s->nr_flows;
}

size_t ft_scan_entries(const struct ft_scan *s)
{
	return s->flows_used;
}

const float *ft_scan_rates(const struct ft_scan *s, size_t *stride)
{
	*stride = sizeof(*s->flows);
	return s->flows[0].pps;
}

const __u64 *ft_scan_totals(const struct ft_scan *s, size_t id)
{
	return s->flows[id].total_packets;
}

void ft_scan_counters(const struct ft_scan *s, int bytes, __u64 *out)
{
	memset(out, 0, (size_t)s->flows_used * 2 * sizeof(*out));
	for (__u32 j = 0; j < s->nr_slots; j++) {
		const struct ft_shadow *sh = &s->shadow[j];

		if (sh->flow == FT_NO_FLOW)
			continue;
		for (int d = 0; d < 2; d++)
			out[2 * sh->flow + d] += bytes ? sh->bytes[d] : sh->packets[d];
	}
}

long ft_scan_lookup(const struct ft_scan *s, const struct ft_key *key)
{
	const struct ft_index_ent *e;

	if (!s->table)
		return -ENOENT;
	e = ft_index_lookup(s, key, ft_key_hash(s, key));
	return e->flow ? (long)e->flow - 1 : -ENOENT;
}

const struct ft_flow *ft_scan_find(const struct ft_scan *s, const struct ft_key *key)
{
	long id = ft_scan_lookup(s, key);

	return id < 0 ? NULL : ft_scan_view(s, id);
}

static void ft_slot_mark(struct ft_bucket *b, int i, __u32 id, __u8 mark, __u32 now_tick)
{
	__u8 hw = mark & FT_MARK_HW ? FT_HW_OFFLOADED : FT_HW_NONE;
	struct ft_conn *c = &b->slot[i];

	/* The datapath may have recycled the slot since the scan. */
	if (FT_META_ID(__atomic_load_n(&b->meta[i], __ATOMIC_ACQUIRE)) != id)
		return;
	if (c->hw != hw)
		c->hw = hw;
	if (mark & FT_MARK_TOUCH)
		__atomic_store_n(&b->last_tick[i], now_tick, __ATOMIC_RELAXED);
}

void ft_scan_mark(const struct ft_scan *s, struct ft_bucket *buckets, const __u8 *marks,
		  __u32 now_tick)
{
	for (__u32 j = 0; j < s->nr_slots; j++) {
		const struct ft_shadow *sh = &s->shadow[j];
		struct ft_conn *c = &buckets[j / FT_SLOTS].slot[j % FT_SLOTS];

		/* An unmarked slot is written only to take it out of hardware. */
		if (sh->flow == FT_NO_FLOW || (!marks[sh->flow] && c->hw == FT_HW_NONE))
			continue;
		ft_slot_mark(&buckets[j / FT_SLOTS], j % FT_SLOTS, FT_META_ID(sh->id),
			     marks[sh->flow], now_tick);
	}
}

size_t ft_scan_memory(const struct ft_scan *s)
{
	const struct ft_views *v = s->views;

	return sizeof(*s) +
	       (size_t)s->nr_slots * (sizeof(*s->shadow) + sizeof(*s->next) + sizeof(*s->dying)) +
	       (size_t)s->flows_cap * sizeof(*s->flows) + ft_map_len(s->map_cap) +
	       ft_index_len(s->index_mask) +
	       (size_t)v->nchunks * FT_VIEW_CHUNK * sizeof(struct ft_flow) +
	       ((size_t)v->mask + 1) * sizeof(*v->map);
}
