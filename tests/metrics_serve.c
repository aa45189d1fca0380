// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TEST ONLY, not part of flowtier: serves /metrics the way `flowtier run`
 * is to, until it exists, so that tests/prometheus.sh can scrape a real
 * endpoint. It loads and pins the datapath, attaches XDP (native) to the
 * interface's ingress and TC to its egress, scans the table every second
 * and answers /metrics, all from one poll loop: the wiring the daemon
 * needs. SIGTERM or SIGINT detach it and end it; the pins stay.
 *
 * usage: ft-metrics-serve -i IFACE --pin-dir DIR [--metrics ADDR:PORT]
 *        [--metrics-top N] [--conns N]
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bpffs.h"
#include "datapath.h"
#include "flowtier.skel.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "scan.h"

#define INTERVAL_MS 1000

struct serve {
	struct ft_datapath dp;
	struct ft_scan *scan;
	struct ft_metrics_live live; /* what /metrics reads */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int scan_once(struct serve *s)
{
	__u64 t0 = mono_ns();
	int err = ft_scan_run(s->scan, s->dp.buckets, s->dp.nr_buckets, t0 / 1000000);

	s->live.last_scan_ns = mono_ns() - t0;
	s->live.scan = s->scan;
	return err == -ENOMEM ? 0 : err;
}

static int attach(struct serve *s, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = bpf_program__fd(s->dp.skel->progs.ft_tc_egress));
	int err;

	err = bpf_xdp_attach(ifindex, bpf_program__fd(s->dp.skel->progs.ft_xdp), XDP_FLAGS_DRV_MODE,
			     NULL);
	if (err) {
		pr_err("cannot attach XDP: %s\n", strerror(-err));
		return err;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("cannot create clsact: %s\n", strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &tc);
	if (err)
		pr_err("cannot attach TC egress: %s\n", strerror(-err));
	return err;
}

static void detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);

	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bpf_tc_hook_destroy(&hook);
}

/* One poll loop: the HTTP server's fd and timeouts, and a scan every interval. */
static int loop(struct serve *s, struct ft_http *h)
{
	__u64 next = mono_ns() / 1000000 + INTERVAL_MS;

	while (!stop) {
		struct pollfd p = { .fd = ft_http_fd(h), .events = POLLIN };
		__u64 now = mono_ns() / 1000000;
		int t = next > now ? (int)(next - now) : 0, ht = ft_http_timeout_ms(h);

		if (ht >= 0 && ht < t)
			t = ht;
		if (poll(&p, 1, t) < 0 && errno != EINTR)
			return -errno;
		if (ft_http_run(h))
			return -EIO;
		if (mono_ns() / 1000000 >= next) {
			if (scan_once(s))
				return -EIO;
			next += INTERVAL_MS;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "metrics-top", required_argument, NULL, 't' },
		{ "conns", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct ft_dp_opts o = { .conns = 65536 };
	const char *ifname = NULL, *listen = NULL;
	struct serve s = {};
	struct ft_http *h = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, ifindex, err;

	while ((opt = getopt_long(argc, argv, "i:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'p':
			o.pin_dir = optarg;
			break;
		case 'm':
			listen = optarg;
			break;
		case 't':
			s.live.top = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o.conns = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	ifindex = ifname ? (int)if_nametoindex(ifname) : 0;
	if (!ifindex || !o.pin_dir) {
		fprintf(stderr, "usage: ft-metrics-serve -i IFACE --pin-dir DIR [--metrics "
				"ADDR:PORT] [--metrics-top N] [--conns N]\n");
		return 2;
	}
	ft_log_route_libbpf();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (ft_bpffs_prepare(o.pin_dir) || ft_dp_open(&s.dp, &o))
		return 1;
	s.live.dp = &s.dp;
	err = ft_scan_new(&s.scan, s.dp.nr_buckets * FT_SLOTS, 0);
	if (!err)
		err = attach(&s, ifindex);
	if (!err)
		err = ft_http_start(&h, listen, ft_metrics_http_render, &s.live);
	if (!err && h) {
		fprintf(stderr, "ft-metrics-serve: /metrics on port %u\n", ft_http_port(h));
		err = scan_once(&s);
		if (!err)
			err = loop(&s, h);
	}
	ft_http_stop(h);
	detach(ifindex);
	ft_scan_free(s.scan);
	ft_dp_close(&s.dp);
	return err ? 1 : 0;
}
