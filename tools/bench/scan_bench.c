// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ft-scan-bench: what the controller's interval costs. Scans, merges,
 * rates and ranks a synthetic connection table of 1M live connections,
 * and in the same run reads an equivalent PERCPU_HASH map with
 * bpf_map_lookup_batch, the usual way to read per-CPU flow counters. Also
 * the process's resident memory against the table's size, and the CPU
 * used per 1 s interval with 100k flows. It only prints: a missed target
 * is not an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowtier/abi.h"
#include "log.h"
#include "rank.h"
#include "scan.h"
#include "machine.h"

#define BENCH_CPU	   0
#define BENCH_SLOTS	   (1u << 20) /* the default table: 1M slots, 200 MiB */
#define BENCH_SHARED_EVERY 16	      /* 1 connection in 16 has replies counted on two CPUs */
#define BENCH_HALF_LIFE	   3000
#define BENCH_MAX_ROUNDS   101
#define BENCH_BATCH	   8192 /* per bpf_map_lookup_batch call: the fastest of 1k to 256k */
#define BENCH_BATCH_ROUNDS 3
#define TARGET_MS	   50.0
#define TARGET_VS_BATCH	   10.0
#define TARGET_RSS_X_TABLE 2.0
#define MIB		   (1024.0 * 1024.0)

struct bench_opts {
	__u32 conns;	   /* live connections in the 1M-slot table */
	__u32 small_flows; /* live connections for the CPU-use figure */
	__u32 rounds;	   /* timed intervals; the median is kept */
	__u32 top;	   /* k of the top-K taken every interval */
	__u32 churn_pm;	   /* slots reused by new connections per interval, per mille */
};

/* A synthetic table and the state that advances it from interval to interval. */
struct bench_table {
	struct ft_bucket *buckets;
	__u32 nr_buckets;
	size_t len;
	__u32 live;
	__u32 next_id; /* the next new connection's key */
	__u32 cursor;  /* the next slot churn reuses */
	__u64 now_ms;
};

struct interval {
	double wall_ms; /* scan + top-K */
	double cpu_ms;
	double scan_ms;
	double rank_ms;
};

static double now_ms_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench_pin_cpu(void)
{
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(BENCH_CPU, &set);
	err = sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
	if (err)
		pr_err("cannot pin to CPU %d: %s\n", BENCH_CPU, strerror(-err));
	return err;
}

/* UDP 198.18.x.y:(1024 + id / 65536) -> 198.19.255.254:443, canonical. */
static struct ft_key key_of(__u32 id)
{
	struct ft_key k = { .proto = 17, .family = FT_FAMILY_IPV4 };
	const __u8 src[4] = { 198, 18, (id >> 8) & 0xff, id & 0xff };
	const __u8 dst[4] = { 198, 19, 255, 254 };

	memcpy(k.addr[0], src, 4);
	memcpy(k.addr[1], dst, 4);
	k.port[0] = htons(1024 + (id >> 16));
	k.port[1] = htons(443);
	return k;
}

/* Packets per interval and packet size of a connection: spread, so the ranking has work. */
static __u64 rate_of(__u32 id)
{
	return 1 + (id * 2654435761u) % 1000;
}

static __u64 size_of(__u32 id)
{
	return 64 + id % 1437;
}

static struct ft_conn *bench_slot(struct bench_table *t, __u32 s)
{
	return &t->buckets[s / FT_SLOTS].slot[s % FT_SLOTS];
}

/* Slot s's meta word, in its bucket's index line. */
static __u32 *bench_meta(struct bench_table *t, __u32 s)
{
	return &t->buckets[s / FT_SLOTS].meta[s % FT_SLOTS];
}

/* As ft_slot_init: slot s's connection opened by side 0 at now; meta last. */
static void bench_open(struct bench_table *t, __u32 s, __u32 id)
{
	struct ft_conn *c = bench_slot(t, s);
	__u32 seq = FT_META_SEQ(*bench_meta(t, s)) + 1;

	memset(c, 0, sizeof(*c));
	c->key = key_of(id);
	c->first_ns = t->now_ms * 1000000;
	*bench_meta(t, s) = FT_META(1u + id % 0xfffe, FT_TO_UDP_NEW, seq & 0xff);
}

static __u32 bench_id(const struct ft_conn *c)
{
	return c->key.addr[0][2] << 8 | c->key.addr[0][3] | (ntohs(c->key.port[0]) - 1024) << 16;
}

/*
 * One interval of one connection: its requests on their owner, half as
 * many replies on theirs and, for one connection in BENCH_SHARED_EVERY,
 * one reply more on another CPU (a sender that moved), in the shared
 * counters.
 */
static void bench_count(struct ft_conn *c, __u64 now_ns)
{
	__u32 id = bench_id(c);
	__u64 n = rate_of(id), size = size_of(id);

	c->dir[0].packets += n;
	c->dir[0].bytes += n * size;
	c->dir[0].last_ns = now_ns;
	c->dir[1].packets += n / 2;
	c->dir[1].bytes += n / 2 * 64;
	c->dir[1].last_ns = now_ns;
	if (id % BENCH_SHARED_EVERY == 0) {
		c->dir[1].shared_packets++;
		c->dir[1].shared_bytes += 64;
		c->dir[1].shared_last_ns = now_ns;
	}
}

/* Live slots spread evenly over the table. */
static int bench_table_fill(struct bench_table *t, __u32 live)
{
	__u32 nr_slots = t->nr_buckets * FT_SLOTS;

	t->live = live;
	for (__u32 i = 0; i < live; i++) {
		__u32 s = (__u64)i * nr_slots / live;

		bench_open(t, s, s);
	}
	t->next_id = nr_slots;
	return 0;
}

/* One interval of traffic: every connection counts; churn_pm per mille are replaced. */
static void bench_table_advance(struct bench_table *t, __u32 churn_pm)
{
	__u32 nr_slots = t->nr_buckets * FT_SLOTS;
	__u32 churn = (__u64)t->live * churn_pm / 1000;

	t->now_ms += 1000;
	for (__u32 n = 0; n < churn;) {
		__u32 s = t->cursor;

		/* A stride coprime with the table size visits every slot. */
		t->cursor = (t->cursor + 7919) % nr_slots;
		if (!FT_META_TAG(*bench_meta(t, s)))
			continue;
		bench_open(t, s, t->next_id++);
		n++;
	}
	for (__u32 b = 0; b < t->nr_buckets; b++) {
		for (int i = 0; i < FT_SLOTS; i++) {
			if (FT_META_TAG(t->buckets[b].meta[i]))
				bench_count(&t->buckets[b].slot[i], t->now_ms * 1000000);
		}
	}
}

static int bench_table_new(struct bench_table *t, __u32 live)
{
	memset(t, 0, sizeof(*t));
	t->nr_buckets = BENCH_SLOTS / FT_SLOTS;
	t->len = (size_t)t->nr_buckets * sizeof(struct ft_bucket);
	t->now_ms = 1000;
	/* Page-aligned like the BPF map, so slots sit on cache lines as there. */
	t->buckets = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->buckets == MAP_FAILED) {
		int err = -errno;

		pr_err("cannot map a %zu-byte table: %s\n", t->len, strerror(-err));
		t->buckets = NULL;
		return err;
	}
	return bench_table_fill(t, live);
}

static void bench_table_free(struct bench_table *t)
{
	if (t->buckets)
		munmap(t->buckets, t->len);
	t->buckets = NULL;
}

/* One interval as the controller runs it: scan, then the top K by pps. */
static int bench_interval(struct ft_scan *s, struct bench_table *t, struct ft_ranked *top, __u32 k,
			  struct interval *iv)
{
	double w0 = now_ms_of(CLOCK_MONOTONIC), c0 = now_ms_of(CLOCK_THREAD_CPUTIME_ID), w1;
	int err = ft_scan_run(s, t->buckets, t->nr_buckets, t->now_ms);

	if (err) {
		pr_err("ft_scan_run: %s\n", strerror(-err));
		return err;
	}
	w1 = now_ms_of(CLOCK_MONOTONIC);
	ft_rank_top(s, FT_SORT_PPS, k, top);
	iv->rank_ms = now_ms_of(CLOCK_MONOTONIC) - w1;
	iv->scan_ms = w1 - w0;
	iv->wall_ms = iv->scan_ms + iv->rank_ms;
	iv->cpu_ms = now_ms_of(CLOCK_THREAD_CPUTIME_ID) - c0;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The interval with the median wall time, and the range. */
static void bench_summary(struct interval *iv, __u32 n, struct interval *med, double *min,
			  double *max)
{
	double w[BENCH_MAX_ROUNDS];

	for (__u32 i = 0; i < n; i++)
		w[i] = iv[i].wall_ms;
	qsort(w, n, sizeof(w[0]), cmp_double);
	*min = w[0];
	*max = w[n - 1];
	for (__u32 i = 0; i < n; i++) {
		if (iv[i].wall_ms == w[n / 2]) {
			*med = iv[i];
			return;
		}
	}
}

/* A line of /proc/self/status, in KiB. */
static long status_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

struct scan_result {
	struct interval first; /* every flow new */
	struct interval med;
	double min_ms, max_ms;
	size_t flows;
	struct ft_scan_stats st;
	size_t scan_mem;
	double read_all_ms; /* ft_scan_read of every flow, as metrics and offload do */
	long rss_kib, hwm_kib;
	size_t table_len;
	__u32 live;
};

/*
 * Intervals that replace every connection twice at the churn timed: the
 * scanner keeps flows near their slots' share of its array, and that order
 * settles after the first turnover has scattered the fill's.
 */
static __u32 bench_warm_rounds(const struct bench_opts *o)
{
	return o->churn_pm ? 2 * ((1000 + o->churn_pm - 1) / o->churn_pm) : 0;
}

/*
 * Reads every flow from the table once, in entry order, as the metrics and
 * the offload candidates do: the price of not keeping the slots' fields.
 */
static double bench_read_all(const struct ft_scan *s)
{
	double w0 = now_ms_of(CLOCK_MONOTONIC);
	struct ft_flow v;
	size_t n = ft_scan_entries(s), live = 0;

	for (size_t i = 0; i < n; i++)
		live += !ft_scan_read(s, i, &v);
	if (live != ft_scan_count(s))
		pr_err("read %zu flows of %zu\n", live, ft_scan_count(s));
	return now_ms_of(CLOCK_MONOTONIC) - w0;
}

/* Runs rounds intervals on a table of `live` connections after a first, cold one. */
static int bench_scan(const struct bench_opts *o, __u32 live, struct scan_result *r)
{
	struct interval iv[BENCH_MAX_ROUNDS];
	struct ft_ranked *top = calloc(o->top, sizeof(*top));
	struct bench_table t;
	struct ft_scan *s = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = top ? bench_table_new(&t, live) : -ENOMEM;
	if (err)
		goto out_top;
	err = ft_scan_new(&s, t.nr_buckets * FT_SLOTS, BENCH_HALF_LIFE);
	if (err) {
		pr_err("ft_scan_new: %s\n", strerror(-err));
		goto out;
	}
	bench_table_advance(&t, 0);
	err = bench_interval(s, &t, top, o->top, &r->first);
	/*
	 * A table turns over in the long run: once every connection has been
	 * replaced, flows sit in the order their connections came, no longer in
	 * the order of their slots, and scans read them out of order. The
	 * figures are those of that steady state.
	 */
	for (__u32 i = 0; !err && i < bench_warm_rounds(o); i++) {
		bench_table_advance(&t, o->churn_pm);
		err = bench_interval(s, &t, top, o->top, &iv[0]);
	}
	for (__u32 i = 0; !err && i < o->rounds; i++) {
		bench_table_advance(&t, o->churn_pm);
		err = bench_interval(s, &t, top, o->top, &iv[i]);
	}
	if (err)
		goto out;
	bench_summary(iv, o->rounds, &r->med, &r->min_ms, &r->max_ms);
	r->flows = ft_scan_count(s);
	r->st = *ft_scan_stats(s);
	r->scan_mem = ft_scan_memory(s);
	r->rss_kib = status_kib("VmRSS");
	r->hwm_kib = status_kib("VmHWM");
	r->read_all_ms = bench_read_all(s);
	r->table_len = t.len;
	r->live = t.live;
out:
	ft_scan_free(s);
	bench_table_free(&t);
out_top:
	free(top);
	return err;
}

/* A direction's counters, as a per-CPU map keeps them: packets, bytes, first and last seen. */
struct bench_dir {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;
	__u64 last_ns;
};

/* What a PERCPU_HASH of the same connections holds: one bench_dir per CPU. */
static int bench_hash_fill(int fd, __u32 n, int ncpus)
{
	size_t vsz = sizeof(struct bench_dir) * ncpus;
	struct ft_key *keys = calloc(BENCH_BATCH, sizeof(*keys));
	struct bench_dir *vals = calloc(BENCH_BATCH, vsz);
	int err = keys && vals ? 0 : -ENOMEM;

	for (__u32 base = 0; !err && base < n; base += BENCH_BATCH) {
		__u32 count = n - base < BENCH_BATCH ? n - base : BENCH_BATCH;

		for (__u32 i = 0; i < count; i++) {
			keys[i] = key_of(base + i);
			for (int c = 0; c < ncpus; c++)
				vals[(size_t)i * ncpus + c] =
					(struct bench_dir){ base + i, 64, 1, 2 };
		}
		err = bpf_map_update_batch(fd, keys, vals, &count, NULL) ? -errno : 0;
		if (err)
			pr_err("bpf_map_update_batch: %s\n", strerror(-err));
	}
	free(keys);
	free(vals);
	return err;
}

/* Reads every entry, as a controller built on the map would each interval. */
static int bench_hash_read(int fd, __u32 n, int ncpus, struct ft_key *keys, struct bench_dir *vals,
			   double *ms)
{
	/* The batch position is opaque; a key's size holds any map's. */
	struct ft_key in, out;
	__u32 total = 0;
	double t0 = now_ms_of(CLOCK_MONOTONIC);

	for (void *pos = NULL;; pos = &in) {
		__u32 count = n - total < BENCH_BATCH ? n - total : BENCH_BATCH;
		int err;

		if (!count)
			break;
		err = bpf_map_lookup_batch(fd, pos, &out, keys + total,
					   vals + (size_t)total * ncpus, &count, NULL);
		err = err ? -errno : 0;
		total += count;
		if (err == -ENOENT)
			break; /* the last batch */
		if (err) {
			pr_err("bpf_map_lookup_batch: %s\n", strerror(-err));
			return err;
		}
		in = out;
	}
	*ms = now_ms_of(CLOCK_MONOTONIC) - t0;
	if (total != n) {
		pr_err("bpf_map_lookup_batch read %u entries, not %u\n", total, n);
		return -EPROTO;
	}
	return 0;
}

static int bench_hash(__u32 n, double *ms)
{
	int ncpus = libbpf_num_possible_cpus();
	double t[BENCH_BATCH_ROUNDS];
	struct ft_key *keys = NULL;
	struct bench_dir *vals = NULL;
	int fd, err;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "bench_conns", sizeof(struct ft_key),
			    sizeof(struct bench_dir), n, NULL);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create a PERCPU_HASH of %u entries: %s\n", n, strerror(-err));
		return err;
	}
	err = bench_hash_fill(fd, n, ncpus);
	keys = calloc(n, sizeof(*keys));
	vals = calloc((size_t)n * ncpus, sizeof(*vals));
	if (!err && (!keys || !vals))
		err = -ENOMEM;
	for (int i = 0; !err && i < BENCH_BATCH_ROUNDS; i++)
		err = bench_hash_read(fd, n, ncpus, keys, vals, &t[i]);
	if (!err) {
		qsort(t, BENCH_BATCH_ROUNDS, sizeof(t[0]), cmp_double);
		*ms = t[BENCH_BATCH_ROUNDS / 2];
	}
	free(keys);
	free(vals);
	close(fd);
	return err;
}

static const char *yes_no(int met)
{
	return met ? "yes" : "no";
}

static void print_results(const struct bench_opts *o, const struct scan_result *big,
			  const struct scan_result *small, double batch_ms)
{
	double ratio = batch_ms / big->med.wall_ms;
	double rss = big->rss_kib * 1024.0, table = big->table_len;
	double cpu_pct = small->med.cpu_ms / 1000.0 * 100;

	{
		char how[64];

		snprintf(how, sizeof(how), "one thread pinned to CPU %d", BENCH_CPU);
		bench_print_machine(how);
	}
	printf("Table: %u slots (%.0f MiB), %u live connections, %zu flows; one connection in\n"
	       "       %d has replies counted on two CPUs. Each interval every connection counts\n"
	       "       packets both ways and %.1f%% of them are replaced by new ones; timed after\n"
	       "       %u such intervals, which replaced every one twice.\n"
	       "       Scanner half-life %u ms; top-%u by pps each interval.\n\n",
	       BENCH_SLOTS, table / MIB, big->live, big->flows, BENCH_SHARED_EVERY,
	       o->churn_pm / 10.0, bench_warm_rounds(o), BENCH_HALF_LIFE, o->top);
	printf("Scan + merge + rates + top-%u, per interval, median of %u (min %.1f, max %.1f):\n"
	       "  %.1f ms wall, %.1f ms CPU (scan %.1f ms, top-%u %.1f ms)\n"
	       "  last interval: %u new slots, %u new flows, %u flows gone\n"
	       "  first scan, every flow new: %.1f ms\n"
	       "  every flow read back from the table once (metrics, offload candidates): %.1f "
	       "ms\n",
	       o->top, o->rounds, big->min_ms, big->max_ms, big->med.wall_ms, big->med.cpu_ms,
	       big->med.scan_ms, o->top, big->med.rank_ms, big->st.new_slots, big->st.new_flows,
	       big->st.gone_flows, big->first.wall_ms, big->read_all_ms);
	printf("PERCPU_HASH of %u entries x %d CPUs, bpf_map_lookup_batch of all, %d per call,\n"
	       "  median of %d: %.1f ms\n\n",
	       big->live, libbpf_num_possible_cpus(), BENCH_BATCH, BENCH_BATCH_ROUNDS, batch_ms);
	printf("Resident memory after the intervals: VmRSS %.1f MiB (peak %.1f MiB), of which the\n"
	       "  table %.1f MiB (a mapped BPF table counts the same) and %.1f MiB the rest;\n"
	       "  the scanner allocated %.1f MiB (shadow, chain, flows, index, views), touched or "
	       "not.\n",
	       rss / MIB, big->hwm_kib / 1024.0, table / MIB, (rss - table) / MIB,
	       big->scan_mem / MIB);
	printf("%u flows in the same table: %.2f ms CPU per interval (scan %.2f, top-%u %.2f);\n"
	       "  VmRSS %.1f MiB, scanner %.1f MiB.\n\n",
	       small->live, small->med.cpu_ms, small->med.scan_ms, o->top, small->med.rank_ms,
	       small->rss_kib / 1024.0, small->scan_mem / MIB);
	printf("| target | figure | met? |\n|---|---|---|\n");
	printf("| at most %.0f ms per interval, 1M connections, one core | %.1f ms | %s |\n",
	       TARGET_MS, big->med.wall_ms, yes_no(big->med.wall_ms <= TARGET_MS));
	printf("| at least %.0f x faster than bpf_map_lookup_batch | %.1f x | %s |\n",
	       TARGET_VS_BATCH, ratio, yes_no(ratio >= TARGET_VS_BATCH));
	printf("| resident memory at most %.0f x the table | %.2f x (%.2f x without the table) | "
	       "%s |\n",
	       TARGET_RSS_X_TABLE, rss / table, (rss - table) / table,
	       yes_no(rss <= TARGET_RSS_X_TABLE * table));
	printf("| CPU at a 1 s interval, %u flows (no target) | %.2f%% | - |\n", small->live,
	       cpu_pct);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-n conns] [-f flows] [-r rounds] [-k top] [-c churn] [-v]\n"
		"  -n  live connections in the %u-slot table (default %u)\n"
		"  -f  live connections for the CPU-use figure (default 100000)\n"
		"  -r  timed intervals, median kept (default 11, max %d)\n"
		"  -k  top-K taken each interval (default 100)\n"
		"  -c  slots reused per interval, per mille (default 10)\n"
		"  -v  debug output, libbpf's included\n",
		prog, BENCH_SLOTS, BENCH_SLOTS, BENCH_MAX_ROUNDS);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "n:f:r:k:c:v")) != -1) {
		switch (c) {
		case 'n':
			o->conns = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			o->small_flows = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o->rounds = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			o->top = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			o->churn_pm = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			ft_log_set_level(FT_LOG_DEBUG);
			break;
		default:
			usage(argv[0]);
			return -EINVAL;
		}
	}
	if (!o->conns || o->conns > BENCH_SLOTS || !o->small_flows ||
	    o->small_flows > BENCH_SLOTS || !o->rounds || o->rounds > BENCH_MAX_ROUNDS || !o->top ||
	    o->churn_pm > 1000) {
		usage(argv[0]);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.conns = BENCH_SLOTS,
		.small_flows = 100000,
		.rounds = 11,
		.top = 100,
		.churn_pm = 10,
	};
	struct scan_result big, small;
	double batch_ms = 0;
	int err;

	ft_log_route_libbpf();
	err = parse_args(argc, argv, &o);
	if (!err)
		err = bench_pin_cpu();
	/* Memory is read at the end of each phase, before the next allocates its own. */
	if (!err)
		err = bench_scan(&o, o.conns, &big);
	if (!err)
		err = bench_scan(&o, o.small_flows, &small);
	if (!err)
		err = bench_hash(o.conns, &batch_ms);
	if (err)
		return 1;
	print_results(&o, &big, &small, batch_ms);
	return 0;
}
