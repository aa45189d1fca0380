// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ft-gen: the testbed's traffic generator. Runs gen_xdp through
 * BPF_PROG_TEST_RUN in live-frames mode from inside the generator's network
 * namespace, one schedule chunk per run, paced by time slices, and writes
 * what it sent (the ground truth).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flows.h"
#include "gen.h"
#include "gen.skel.h"
#include "mix.h"
#include "opts.h"
#include "truth.h"
#include "netns.h"

/* Schedule entries per BPF_PROG_TEST_RUN: a bound on the map, not on a slice. */
#define GEN_CHUNK 65536

struct gen_env {
	struct gen_bpf *skel;
	struct gen_flow *flows; /* gen_flows, mmapped */
	__u64 *sched;		/* gen_sched, mmapped */
	size_t flows_len;
	void *frame;
	int lo_attached;
	__u32 ifindex;
	__u8 mac[6];
	__u64 sent;
};

static int dev_mac(const char *dev, __u8 *mac)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int map_mmap(struct bpf_map *map, size_t len, void **p)
{
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	if (*p == MAP_FAILED) {
		*p = NULL;
		return -errno;
	}
	return 0;
}

static int env_load(struct gen_env *env, const struct gen_opts *o)
{
	int err;

	env->skel = gen_bpf__open();
	if (!env->skel)
		return -errno;
	env->skel->rodata->out_ifindex = env->ifindex;
	bpf_map__set_max_entries(env->skel->maps.gen_flows, o->p.flows);
	bpf_map__set_max_entries(env->skel->maps.gen_sched, GEN_CHUNK);
	err = gen_bpf__load(env->skel);
	if (err) {
		fprintf(stderr, "ft-gen: cannot load the generator's BPF object: %s\n",
			strerror(-err));
		return err;
	}
	env->flows_len = (size_t)o->p.flows * sizeof(struct gen_flow);
	err = map_mmap(env->skel->maps.gen_flows, env->flows_len, (void **)&env->flows);
	if (!err)
		err = map_mmap(env->skel->maps.gen_sched, GEN_CHUNK * sizeof(__u64),
			       (void **)&env->sched);
	if (err)
		fprintf(stderr, "ft-gen: cannot mmap the generator's maps: %s\n", strerror(-err));
	return err;
}

/*
 * A test run with repeat > 1 adds its program to the kernel's XDP dispatcher
 * and removes it afterwards, each change waiting for an RCU grace period
 * (30-60 ms here). A program attached to a device stays in the dispatcher,
 * so attaching gen_xdp to the namespace's loopback (generic mode; it passes
 * packets while no run is on: nothing in the generator's namespace uses
 * loopback) makes a run cost microseconds.
 */
static int env_attach_lo(struct gen_env *env)
{
	int err = bpf_xdp_attach(1, bpf_program__fd(env->skel->progs.gen_xdp), XDP_FLAGS_SKB_MODE,
				 NULL);

	if (err) {
		fprintf(stderr, "ft-gen: cannot attach XDP to the namespace's loopback: %s\n",
			strerror(-err));
		return err;
	}
	env->lo_attached = 1;
	return 0;
}

static int env_open(struct gen_env *env, const struct gen_opts *o, const struct gen_mix *m)
{
	struct gen_tuple t;
	int err;

	err = ft_enter_netns("ft-gen", o->netns);
	if (err)
		return err;
	env->ifindex = if_nametoindex(o->dev);
	if (!env->ifindex || dev_mac(o->dev, env->mac)) {
		fprintf(stderr, "ft-gen: no interface '%s' in namespace '%s' (see ip -n %s link)\n",
			o->dev, o->netns, o->netns);
		return -ENODEV;
	}
	err = env_load(env, o);
	if (err)
		return err;
	for (__u32 i = 0; i < o->p.flows; i++) {
		gen_tuple_of(i, m->family[i], m->proto[i], &t);
		gen_headers(&t, env->mac, o->dst_mac, o->p.size, &env->flows[i]);
	}
	env->frame = calloc(1, o->p.size);
	if (!env->frame)
		return -ENOMEM;
	return env_attach_lo(env);
}

static void env_close(struct gen_env *env)
{
	if (env->lo_attached)
		bpf_xdp_detach(1, XDP_FLAGS_SKB_MODE, NULL);
	if (env->flows)
		munmap(env->flows, env->flows_len);
	if (env->sched)
		munmap(env->sched, GEN_CHUNK * sizeof(__u64));
	gen_bpf__destroy(env->skel);
	free(env->frame);
}

/* Sends the schedule's entries, one test run per chunk. */
static int env_send(struct gen_env *env, const struct gen_mix *m)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = env->frame, .data_size_in = m->p.size,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int fd = bpf_program__fd(env->skel->progs.gen_xdp), err;

	for (size_t done = 0; done < m->nentries;) {
		size_t k = m->nentries - done < GEN_CHUNK ? m->nentries - done : GEN_CHUNK;

		for (size_t j = 0; j < k; j++)
			env->sched[j] = m->entries[done + j];
		env->skel->bss->next = 0;
		env->skel->bss->armed = 1;
		t.repeat = (int)k;
		err = bpf_prog_test_run_opts(fd, &t);
		env->skel->bss->armed = 0;
		if (err) {
			fprintf(stderr, "ft-gen: BPF_PROG_TEST_RUN (live frames): %s\n",
				strerror(-err));
			return err;
		}
		if (env->skel->bss->next != k || env->skel->bss->bad) {
			fprintf(stderr,
				"ft-gen: the program ran %u times for %zu entries, %llu bad\n",
				env->skel->bss->next, k, (unsigned long long)env->skel->bss->bad);
			return -EPROTO;
		}
		done += k;
		env->sent += k;
	}
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_until(__u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* SIGINT/SIGTERM stay blocked so that no test run is cut short; read between slices. */
static int stop_requested(void)
{
	sigset_t set;

	return !sigpending(&set) && (sigismember(&set, SIGINT) || sigismember(&set, SIGTERM) ||
				     sigismember(&set, SIGHUP));
}

struct gen_run {
	__u32 slices; /* sent */
	__u32 late;   /* slices started more than a slice late */
	__u64 elapsed_ns;
};

/* The data slices, paced; env NULL: dry run, nothing sent or paced. */
static int run_slices(struct gen_env *env, struct gen_mix *m, struct gen_run *r)
{
	__u64 slice_ns = m->p.slice_ms * 1000000ULL, t0 = now_ns(), due;
	int err = 0;

	for (r->slices = 0; r->slices < m->slices && !err; r->slices++) {
		if (env && stop_requested())
			break;
		err = mix_slice(m, r->slices);
		if (err || !env)
			continue;
		due = t0 + r->slices * slice_ns;
		if (now_ns() > due + slice_ns)
			r->late++;
		sleep_until(due);
		err = env_send(env, m);
	}
	if (env && !err)
		sleep_until(t0 + r->slices * slice_ns);
	r->elapsed_ns = now_ns() - t0;
	return err;
}

static int run_phase(struct gen_env *env, struct gen_mix *m, int (*fill)(struct gen_mix *))
{
	int err = fill(m);

	if (err || !env)
		return err;
	return env_send(env, m);
}

static void report(const struct gen_opts *o, const struct gen_mix *m, const struct gen_run *r,
		   __u64 sent)
{
	__u64 data = 0, fwd = 0, rev = 0;

	for (__u32 i = 0; i < m->p.flows; i++) {
		data += m->data[i];
		fwd += m->fwd[i];
		rev += m->rev[i];
	}
	printf("ft-gen: %llu packets (%llu data, %llu open/close) over %u slices",
	       (unsigned long long)(fwd + rev), (unsigned long long)data,
	       (unsigned long long)(fwd + rev - data), r->slices);
	if (o->dry_run) {
		printf(" (dry run: nothing sent)\n");
		return;
	}
	/* Frames the veth could not take are dropped with no counter: count at the receivers. */
	printf(" in %.3f s: %.0f data pps; %u slices late; %llu handed to '%s'\n",
	       r->elapsed_ns / 1e9, r->elapsed_ns ? data * 1e9 / r->elapsed_ns : 0.0, r->late,
	       (unsigned long long)sent, o->dev);
}

static int run(const struct gen_opts *o, struct gen_mix *m, struct gen_env *env)
{
	struct gen_run r = {};
	int err;

	err = run_phase(env, m, mix_open);
	if (!err)
		err = run_slices(env, m, &r);
	if (!err)
		err = run_phase(env, m, mix_close);
	if (!err)
		err = mix_finish(m);
	if (err)
		return err;
	if (o->truth)
		err = truth_write(m, o->truth, r.slices);
	report(o, m, &r, env ? env->sent : 0);
	return err;
}

static int setup(const struct gen_opts *o, struct gen_mix *m)
{
	cpu_set_t cpus;
	sigset_t set;
	int cpu;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/*
	 * One CPU for the whole run: the receivers process the frames on the
	 * sender's CPU, and a per-CPU connection table (flowtier's) must see
	 * both directions of a flow on the same one.
	 */
	cpu = o->cpu >= 0 ? o->cpu : sched_getcpu();
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	if (cpu < 0 || sched_setaffinity(0, sizeof(cpus), &cpus)) {
		fprintf(stderr, "ft-gen: cannot run on CPU %d: %s (see --cpu)\n", cpu,
			strerror(errno));
		return -EINVAL;
	}
	if (o->intervals) {
		m->ivl_out = fopen(o->intervals, "w");
		if (!m->ivl_out) {
			fprintf(stderr, "ft-gen: cannot write '%s': %s\n", o->intervals,
				strerror(errno));
			return -errno;
		}
		fprintf(m->ivl_out, "# ft-gen intervals v1 interval_ms=%u\n", o->p.interval_ms);
		fprintf(m->ivl_out, "interval,flow,fwd_packets,rev_packets\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen_env env = {};
	struct gen_mix m;
	struct gen_opts o;
	int err;

	err = gen_parse_opts(argc, argv, &o);
	if (err)
		return err == 1 ? 0 : err;
	err = mix_init(&m, &o.p);
	if (err) {
		mix_free(&m);
		return err == -EINVAL ? 2 : 1;
	}
	err = setup(&o, &m);
	if (!err && !o.dry_run)
		err = env_open(&env, &o, &m);
	if (!err)
		err = run(&o, &m, o.dry_run ? NULL : &env);
	if (m.ivl_out && fclose(m.ivl_out) && !err)
		err = -errno;
	env_close(&env);
	mix_free(&m);
	if (err == -EINVAL || err == -ENODEV || err == -ENOENT)
		return 2;
	return err ? 1 : 0;
}
