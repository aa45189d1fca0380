// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What users see of connections whose directions two CPUs carry: ct, ct
 * buckets, zone list, status, /metrics and flows count connections, and a
 * controller killed with -9 in the middle loses and doubles nothing.
 *
 * The controller runs on a veth in a namespace of the test's own; the
 * packets come from the test's copy of the programs, loaded on the same
 * pinned maps, through BPF_PROG_TEST_RUN on the CPU each packet names.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_test.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

static char ns[32], if_a[16], if_b[16], pin[64], sock[64], pidfile[64], in_ns[96], metrics[32];
static char out[1 << 20];
static struct ft_datapath dp;

#define sh(...) cr_assert_eq(ft_run(out, sizeof(out), __VA_ARGS__), 0, "%s", out)

static void setup(void)
{
	int p = getpid();

	snprintf(ns, sizeof(ns), "ftv-%d", p);
	snprintf(if_a, sizeof(if_a), "ftv%da", p);
	snprintf(if_b, sizeof(if_b), "ftv%db", p);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/ftv-%d", p);
	snprintf(sock, sizeof(sock), "/tmp/ftv-%d.sock", p);
	snprintf(pidfile, sizeof(pidfile), "/tmp/ftv-%d.pid", p);
	snprintf(in_ns, sizeof(in_ns), "nsenter --net=/run/netns/%s", ns);
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", 20000 + p % 20000);
	sh("ip netns add %s", ns);
	/* No IPv6: its neighbour discovery would add connections of its own. */
	sh("%s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
	   in_ns);
	sh("ip -n %s link add %s type veth peer name %s && ip -n %s link set %s up && "
	   "ip -n %s link set %s up && ip -n %s link set lo up",
	   ns, if_a, if_b, ns, if_a, ns, if_b, ns);
}

static void teardown(void)
{
	char buf[4096];

	ft_dp_close(&dp);
	ft_run(buf, sizeof(buf), "test -s %s && kill -9 $(cat %s); sleep 0.1", pidfile, pidfile);
	ft_run(buf, sizeof(buf), "%s " FT_BIN " unload --pin-dir %s", in_ns, pin);
	ft_run(buf, sizeof(buf), "ip netns del %s", ns);
	ft_run(buf, sizeof(buf), "rm -rf %s; rm -f %s %s %s.log", pin, sock, pidfile, pidfile);
}

TestSuite(xcpu_views, .init = setup, .fini = teardown, .timeout = 120);

static void start_controller(void)
{
	sh("%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s --interval 0.1 "
	   "--offload none --metrics %s >>%s.log 2>&1 & echo $! > %s",
	   in_ns, pin, if_a, sock, metrics, pidfile, pidfile);
	for (int i = 0; i < 100; i++) {
		if (ft_run(out, sizeof(out), FT_BIN " status --socket %s", sock) == 0 &&
		    strstr(out, "controller: pid"))
			return;
		usleep(100 * 1000);
	}
	ft_run(out, sizeof(out), "cat %s.log", pidfile);
	cr_assert_fail("the controller did not answer: %s", out);
}

/* Opens the controller's pinned maps with a copy of the programs of the test's own. */
static void open_pinned(void)
{
	struct ft_dp_opts o = { .conns = 1024, .pin_dir = pin };

	cr_assert_eq(ft_dp_open(&dp, &o), 0, "cannot open the pinned datapath");
}

static void send_on(int cpu, const struct ft_spec *s, int n)
{
	ft_test_pin(cpu);
	for (int i = 0; i < n; i++)
		cr_assert_eq(ft_send(&dp, FT_T_XDP, s), FT_XDP_PASS);
}

static struct ft_spec req_of(int i, char addr[32])
{
	struct ft_spec s = {
		.family = 4,
		.src = addr,
		.dst = "198.19.0.53",
		.proto = 17,
		.sport = 3000 + i,
		.dport = 53,
		.payload = 10,
	};

	snprintf(addr, 32, "198.18.3.%d", i + 1);
	return s;
}

static struct ft_spec rep_of(struct ft_spec s)
{
	const char *a = s.src;
	__u16 p = s.sport;

	s.src = s.dst, s.dst = a;
	s.sport = s.dport, s.dport = p;
	s.payload = 100;
	return s;
}

enum { N = 3 };
static char addrs[N][32];

/* N UDP connections: requests on CPU 0, replies on CPU 1. */
static void split_traffic(int requests, int replies)
{
	for (int i = 0; i < N; i++) {
		struct ft_spec req = req_of(i, addrs[i]), rep = rep_of(req);

		send_on(0, &req, requests);
		send_on(1, &rep, replies);
	}
}

/* The controller has scanned at least twice since now. */
static void wait_scans(void)
{
	usleep(400 * 1000);
}

static void expect(const char *what, const char *want)
{
	cr_assert(strstr(out, want), "%s: want %s in\n%s", what, want, out);
}

#define UDP_LEN(payload) (42 + (payload))

static void expect_flows(int requests, int replies)
{
	char want[256];

	sh(FT_BIN " flows --json --top 100 --socket %s --pin-dir %s", sock, pin);
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want),
			 "{\"src\":\"198.18.3.%d\",\"dst\":\"198.19.0.53\",\"sport\":%d,\"dport\":"
			 "53,"
			 "\"proto\":\"udp\",\"zone\":0,\"state\":\"established\",\"verdict\":"
			 "\"pass\","
			 "\"packets\":%d,\"bytes\":%d,",
			 i + 1, 3000 + i, requests, requests * UDP_LEN(10));
		expect("flows", want);
		snprintf(want, sizeof(want),
			 "{\"src\":\"198.19.0.53\",\"dst\":\"198.18.3.%d\",\"sport\":53,\"dport\":%"
			 "d,"
			 "\"proto\":\"udp\",\"zone\":0,\"state\":\"established\",\"verdict\":"
			 "\"pass\","
			 "\"packets\":%d,\"bytes\":%d,",
			 i + 1, 3000 + i, replies, replies * UDP_LEN(100));
		expect("flows", want);
	}
}

Test(xcpu_views, every_view_counts_split_connections_once)
{
	char want[512];

	start_controller();
	open_pinned();
	split_traffic(3, 2);
	wait_scans();

	sh(FT_BIN " ct --json --pin-dir %s", pin);
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want),
			 "{\"src\":\"198.18.3.%d\",\"dst\":\"198.19.0.53\",\"sport\":%d,\"dport\":"
			 "53,"
			 "\"proto\":\"udp\",\"zone\":0,\"state\":\"established\",\"verdict\":"
			 "\"pass\","
			 "\"hw\":false,\"fragments\":false,\"packets\":3,\"bytes\":%d,"
			 "\"reply_packets\":2,\"reply_bytes\":%d,\"cpus\":[0,1]}",
			 i + 1, 3000 + i, 3 * UDP_LEN(10), 2 * UDP_LEN(100));
		expect("ct --json", want);
	}
	sh(FT_BIN " ct --pin-dir %s", pin);
	expect("ct", "\n3 connections in a table of 1024\n");
	sh(FT_BIN " ct buckets --json --pin-dir %s", pin);
	expect("ct buckets", "\"connections\":3,");
	sh(FT_BIN " zone list --json --pin-dir %s", pin);
	expect("zone list", "{\"zone\":0,\"connections\":3,\"limit\":0,\"refused\":0}");
	sh(FT_BIN " status --json --socket %s --pin-dir %s", sock, pin);
	expect("status", "\"slots\":1024,\"slots_used\":3,\"flows\":3,");
	sh("%s curl -sf http://%s/metrics", in_ns, metrics);
	expect("/metrics", "\nflowtier_connections{zone=\"0\",state=\"established\"} 3\n");
	expect("/metrics", "\nflowtier_flows 3\n");
	expect("/metrics", "\nflowtier_flow_packets{direction=\"original\",verdict=\"pass\","
			   "tier=\"software\"} 9\n");
	expect("/metrics", "\nflowtier_flow_packets{direction=\"reply\",verdict=\"pass\","
			   "tier=\"software\"} 6\n");
	expect_flows(3, 2);
}

Test(xcpu_views, a_controller_killed_in_the_middle_loses_and_doubles_nothing)
{
	start_controller();
	open_pinned();
	split_traffic(3, 2);
	wait_scans();
	expect_flows(3, 2);

	sh("kill -9 $(cat %s)", pidfile);
	for (int i = 0; i < 50 && ft_run(out, sizeof(out), "kill -0 $(cat %s)", pidfile) == 0; i++)
		usleep(100 * 1000);
	unlink(pidfile);
	/* While no controller runs: the datapath counts on, on both CPUs. */
	split_traffic(4, 1);
	start_controller();
	wait_scans();
	split_traffic(1, 3);
	wait_scans();
	expect_flows(8, 6);
}
