// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ft-bench: nanoseconds per packet through BPF_PROG_TEST_RUN for
 * flowtier's ft_xdp and the baselines of bench.bpf.c, in five scenarios:
 * three on one CPU, two with both CPUs sending at once (CPU 0 each flow's
 * original direction, CPU 1 its replies). Figures drift between runs, so
 * the targets are checked on ratios taken within this one run. It only
 * prints: a missed target is not an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "machine.h"
#include "bench.skel.h"
#include "datapath.h"
#include "flowtier.skel.h"
#include "log.h"

/* One-CPU scenarios run here; two-CPU ones send replies from BENCH_CPU + 1 too. */
#define BENCH_CPU	 0
#define BENCH_PKT_LEN	 64
#define BENCH_MAX_ROUNDS 15

/* The kernel's conntrack, sized for 1M flows: 4M entries at most, in 1M buckets. */
#define BENCH_CT_MAX	   4194304u
#define BENCH_CT_HASHSIZE  1048576u
#define BENCH_CT_MAX_PATH  "/proc/sys/net/netfilter/nf_conntrack_max"
#define BENCH_CT_HASH_PATH "/sys/module/nf_conntrack/parameters/hashsize"

struct scenario {
	const char *name;
	const char *label;
	__u32 flows;	       /* a power of two: the driver masks the packet count */
	int cpus;	       /* 1, or 2: both CPUs at once, one direction each */
	enum bench_target ref; /* the baseline the target is set against */
	double target;	       /* flowtier / ref must not exceed this */
};

static const struct scenario scenarios[] = {
	{ "hot", "16 hot flows", 16, 1, BENCH_PERCPU_HASH, 0.8 },
	{ "1m", "1M flows, 1M table", 1u << 20, 1, BENCH_LRU_HASH, 0.6 },
	{ "churn", "4M flows, 1M table", 1u << 22, 1, BENCH_LRU_HASH, 0.4 },
	{ "hot2", "16 hot flows, 2 CPUs", 16, 2, BENCH_LRU_CT, 0.35 },
	{ "1m2", "1M flows, 2 CPUs", 1u << 20, 2, BENCH_LRU_CT, 0.9 },
};

/* The programs each kind of scenario measures, the floor first. */
static const enum bench_target one_cpu[] = { BENCH_EMPTY, BENCH_PERCPU_BARE, BENCH_PERCPU_HASH,
					     BENCH_LRU_HASH, BENCH_FLOWTIER };
static const enum bench_target two_cpus[] = { BENCH_EMPTY, BENCH_LRU_CT, BENCH_KERNEL_CT,
					      BENCH_FLOWTIER };
static const enum bench_target probes[] = { BENCH_PROBE_DIRECT, BENCH_PROBE_2WAY };

#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const char *const target_names[BENCH_NR_TARGETS] = {
	[BENCH_EMPTY] = "empty",
	[BENCH_PERCPU_BARE] = "percpu_bare",
	[BENCH_PERCPU_HASH] = "percpu_hash",
	[BENCH_LRU_HASH] = "lru_hash",
	[BENCH_LRU_CT] = "lru_ct",
	[BENCH_KERNEL_CT] = "kernel_ct",
	[BENCH_FLOWTIER] = "flowtier",
	[BENCH_PROBE_DIRECT] = "probe_direct",
	[BENCH_PROBE_2WAY] = "probe_2way",
};

struct bench_opts {
	__u32 packets;	  /* timed packets per measurement */
	__u32 rounds;	  /* measurements per program; the median is kept */
	const char *only; /* one scenario by name, or NULL */
	__u32 conns;	  /* flowtier's table */
	int probes;	  /* -p: measure the probes too (one-CPU scenarios) */
};

/* One scenario's programs and tables, loaded fresh for it. */
struct bench_env {
	struct bench *skel;
	struct ft_datapath dp;
	int fds[BENCH_NR_TARGETS];
	int driver_fd;
};

struct result {
	double ns[BENCH_NR_TARGETS];
	double created; /* flowtier's new connections per timed packet */
	double evicted; /* flowtier's evictions per timed packet */
	double floor;	/* BPF_PROG_TEST_RUN with the empty program, no driver */
	double packets; /* timed packets per program, over all CPUs */
	double xcpu; /* flowtier's packets counted by a CPU not owning their direction, per packet
		      */
};

/* The original direction's packet, and the reply's. */
static unsigned char packet[2][BENCH_PKT_LEN];

/* Ethernet/IPv4/UDP, 64 bytes, flow 0; the driver rewrites the source. */
static void bench_build_packet(void)
{
	struct ethhdr *eth = (struct ethhdr *)packet[0];
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	memset(packet, 0, sizeof(packet));
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(packet[0]) - sizeof(*eth));
	ip->saddr = htonl(BENCH_SRC_NET);
	ip->daddr = htonl(BENCH_DST_ADDR);
	udp->dest = htons(BENCH_DST_PORT);
	udp->len = htons(sizeof(packet[0]) - sizeof(*eth) - sizeof(*ip));
	/* The reply: addresses and ports the other way; the driver rewrites its destination. */
	memcpy(packet[1], packet[0], sizeof(packet[0]));
	eth = (struct ethhdr *)packet[1];
	ip = (struct iphdr *)(eth + 1);
	udp = (struct udphdr *)(ip + 1);
	ip->saddr = htonl(BENCH_DST_ADDR);
	ip->daddr = htonl(BENCH_SRC_NET);
	udp->source = htons(BENCH_DST_PORT);
	udp->dest = 0;
}

static int bench_pin_cpu(int cpu)
{
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
	if (err)
		pr_err("cannot pin to CPU %d: %s\n", cpu, strerror(-err));
	return err;
}

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Runs fd over the packet `repeat` times; *ns is the time per run. The
 * kernel's own figure (opts.duration) is truncated to whole nanoseconds,
 * too coarse next to a floor under 10 ns, so this takes the thread's CPU
 * time instead: like the kernel's figure it leaves out time spent
 * preempted, and the system call's own cost vanishes over millions of runs.
 */
static int bench_test_run(int fd, int dir, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = packet[dir], .data_size_in = sizeof(packet[0]),
		    .repeat = repeat);
	double start;
	int err;

	start = thread_cpu_ns();
	err = bpf_prog_test_run_opts(fd, &o);
	*ns = (thread_cpu_ns() - start) / repeat;
	if (err) {
		pr_err("BPF_PROG_TEST_RUN: %s\n", strerror(-err));
		return err;
	}
	/* Anything else means the tail call or the parse went wrong. */
	if (o.retval != XDP_PASS) {
		pr_err("the program returned %u, not XDP_PASS\n", o.retval);
		return -EPROTO;
	}
	pr_debug("fd %d: %.2f ns/run by CPU time, %u by the kernel\n", fd, *ns, o.duration);
	return 0;
}

static void bench_env_close(struct bench_env *env)
{
	ft_dp_close(&env->dp);
	bench__destroy(env->skel);
	env->skel = NULL;
}

static int bench_env_open(struct bench_env *env, __u32 flows, const struct bench_opts *o)
{
	struct ft_dp_opts ft = { .conns = o->conns };
	int err;

	memset(env, 0, sizeof(*env));
	env->skel = bench__open();
	if (!env->skel) {
		err = -errno;
		pr_err("cannot open the benchmark's BPF object: %s\n", strerror(-err));
		return err;
	}
	env->skel->rodata->flow_mask = flows - 1;
	/* Without -p the probes never run: their 136 MiB of tables need not exist. */
	if (!o->probes) {
		bpf_map__set_max_entries(env->skel->maps.probe_lines, 1);
		bpf_map__set_max_entries(env->skel->maps.probe_buckets, 1);
	}
	err = bench__load(env->skel);
	if (err) {
		pr_err("cannot load the benchmark's BPF object: %s\n", strerror(-err));
		goto out;
	}
	err = ft_dp_open(&env->dp, &ft);
	if (err)
		goto out;
	env->driver_fd = bpf_program__fd(env->skel->progs.bench_driver);
	env->fds[BENCH_EMPTY] = bpf_program__fd(env->skel->progs.bench_empty);
	env->fds[BENCH_PERCPU_BARE] = bpf_program__fd(env->skel->progs.bench_percpu_bare);
	env->fds[BENCH_PERCPU_HASH] = bpf_program__fd(env->skel->progs.bench_percpu_hash);
	env->fds[BENCH_LRU_HASH] = bpf_program__fd(env->skel->progs.bench_lru_hash);
	env->fds[BENCH_LRU_CT] = bpf_program__fd(env->skel->progs.bench_lru_ct);
	env->fds[BENCH_KERNEL_CT] = bpf_program__fd(env->skel->progs.bench_kernel_ct);
	env->fds[BENCH_FLOWTIER] = bpf_program__fd(env->dp.skel->progs.ft_xdp);
	env->fds[BENCH_PROBE_DIRECT] = bpf_program__fd(env->skel->progs.bench_probe_direct);
	env->fds[BENCH_PROBE_2WAY] = bpf_program__fd(env->skel->progs.bench_probe_2way);
	return 0;
out:
	bench_env_close(env);
	return err;
}

/* Makes t the program the driver tail-calls. */
static int bench_install(struct bench_env *env, enum bench_target t)
{
	int map = bpf_map__fd(env->skel->maps.under_test);
	__u32 slot = 0;
	int err;

	env->skel->bss->target = t;
	err = bpf_map_update_elem(map, &slot, &env->fds[t], BPF_ANY) ? -errno : 0;
	if (err)
		pr_err("cannot install %s for the tail call: %s\n", target_names[t],
		       strerror(-err));
	return err;
}

/* Sends `count` packets of target t's flow sequence through t, on this CPU. */
static int bench_send(struct bench_env *env, enum bench_target t, __u32 count, double *ns)
{
	int err = bench_install(env, t);

	return err ? err : bench_test_run(env->driver_fd, 0, count, ns);
}

/* One CPU's half of a two-CPU measurement. */
struct bench_half {
	int fd;
	int cpu;
	int dir; /* 0: originals, 1: replies */
	__u32 count;
	double ns;
	int err;
	pthread_barrier_t *start;
};

static void *bench_half_run(void *arg)
{
	struct bench_half *h = arg;

	h->err = bench_pin_cpu(h->cpu);
	pthread_barrier_wait(h->start);
	if (!h->err)
		h->err = bench_test_run(h->fd, h->dir, h->count, &h->ns);
	return NULL;
}

/*
 * Both CPUs at once: BENCH_CPU sends `count` originals, the next CPU as
 * many replies, of the same flows in the same order. *ns is the mean of
 * the two CPUs' time per packet.
 */
static int bench_send2(struct bench_env *env, enum bench_target t, __u32 count, double *ns)
{
	struct bench_half h[2];
	pthread_barrier_t start;
	pthread_t th[2];
	int err = bench_install(env, t);

	if (err)
		return err;
	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++) {
		h[i] = (struct bench_half){ .fd = env->driver_fd,
					    .cpu = BENCH_CPU + i,
					    .dir = i,
					    .count = count,
					    .start = &start };
		if (pthread_create(&th[i], NULL, bench_half_run, &h[i]))
			return -errno;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	*ns = (h[0].ns + h[1].ns) / 2;
	return h[0].err ? h[0].err : h[1].err;
}

/* One pass over every flow, each direction on its CPU in turn, before anything is timed. */
static int bench_warm(struct bench_env *env, enum bench_target t, const struct scenario *sc)
{
	double ns;
	int err = bench_send(env, t, sc->flows, &ns);

	if (err || sc->cpus == 1)
		return err;
	err = bench_pin_cpu(BENCH_CPU + 1);
	if (!err)
		err = bench_test_run(env->driver_fd, 1, sc->flows, &ns);
	if (!bench_pin_cpu(BENCH_CPU) && err)
		return err;
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, __u32 n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench_ft_stats(struct bench_env *env, __u64 *created, __u64 *evicted, __u64 *foreign)
{
	struct ft_stats st;
	int err;

	err = ft_dp_read_stats(&env->dp, &st);
	if (err) {
		pr_err("cannot read flowtier's counters: %s\n", strerror(-err));
		return err;
	}
	*created = st.created;
	*foreign = st.foreign;
	*evicted = 0;
	for (int i = 0; i < FT_EVICT_MAX; i++)
		*evicted += st.evicted[i];
	return 0;
}

/* The programs a scenario measures: n of them in *t, the probes with -p. */
static int bench_targets(const struct scenario *sc, const struct bench_opts *o,
			 enum bench_target t[BENCH_NR_TARGETS])
{
	const enum bench_target *src = sc->cpus == 2 ? two_cpus : one_cpu;
	int n = sc->cpus == 2 ? (int)(sizeof(two_cpus) / sizeof(two_cpus[0]))
			      : (int)(sizeof(one_cpu) / sizeof(one_cpu[0]));

	memcpy(t, src, n * sizeof(*t));
	if (o->probes && sc->cpus == 1) {
		memcpy(t + n, probes, sizeof(probes));
		n += sizeof(probes) / sizeof(probes[0]);
	}
	return n;
}

/* One measurement of every program, and of BPF_PROG_TEST_RUN alone. */
static int bench_round(struct bench_env *env, const struct scenario *sc, const struct bench_opts *o,
		       __u32 r, double ns[][BENCH_MAX_ROUNDS], double *floor)
{
	enum bench_target t[BENCH_NR_TARGETS];
	int n = bench_targets(sc, o, t), err = 0;

	for (int i = 0; !err && i < n; i++)
		err = sc->cpus == 2 ? bench_send2(env, t[i], o->packets, &ns[t[i]][r])
				    : bench_send(env, t[i], o->packets, &ns[t[i]][r]);
	if (!err)
		err = bench_test_run(env->fds[BENCH_EMPTY], 0, o->packets, &floor[r]);
	return err;
}

/*
 * Warms every table with one pass over all flows, then takes `rounds`
 * measurements per program, interleaved so that drift during the run
 * touches all programs alike.
 */
static int bench_measure(struct bench_env *env, const struct scenario *sc,
			 const struct bench_opts *o, struct result *res)
{
	double ns[BENCH_NR_TARGETS][BENCH_MAX_ROUNDS], floor[BENCH_MAX_ROUNDS];
	enum bench_target t[BENCH_NR_TARGETS];
	int n = bench_targets(sc, o, t), err = 0;
	__u64 c0, e0, f0, c1, e1, f1;

	for (int i = 0; !err && i < n; i++)
		err = bench_warm(env, t[i], sc);
	if (!err)
		err = bench_ft_stats(env, &c0, &e0, &f0);
	for (__u32 r = 0; !err && r < o->rounds; r++)
		err = bench_round(env, sc, o, r, ns, floor);
	if (!err)
		err = bench_ft_stats(env, &c1, &e1, &f1);
	if (err)
		return err;
	for (int i = 0; i < n; i++)
		res->ns[t[i]] = median(ns[t[i]], o->rounds);
	res->floor = median(floor, o->rounds);
	res->packets = (double)o->packets * o->rounds * sc->cpus;
	res->created = (double)(c1 - c0) / res->packets;
	res->evicted = (double)(e1 - e0) / res->packets;
	res->xcpu = (double)(f1 - f0) / res->packets;
	return 0;
}

static int bench_scenario(const struct scenario *sc, const struct bench_opts *o, struct result *res)
{
	struct bench_env env;
	int err;

	fprintf(stderr, "ft-bench: %s...\n", sc->label);
	err = bench_env_open(&env, sc->flows, o);
	if (err)
		return err;
	err = bench_measure(&env, sc, o, res);
	bench_env_close(&env);
	return err;
}

static void print_header(const struct bench_opts *o)
{
	char how[96];

	snprintf(how, sizeof(how), "benchmarking CPU %d, and CPUs %d and %d at once", BENCH_CPU,
		 BENCH_CPU, BENCH_CPU + 1);
	bench_print_machine(how);
	printf("Tables: flowtier: %u connections, shared by every CPU; percpu_bare, percpu_hash,\n"
	       "        lru_hash, lru_ct: %u entries; kernel_ct: the kernel's conntrack\n"
	       "        (nf_conntrack_max %u, hashsize %u) in a network namespace of its own.\n",
	       o->conns, BENCH_TABLE_ENTRIES, BENCH_CT_MAX, BENCH_CT_HASHSIZE);
	if (o->conns != BENCH_TABLE_ENTRIES)
		printf("        (-c: not the sizing the targets are stated for)\n");
	printf("Figures: ns/packet for 64-byte IPv4/UDP packets; median of %u runs of %u packets\n"
	       "        per program (per CPU with two), after one warm-up pass over all flows.\n"
	       "        Every program runs behind the driver (flow rewrite + tail call): `empty`\n"
	       "        is driver + empty program, the floor, and it is included in every figure\n"
	       "        and ratio. Two CPUs: CPU %d sends each flow's original direction while\n"
	       "        CPU %d sends its replies; the figure is the two CPUs' mean.\n\n",
	       o->rounds, o->packets, BENCH_CPU, BENCH_CPU + 1);
}

static void print_verdict(const struct scenario *sc, const struct result *r, char *buf, size_t n)
{
	double ratio = r->ns[BENCH_FLOWTIER] / r->ns[sc->ref];
	int met = ratio <= sc->target;

	snprintf(buf, n, "%s (%.2f %s %.2f x %s)", met ? "yes" : "no", ratio, met ? "<=" : ">",
		 sc->target, target_names[sc->ref]);
}

static void print_one_cpu(const struct result *res, const int *ran)
{
	char verdict[80];

	printf("One CPU:\n\n");
	printf("| %-20s | %6s | %11s | %11s | %8s | %8s | %12s | %12s | %12s | %s |\n", "scenario",
	       "empty", "percpu_bare", "percpu_hash", "lru_hash", "flowtier", "x percpu_bare",
	       "x percpu_hash", "x lru_hash", "target met?");
	printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------",
	       "-------:", "------------:", "------------:", "---------:", "---------:",
	       "-------------:", "-------------:", "-------------:", "---");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];
		const double *ns = res[i].ns;

		if (!ran[i] || sc->cpus != 1)
			continue;
		print_verdict(sc, &res[i], verdict, sizeof(verdict));
		printf("| %-20s | %6.1f | %11.1f | %11.1f | %8.1f | %8.1f | %12.2f | %12.2f | "
		       "%12.2f | %s |\n",
		       sc->label, ns[BENCH_EMPTY], ns[BENCH_PERCPU_BARE], ns[BENCH_PERCPU_HASH],
		       ns[BENCH_LRU_HASH], ns[BENCH_FLOWTIER],
		       ns[BENCH_FLOWTIER] / ns[BENCH_PERCPU_BARE],
		       ns[BENCH_FLOWTIER] / ns[BENCH_PERCPU_HASH],
		       ns[BENCH_FLOWTIER] / ns[BENCH_LRU_HASH], verdict);
	}
}

static void print_two_cpus(const struct result *res, const int *ran)
{
	char verdict[80];

	printf("\nTwo CPUs at once:\n\n");
	printf("| %-20s | %6s | %8s | %9s | %8s | %10s | %13s | %s |\n", "scenario", "empty",
	       "lru_ct", "kernel_ct", "flowtier", "x lru_ct", "x kernel_ct", "target met?");
	printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------", "-------:", "---------:",
	       "----------:", "---------:", "-----------:", "--------------:", "---");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];
		const double *ns = res[i].ns;

		if (!ran[i] || sc->cpus != 2)
			continue;
		print_verdict(sc, &res[i], verdict, sizeof(verdict));
		printf("| %-20s | %6.1f | %8.1f | %9.1f | %8.1f | %10.2f | %13.2f | %s |\n",
		       sc->label, ns[BENCH_EMPTY], ns[BENCH_LRU_CT], ns[BENCH_KERNEL_CT],
		       ns[BENCH_FLOWTIER], ns[BENCH_FLOWTIER] / ns[BENCH_LRU_CT],
		       ns[BENCH_FLOWTIER] / ns[BENCH_KERNEL_CT], verdict);
	}
}

static void print_results(const struct result *res, const int *ran)
{
	print_one_cpu(res, ran);
	print_two_cpus(res, ran);
	printf("\nPer scenario: BPF_PROG_TEST_RUN alone (empty program, no driver), and per timed\n"
	       "packet flowtier's connections created and evicted, and its packets counted by a\n"
	       "CPU that did not own their direction (atomic adds):\n");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		if (ran[i])
			printf("  %-20s  test_run %.1f ns; created %.3f, evicted %.3f, foreign "
			       "%.3f\n",
			       scenarios[i].label, res[i].floor, res[i].created, res[i].evicted,
			       res[i].xcpu);
	}
	printf("\nflowtier: %zu bytes per connection whether or not its directions share a CPU.\n",
	       sizeof(struct ft_bucket) / FT_SLOTS);
}

/* -p: the probes beside flowtier, as ratios to lru_hash of the same run. */
static void print_probes(const struct result *res, const int *ran)
{
	printf("\nProbes (-p): the table's memory alone, no timeouts, states, zones, verdicts\n"
	       "or statistics; ns/packet, and x lru_hash of the same run:\n\n");
	printf("| %-20s | %16s | %16s | %16s |\n", "scenario", "probe_direct", "probe_2way",
	       "flowtier");
	printf("|%s|%s|%s|%s|\n", "----------------------",
	       "-----------------:", "-----------------:", "-----------------:");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		const double *ns = res[i].ns, lru = ns[BENCH_LRU_HASH];

		if (!ran[i] || scenarios[i].cpus != 1)
			continue;
		printf("| %-20s | %7.1f (%.2f x) | %7.1f (%.2f x) | %7.1f (%.2f x) |\n",
		       scenarios[i].label, ns[BENCH_PROBE_DIRECT], ns[BENCH_PROBE_DIRECT] / lru,
		       ns[BENCH_PROBE_2WAY], ns[BENCH_PROBE_2WAY] / lru, ns[BENCH_FLOWTIER],
		       ns[BENCH_FLOWTIER] / lru);
	}
}

static const struct scenario *find_scenario(const char *name)
{
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	}
	return NULL;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-n packets] [-r rounds] [-s hot|1m|churn|hot2|1m2] [-c conns] [-p] "
		"[-v]\n"
		"  -n  timed packets per measurement (default 4000000)\n"
		"  -r  measurements per program and scenario, median kept (default 3, max %d)\n"
		"  -s  run one scenario only\n"
		"  -c  flowtier's connections (default %u; for diagnosis)\n"
		"  -p  also the probes, on one CPU: the table's memory alone (for diagnosis)\n"
		"  -v  debug output, libbpf's included\n",
		prog, BENCH_MAX_ROUNDS, BENCH_TABLE_ENTRIES);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "n:r:s:c:pv")) != -1) {
		switch (c) {
		case 'n':
			o->packets = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o->rounds = strtoul(optarg, NULL, 0);
			break;
		case 's':
			o->only = optarg;
			break;
		case 'c':
			o->conns = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			o->probes = 1;
			break;
		case 'v':
			ft_log_set_level(FT_LOG_DEBUG);
			break;
		default:
			usage(argv[0]);
			return -EINVAL;
		}
	}
	if ((o->only && !find_scenario(o->only)) || !o->packets || !o->rounds ||
	    o->rounds > BENCH_MAX_ROUNDS || !o->conns) {
		usage(argv[0]);
		return -EINVAL;
	}
	return 0;
}

/* What bench_ct_enter() changed, to be put back. */
struct bench_ct_env {
	char max[32];
	char hashsize[32];
	int netns; /* the network namespace the benchmark started in */
};

static int bench_read(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	int ok = f && fgets(buf, n, f);

	if (f)
		fclose(f);
	if (!ok)
		pr_err("cannot read %s: %s\n", path, strerror(errno));
	return ok ? 0 : -1;
}

static int bench_write(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(val, f) >= 0;

	if (f && fclose(f))
		ok = 0;
	if (!ok)
		pr_err("cannot write %s to %s: %s\n", val, path, strerror(errno));
	return ok ? 0 : -1;
}

/*
 * Sizes the kernel's conntrack for kernel_ct (the limit is the host's, set
 * from its first namespace) and moves the benchmark into a network
 * namespace of its own, so that its million conntrack entries are nobody
 * else's and go with it.
 */
static int bench_ct_enter(struct bench_ct_env *e)
{
	char v[32];

	e->netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (e->netns < 0 || bench_read(BENCH_CT_MAX_PATH, e->max, sizeof(e->max)) ||
	    bench_read(BENCH_CT_HASH_PATH, e->hashsize, sizeof(e->hashsize)))
		return -1;
	snprintf(v, sizeof(v), "%u\n", BENCH_CT_MAX);
	if (bench_write(BENCH_CT_MAX_PATH, v))
		return -1;
	snprintf(v, sizeof(v), "%u\n", BENCH_CT_HASHSIZE);
	if (bench_write(BENCH_CT_HASH_PATH, v))
		return -1;
	if (unshare(CLONE_NEWNET)) {
		pr_err("cannot enter a network namespace of its own: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void bench_ct_leave(struct bench_ct_env *e)
{
	if (e->netns < 0)
		return;
	if (setns(e->netns, CLONE_NEWNET))
		pr_err("cannot go back to the first network namespace: %s\n", strerror(errno));
	else if (e->max[0])
		bench_write(BENCH_CT_MAX_PATH, e->max);
	if (e->hashsize[0])
		bench_write(BENCH_CT_HASH_PATH, e->hashsize);
	close(e->netns);
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.packets = 4000000,
		.rounds = 3,
		.conns = BENCH_TABLE_ENTRIES,
	};
	struct bench_ct_env ct = { .netns = -1 };
	struct result res[NR_SCENARIOS] = {};
	int ran[NR_SCENARIOS] = {};
	int err;

	ft_log_route_libbpf();
	err = parse_args(argc, argv, &o);
	if (err)
		return 2;
	err = bench_ct_enter(&ct);
	if (!err)
		err = bench_pin_cpu(BENCH_CPU);
	bench_build_packet();
	for (__u32 i = 0; !err && i < NR_SCENARIOS; i++) {
		if (o.only && strcmp(o.only, scenarios[i].name))
			continue;
		err = bench_scenario(&scenarios[i], &o, &res[i]);
		ran[i] = !err;
	}
	bench_ct_leave(&ct);
	if (err)
		return 1;
	print_header(&o);
	print_results(res, ran);
	if (o.probes)
		print_probes(res, ran);
	return 0;
}
