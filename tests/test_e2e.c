// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Real packets through a veth pair: XDP on one end's ingress and TC on its
 * egress, UDP sockets on both sides, exact counters afterwards.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "ft_test.h"
#include "flowtier.skel.h"

static struct ft_datapath dp;
static char peer_ns[64];

/*
 * This process gets a private namespace (gone with it) holding ft0; the
 * peer ft1 goes to a named namespace that teardown always deletes.
 */
static void setup(void)
{
	snprintf(peer_ns, sizeof(peer_ns), "ft-e2e-%d", getpid());
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "cannot create a network namespace");
	ft_sh("ip netns add %s", peer_ns);
	ft_sh("ip link add ft0 type veth peer name ft1 netns %s", peer_ns);
	ft_sh("ip addr add 198.18.0.1/24 dev ft0 && ip link set ft0 up && ip link set lo up");
	ft_sh("ip -n %s addr add 198.18.0.2/24 dev ft1 && ip -n %s link set ft1 up", peer_ns,
	      peer_ns);
}

static void teardown(void)
{
	char cmd[128];

	ft_dp_close(&dp);
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", peer_ns);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot delete namespace %s\n", peer_ns);
}

TestSuite(e2e, .init = setup, .fini = teardown);

/* Attaches ft_xdp (native mode) to ft0's ingress and ft_tc_egress to its egress. */
static void attach(void)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc);
	int ifindex = if_nametoindex("ft0");

	cr_assert_neq(ifindex, 0);
	hook.ifindex = ifindex;
	cr_assert_eq(bpf_xdp_attach(ifindex, bpf_program__fd(dp.skel->progs.ft_xdp),
				    XDP_FLAGS_DRV_MODE, NULL),
		     0, "cannot attach XDP to ft0");
	cr_assert_eq(bpf_tc_hook_create(&hook), 0, "cannot create clsact on ft0");
	tc.prog_fd = bpf_program__fd(dp.skel->progs.ft_tc_egress);
	cr_assert_eq(bpf_tc_attach(&hook, &tc), 0, "cannot attach TC egress to ft0");
}

/* Enters namespace ns (NULL: stays); returns what leave_ns() needs. */
static int enter_ns(const char *ns)
{
	char path[96];
	int self, fd;

	if (!ns)
		return -1;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY);
	fd = open(path, O_RDONLY);
	cr_assert(self >= 0 && fd >= 0);
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0);
	close(fd);
	return self;
}

static void leave_ns(int self)
{
	if (self < 0)
		return;
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(self);
}

/* A UDP socket bound to addr:port inside namespace ns (NULL: this one). */
static int udp_socket(const char *ns, const char *addr, __u16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300 * 1000 };
	int self = enter_ns(ns), fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s:%u", addr, port);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	leave_ns(self);
	return fd;
}

/* Sends frame n times, as it is, out of ifname in namespace ns. */
static void inject(const char *ns, const char *ifname, const __u8 *frame, size_t len, int n)
{
	int self = enter_ns(ns);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = if_nametoindex(ifname),
		.sll_halen = ETH_ALEN,
	};
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	cr_assert_geq(fd, 0);
	cr_assert_neq(sll.sll_ifindex, 0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)),
			     (ssize_t)len);
	close(fd);
	leave_ns(self);
}

static void send_to(int fd, const char *addr, __u16 port, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	char buf[256] = { 0 };

	cr_assert_eq(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)len);
}

/* 1 when a datagram of len bytes arrives before the socket's timeout. */
static int received(int fd, size_t len)
{
	char buf[256];

	return recv(fd, buf, sizeof(buf), 0) == (ssize_t)len;
}

static const struct ft_spec flow = {
	.family = 4,
	.src = "198.18.0.2",
	.dst = "198.18.0.1",
	.proto = 17,
	.sport = 40000,
	.dport = 5000,
};

Test(e2e, real_packets_both_ways_are_counted_exactly_in_one_entry)
{
	int peer, local, side;
	struct ft_ct *c;

	ft_test_load(&dp, 4096, 1, 2);
	attach();
	peer = udp_socket(peer_ns, "198.18.0.2", 40000);
	local = udp_socket(NULL, "198.18.0.1", 5000);
	for (int i = 0; i < 3; i++) {
		send_to(peer, "198.18.0.1", 5000, 100);
		cr_assert(received(local, 100), "datagram %d did not arrive", i);
	}
	for (int i = 0; i < 2; i++) {
		send_to(local, "198.18.0.2", 40000, 20);
		cr_assert(received(peer, 20), "reply %d did not arrive", i);
	}

	c = ft_find(&dp, &flow, 0, &side, NULL, NULL);
	cr_assert_not_null(c, "no connection for the UDP flow");
	/* 14 Ethernet + 20 IPv4 + 8 UDP + payload; XDP and skb->len both see the frame */
	cr_assert_eq(c->dir[side].packets, 3);
	cr_assert_eq(c->dir[side].bytes, 3 * (42 + 100));
	cr_assert_eq(c->dir[!side].packets, 2);
	cr_assert_eq(c->dir[!side].bytes, 2 * (42 + 20));
	cr_assert_eq(c->state, FT_STATE_ESTABLISHED);
	cr_assert_eq(!!(c->flags & FT_CONN_ORIG_IS_1), side, "the peer opened it");
	/* The peer's direction arrived on ft0 (XDP); replies left by egress only. */
	cr_assert_eq(c->dir[side].in_ifindex, if_nametoindex("ft0"));
	cr_assert_eq(c->dir[!side].in_ifindex, 0);
	cr_assert_geq(ft_stats_of(&dp).packets[FT_HOOK_XDP], 3);
	cr_assert_geq(ft_stats_of(&dp).packets[FT_HOOK_TC_EGRESS], 2);
	close(peer);
	close(local);
}

/*
 * Tagged frames reach TC ingress with the tag already in skb metadata
 * (the core receive path untags them); the zone must still be the VLAN ID.
 */
Test(e2e, tc_ingress_takes_the_zone_from_a_tag_the_stack_already_removed)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc);
	struct ft_spec tagged = flow;
	__u8 frame[1514];
	struct ft_ct *c;
	size_t len;
	int side;

	ft_test_load(&dp, 4096, 1, 2);
	hook.ifindex = if_nametoindex("ft0");
	cr_assert_eq(bpf_tc_hook_create(&hook), 0, "cannot create clsact on ft0");
	tc.prog_fd = bpf_program__fd(dp.skel->progs.ft_tc_ingress);
	cr_assert_eq(bpf_tc_attach(&hook, &tc), 0, "cannot attach TC ingress to ft0");

	tagged.nvlan = 1;
	tagged.vlan_id[0] = 100;
	tagged.payload = 100;
	len = ft_build(&tagged, frame);
	inject(peer_ns, "ft1", frame, len, 3);

	cr_assert_null(ft_find(&dp, &tagged, 0, NULL, NULL, NULL), "not in zone 0");
	c = ft_find(&dp, &tagged, 100, &side, NULL, NULL);
	cr_assert_not_null(c, "no connection in zone 100");
	cr_assert_eq(c->dir[side].packets, 3);
	/* Without the tag, which is in skb metadata by now: 14 + 20 + 8 + 100 */
	cr_assert_eq(c->dir[side].bytes, 3 * 142);
}

Test(e2e, a_drop_rule_drops_real_packets_in_xdp_and_counts_them)
{
	struct ft_rule r = { .family = 4,
			     .proto = 17,
			     .dport_lo = 5000,
			     .dport_hi = 5000,
			     .verdict = FT_VERDICT_DROP };
	int peer, local, side;
	struct ft_ct *c;

	ft_test_load(&dp, 4096, 1, 2);
	cr_assert_eq(ft_dp_set_rules(&dp, &r, 1), 0);
	attach();
	peer = udp_socket(peer_ns, "198.18.0.2", 40000);
	local = udp_socket(NULL, "198.18.0.1", 5000);
	for (int i = 0; i < 3; i++)
		send_to(peer, "198.18.0.1", 5000, 100);
	cr_assert(!received(local, 100), "a dropped datagram arrived");

	c = ft_find(&dp, &flow, 0, &side, NULL, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(c->verdict, FT_VERDICT_DROP);
	cr_assert_eq(c->dir[side].packets, 3, "dropped packets are counted");
	cr_assert_eq(c->dir[!side].packets, 0);
	cr_assert_eq(ft_stats_of(&dp).verdict[FT_VERDICT_DROP], 3);
	close(peer);
	close(local);
}
