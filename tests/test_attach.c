// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowtier load -i / unload -i / run on a real veth pair between two
 * namespaces of the test's own: what gets attached, exact counters from
 * real packets, what is left after unload, and every bad input refused
 * with its message, exit status 2 and nothing attached.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "ctl.h"
#include "flowtier/emu_nic.h"
#include "ft_test.h"
#include "flowtier/abi.h"

#define FT_BIN "\"${FT_BIN:-build/flowtier}\""

/* Everything this test creates carries its pid: tests run side by side. */
static char ns_a[32], ns_b[32], if_a[16], if_b[16], pin[64], sock[64], cfg[64], pidfile[64];
static char in_a[96]; /* a command prefix that runs in namespace A and keeps /sys/fs/bpf */
static char out[1 << 20];

#define sh(...) cr_assert_eq(ft_run(out, sizeof(out), __VA_ARGS__), 0, "%s", out)

static void setup(void)
{
	int p = getpid();

	snprintf(ns_a, sizeof(ns_a), "fta-%d-a", p);
	snprintf(ns_b, sizeof(ns_b), "fta-%d-b", p);
	snprintf(if_a, sizeof(if_a), "fta%da", p);
	snprintf(if_b, sizeof(if_b), "fta%db", p);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/fta-%d", p);
	snprintf(sock, sizeof(sock), "/tmp/fta-%d.sock", p);
	snprintf(cfg, sizeof(cfg), "/tmp/fta-%d.conf", p);
	snprintf(pidfile, sizeof(pidfile), "/tmp/fta-%d.pid", p);
	snprintf(in_a, sizeof(in_a), "nsenter --net=/run/netns/%s", ns_a);
	sh("ip netns add %s && ip netns add %s", ns_a, ns_b);
	/* No IPv6: its neighbour discovery would add connections of its own. */
	sh("%s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
	   in_a);
	sh("nsenter --net=/run/netns/%s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
	   "net.ipv6.conf.default.disable_ipv6=1",
	   ns_b);
	sh("ip -n %s link add %s type veth peer name %s netns %s", ns_a, if_a, if_b, ns_b);
	sh("ip -n %s addr add 198.18.0.1/24 dev %s && ip -n %s link set %s up", ns_a, if_a, ns_a,
	   if_a);
	sh("ip -n %s addr add 198.18.0.2/24 dev %s && ip -n %s link set %s up", ns_b, if_b, ns_b,
	   if_b);
}

static void teardown(void)
{
	char buf[4096];

	/* Only the controller this test started, by its pid. */
	ft_run(buf, sizeof(buf), "test -s %s && kill -9 $(cat %s); sleep 0.1", pidfile, pidfile);
	ft_run(buf, sizeof(buf), "%s " FT_BIN " unload --pin-dir %s", in_a, pin);
	ft_run(buf, sizeof(buf), "%s " FT_BIN " unload --pin-dir %s-b", in_a, pin);
	ft_run(buf, sizeof(buf), "ip netns del %s; ip netns del %s", ns_a, ns_b);
	ft_run(buf, sizeof(buf), "rm -rf %s %s-b; rm -f %s %s %s %s.log", pin, pin, sock, cfg,
	       pidfile, pidfile);
}

TestSuite(attach, .init = setup, .fini = teardown, .timeout = 60);

/* A UDP socket bound to addr:port in namespace ns. */
static int udp_socket(const char *ns, const char *addr, __u16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int self = open("/proc/self/ns/net", O_RDONLY), nsfd, fd;
	char path[64];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY);
	cr_assert(self >= 0 && nsfd >= 0);
	cr_assert_eq(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(self);
	close(nsfd);
	return fd;
}

/*
 * Sends n one-byte UDP datagrams from 198.18.0.2:sport (namespace B) to
 * 198.18.0.1:5353, where a socket takes them (no ICMP error comes back).
 * From CPU 0: veth receives on the sender's CPU, so every packet meets the
 * same CPU part of the table.
 */
static void udp_send(__u16 sport, int n)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(5353) };
	int rx = udp_socket(ns_a, "198.18.0.1", 5353), fd = udp_socket(ns_b, "198.18.0.2", sport);
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	cr_assert_eq(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
	inet_pton(AF_INET, "198.18.0.1", &dst.sin_addr);
	for (int i = 0; i < n; i++)
		cr_assert_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	usleep(100 * 1000);
	close(fd);
	close(rx);
}

/* The pinned event counters, summed over CPUs. */
static struct ft_stats stats_sum(void)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	struct ft_stats *per = calloc(ncpu, sizeof(*per)), sum = {};
	char path[96];
	__u32 key = 0;

	snprintf(path, sizeof(path), "%s/ft_stats", pin);
	fd = bpf_obj_get(path);
	cr_assert(fd >= 0 && per);
	cr_assert_eq(bpf_map_lookup_elem(fd, &key, per), 0);
	for (int c = 0; c < ncpu; c++) {
		for (int h = 0; h < FT_HOOK_MAX; h++)
			sum.packets[h] += per[c].packets[h];
		sum.created += per[c].created;
	}
	close(fd);
	free(per);
	return sum;
}

/* The UDP flow 198.18.0.2:sport -> 198.18.0.1:5353 as flows --json prints it (sampled). */
static void expect_udp_flow(__u16 sport, int packets, const char *via)
{
	char want[256];

	snprintf(want, sizeof(want),
		 "{\"src\":\"198.18.0.2\",\"dst\":\"198.18.0.1\",\"sport\":%u,\"dport\":5353,"
		 "\"proto\":\"udp\",\"zone\":0,\"state\":\"new\",\"verdict\":\"pass\","
		 "\"packets\":%d,\"bytes\":%d,",
		 sport, packets, packets * 43);
	sh("%s " FT_BIN " flows --json --sort packets --sample 0.1 --pin-dir %s --socket %s", in_a,
	   pin, via);
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
}

/*
 * Loads A with --xdp-mode mode, checks that flowtier says it runs XDP as
 * `says`, and leaves what `ip link show` prints of A in out.
 */
static void load_xdp_mode(const char *mode, const char *says)
{
	char want[64];

	snprintf(want, sizeof(want), "': XDP %s, TC ingress and egress\n", says);
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s --xdp-mode %s", in_a, pin, if_a,
	   mode);
	cr_assert(strstr(out, want), "%s", out);
	sh("ip -n %s link show dev %s", ns_a, if_a);
}

/* Sends n datagrams from sport and checks that flows, with no controller, sees exactly them. */
static void udp_flow(__u16 sport, int n)
{
	udp_send(sport, n);
	expect_udp_flow(sport, n, "/nonexistent");
}

Test(attach, load_i_attaches_xdp_and_tc_and_counts_each_packet_once)
{
	struct ft_stats st;

	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s", in_a, pin, if_a);
	cr_assert(strstr(out, "flowtier: info: attached to '") &&
			  strstr(out, "': XDP native, TC ingress and egress\n"),
		  "%s", out);
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert(strstr(out, "prog/xdp id ") && strstr(out, " name ft_xdp "), "%s", out);
	sh("%s tc filter show dev %s ingress", in_a, if_a);
	cr_assert(strstr(out, "pref 18004 bpf chain 0 handle 0x4654 ft_tc_ingress"), "%s", out);
	sh("%s tc filter show dev %s egress", in_a, if_a);
	cr_assert(strstr(out, "pref 18004 bpf chain 0 handle 0x4654 ft_tc_egress"), "%s", out);

	udp_flow(40000, 7);
	st = stats_sum();
	/* TC ingress runs on the same interface as XDP and leaves the packets to it. */
	cr_assert_eq(st.packets[FT_HOOK_TC_INGRESS], 0);
	cr_assert_geq(st.packets[FT_HOOK_XDP], 7);
}

Test(attach, generic_mode_on_request_and_tc_ingress_counts_where_no_xdp_runs)
{
	load_xdp_mode("generic", "generic");
	cr_assert(strstr(out, "prog/xdp id ") && strstr(out, " xdpgeneric "), "%s", out);
	udp_flow(40001, 4);
	cr_assert_eq(stats_sum().packets[FT_HOOK_TC_INGRESS], 0);
	/* skb is generic's other name, as ip link calls it. */
	load_xdp_mode("skb", "generic");
	cr_assert(strstr(out, "prog/xdp id ") && strstr(out, " xdpgeneric "), "%s", out);
}

/* off: TC only, so that tc flower rules (prio 15/16) see the packets before flowtier does. */
Test(attach, xdp_mode_off_attaches_tc_only_and_takes_flowtiers_xdp_off)
{
	load_xdp_mode("native", "native");
	load_xdp_mode("off", "off");
	cr_assert_null(strstr(out, "xdp"), "%s", out);
	sh("%s tc filter show dev %s ingress", in_a, if_a);
	cr_assert(strstr(out, "pref 18004 bpf chain 0 handle 0x4654 ft_tc_ingress"), "%s", out);
	udp_flow(40002, 5);
	cr_assert_eq(stats_sum().packets[FT_HOOK_XDP], 0);
	/* The 5 datagrams and B's ARP request for 198.18.0.1. */
	cr_assert_eq(stats_sum().packets[FT_HOOK_TC_INGRESS], 6);
}

Test(attach, unload_i_leaves_nothing_and_keeps_the_filters_of_others)
{
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s", in_a, pin, if_a);
	sh("%s " FT_BIN " unload --pin-dir %s -i %s", in_a, pin, if_a);
	cr_assert(strstr(out, "flowtier: info: detached from '"), "%s", out);
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
	sh("%s tc qdisc show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "clsact"), "%s", out);
	sh("%s tc filter show dev %s ingress", in_a, if_a);
	cr_assert_str_eq(out, "");
	cr_assert_neq(access(pin, F_OK), 0, "the last interface gone, the maps are unpinned");

	/* Someone else's filter on the same clsact stays, and so does the qdisc. */
	sh("%s tc qdisc add dev %s clsact", in_a, if_a);
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s", in_a, pin, if_a);
	sh("%s tc filter add dev %s ingress prio 7 bpf da pinned %s/ft_tc_egress", in_a, if_a, pin);
	sh("%s " FT_BIN " unload --pin-dir %s -i %s", in_a, pin, if_a);
	sh("%s tc filter show dev %s ingress", in_a, if_a);
	cr_assert(strstr(out, "pref 7 bpf") && !strstr(out, "0x4654"), "%s", out);
}

Test(attach, an_unknown_interface_is_refused_and_nothing_is_attached)
{
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s -i "
			    "fta-nope",
			    in_a, pin, if_a),
		     2, "%s", out);
	cr_assert(strstr(out, "flowtier: error: no interface named 'fta-nope' (see 'ip link' for "
			      "the interfaces there are)\n"),
		  "%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "the refused load left no pins behind");
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
	sh("%s tc qdisc show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "clsact"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " unload --pin-dir %s -i fta-nope", in_a,
			    pin),
		     2, "%s", out);
	cr_assert(strstr(out, "flowtier: error: no interface named 'fta-nope'"), "%s", out);
}

Test(attach, missing_privileges_are_named_with_the_fix)
{
	const char *drop = "setpriv --inh-caps=-all --bounding-set=-all";

	cr_assert_eq(ft_run(out, sizeof(out), "%s %s " FT_BIN " load --pin-dir %s -i %s", in_a,
			    drop, pin, if_a),
		     2, "%s", out);
	cr_assert_str_eq(out, "flowtier: error: flowtier load needs CAP_BPF and CAP_NET_ADMIN (or "
			      "CAP_SYS_ADMIN): run it as root\n");
	cr_assert_eq(ft_run(out, sizeof(out), "%s %s " FT_BIN " run --pin-dir %s -i %s --socket %s",
			    in_a, drop, pin, if_a, sock),
		     2, "%s", out);
	cr_assert_str_eq(out, "flowtier: error: flowtier run needs CAP_BPF and CAP_NET_ADMIN (or "
			      "CAP_SYS_ADMIN): run it as root\n");
	cr_assert_neq(access(pin, F_OK), 0, "nothing was pinned");
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
}

/* An XDP program of someone else's: XDP_PASS, loaded here, attached with ip. */
static __u32 attach_foreign_xdp(const char *path)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "fta_foreign", "GPL", insns, 2, &o);

	cr_assert_geq(fd, 0, "cannot load the foreign XDP program");
	cr_assert_eq(bpf_obj_pin(fd, path), 0);
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	sh("%s ip link set dev %s xdpdrv pinned %s", in_a, if_a, path);
	return info.id;
}

Test(attach, a_foreign_xdp_program_is_refused_without_force)
{
	char path[96], want[256];
	__u32 id;

	snprintf(path, sizeof(path), "%s-foreign", pin);
	id = attach_foreign_xdp(path);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s",
			    in_a, pin, if_a),
		     2, "%s", out);
	snprintf(want, sizeof(want),
		 "flowtier: error: cannot attach XDP to '%s': another XDP program (id %u, "
		 "'fta_foreign') is attached; use --force to replace it\n",
		 if_a, id);
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert(strstr(out, " name fta_foreign "), "still there: %s", out);
	cr_assert_neq(access(pin, F_OK), 0, "the refused load left no pins behind");
	sh("%s tc qdisc show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "clsact"), "nothing half-attached: %s", out);

	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s --force", in_a, pin, if_a);
	snprintf(want, sizeof(want),
		 "flowtier: warning: replacing XDP program %u ('fta_foreign') on '%s' (--force)\n",
		 id, if_a);
	cr_assert(strstr(out, want), "%s", out);
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert(strstr(out, " name ft_xdp "), "%s", out);
	unlink(path);
}

Test(attach, bad_flag_values_are_refused_with_exit_status_2)
{
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " load --pin-dir %s -i %s --xdp-mode turbo", in_a, pin,
			    if_a),
		     2);
	cr_assert(strstr(out, "flowtier: error: bad value 'turbo' for --xdp-mode: expected native, "
			      "generic, skb or off\n"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " run --pin-dir %s -i %s --interval 0",
			    in_a, pin, if_a),
		     2);
	cr_assert(strstr(out, "flowtier: error: bad value '0' for --interval: expected seconds "
			      "from 0.1 to 3600\n"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " run --pin-dir %s -i %s --half-life x",
			    in_a, pin, if_a),
		     2);
	cr_assert(strstr(out, "flowtier: error: bad value 'x' for --half-life: expected seconds "
			      "from 0 to 3600\n"),
		  "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " run --pin-dir %s", in_a, pin), 2);
	cr_assert(strstr(out, "flowtier: error: flowtier run needs an interface: -i IFACE (or "
			      "'interface = IFACE' in --config)\n"),
		  "%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "nothing was pinned");
}

static void write_config(const char *text)
{
	FILE *f = fopen(cfg, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(cfg, 0600), 0);
}

Test(attach, a_bad_config_line_is_refused_with_its_line_number)
{
	char text[256];

	snprintf(text, sizeof(text), "# flowtier\ninterface = %s\ninterval = 0.5\nturbo\n", if_a);
	write_config(text);
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " run --pin-dir %s --socket %s --config %s", in_a, pin,
			    sock, cfg),
		     2);
	snprintf(text, sizeof(text), "flowtier: error: %s:4: expected 'key = value', got 'turbo'\n",
		 cfg);
	cr_assert(strstr(out, text), "%s", out);
	snprintf(text, sizeof(text), "interface = %s\nxdp-mode = fast\n", if_a);
	write_config(text);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " load --pin-dir %s --config %s", in_a,
			    pin, cfg),
		     2);
	cr_assert(strstr(out, "flowtier: error: bad value 'fast' for --xdp-mode"), "%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "nothing was pinned");
}

/* Starts flowtier run in namespace A in the background; waits until it answers. */
static void start_controller(const char *extra)
{
	sh("%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s --interval 0.1 %s "
	   ">>%s.log 2>&1 & echo $! > %s",
	   in_a, pin, if_a, sock, extra, pidfile, pidfile);
	for (int i = 0; i < 100; i++) {
		if (ft_run(out, sizeof(out), FT_BIN " status --socket %s", sock) == 0 &&
		    strstr(out, "controller: pid"))
			return;
		usleep(100 * 1000);
	}
	ft_run(out, sizeof(out), "cat %s.log", pidfile);
	cr_assert_fail("the controller did not answer: %s", out);
}

static void kill_controller(int sig)
{
	sh("kill -%d $(cat %s)", sig, pidfile);
	for (int i = 0; i < 50 && ft_run(out, sizeof(out), "kill -0 $(cat %s)", pidfile) == 0; i++)
		usleep(100 * 1000);
	cr_assert_neq(ft_run(out, sizeof(out), "kill -0 $(cat %s)", pidfile), 0, "still running");
	unlink(pidfile);
}

Test(attach, the_controller_answers_status_and_a_second_one_is_refused)
{
	char want[256];

	start_controller("");
	sh("%s " FT_BIN " status --json --socket %s", in_a, sock);
	snprintf(want, sizeof(want),
		 "\"interfaces\":[{\"name\":\"%s\",\"ifindex\":2,\"xdp\":\"native\","
		 "\"tc_ingress\":true,\"tc_egress\":true}],",
		 if_a);
	cr_assert(strstr(out, want), "want %s in %s", want, out);
	cr_assert(strstr(out, "\"interval_ms\":100,") && strstr(out, "\"slots\":1024,"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "stat -c %%a %s", sock), 0);
	cr_assert_str_eq(out, "600\n", "only root may open the control socket");

	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s.2", in_a,
			    pin, if_a, sock),
		     2);
	snprintf(want, sizeof(want),
		 "flowtier: error: another flowtier controller is running on %s: stop it first "
		 "(one controller owns a datapath)\n",
		 pin);
	cr_assert_str_eq(out, want);
	sh(FT_BIN " status --socket %s", sock);
	cr_assert(strstr(out, "controller: pid"), "the first one still runs: %s", out);

	/* SIGTERM or SIGINT: a clean exit, the socket goes, the datapath stays and counts. */
	for (int i = 0; i < 2; i++) {
		if (i)
			start_controller("");
		kill_controller(i ? SIGINT : SIGTERM);
		sh("ip -n %s link show dev %s", ns_a, if_a);
		cr_assert(strstr(out, " name ft_xdp "), "%s", out);
		cr_assert_neq(access(sock, F_OK), 0);
	}
	udp_flow(40003, 2);
}

/*
 * SIGHUP, which would end the controller without a word, is logged and
 * ignored; unload refuses while the controller holds the datapath and
 * leaves every pin and program in place.
 */
Test(attach, sighup_is_ignored_and_unload_waits_for_the_controller_to_stop)
{
	char want[256];

	start_controller("");
	sh("kill -HUP $(cat %s) && sleep 0.3", pidfile);
	sh(FT_BIN " status --socket %s", sock);
	cr_assert(strstr(out, "controller: pid"), "still running after SIGHUP: %s", out);
	sh("cat %s.log", pidfile);
	cr_assert(strstr(out, "flowtier: info: SIGHUP: ignored: the controller has no reload; "
			      "restart it to apply new settings\n"),
		  "%s", out);

	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " unload --pin-dir %s", in_a, pin), 2);
	snprintf(want, sizeof(want),
		 "flowtier: error: a flowtier controller is running on %s: stop it first (Ctrl-C "
		 "or SIGTERM; it leaves the datapath attached), then unload\n",
		 pin);
	cr_assert_str_eq(out, want);
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " unload --pin-dir %s -i %s", in_a, pin,
			    if_a),
		     2);
	cr_assert_str_eq(out, want, "unload -i too");
	sh("ls %s | wc -l", pin);
	cr_assert_str_eq(out, "13\n", "every pin is still there");
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert(strstr(out, " name ft_xdp "), "still attached: %s", out);
	sh(FT_BIN " status --socket %s", sock);

	kill_controller(SIGTERM);
	sh("%s " FT_BIN " unload --pin-dir %s", in_a, pin);
	cr_assert_neq(access(pin, F_OK), 0, "unloaded once the controller stopped");
}

/* A TCP socket listening on addr:port in namespace ns. */
static int tcp_listener(const char *ns, const char *addr, __u16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int self = open("/proc/self/ns/net", O_RDONLY), nsfd, fd;
	char path[64];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY);
	cr_assert(self >= 0 && nsfd >= 0);
	cr_assert_eq(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(self);
	close(nsfd);
	return fd;
}

/* /metrics' port taken: the start is refused and leaves no pin, the offload manager's included. */
Test(attach, a_start_refused_late_leaves_no_pin_behind)
{
	int fd;

	sh("ip netns exec %s ip link set lo up", ns_a);
	fd = tcp_listener(ns_a, "127.0.0.1", 19469);
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " run --conns 1024 --pin-dir %s -i %s --socket %s "
			    "--metrics 127.0.0.1:19469",
			    in_a, pin, if_a, sock),
		     2, "%s", out);
	cr_assert(strstr(out, "127.0.0.1:19469"), "the error names the address: %s", out);
	cr_assert_neq(access(pin, F_OK), 0, "no pin dir, so no ft_hw_base either");
	cr_assert_neq(access(sock, F_OK), 0, "no socket");
	sh("ip -n %s link show dev %s", ns_a, if_a);
	cr_assert(!strstr(out, "xdp"), "nothing attached: %s", out);
	close(fd);
}

Test(attach, counters_and_connections_survive_kill_9_and_a_restart)
{
	char want[128];
	__u64 created;

	start_controller("");
	udp_send(40002, 3);
	usleep(300 * 1000);
	expect_udp_flow(40002, 3, sock);
	created = stats_sum().created;
	cr_assert_eq(created, 1, "one UDP connection, nothing else crossed");
	kill_controller(SIGKILL);
	/* Nobody scans now, but the datapath still counts. */
	udp_send(40002, 2);
	start_controller("");
	usleep(300 * 1000);
	expect_udp_flow(40002, 5, sock);
	ft_run(out, sizeof(out), "%s " FT_BIN " ct --pin-dir %s", in_a, pin);
	cr_assert_eq(stats_sum().created, created,
		     "the connections were kept, none made again: %llu %s",
		     (unsigned long long)created, out);
	sh(FT_BIN " status --socket %s", sock);
	snprintf(want, sizeof(want),
		 "  %s (ifindex 2): xdp native, tc ingress yes, tc egress yes\n", if_a);
	cr_assert(strstr(out, want), "%s", out);
}

Test(attach, the_control_socket_refuses_malformed_requests)
{
	static const char *const bad[] = {
		"status; rm -rf /",
		"flows top=-1",
		"flows top=99999999999",
		"flows sort=loud",
		"reboot",
		"",
		"flows a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9",
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	start_controller("");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = open_memstream(&buf, &len);
		cr_assert_lt(ft_ctl_query(sock, bad[i], f), 0, "'%s' was accepted", bad[i]);
		fclose(f);
		cr_assert(strstr(buf, "error: "), "'%s': %s", bad[i], buf);
		free(buf);
		buf = NULL;
	}
	/* Still answering after all that. */
	sh(FT_BIN " status --socket %s", sock);
}

Test(attach, the_example_config_serves_run_load_and_unload)
{
	sh("sed -e 's/^interface = eth0$/interface = %s/' -e 's/^conns = .*/conns = 1024/' "
	   "dist/flowtier.conf > %s && printf 'pin-dir = %s\\nsocket = %s\\n' >> %s && chmod 600 "
	   "%s",
	   if_a, cfg, pin, sock, cfg, cfg);
	sh("%s " FT_BIN " load --config %s", in_a, cfg);
	cr_assert(strstr(out, "1024 connections"), "%s", out);
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert(strstr(out, " name ft_xdp "), "%s", out);
	/* Every setting parses for run too: it gets as far as the privileges check. */
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s setpriv --inh-caps=-all --bounding-set=-all " FT_BIN
			    " run --config %s",
			    in_a, cfg),
		     2);
	cr_assert_str_eq(out, "flowtier: error: flowtier run needs CAP_BPF and CAP_NET_ADMIN (or "
			      "CAP_SYS_ADMIN): run it as root\n");
	sh("%s " FT_BIN " unload --config %s", in_a, cfg);
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "unload -i of the last interface unpins");
}

/* The TC program on an interface, by direction: "ingress" or "egress". */
static void tc_prog(const char *dir, char *name, size_t len)
{
	sh("ip netns exec %s tc filter show dev %s %s | grep -o 'id [0-9]* name [^ ]*' | head -1",
	   ns_a, if_a, dir);
	size_t n = strnlen(out, len - 1);

	memcpy(name, out, n);
	name[n] = '\0';
}

/*
 * Pin dir B took the interface over with --force: unloading the stale pin
 * dir A removes A's pins and leaves B's programs attached and counting.
 */
Test(attach, unload_of_a_stale_pin_dir_leaves_the_datapath_that_replaced_it)
{
	char in_b[160], eg_b[160], want[256];

	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s", in_a, pin, if_a);
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s-b -i %s --force", in_a, pin, if_a);
	tc_prog("ingress", in_b, sizeof(in_b));
	tc_prog("egress", eg_b, sizeof(eg_b));
	cr_assert(strstr(in_b, " name ft_tc_ingress"), "%s", in_b);
	sh("%s " FT_BIN " unload --pin-dir %s", in_a, pin);
	snprintf(want, sizeof(want), "leaving TC ingress on '%s' as it is: program", if_a);
	cr_assert(strstr(out, want), "%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "A's pins are gone");
	tc_prog("ingress", want, sizeof(want));
	cr_assert_str_eq(want, in_b, "B's ingress program stays");
	tc_prog("egress", want, sizeof(want));
	cr_assert_str_eq(want, eg_b, "B's egress program stays");
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert(strstr(out, " name ft_xdp "), "B's XDP stays: %s", out);
	udp_send(40100, 3);
	sh("%s " FT_BIN " flows --json --sort packets --sample 0.1 --pin-dir %s-b --socket "
	   "/nonexistent",
	   in_a, pin);
	cr_assert(strstr(out,
			 "\"sport\":40100,\"dport\":5353,\"proto\":\"udp\",\"zone\":0,"
			 "\"state\":\"new\",\"verdict\":\"pass\",\"packets\":3,\"bytes\":129,"),
		  "B counts every packet: %s", out);
	sh("%s " FT_BIN " unload --pin-dir %s-b", in_a, pin);
	sh("ip netns exec %s tc filter show dev %s ingress | wc -l", ns_a, if_a);
	cr_assert_str_eq(out, "0\n");
}

Test(attach, a_driver_without_native_xdp_gets_generic_mode_with_a_warning)
{
	char ifb[16];

	snprintf(ifb, sizeof(ifb), "fta%di", getpid());
	sh("%s ip link add %s type ifb && %s ip link set %s up", in_a, ifb, in_a, ifb);
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s", in_a, pin, ifb);
	cr_assert(strstr(out, "flowtier: warning: '") &&
			  strstr(out, "' has no native XDP: attaching in generic mode, which is "
				      "slower (--xdp-mode generic says so and silences this)\n"),
		  "%s", out);
	cr_assert_null(strstr(out, "libbpf"), "%s", out);
	sh("%s ip link show dev %s", in_a, ifb);
	cr_assert(strstr(out, " xdpgeneric ") && strstr(out, " name ft_xdp "), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " load --pin-dir %s -i %s --xdp-mode native", in_a, pin,
			    ifb),
		     1);
	cr_assert(strstr(out, "' has no native XDP") == NULL &&
			  strstr(out, "(the driver has no native XDP: try --xdp-mode generic)\n"),
		  "%s", out);
	sh("%s ip link show dev %s", in_a, ifb);
	cr_assert(strstr(out, " xdpgeneric ") && strstr(out, " name ft_xdp "),
		  "a refused mode change keeps what ran: %s", out);
}

Test(attach, unload_i_of_one_interface_keeps_the_others_and_the_maps)
{
	char ifb[16];

	snprintf(ifb, sizeof(ifb), "fta%di", getpid());
	sh("%s ip link add %s type ifb && %s ip link set %s up", in_a, ifb, in_a, ifb);
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s -i %s --xdp-mode generic", in_a, pin,
	   if_a, ifb);
	sh("%s " FT_BIN " unload --pin-dir %s -i %s", in_a, pin, ifb);
	cr_assert_eq(access(pin, F_OK), 0, "another interface still uses the maps");
	sh("%s " FT_BIN " status --pin-dir %s --socket %s", in_a, pin, sock);
	cr_assert(strstr(out, "controller: not running") && strstr(out, if_a) && !strstr(out, ifb),
		  "%s", out);
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert(strstr(out, " name ft_xdp "), "%s", out);
	/* From another namespace, the same ifindex is not this interface. */
	sh(FT_BIN " status --pin-dir %s --socket %s", pin, sock);
	cr_assert(strstr(out, "  (another netns) (ifindex 2): xdp generic"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " unload --pin-dir %s", pin), 2);
	cr_assert(strstr(out, "flowtier: error: ifindex 2 was attached from another network "
			      "namespace: run 'flowtier unload' there, or 'flowtier unload "
			      "--force' when that namespace is gone\n"),
		  "%s", out);
	cr_assert_eq(access(pin, F_OK), 0, "nothing unpinned while attached elsewhere");
	sh("%s " FT_BIN " unload --pin-dir %s", in_a, pin);
	cr_assert_neq(access(pin, F_OK), 0);
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
}

/* A namespace deleted with flowtier attached leaves a record only --force can drop. */
Test(attach, unload_force_forgets_interfaces_of_another_namespace)
{
	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s -i %s", in_a, pin, if_a);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " unload --pin-dir %s", pin), 2);
	cr_assert_eq(ft_run(out, sizeof(out), FT_BIN " unload --force --pin-dir %s", pin), 0, "%s",
		     out);
	cr_assert(strstr(out, "flowtier: warning: forgetting ifindex 2, attached from another "
			      "network namespace\n"),
		  "%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "the maps are unpinned");
	sh("%s ip link set dev %s xdp off", in_a, if_a);
}

Test(attach, a_foreign_filter_at_flowtiers_priority_is_refused_without_force)
{
	char path[96], want[256];
	int id;

	sh("%s " FT_BIN " load --conns 1024 --pin-dir %s", in_a, pin);
	sh("%s tc qdisc add dev %s clsact && %s tc filter add dev %s egress prio 18004 handle "
	   "0x4654 bpf da pinned %s/ft_tc_ingress",
	   in_a, if_a, in_a, if_a, pin);
	snprintf(path, sizeof(path), "%s/ft_tc_ingress", pin);
	sh("bpftool -j prog show pinned %s | grep -o '\"id\":[0-9]*' | cut -d: -f2", path);
	id = atoi(out);
	cr_assert_eq(
		ft_run(out, sizeof(out), "%s " FT_BIN " load --pin-dir %s -i %s", in_a, pin, if_a),
		2);
	snprintf(want, sizeof(want),
		 "flowtier: error: cannot attach TC to '%s': the egress filter at flowtier's "
		 "priority and handle (0x4654) runs program %d ('ft_tc_ingress') that flowtier did "
		 "not attach; use --force to replace it\n",
		 if_a, id);
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
	cr_assert_null(strstr(out, "libbpf"), "%s", out);
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "nothing half-attached: %s", out);
	sh("%s " FT_BIN " load --pin-dir %s -i %s --force", in_a, pin, if_a);
	sh("%s tc filter show dev %s egress", in_a, if_a);
	cr_assert(strstr(out, "handle 0x4654 ft_tc_egress"), "%s", out);
}

Test(attach, a_second_controller_on_the_same_interface_or_socket_is_refused)
{
	char want[256];

	start_controller("");
	/* Another pin dir, the same socket: refused before anything is loaded. */
	cr_assert_eq(ft_run(out, sizeof(out), "%s " FT_BIN " run --pin-dir %s-2 -i %s --socket %s",
			    in_a, pin, if_a, sock),
		     2);
	snprintf(want, sizeof(want),
		 "flowtier: error: another flowtier controller answers on %s (stop it first, or "
		 "give --socket another path)\n",
		 sock);
	cr_assert_str_eq(out, want);
	/* Another pin dir and socket, the same interface: its XDP program is not this one's. */
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " run --conns 1024 --pin-dir %s-2 -i %s --socket %s-2",
			    in_a, pin, if_a, sock),
		     2);
	cr_assert(strstr(out, "flowtier: error: cannot attach XDP to '") &&
			  strstr(out, ", 'ft_xdp') is attached; use --force to replace it\n"),
		  "%s", out);
	snprintf(want, sizeof(want), "%s-2", pin);
	cr_assert_neq(access(want, F_OK), 0, "the refused controller left no pins behind");
	sh(FT_BIN " status --socket %s", sock);
	cr_assert(strstr(out, "controller: pid"), "the first one still runs: %s", out);
}

/* A hardware tier that cannot start (no emulated NIC there) stops run before it attaches. */
Test(attach, run_refused_by_its_offload_backend_attaches_nothing)
{
	cr_assert_eq(ft_run(out, sizeof(out),
			    "%s " FT_BIN " run -i %s --pin-dir %s --socket %s --metrics off "
			    "--offload emu --emu-pin-dir /sys/fs/bpf/fta-no-such-nic",
			    in_a, if_a, pin, sock),
		     2, "%s", out);
	cr_assert(strstr(out, "flowtier: error: cannot open the emu offload backend: No such file "
			      "or directory\n"),
		  "%s", out);
	cr_assert(
		strstr(out,
		       "flowtier: error: cannot open /sys/fs/bpf/fta-no-such-nic/" FT_EMU_MAP_FLOWS
		       ": No such file or directory (is the emulated NIC attached? run "
		       "'emu-nic attach')\n"),
		"%s", out);
	cr_assert_neq(access(pin, F_OK), 0, "no pin dir left behind");
	sh("%s ip link show dev %s", in_a, if_a);
	cr_assert_null(strstr(out, "xdp"), "%s", out);
	sh("%s tc filter show dev %s ingress", in_a, if_a);
	cr_assert_str_eq(out, "");
}
