// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ft-bench: nanoseconds per packet through BPF_PROG_TEST_RUN for
 * flowtier's ft_xdp and the baselines of bench.bpf.c, in three scenarios.
 * Figures drift between runs, so the targets are checked on ratios taken
 * within this one run. It only prints: a missed target is not an error.
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

/* Every test run happens here, so flowtier only ever uses this CPU's part. */
#define BENCH_CPU	 0
#define BENCH_PKT_LEN	 64
#define BENCH_MAX_ROUNDS 15

struct scenario {
	const char *name;
	const char *label;
	__u32 flows;	       /* a power of two: the driver masks the packet count */
	enum bench_target ref; /* the baseline the target is set against */
	double target;	       /* flowtier / ref must not exceed this */
};

static const struct scenario scenarios[] = {
	{ "hot", "16 hot flows", 16, BENCH_PERCPU_HASH, 0.8 },
	{ "1m", "1M flows, 1M table", 1u << 20, BENCH_LRU_HASH, 0.6 },
	{ "churn", "4M flows, 1M table", 1u << 22, BENCH_LRU_HASH, 0.4 },
};

#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const char *const target_names[BENCH_NR_TARGETS] = {
	[BENCH_EMPTY] = "empty",
	[BENCH_PERCPU_HASH] = "percpu_hash",
	[BENCH_LRU_HASH] = "lru_hash",
	[BENCH_FLOWTIER] = "flowtier",
	[BENCH_PROBE_DIRECT] = "probe_direct",
	[BENCH_PROBE_2WAY] = "probe_2way",
};

struct bench_opts {
	__u32 packets;	  /* timed packets per measurement */
	__u32 rounds;	  /* measurements per program; the median is kept */
	const char *only; /* one scenario by name, or NULL */
	__u32 cpu_conns;  /* flowtier's connections per CPU part */
	int probes;	  /* -p: measure the probes too */
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
};

static unsigned char packet[BENCH_PKT_LEN];

/* Ethernet/IPv4/UDP, 64 bytes, flow 0; the driver rewrites the source. */
static void bench_build_packet(void)
{
	struct ethhdr *eth = (struct ethhdr *)packet;
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
	ip->tot_len = htons(sizeof(packet) - sizeof(*eth));
	ip->saddr = htonl(BENCH_SRC_NET);
	ip->daddr = htonl(BENCH_DST_ADDR);
	udp->dest = htons(BENCH_DST_PORT);
	udp->len = htons(sizeof(packet) - sizeof(*eth) - sizeof(*ip));
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
static int bench_test_run(int fd, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = packet, .data_size_in = sizeof(packet),
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
	struct ft_dp_opts ft = { .cpu_conns = o->cpu_conns };
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
	/* Only BENCH_CPU's part is used: all packets arrive there. */
	err = ft_dp_open(&env->dp, &ft);
	if (err)
		goto out;
	env->driver_fd = bpf_program__fd(env->skel->progs.bench_driver);
	env->fds[BENCH_EMPTY] = bpf_program__fd(env->skel->progs.bench_empty);
	env->fds[BENCH_PERCPU_HASH] = bpf_program__fd(env->skel->progs.bench_percpu_hash);
	env->fds[BENCH_LRU_HASH] = bpf_program__fd(env->skel->progs.bench_lru_hash);
	env->fds[BENCH_FLOWTIER] = bpf_program__fd(env->dp.skel->progs.ft_xdp);
	env->fds[BENCH_PROBE_DIRECT] = bpf_program__fd(env->skel->progs.bench_probe_direct);
	env->fds[BENCH_PROBE_2WAY] = bpf_program__fd(env->skel->progs.bench_probe_2way);
	return 0;
out:
	bench_env_close(env);
	return err;
}

/* Sends `count` packets of target t's flow sequence through t. */
static int bench_send(struct bench_env *env, enum bench_target t, __u32 count, double *ns)
{
	int map = bpf_map__fd(env->skel->maps.under_test);
	__u32 slot = 0;
	int err;

	env->skel->bss->target = t;
	err = bpf_map_update_elem(map, &slot, &env->fds[t], BPF_ANY) ? -errno : 0;
	if (err) {
		pr_err("cannot install %s for the tail call: %s\n", target_names[t],
		       strerror(-err));
		return err;
	}
	return bench_test_run(env->driver_fd, count, ns);
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

static int bench_ft_stats(struct bench_env *env, __u64 *created, __u64 *evicted)
{
	struct ft_stats st;
	int err;

	err = ft_dp_read_stats(&env->dp, &st);
	if (err) {
		pr_err("cannot read flowtier's counters: %s\n", strerror(-err));
		return err;
	}
	*created = st.created;
	*evicted = 0;
	for (int i = 0; i < FT_EVICT_MAX; i++)
		*evicted += st.evicted[i];
	return 0;
}

/* The programs this run measures: the probes only with -p. */
static int bench_nr_targets(const struct bench_opts *o)
{
	return o->probes ? BENCH_NR_TARGETS : BENCH_NR_MEASURED;
}

/* One measurement of every program, and of BPF_PROG_TEST_RUN alone. */
static int bench_round(struct bench_env *env, const struct bench_opts *o, __u32 r,
		       double ns[][BENCH_MAX_ROUNDS], double *floor)
{
	int err = 0;

	for (int t = 0; !err && t < bench_nr_targets(o); t++)
		err = bench_send(env, t, o->packets, &ns[t][r]);
	if (!err)
		err = bench_test_run(env->fds[BENCH_EMPTY], o->packets, &floor[r]);
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
	double ns[BENCH_NR_TARGETS][BENCH_MAX_ROUNDS], floor[BENCH_MAX_ROUNDS], warm;
	__u64 c0, e0, c1, e1;
	int err = 0;

	for (int t = 0; !err && t < bench_nr_targets(o); t++)
		err = bench_send(env, t, sc->flows, &warm);
	if (!err)
		err = bench_ft_stats(env, &c0, &e0);
	for (__u32 r = 0; !err && r < o->rounds; r++)
		err = bench_round(env, o, r, ns, floor);
	if (!err)
		err = bench_ft_stats(env, &c1, &e1);
	if (err)
		return err;
	for (int t = 0; t < bench_nr_targets(o); t++)
		res->ns[t] = median(ns[t], o->rounds);
	res->floor = median(floor, o->rounds);
	res->created = (double)(c1 - c0) / ((double)o->packets * o->rounds);
	res->evicted = (double)(e1 - e0) / ((double)o->packets * o->rounds);
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
	int ncpus = libbpf_num_possible_cpus();
	char how[64];

	snprintf(how, sizeof(how), "benchmarking CPU %d", BENCH_CPU);
	bench_print_machine(how);
	printf("Tables: flowtier: %u connections in CPU %d's part (cpu_conns), all packets\n"
	       "        arrive on that CPU; %d x %u = %llu connections in total.\n"
	       "        percpu_hash, lru_hash: %u entries.\n",
	       o->cpu_conns, BENCH_CPU, ncpus, o->cpu_conns,
	       (unsigned long long)ncpus * o->cpu_conns, BENCH_TABLE_ENTRIES);
	if (o->cpu_conns != BENCH_TABLE_ENTRIES)
		printf("        (-c: not the sizing the targets are stated for)\n");
	printf("Figures: ns/packet for 64-byte IPv4/UDP packets; median of %u runs of %u packets\n"
	       "        per program, after one warm-up pass over all flows. Every program runs\n"
	       "        behind the driver (flow rewrite + tail call): `empty` is driver + empty\n"
	       "        program, the floor, and it is included in every figure and ratio.\n\n",
	       o->rounds, o->packets);
}

static void print_row(const struct scenario *sc, const struct result *r)
{
	double vs_percpu = r->ns[BENCH_FLOWTIER] / r->ns[BENCH_PERCPU_HASH];
	double vs_lru = r->ns[BENCH_FLOWTIER] / r->ns[BENCH_LRU_HASH];
	double ratio = sc->ref == BENCH_LRU_HASH ? vs_lru : vs_percpu;
	int met = ratio <= sc->target;
	char verdict[64];

	snprintf(verdict, sizeof(verdict), "%s (%.2f %s %.1f x %s)", met ? "yes" : "no", ratio,
		 met ? "<=" : ">", sc->target, target_names[sc->ref]);
	printf("| %-18s | %6.1f | %11.1f | %8.1f | %8.1f | %15.2f | %12.2f | %s |\n", sc->label,
	       r->ns[BENCH_EMPTY], r->ns[BENCH_PERCPU_HASH], r->ns[BENCH_LRU_HASH],
	       r->ns[BENCH_FLOWTIER], vs_percpu, vs_lru, verdict);
}

static void print_results(const struct result *res, const int *ran)
{
	printf("| %-18s | %6s | %11s | %8s | %8s | %15s | %12s | %s |\n", "scenario", "empty",
	       "percpu_hash", "lru_hash", "flowtier", "flowtier/percpu", "flowtier/lru",
	       "target met?");
	printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------", "-------:", "------------:",
	       "---------:", "---------:", "----------------:", "-------------:", "---");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		if (ran[i])
			print_row(&scenarios[i], &res[i]);
	}
	printf("\nPer scenario: BPF_PROG_TEST_RUN alone (empty program, no driver), and\n"
	       "flowtier's connections created and evicted per timed packet:\n");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		if (ran[i])
			printf("  %-18s  test_run %.1f ns; created %.3f, evicted %.3f\n",
			       scenarios[i].label, res[i].floor, res[i].created, res[i].evicted);
	}
}

/* -p: the probes beside flowtier, as ratios to lru_hash of the same run. */
static void print_probes(const struct result *res, const int *ran)
{
	printf("\nProbes (-p): the table's memory alone, no timeouts, states, zones, verdicts\n"
	       "or statistics; ns/packet, and x lru_hash of the same run:\n\n");
	printf("| %-18s | %16s | %16s | %16s |\n", "scenario", "probe_direct", "probe_2way",
	       "flowtier");
	printf("|%s|%s|%s|%s|\n", "--------------------", "-----------------:",
	       "-----------------:", "-----------------:");
	for (__u32 i = 0; i < NR_SCENARIOS; i++) {
		const double *ns = res[i].ns, lru = ns[BENCH_LRU_HASH];

		if (!ran[i])
			continue;
		printf("| %-18s | %7.1f (%.2f x) | %7.1f (%.2f x) | %7.1f (%.2f x) |\n",
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
		"usage: %s [-n packets] [-r rounds] [-s hot|1m|churn] [-c conns] [-p] [-v]\n"
		"  -n  timed packets per measurement (default 4000000)\n"
		"  -r  measurements per program and scenario, median kept (default 3, max %d)\n"
		"  -s  run one scenario only\n"
		"  -c  flowtier's connections per CPU part (default %u; for diagnosis)\n"
		"  -p  also the probes: the table's memory alone (for diagnosis)\n"
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
			o->cpu_conns = strtoul(optarg, NULL, 0);
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
	    o->rounds > BENCH_MAX_ROUNDS || !o->cpu_conns) {
		usage(argv[0]);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.packets = 4000000,
		.rounds = 3,
		.cpu_conns = BENCH_TABLE_ENTRIES,
	};
	struct result res[NR_SCENARIOS] = {};
	int ran[NR_SCENARIOS] = {};
	int err;

	ft_log_route_libbpf();
	err = parse_args(argc, argv, &o);
	if (!err)
		err = bench_pin_cpu();
	bench_build_packet();
	for (__u32 i = 0; !err && i < NR_SCENARIOS; i++) {
		if (o.only && strcmp(o.only, scenarios[i].name))
			continue;
		err = bench_scenario(&scenarios[i], &o, &res[i]);
		ran[i] = !err;
	}
	if (err)
		return 1;
	print_header(&o);
	print_results(res, ran);
	if (o.probes)
		print_probes(res, ran);
	return 0;
}
