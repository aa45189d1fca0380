// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The `emu` backend: rules go into the emulated NIC's pinned flow table,
 * counters come out of its per-CPU counter slots.
 *
 * A rule's counters live in a slot of emu_counters that this backend
 * hands out. The NIC finds a rule, then counts into its slot: a program
 * that found the rule just before we deleted it may still count after the
 * delete. Deleting and then reading would lose that packet, and reusing
 * the slot at once would count it for the next rule. So a delete removes
 * the map entries first, then waits until every NIC program that may have
 * found them has returned (updating a map-in-map makes the kernel wait for
 * an RCU grace period, and XDP programs and BPF_PROG_TEST_RUN run under
 * RCU), then reads the final counters and frees the slots. Nothing can
 * count into a slot after that, and a slot is zeroed before it is reused.
 *
 * dump reports counters as they were stats_lag_ms ago, as a NIC that polls
 * its counters does: every dump keeps a snapshot and serves the newest one
 * at least that old. A rule younger than the served snapshot reads 0.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hw_emu.h"
#include "log.h"
#include "pinned.h"
#include "flowtier/emu_nic.h"

#define FT_EMU_SNAPS 16

struct ft_emu_slot {
	int used;	/* 1: flowtier's rule, 2: another's (never reported) */
	__u32 gen;	/* changes with every rule the slot holds */
	__u64 added_ns; /* when the rule was added (the backend's clock) */
	struct ft_hw_rule rule;
};

/* One rule's counters in a snapshot. */
struct ft_emu_sample {
	__u32 gen;
	__u64 packets, bytes, last_ns;
};

struct ft_emu_snap {
	__u64 t_ns;
	struct ft_emu_sample *s; /* one per slot */
};

struct ft_hw_emu {
	struct ft_hw hw;
	struct ft_hw_emu_opts o;
	int flows_fd, counters_fd, sync_fd, sync_inner_fd;
	__u32 slots_n;	/* the NIC's table size */
	__u32 capacity; /* rules this backend lets in */
	__u32 used;	/* slots held */
	__u32 next_gen;
	int nr_cpus;
	struct ft_emu_slot *slots;
	struct ft_emu_counters *pcpu; /* one slot's per-CPU values */
	struct ft_emu_snap snaps[FT_EMU_SNAPS];
	int nsnaps;
};

/* An fd for the NIC's pinned map dir/name, or -errno after saying what to do. */
static int ft_emu_pinned_fd(const char *dir, const char *name)
{
	return ft_pinned_fd_of(dir, name, "is the emulated NIC attached? run 'emu-nic attach'");
}

static __u64 ft_emu_now(const struct ft_hw_emu *e)
{
	struct timespec ts;

	if (e->o.clock_ns)
		return e->o.clock_ns(e->o.clock_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void ft_emu_extack(struct ft_hw_op *op, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ft_emu_extack(struct ft_hw_op *op, int err, const char *fmt, ...)
{
	va_list ap;

	op->err = err;
	va_start(ap, fmt);
	vsnprintf(op->extack, sizeof(op->extack), fmt, ap);
	va_end(ap);
}

/* The NIC's match for one direction of a connection. */
static void ft_emu_key_of(const struct ft_hw_emu *e, const struct ft_hw_rule *r,
			  struct ft_emu_key *k)
{
	int d = r->dir & 1;

	memset(k, 0, sizeof(*k));
	memcpy(k->src, r->key.addr[d], 16);
	memcpy(k->dst, r->key.addr[!d], 16);
	k->sport = r->key.port[d];
	k->dport = r->key.port[!d];
	k->proto = r->key.proto;
	k->family = r->key.family;
	k->ifindex = e->o.ingress_ifindex;
}

/* The manager's rule back from the NIC's entry (a restarted controller adopts it). */
static void ft_emu_rule_of(const struct ft_emu_key *k, const struct ft_emu_rule *v,
			   struct ft_hw_rule *r)
{
	int d = v->dir & 1;

	memset(r, 0, sizeof(*r));
	memcpy(r->key.addr[d], k->src, 16);
	memcpy(r->key.addr[!d], k->dst, 16);
	r->key.port[d] = k->sport;
	r->key.port[!d] = k->dport;
	r->key.proto = k->proto;
	r->key.family = k->family;
	r->key.zone = v->zone;
	r->dir = d;
	r->verdict = v->action == FT_EMU_DROP ? FT_VERDICT_DROP : FT_VERDICT_REDIRECT;
	r->ifindex = v->dev_ifindex;
	r->redirect_ifindex = v->redirect_ifindex;
	r->handle = v->handle;
	r->cookie = v->cookie;
}

/* Sums one slot's per-CPU counters; last_ns is the latest of them. */
static int ft_emu_read_slot(struct ft_hw_emu *e, __u32 slot, struct ft_emu_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(e->counters_fd, &slot, e->pcpu))
		return -errno;
	for (int c = 0; c < e->nr_cpus; c++) {
		sum->packets += e->pcpu[c].packets;
		sum->bytes += e->pcpu[c].bytes;
		if (e->pcpu[c].last_ns > sum->last_ns)
			sum->last_ns = e->pcpu[c].last_ns;
	}
	return 0;
}

static int ft_emu_zero_slot(struct ft_hw_emu *e, __u32 slot)
{
	memset(e->pcpu, 0, e->nr_cpus * sizeof(*e->pcpu));
	return bpf_map_update_elem(e->counters_fd, &slot, e->pcpu, BPF_ANY) ? -errno : 0;
}

/* Returns once no NIC program that started before the call is still running. */
static int ft_emu_wait_programs(struct ft_hw_emu *e)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(e->sync_fd, &zero, &e->sync_inner_fd, BPF_ANY)) {
		pr_err("emulated NIC: cannot wait for its programs: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int ft_emu_handle_taken(const struct ft_hw_emu *e, const struct ft_hw_rule *r)
{
	for (__u32 i = 0; i < e->slots_n; i++) {
		const struct ft_emu_slot *s = &e->slots[i];

		if (s->used == 1 && s->rule.handle == r->handle && s->rule.ifindex == r->ifindex &&
		    s->rule.key.family == r->key.family)
			return 1;
	}
	return 0;
}

static int ft_emu_free_slot(const struct ft_hw_emu *e)
{
	for (__u32 i = 0; i < e->slots_n; i++) {
		if (!e->slots[i].used)
			return i;
	}
	return -1;
}

static int ft_emu_check(const struct ft_hw_emu *e, struct ft_hw_op *op)
{
	const struct ft_hw_rule *r = &op->rule;

	if (r->verdict != FT_VERDICT_DROP && r->verdict != FT_VERDICT_REDIRECT) {
		ft_emu_extack(op, -EOPNOTSUPP, "emulated NIC: only drop and redirect rules");
		return op->err;
	}
	if ((r->key.family != FT_FAMILY_IPV4 && r->key.family != FT_FAMILY_IPV6) ||
	    (r->key.proto != 6 && r->key.proto != 17)) {
		ft_emu_extack(op, -EOPNOTSUPP, "emulated NIC: matches TCP and UDP over IP only");
		return op->err;
	}
	if (r->dir > 1) {
		ft_emu_extack(op, -EINVAL, "emulated NIC: direction %u is not 0 or 1", r->dir);
		return op->err;
	}
	if (ft_emu_handle_taken(e, r)) {
		ft_emu_extack(op, -EEXIST, "emulated NIC: handle %u is taken", r->handle);
		return op->err;
	}
	if (e->used >= e->capacity) {
		ft_emu_extack(op, -ENOSPC, "emulated NIC table full (%u rules)", e->capacity);
		return op->err;
	}
	return 0;
}

static void ft_emu_add_one(struct ft_hw_emu *e, struct ft_hw_op *op)
{
	const struct ft_hw_rule *r = &op->rule;
	struct ft_emu_rule v = {
		.cookie = r->cookie,
		.handle = r->handle,
		.out_ifindex = e->o.out_ifindex,
		.owner = FT_EMU_OWNER_FLOWTIER,
		.dev_ifindex = r->ifindex,
		.redirect_ifindex = r->redirect_ifindex,
		.zone = r->key.zone,
		.dir = r->dir,
		.action = r->verdict == FT_VERDICT_DROP ? FT_EMU_DROP : FT_EMU_REDIRECT,
	};
	struct ft_emu_key k;
	int slot, err;

	op->err = 0;
	op->extack[0] = 0;
	if (ft_emu_check(e, op))
		return;
	slot = ft_emu_free_slot(e);
	if (slot < 0) {
		ft_emu_extack(op, -ENOSPC, "emulated NIC table full (%u rules)", e->capacity);
		return;
	}
	err = ft_emu_zero_slot(e, slot);
	if (err) {
		ft_emu_extack(op, err, "emulated NIC: cannot clear counter slot %d", slot);
		return;
	}
	v.slot = slot;
	ft_emu_key_of(e, r, &k);
	if (bpf_map_update_elem(e->flows_fd, &k, &v, BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST)
			ft_emu_extack(op, err, "emulated NIC: a rule with this match exists");
		else if (err == -E2BIG) /* rules of others filled the table */
			ft_emu_extack(op, -ENOSPC, "emulated NIC table full (%u rules)",
				      e->capacity);
		else
			ft_emu_extack(op, err, "emulated NIC: cannot add the rule: %s",
				      strerror(-err));
		return;
	}
	e->slots[slot] = (struct ft_emu_slot){
		.used = 1, .gen = ++e->next_gen, .added_ns = ft_emu_now(e), .rule = *r
	};
	e->used++;
}

static int ft_emu_add(struct ft_hw *hw, struct ft_hw_op *ops, size_t n)
{
	struct ft_hw_emu *e = (struct ft_hw_emu *)hw;

	for (size_t i = 0; i < n; i++)
		ft_emu_add_one(e, &ops[i]);
	return 0;
}

/* Removes op's rule from the table; returns its slot, or -errno (set in op). */
static int ft_emu_unlink(struct ft_hw_emu *e, struct ft_hw_op *op)
{
	struct ft_emu_key k;
	struct ft_emu_rule v;

	op->err = 0;
	op->extack[0] = 0;
	ft_emu_key_of(e, &op->rule, &k);
	if (bpf_map_lookup_elem(e->flows_fd, &k, &v) || v.owner != FT_EMU_OWNER_FLOWTIER ||
	    v.handle != op->rule.handle || v.dev_ifindex != op->rule.ifindex ||
	    v.slot >= e->slots_n) {
		ft_emu_extack(op, -ENOENT, "emulated NIC: no rule of flowtier's with handle %u",
			      op->rule.handle);
		return op->err;
	}
	if (bpf_map_delete_elem(e->flows_fd, &k)) {
		ft_emu_extack(op, -errno, "emulated NIC: cannot delete handle %u: %s",
			      op->rule.handle, strerror(errno));
		return op->err;
	}
	return v.slot;
}

static __u64 ft_emu_age_ms(__u64 now, __u64 then)
{
	return now > then ? (now - then) / 1000000 : 0;
}

/* The final counters of a slot whose rule is gone, then the slot is free again. */
static void ft_emu_release(struct ft_hw_emu *e, __u32 slot, struct ft_hw_stat *st)
{
	struct ft_emu_slot *s = &e->slots[slot];
	struct ft_emu_counters c;

	if (st && !ft_emu_read_slot(e, slot, &c)) {
		st->rule = s->rule;
		st->packets = c.packets;
		st->bytes = c.bytes;
		st->lastuse_ms = ft_emu_age_ms(ft_emu_now(e), c.packets ? c.last_ns : s->added_ns);
	}
	memset(s, 0, sizeof(*s));
	e->used--;
}

static int ft_emu_del(struct ft_hw *hw, struct ft_hw_op *ops, size_t n, struct ft_hw_stat *final)
{
	struct ft_hw_emu *e = (struct ft_hw_emu *)hw;
	int *slot = calloc(n ? n : 1, sizeof(*slot));
	int err;

	if (!slot)
		return -ENOMEM;
	if (final)
		memset(final, 0, n * sizeof(*final));
	for (size_t i = 0; i < n; i++)
		slot[i] = ft_emu_unlink(e, &ops[i]);
	/* One wait for the whole batch; until it returns no slot may be read or reused. */
	err = ft_emu_wait_programs(e);
	if (err)
		goto out; /* the slots stay taken: unsafe to reuse without the wait */
	for (size_t i = 0; i < n; i++) {
		if (slot[i] >= 0)
			ft_emu_release(e, slot[i], final ? &final[i] : NULL);
	}
out:
	free(slot);
	return err;
}

static void ft_emu_snap_free(struct ft_emu_snap *s)
{
	free(s->s);
	memset(s, 0, sizeof(*s));
}

/* Drops snapshot i, keeping the others in order (oldest first). */
static void ft_emu_snap_drop(struct ft_hw_emu *e, int i)
{
	ft_emu_snap_free(&e->snaps[i]);
	memmove(&e->snaps[i], &e->snaps[i + 1], (e->nsnaps - i - 1) * sizeof(e->snaps[0]));
	e->nsnaps--;
	memset(&e->snaps[e->nsnaps], 0, sizeof(e->snaps[0]));
}

static int ft_emu_snap_take(struct ft_hw_emu *e, __u64 now)
{
	struct ft_emu_snap *sn;
	struct ft_emu_counters c;
	int err;

	if (e->nsnaps == FT_EMU_SNAPS)
		ft_emu_snap_drop(e, 0);
	sn = &e->snaps[e->nsnaps];
	sn->s = calloc(e->slots_n, sizeof(*sn->s));
	if (!sn->s)
		return -ENOMEM;
	sn->t_ns = now;
	for (__u32 i = 0; i < e->slots_n; i++) {
		if (e->slots[i].used != 1)
			continue;
		err = ft_emu_read_slot(e, i, &c);
		if (err) {
			ft_emu_snap_free(sn);
			return err;
		}
		sn->s[i] = (struct ft_emu_sample){ .gen = e->slots[i].gen,
						   .packets = c.packets,
						   .bytes = c.bytes,
						   .last_ns = c.last_ns };
	}
	e->nsnaps++;
	return 0;
}

/*
 * The snapshot to serve at now: the newest one at least lag old, NULL when
 * there is none yet. Older ones are no longer needed. A new snapshot is
 * taken unless the last one is younger than lag/8, which bounds how many
 * are kept.
 */
static int ft_emu_snap_pick(struct ft_hw_emu *e, __u64 now, struct ft_emu_snap **out)
{
	__u64 lag = e->o.stats_lag_ms * 1000000ull;
	int err, pick = -1;

	*out = NULL;
	if (!e->nsnaps || now - e->snaps[e->nsnaps - 1].t_ns >= lag / 8 || !lag) {
		err = ft_emu_snap_take(e, now);
		if (err)
			return err;
	}
	for (int i = 0; i < e->nsnaps; i++) {
		if (e->snaps[i].t_ns + lag <= now)
			pick = i;
	}
	if (pick < 0)
		return 0;
	while (pick-- > 0)
		ft_emu_snap_drop(e, 0);
	*out = &e->snaps[0];
	return 0;
}

static int ft_emu_dump(struct ft_hw *hw, __u32 ifindex,
		       int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx)
{
	struct ft_hw_emu *e = (struct ft_hw_emu *)hw;
	__u64 now = ft_emu_now(e);
	struct ft_emu_snap *sn;
	int err = ft_emu_snap_pick(e, now, &sn);

	for (__u32 i = 0; !err && i < e->slots_n; i++) {
		const struct ft_emu_slot *s = &e->slots[i];
		const struct ft_emu_sample *smp = sn ? &sn->s[i] : NULL;
		struct ft_hw_stat st = { .rule = s->rule };

		if (s->used != 1 || (ifindex && s->rule.ifindex != ifindex))
			continue;
		if (smp && smp->gen == s->gen) {
			st.packets = smp->packets;
			st.bytes = smp->bytes;
		}
		st.lastuse_ms = ft_emu_age_ms(now, st.packets ? smp->last_ns : s->added_ns);
		err = cb(&st, ctx);
	}
	return err;
}

static void ft_emu_close(struct ft_hw *hw)
{
	struct ft_hw_emu *e = (struct ft_hw_emu *)hw;

	if (!e)
		return;
	for (int i = 0; i < e->nsnaps; i++)
		ft_emu_snap_free(&e->snaps[i]);
	if (e->flows_fd >= 0)
		close(e->flows_fd);
	if (e->counters_fd >= 0)
		close(e->counters_fd);
	if (e->sync_fd >= 0)
		close(e->sync_fd);
	if (e->sync_inner_fd >= 0)
		close(e->sync_inner_fd);
	free(e->slots);
	free(e->pcpu);
	free(e);
}

static const struct ft_hw_ops ft_hw_emu_ops = {
	.name = "emu",
	.add = ft_emu_add,
	.del = ft_emu_del,
	.dump = ft_emu_dump,
	.close = ft_emu_close,
};

/* An array of maps of one slot, updated only to make the kernel wait for the programs. */
static int ft_emu_sync_maps(struct ft_hw_emu *e)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	e->sync_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "emu_sync_in", 4, 4, 1, NULL);
	if (e->sync_inner_fd < 0)
		goto fail;
	opts.inner_map_fd = e->sync_inner_fd;
	e->sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "emu_sync", 4, 4, 1, &opts);
	if (e->sync_fd < 0)
		goto fail;
	return 0;
fail:
	pr_err("emulated NIC: cannot create the map that waits for its programs: %s\n",
	       strerror(errno));
	return -errno;
}

/* The table's size, from its map. */
static int ft_emu_geometry(struct ft_hw_emu *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(e->counters_fd, &info, &len))
		return -errno;
	e->slots_n = info.max_entries;
	e->nr_cpus = libbpf_num_possible_cpus();
	if (e->nr_cpus <= 0)
		return e->nr_cpus ? e->nr_cpus : -EINVAL;
	e->slots = calloc(e->slots_n, sizeof(*e->slots));
	e->pcpu = calloc(e->nr_cpus, sizeof(*e->pcpu));
	return e->slots && e->pcpu ? 0 : -ENOMEM;
}

/* Takes in the rules the NIC holds: flowtier's are adopted, others' slots kept aside. */
static int ft_emu_adopt(struct ft_hw_emu *e)
{
	struct ft_emu_key k, next;
	struct ft_emu_rule v;
	void *prev = NULL;

	while (!bpf_map_get_next_key(e->flows_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(e->flows_fd, &k, &v))
			continue; /* deleted meanwhile */
		/* Others' rules may count nowhere; a full table still refuses with E2BIG. */
		if (v.slot >= e->slots_n || e->slots[v.slot].used) {
			if (v.owner == FT_EMU_OWNER_FLOWTIER)
				pr_warn("emulated NIC: rule with handle %u has no counter slot of "
					"its own: not adopted\n",
					v.handle);
			continue;
		}
		e->slots[v.slot].used = v.owner == FT_EMU_OWNER_FLOWTIER ? 1 : 2;
		e->slots[v.slot].gen = ++e->next_gen;
		e->slots[v.slot].added_ns = ft_emu_now(e);
		ft_emu_rule_of(&k, &v, &e->slots[v.slot].rule);
		e->used++;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int ft_emu_capacity(struct ft_hw_emu *e)
{
	if (e->o.capacity > e->slots_n) {
		pr_err("the emulated NIC holds at most %u rules; start its loader with a larger "
		       "--capacity, or ask for %u or fewer\n",
		       e->slots_n, e->slots_n);
		return -EINVAL;
	}
	e->capacity = e->o.capacity ? e->o.capacity : e->slots_n;
	return 0;
}

int ft_hw_emu_open(struct ft_hw **hw, const struct ft_hw_emu_opts *o)
{
	struct ft_hw_emu *e = calloc(1, sizeof(*e));
	int err;

	*hw = NULL;
	if (!e)
		return -ENOMEM;
	e->hw.ops = &ft_hw_emu_ops;
	e->o = *o;
	if (!e->o.pin_dir)
		e->o.pin_dir = FT_EMU_PIN_DIR;
	e->sync_fd = e->sync_inner_fd = -1;
	e->flows_fd = ft_emu_pinned_fd(e->o.pin_dir, FT_EMU_MAP_FLOWS);
	e->counters_fd = ft_emu_pinned_fd(e->o.pin_dir, FT_EMU_MAP_COUNTERS);
	if (e->flows_fd < 0 || e->counters_fd < 0) {
		err = e->flows_fd < 0 ? e->flows_fd : e->counters_fd;
		goto fail;
	}
	err = ft_emu_geometry(e);
	if (!err)
		err = ft_emu_capacity(e);
	if (!err)
		err = ft_emu_sync_maps(e);
	if (!err)
		err = ft_emu_adopt(e);
	if (err)
		goto fail;
	*hw = &e->hw;
	return 0;
fail:
	ft_emu_close(&e->hw);
	return err;
}

__u32 ft_hw_emu_rules(const struct ft_hw *hw)
{
	const struct ft_hw_emu *e = (const struct ft_hw_emu *)hw;
	__u32 n = 0;

	for (__u32 i = 0; i < e->slots_n; i++)
		n += e->slots[i].used == 1;
	return n;
}

__u32 ft_hw_emu_capacity(const struct ft_hw *hw)
{
	return ((const struct ft_hw_emu *)hw)->capacity;
}

int ft_hw_emu_read_stats(const char *pin_dir, struct ft_emu_stats *st)
{
	int n = libbpf_num_possible_cpus(), fd, err = 0;
	struct ft_emu_stats *v;
	__u32 zero = 0;

	memset(st, 0, sizeof(*st));
	if (n <= 0)
		return n ? n : -EINVAL;
	fd = ft_emu_pinned_fd(pin_dir ? pin_dir : FT_EMU_PIN_DIR, FT_EMU_MAP_STATS);
	if (fd < 0)
		return fd;
	v = calloc(n, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, &zero, v)) {
		err = -errno;
		pr_err("cannot read the emulated NIC's counters: %s\n", strerror(errno));
		goto out;
	}
	for (int c = 0; c < n; c++) {
		st->rx += v[c].rx;
		st->dropped += v[c].dropped;
		st->redirected += v[c].redirected;
		st->to_host += v[c].to_host;
		st->no_port += v[c].no_port;
		st->tcp_control += v[c].tcp_control;
		st->unparsed += v[c].unparsed;
	}
out:
	free(v);
	close(fd);
	return err;
}
