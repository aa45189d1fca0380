// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The emulated NIC: its program through BPF_PROG_TEST_RUN, the `emu`
 * backend on its pinned maps, and real packets through veth pairs in four
 * namespaces (gen -> nic -> host or sink).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ft_test.h"
#include "hw_emu.h"
#include "nic.h"
#include "flowtier/emu_nic.h"
#include "emu_nic.skel.h"

#define EMU_BIN "\"${FT_EMU_BIN:-build/emu-nic}\""

static const __u8 host_mac[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 };
static const __u8 sink_mac[6] = { 0x02, 0, 0, 0, 0x0b, 0x01 };

static struct emu_nic *skel;
static char pin_dir[64];
static int host_if, sink_if;

/*
 * The NIC loaded and pinned, in a private namespace (gone with the test's
 * process) holding two veth pairs whose ends stand for its host and sink
 * ports.
 */
static void load(__u32 capacity)
{
	struct ft_emu_config cfg = { .capacity = capacity };
	__u32 zero = 0;

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/fte-%d", getpid());
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "cannot create a network namespace");
	ft_sh("ip link add fteh type veth peer name fteh1 && ip link add ftes type veth peer name "
	      "ftes1");
	ft_sh("ip link set fteh address 02:00:00:00:0a:02 && ip link set ftes address "
	      "02:00:00:00:0b:02");
	ft_sh("ip link set fteh up && ip link set fteh1 up && ip link set ftes up && ip link set "
	      "ftes1 up");
	host_if = if_nametoindex("fteh");
	sink_if = if_nametoindex("ftes");
	cr_assert(host_if && sink_if);
	cr_assert_eq(ft_emu_nic_load(&skel, pin_dir, capacity), 0, "cannot load the NIC");
	cfg.port[FT_EMU_PORT_HOST] =
		(struct ft_emu_port){ .ifindex = host_if,
				      .src_mac = { 0x02, 0, 0, 0, 0x0a, 0x02 } };
	cfg.port[FT_EMU_PORT_SINK] =
		(struct ft_emu_port){ .ifindex = sink_if,
				      .src_mac = { 0x02, 0, 0, 0, 0x0b, 0x02 } };
	memcpy(cfg.port[FT_EMU_PORT_HOST].dst_mac, host_mac, 6);
	memcpy(cfg.port[FT_EMU_PORT_SINK].dst_mac, sink_mac, 6);
	cr_assert_eq(bpf_map__update_elem(skel->maps.emu_config, &zero, 4, &cfg, sizeof(cfg), 0),
		     0);
	cr_assert_eq(bpf_map__update_elem(skel->maps.emu_ports, &host_if, 4, &host_if, 4, 0), 0);
	cr_assert_eq(bpf_map__update_elem(skel->maps.emu_ports, &sink_if, 4, &sink_if, 4, 0), 0);
}

static void unload(void)
{
	emu_nic__destroy(skel);
	skel = NULL;
	if (pin_dir[0])
		ft_emu_nic_unpin(pin_dir);
}

/* One frame through the NIC; returns its verdict and, when out is given, the frame after. */
static __u32 nic_run(const struct ft_spec *s, __u8 *out)
{
	__u8 in[FT_FRAME_MAX], scratch[FT_FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out ? out : scratch,
		    .data_size_out = FT_FRAME_MAX, .repeat = 1);

	o.data_size_in = ft_build(s, in);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.emu_nic), &o), 0,
		     "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
	return o.retval;
}

/* Like nic_run, arriving on port ifindex. */
static __u32 nic_run_on(const struct ft_spec *s, int ifindex)
{
	__u8 in[FT_FRAME_MAX], out[FT_FRAME_MAX];
	struct xdp_md ctx = { .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = FT_FRAME_MAX, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	o.data_size_in = ft_build(s, in);
	ctx.data_end = o.data_size_in;
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.emu_nic), &o), 0,
		     "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
	return o.retval;
}

static struct ft_emu_stats nic_stats(void)
{
	int n = libbpf_num_possible_cpus();
	struct ft_emu_stats sum = {}, *v = calloc(n, sizeof(*v));
	__u32 zero = 0;

	cr_assert_not_null(v);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.emu_stats), &zero, v), 0);
	for (int c = 0; c < n; c++) {
		__u64 *d = (__u64 *)&sum, *s = (__u64 *)&v[c];

		for (size_t i = 0; i < sizeof(sum) / 8; i++)
			d[i] += s[i];
	}
	free(v);
	return sum;
}

static struct ft_emu_counters slot_counters(__u32 slot)
{
	int n = libbpf_num_possible_cpus();
	struct ft_emu_counters sum = {}, *v = calloc(n, sizeof(*v));

	cr_assert_not_null(v);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.emu_counters), &slot, v), 0);
	for (int c = 0; c < n; c++) {
		sum.packets += v[c].packets;
		sum.bytes += v[c].bytes;
	}
	free(v);
	return sum;
}

static void addr(int family, const char *a, __u8 out[16])
{
	memset(out, 0, 16);
	cr_assert_eq(inet_pton(family == 6 ? AF_INET6 : AF_INET, a, out), 1);
}

/* A rule straight into the table, for the spec's direction. */
static void put_rule(const struct ft_spec *s, __u8 action, __u32 slot)
{
	struct ft_emu_key k = { .sport = htons(s->sport),
				.dport = htons(s->dport),
				.proto = s->proto,
				.family = s->family };
	struct ft_emu_rule v = { .slot = slot, .action = action, .owner = FT_EMU_OWNER_FLOWTIER };

	addr(s->family, s->src, k.src);
	addr(s->family, s->dst, k.dst);
	cr_assert_eq(bpf_map__update_elem(skel->maps.emu_flows, &k, sizeof(k), &v, sizeof(v),
					  BPF_NOEXIST),
		     0);
}

static const struct ft_spec udp4 = { .family = 4,
				     .src = "198.18.0.1",
				     .dst = "198.18.1.2",
				     .proto = 17,
				     .sport = 1000,
				     .dport = 2000,
				     .payload = 100 };

TestSuite(nic, .fini = unload);

Test(nic, a_drop_rule_drops_in_the_nic_and_counts_every_packet_and_byte)
{
	load(8);
	put_rule(&udp4, FT_EMU_DROP, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(nic_run(&udp4, NULL), FT_XDP_DROP);
	cr_assert_eq(slot_counters(3).packets, 3);
	cr_assert_eq(slot_counters(3).bytes, 3 * (14 + 20 + 8 + 100));
	cr_assert_eq(nic_stats().rx, 3);
	cr_assert_eq(nic_stats().dropped, 3);
	cr_assert_eq(nic_stats().to_host, 0);
}

Test(nic, a_redirect_rule_sends_out_of_the_sink_port_addressed_to_the_sink)
{
	__u8 out[FT_FRAME_MAX];

	load(8);
	put_rule(&udp4, FT_EMU_REDIRECT, 0);
	cr_assert_eq(nic_run(&udp4, out), FT_XDP_REDIRECT);
	cr_assert_arr_eq(out, sink_mac, 6, "destination: the sink's MAC");
	cr_assert_arr_eq(out + 6, ((__u8[]){ 0x02, 0, 0, 0, 0x0b, 0x02 }), 6,
			 "source: the NIC's sink port");
	cr_assert_eq(slot_counters(0).packets, 1);
	cr_assert_eq(nic_stats().redirected, 1);
	cr_assert_eq(nic_stats().to_host, 0);
}

Test(nic, a_packet_matching_no_rule_goes_to_the_host_port)
{
	struct ft_spec reply = udp4;
	__u8 out[FT_FRAME_MAX];

	load(8);
	put_rule(&udp4, FT_EMU_DROP, 0);
	/* The reverse direction is another rule's business. */
	reply.src = udp4.dst, reply.dst = udp4.src, reply.sport = 2000, reply.dport = 1000;
	cr_assert_eq(nic_run(&reply, out), FT_XDP_REDIRECT);
	cr_assert_arr_eq(out, host_mac, 6, "destination: the host's MAC");
	cr_assert_eq(slot_counters(0).packets, 0);
	cr_assert_eq(nic_stats().to_host, 1);
	cr_assert_eq(nic_stats().dropped, 0);
}

Test(nic, tcp_syn_fin_and_rst_never_match_and_go_to_the_host)
{
	struct ft_spec tcp = udp4;
	static const __u8 control[] = { 0x02, 0x12, 0x11, 0x04,
					0x01 }; /* SYN, SYN|ACK, FIN|ACK, RST, FIN */

	load(8);
	tcp.proto = 6;
	put_rule(&tcp, FT_EMU_DROP, 1);
	for (size_t i = 0; i < sizeof(control); i++) {
		tcp.tcp_flags = control[i];
		cr_assert_eq(nic_run(&tcp, NULL), FT_XDP_REDIRECT, "flags 0x%x", control[i]);
	}
	cr_assert_eq(slot_counters(1).packets, 0);
	cr_assert_eq(nic_stats().tcp_control, 5);
	cr_assert_eq(nic_stats().to_host, 5);
	tcp.tcp_flags = 0x10; /* ACK */
	cr_assert_eq(nic_run(&tcp, NULL), FT_XDP_DROP);
	tcp.tcp_flags = 0x18; /* PSH|ACK */
	cr_assert_eq(nic_run(&tcp, NULL), FT_XDP_DROP);
	cr_assert_eq(slot_counters(1).packets, 2);
	cr_assert_eq(slot_counters(1).bytes, 2 * (14 + 20 + 20 + 100));
}

Test(nic, ipv6_and_vlan_tagged_packets_match_exactly)
{
	struct ft_spec v6 = udp4, tagged = udp4, ext;

	load(8);
	v6.family = 6, v6.src = "2001:db8::1", v6.dst = "2001:db8::2";
	put_rule(&v6, FT_EMU_DROP, 2);
	put_rule(&udp4, FT_EMU_DROP, 3);
	cr_assert_eq(nic_run(&v6, NULL), FT_XDP_DROP);
	cr_assert_eq(nic_run(&v6, NULL), FT_XDP_DROP);
	cr_assert_eq(slot_counters(2).packets, 2);
	cr_assert_eq(slot_counters(2).bytes, 2 * (14 + 40 + 8 + 100));
	tagged.nvlan = 1, tagged.vlan_id[0] = 100;
	cr_assert_eq(nic_run(&tagged, NULL), FT_XDP_DROP);
	cr_assert_eq(slot_counters(3).bytes, 14 + 4 + 20 + 8 + 100);
	/* An extension header or a fragment: the NIC does not look further, the host does. */
	ext = v6, ext.nexthdrs = 1;
	cr_assert_eq(nic_run(&ext, NULL), FT_XDP_REDIRECT);
	ext = udp4, ext.frag = 1;
	cr_assert_eq(nic_run(&ext, NULL), FT_XDP_REDIRECT);
	cr_assert_eq(nic_stats().unparsed, 2);
	cr_assert_eq(slot_counters(2).packets, 2);
	cr_assert_eq(slot_counters(3).packets, 1);
}

Test(nic, a_redirect_to_a_port_missing_from_the_nic_is_dropped_and_counted)
{
	struct ft_emu_key k = {
		.sport = htons(1000), .dport = htons(2000), .proto = 17, .family = 4
	};
	struct ft_emu_rule v = { .slot = 0, .action = FT_EMU_REDIRECT, .out_ifindex = 999 };

	load(8);
	addr(4, udp4.src, k.src);
	addr(4, udp4.dst, k.dst);
	cr_assert_eq(bpf_map__update_elem(skel->maps.emu_flows, &k, sizeof(k), &v, sizeof(v), 0),
		     0);
	cr_assert_eq(nic_run(&udp4, NULL), FT_XDP_DROP);
	cr_assert_eq(nic_stats().no_port, 1);
	cr_assert_eq(nic_stats().redirected, 0);
}

/* The backend on the pinned maps. */

static struct ft_hw *hw;
static __u64 fake_ns;

static __u64 fake_clock(void *ctx)
{
	(void)ctx;
	return fake_ns;
}

static void backend_fini(void)
{
	if (hw)
		hw->ops->close(hw);
	hw = NULL;
	unload();
}

TestSuite(backend, .fini = backend_fini);

static void open_backend(__u32 capacity, __u64 lag_ms)
{
	struct ft_hw_emu_opts o = { .pin_dir = pin_dir,
				    .capacity = capacity,
				    .stats_lag_ms = lag_ms };

	if (lag_ms) {
		o.clock_ns = fake_clock;
		fake_ns = 1000000000000ull;
	}
	cr_assert_eq(ft_hw_emu_open(&hw, &o), 0, "cannot open the emu backend");
}

/* Flow i: UDP 198.18.0.1:(1000 + i) -> 198.18.1.2:2000, direction 0 of its key. */
static struct ft_hw_rule rule_of(int i, __u8 verdict)
{
	struct ft_hw_rule r = { .dir = 0,
				.verdict = verdict,
				.ifindex = 7,
				.redirect_ifindex = 9,
				.handle = 100 + i,
				.cookie = 5000 + i };

	r.key.family = 4, r.key.proto = 17;
	addr(4, "198.18.0.1", r.key.addr[0]);
	addr(4, "198.18.1.2", r.key.addr[1]);
	r.key.port[0] = htons(1000 + i);
	r.key.port[1] = htons(2000);
	return r;
}

static struct ft_spec spec_of(int i)
{
	struct ft_spec s = udp4;

	s.sport = 1000 + i;
	return s;
}

static int add(struct ft_hw_rule r, struct ft_hw_op *op)
{
	memset(op, 0, sizeof(*op));
	op->rule = r;
	cr_assert_eq(hw->ops->add(hw, op, 1), 0);
	return op->err;
}

Test(backend, adds_until_the_table_is_full_then_enospc_with_the_extack)
{
	struct ft_hw_op op;

	load(8);
	open_backend(0, 0);
	cr_assert_eq(ft_hw_emu_capacity(hw), 8);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(add(rule_of(i, FT_VERDICT_DROP), &op), 0, "rule %d: %s", i, op.extack);
	cr_assert_eq(add(rule_of(8, FT_VERDICT_DROP), &op), -ENOSPC);
	cr_assert_str_eq(op.extack, "emulated NIC table full (8 rules)");
	cr_assert_eq(ft_hw_classify(op.err, op.extack), FT_HWC_EXHAUSTED);
	cr_assert_eq(ft_hw_emu_rules(hw), 8);
}

Test(backend, the_capacity_flag_limits_the_table_and_cannot_exceed_its_size)
{
	struct ft_hw_emu_opts o = { .capacity = 9 };
	struct ft_hw_op ops[4];

	load(8);
	o.pin_dir = pin_dir;
	cr_assert_eq(ft_hw_emu_open(&hw, &o), -EINVAL);
	cr_assert_null(hw);
	open_backend(3, 0);
	memset(ops, 0, sizeof(ops));
	for (int i = 0; i < 4; i++)
		ops[i].rule = rule_of(i, FT_VERDICT_REDIRECT);
	cr_assert_eq(hw->ops->add(hw, ops, 4), 0, "one request, each op its own result");
	cr_assert_eq(ops[0].err + ops[1].err + ops[2].err, 0);
	cr_assert_eq(ops[3].err, -ENOSPC);
	cr_assert_str_eq(ops[3].extack, "emulated NIC table full (3 rules)");
}

Test(backend, duplicates_and_unsupported_rules_are_refused_with_their_reasons)
{
	struct ft_hw_rule same_handle = rule_of(1, FT_VERDICT_DROP), icmp = rule_of(2, 0);
	struct ft_hw_op op;

	load(8);
	open_backend(0, 0);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), -EEXIST);
	same_handle.handle = 100;
	cr_assert_eq(add(same_handle, &op), -EEXIST);
	cr_assert_str_eq(op.extack, "emulated NIC: handle 100 is taken");
	same_handle = rule_of(0, FT_VERDICT_DROP);
	same_handle.handle = 555;
	cr_assert_eq(add(same_handle, &op), -EEXIST);
	cr_assert_str_eq(op.extack, "emulated NIC: a rule with this match exists");
	icmp.verdict = FT_VERDICT_DROP, icmp.key.proto = 1;
	cr_assert_eq(add(icmp, &op), -EOPNOTSUPP);
	cr_assert_str_eq(op.extack, "emulated NIC: matches TCP and UDP over IP only");
	cr_assert_eq(add(rule_of(3, FT_VERDICT_PASS), &op), -EOPNOTSUPP);
	cr_assert_str_eq(op.extack, "emulated NIC: only drop and redirect rules");
	cr_assert_eq(ft_hw_emu_rules(hw), 1, "the failed adds left nothing behind");
}

Test(backend, delete_returns_the_exact_final_counters_and_frees_the_slot)
{
	struct ft_hw_stat final[2];
	struct ft_hw_op op, del[2];
	struct ft_spec s0 = spec_of(0), s1 = spec_of(1);

	load(2);
	open_backend(0, 0);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	cr_assert_eq(add(rule_of(1, FT_VERDICT_REDIRECT), &op), 0);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(nic_run(&s0, NULL), FT_XDP_DROP);
	cr_assert_eq(nic_run(&s1, NULL), FT_XDP_REDIRECT);
	memset(del, 0, sizeof(del));
	del[0].rule = rule_of(0, FT_VERDICT_DROP);
	del[1].rule = rule_of(1, FT_VERDICT_REDIRECT);
	del[1].rule.handle = 999; /* not this rule's handle */
	cr_assert_eq(hw->ops->del(hw, del, 2, final), 0);
	cr_assert_eq(del[0].err, 0);
	cr_assert_eq(final[0].packets, 5);
	cr_assert_eq(final[0].bytes, 5 * 142);
	cr_assert_eq(final[0].rule.cookie, 5000);
	cr_assert_eq(final[0].rule.handle, 100);
	cr_assert_eq(del[1].err, -ENOENT);
	cr_assert_str_eq(del[1].extack, "emulated NIC: no rule of flowtier's with handle 999");
	cr_assert_eq(final[1].packets, 0, "a failed op leaves final zeroed");
	/* Gone from the NIC: the flow goes to the host; its slot starts again from 0. */
	cr_assert_eq(nic_run(&s0, NULL), FT_XDP_REDIRECT);
	cr_assert_eq(nic_stats().to_host, 1);
	cr_assert_eq(add(rule_of(2, FT_VERDICT_DROP), &op), 0, "%s", op.extack);
	cr_assert_eq(add(rule_of(3, FT_VERDICT_DROP), &op), -ENOSPC);
	del[0].rule = rule_of(2, FT_VERDICT_DROP);
	cr_assert_eq(hw->ops->del(hw, del, 1, final), 0);
	cr_assert_eq(final[0].packets, 0);
}

struct flood {
	int prog_fd;
	__u8 frame[FT_FRAME_MAX];
	__u32 len;
	volatile int stop;
	__u64 sent;
};

static void *flood_run(void *arg)
{
	struct flood *f = arg;

	while (!f->stop) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->frame, .data_size_in = f->len,
			    .repeat = 1);
		if (bpf_prog_test_run_opts(f->prog_fd, &o))
			break;
		f->sent++;
	}
	return NULL;
}

/*
 * Packets keep arriving on another thread while a rule is added and
 * deleted 50 times: each one is counted either in a final count of the
 * rule or as sent to the host, never lost between the two.
 */
Test(backend, no_packet_is_lost_when_a_rule_is_deleted_under_traffic)
{
	struct flood f = { .stop = 0 };
	struct ft_spec s = spec_of(0);
	struct ft_hw_op op, del;
	struct ft_hw_stat final;
	__u64 in_nic = 0, rx;
	pthread_t t;

	load(8);
	open_backend(0, 0);
	f.prog_fd = bpf_program__fd(skel->progs.emu_nic);
	f.len = ft_build(&s, f.frame);
	cr_assert_eq(pthread_create(&t, NULL, flood_run, &f), 0);
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0, "%s", op.extack);
		for (rx = nic_stats().rx; nic_stats().rx < rx + 100;)
			;
		memset(&del, 0, sizeof(del));
		del.rule = rule_of(0, FT_VERDICT_DROP);
		cr_assert_eq(hw->ops->del(hw, &del, 1, &final), 0);
		cr_assert_eq(del.err, 0);
		in_nic += final.packets;
	}
	f.stop = 1;
	pthread_join(t, NULL);
	cr_assert_gt(in_nic, 0);
	cr_assert_gt(nic_stats().to_host, 0);
	cr_assert_eq(in_nic, nic_stats().dropped,
		     "every packet the NIC dropped is in a final count");
	cr_assert_eq(in_nic + nic_stats().to_host, f.sent, "%llu + %llu != %llu",
		     (unsigned long long)in_nic, (unsigned long long)nic_stats().to_host,
		     (unsigned long long)f.sent);
}

struct seen {
	int n;
	struct ft_hw_stat st[8];
};

static int collect(const struct ft_hw_stat *st, void *ctx)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 8);
	s->st[s->n++] = *st;
	return 0;
}

static struct seen dump(__u32 ifindex)
{
	struct seen s = { 0 };

	cr_assert_eq(hw->ops->dump(hw, ifindex, collect, &s), 0);
	return s;
}

static void send_n(int i, int n)
{
	struct ft_spec s = spec_of(i);

	for (int k = 0; k < n; k++)
		cr_assert_eq(nic_run(&s, NULL), FT_XDP_DROP);
}

Test(backend, dump_reports_the_counters_as_they_were_lag_ago)
{
	struct ft_hw_op op;
	struct seen s;

	load(8);
	open_backend(0, 1000);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	send_n(0, 3);
	s = dump(7); /* t = 0: nothing is 1 s old yet */
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.st[0].packets, 0);
	cr_assert_eq(s.st[0].rule.cookie, 5000);
	fake_ns += 500000000ull;
	send_n(0, 2);
	s = dump(7); /* t = 0.5 s */
	cr_assert_eq(s.st[0].packets, 0);
	fake_ns += 500000000ull;
	s = dump(7); /* t = 1 s: the sample of t = 0 */
	cr_assert_eq(s.st[0].packets, 3);
	cr_assert_eq(s.st[0].bytes, 3 * 142);
	send_n(0, 4);
	fake_ns += 500000000ull;
	s = dump(7); /* t = 1.5 s: the sample of t = 0.5 s */
	cr_assert_eq(s.st[0].packets, 5);
	fake_ns += 500000000ull;
	s = dump(7); /* t = 2 s: the sample of t = 1 s */
	cr_assert_eq(s.st[0].packets, 5);
	fake_ns += 1000000000ull;
	s = dump(7); /* t = 3 s: the sample of t = 2 s */
	cr_assert_eq(s.st[0].packets, 9);
	cr_assert_eq(s.st[0].bytes, 9 * 142);
	cr_assert_eq(dump(8).n, 0, "rules of ifindex 7 only");
}

Test(backend, a_rule_added_after_the_served_sample_reads_zero_until_sampled)
{
	struct ft_hw_op op;
	struct seen s;

	load(8);
	open_backend(0, 1000);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	s = dump(7); /* t = 0 */
	fake_ns += 1000000000ull;
	cr_assert_eq(add(rule_of(1, FT_VERDICT_DROP), &op), 0);
	send_n(1, 2);
	s = dump(7); /* t = 1 s: serves t = 0, before rule 1 */
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.st[0].packets + s.st[1].packets, 0);
	fake_ns += 1000000000ull;
	s = dump(7); /* t = 2 s: serves t = 1 s */
	cr_assert_eq(s.st[0].packets + s.st[1].packets, 2);
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * lastuse counts from the rule's last packet (the NIC's bpf_ktime_get_ns),
 * or from its addition while it has none; the backend's clock runs ahead.
 */
Test(backend, lastuse_is_the_age_of_the_last_packet_or_of_the_rule)
{
	struct ft_hw_emu_opts o = { .clock_ns = fake_clock };
	struct ft_hw_op op;
	__u64 sent;
	struct seen s;

	load(8);
	o.pin_dir = pin_dir;
	cr_assert_eq(ft_hw_emu_open(&hw, &o), 0);
	fake_ns = monotonic_ns();
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	fake_ns += 3000000000ull;
	s = dump(7);
	cr_assert_eq(s.st[0].lastuse_ms, 3000, "no packet yet: since the rule was added");
	sent = monotonic_ns();
	send_n(0, 1);
	fake_ns = sent + 7000000000ull;
	s = dump(7);
	cr_assert_eq(s.st[0].packets, 1);
	/* The packet went through between sent and now: its age is at most 7 s. */
	cr_assert_leq(s.st[0].lastuse_ms, 7000);
	cr_assert_geq(s.st[0].lastuse_ms, 7000 - (monotonic_ns() - sent) / 1000000 - 1);
}

Test(backend, a_rule_for_one_ingress_port_matches_only_packets_arriving_there)
{
	struct ft_hw_emu_opts o = { 0 };
	struct ft_spec s = spec_of(0);
	struct ft_hw_op op;

	load(8);
	o.pin_dir = pin_dir;
	o.ingress_ifindex = sink_if;
	cr_assert_eq(ft_hw_emu_open(&hw, &o), 0);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	cr_assert_eq(nic_run_on(&s, host_if), FT_XDP_REDIRECT, "another port: to the host");
	cr_assert_eq(nic_run_on(&s, sink_if), FT_XDP_DROP);
	cr_assert_eq(nic_stats().dropped, 1);
	cr_assert_eq(nic_stats().to_host, 1);
}

Test(backend, only_flowtiers_rules_are_reported_and_a_restart_adopts_them)
{
	struct ft_emu_key foreign = {
		.sport = htons(7), .dport = htons(7), .proto = 17, .family = 4
	};
	struct ft_emu_rule fv = {
		.slot = 7, .action = FT_EMU_DROP, .handle = 100, .dev_ifindex = 7
	};
	struct ft_hw_rule r1 = rule_of(1, FT_VERDICT_REDIRECT);
	struct ft_hw_op op;
	struct seen s;

	load(8);
	cr_assert_eq(bpf_map__update_elem(skel->maps.emu_flows, &foreign, sizeof(foreign), &fv,
					  sizeof(fv), 0),
		     0);
	open_backend(0, 0);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	r1.dir = 1; /* the key's side 1 sends: swap the endpoints */
	memcpy(r1.key.addr[1], rule_of(1, 0).key.addr[0], 16);
	memcpy(r1.key.addr[0], rule_of(1, 0).key.addr[1], 16);
	r1.key.port[1] = htons(1001), r1.key.port[0] = htons(2000);
	r1.key.zone = 3;
	cr_assert_eq(add(r1, &op), 0);
	send_n(0, 2);
	s = dump(0);
	cr_assert_eq(s.n, 2, "the foreign rule is not reported");
	hw->ops->close(hw);
	hw = NULL;

	open_backend(0, 0);
	cr_assert_eq(ft_hw_emu_rules(hw), 2);
	s = dump(7);
	cr_assert_eq(s.n, 2);
	for (int i = 0; i < 2; i++) {
		struct ft_hw_rule r0 = rule_of(0, FT_VERDICT_DROP);

		if (s.st[i].rule.cookie == 5000) {
			cr_assert_arr_eq(&s.st[i].rule, &r0, sizeof(r0),
					 "rule 0 adopted as it was");
			cr_assert_eq(s.st[i].packets, 2, "counters kept across the restart");
		} else {
			cr_assert_arr_eq(&s.st[i].rule, &r1, sizeof(r1),
					 "rule 1 adopted as it was");
		}
	}
	/* 8 slots: the foreign rule and two of ours hold 3 of them. */
	for (int i = 2; i < 7; i++)
		cr_assert_eq(add(rule_of(i, FT_VERDICT_DROP), &op), 0, "%d: %s", i, op.extack);
	cr_assert_eq(add(rule_of(7, FT_VERDICT_DROP), &op), -ENOSPC);
}

/*
 * Real packets: gen -> nic -> host or sink, through veth pairs in four
 * namespaces, the NIC attached by the emu-nic tool and driven by the backend.
 */

static char ns[4][32];
enum { GEN, NIC, HOST, SINK };

static void e2e_fini(void)
{
	char cmd[256];

	if (hw)
		hw->ops->close(hw);
	hw = NULL;
	snprintf(cmd, sizeof(cmd),
		 EMU_BIN " detach --netns %s --dev n0 --pin-dir %s >/dev/null 2>&1", ns[NIC],
		 pin_dir);
	if (system(cmd) == -1)
		fprintf(stderr, "cannot run %s\n", cmd);
	for (int i = 0; i < 4; i++) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns[i]);
		if (ns[i][0] && system(cmd) != 0)
			fprintf(stderr, "cannot delete namespace %s\n", ns[i]);
	}
	rmdir(pin_dir);
}

TestSuite(e2e, .fini = e2e_fini);

static void testbed(void)
{
	static const char *const names[] = { "gen", "nic", "host", "sink" };

	for (int i = 0; i < 4; i++) {
		snprintf(ns[i], sizeof(ns[i]), "fte-%s-%d", names[i], getpid());
		ft_sh("ip netns add %s", ns[i]);
		ft_sh("ip -n %s link set lo up", ns[i]);
	}
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/fte-e2e-%d", getpid());
	/* Nothing but the test's frames leaves the generator: no IPv6 neighbour discovery. */
	ft_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns[GEN]);
	ft_sh("ip link add g0 netns %s type veth peer name n0 netns %s", ns[GEN], ns[NIC]);
	ft_sh("ip link add n1 netns %s type veth peer name h0 netns %s", ns[NIC], ns[HOST]);
	ft_sh("ip link add n2 netns %s type veth peer name s0 netns %s", ns[NIC], ns[SINK]);
	ft_sh("ip -n %s link set h0 address 02:00:00:00:0a:01", ns[HOST]);
	ft_sh("ip -n %s link set s0 address 02:00:00:00:0b:01", ns[SINK]);
	ft_sh("ip -n %s link set g0 up", ns[GEN]);
	ft_sh("ip -n %s link set n0 up && ip -n %s link set n1 up && ip -n %s link set n2 up",
	      ns[NIC], ns[NIC], ns[NIC]);
	ft_sh("ip -n %s link set h0 up && ip -n %s link set s0 up", ns[HOST], ns[SINK]);
}

/* An AF_PACKET socket on dev in namespace name, receiving every frame. */
static int tap(const char *name, const char *dev)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int self, fd;

	cr_assert_eq(ft_emu_nic_enter(name, &self), 0);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	cr_assert_geq(fd, 0);
	sll.sll_ifindex = if_nametoindex(dev);
	cr_assert_neq(sll.sll_ifindex, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ft_emu_nic_leave(self);
	return fd;
}

static void inject(const struct ft_spec *s, int n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	__u8 frame[FT_FRAME_MAX];
	size_t len = ft_build(s, frame);
	int self, fd;

	cr_assert_eq(ft_emu_nic_enter(ns[GEN], &self), 0);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	cr_assert_geq(fd, 0);
	sll.sll_ifindex = if_nametoindex("g0");
	for (int i = 0; i < n; i++)
		cr_assert_eq(sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)),
			     (ssize_t)len);
	close(fd);
	ft_emu_nic_leave(self);
}

/* Frames of ours (from 198.18.0.1, source port 1000-1099) a tap received, by source port. */
static void count(int fd, const __u8 mac[6], int per_port[100])
{
	__u8 buf[2048];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		__u16 sport;

		if (n < 14 + 20 + 8 || buf[12] != 0x08 || buf[13] != 0 ||
		    memcmp(buf + 14 + 12, (__u8[]){ 198, 18, 0, 1 }, 4))
			continue;
		cr_assert_arr_eq(buf, mac, 6, "addressed to the receiving port");
		sport = buf[34] << 8 | buf[35];
		if (sport >= 1000 && sport < 1100)
			per_port[sport - 1000]++;
	}
}

Test(e2e, real_packets_are_dropped_redirected_or_passed_and_counted_exactly, .timeout = 60)
{
	struct ft_hw_emu_opts o = { 0 };
	struct ft_emu_stats st;
	int host_seen[100] = { 0 }, sink_seen[100] = { 0 };
	struct ft_hw_rule tcp = rule_of(3, FT_VERDICT_REDIRECT);
	struct ft_spec t = spec_of(3);
	struct ft_hw_op op;
	char out[4096];
	int host_fd, sink_fd;
	struct seen s;

	testbed();
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN " attach --netns %s --dev n0 --to-host n1 --to-sink n2 "
				    "--host-mac 02:00:00:00:0a:01 --sink-mac 02:00:00:00:0b:01 "
				    "--capacity 4 --pin-dir %s",
			    ns[NIC], pin_dir),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " pass --netns %s --dev h0 --pin-dir %s",
			    ns[HOST], pin_dir),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " pass --netns %s --dev s0 --pin-dir %s",
			    ns[SINK], pin_dir),
		     0, "%s", out);
	o.pin_dir = pin_dir;
	cr_assert_eq(ft_hw_emu_open(&hw, &o), 0);
	cr_assert_eq(ft_hw_emu_capacity(hw), 4);
	cr_assert_eq(add(rule_of(0, FT_VERDICT_DROP), &op), 0);
	cr_assert_eq(add(rule_of(1, FT_VERDICT_REDIRECT), &op), 0);
	tcp.key.proto = 6;
	cr_assert_eq(add(tcp, &op), 0);
	host_fd = tap(ns[HOST], "h0");
	sink_fd = tap(ns[SINK], "s0");

	inject(&(struct ft_spec){ .family = 4,
				  .src = "198.18.0.1",
				  .dst = "198.18.1.2",
				  .proto = 17,
				  .sport = 1000,
				  .dport = 2000,
				  .payload = 100 },
	       5);
	inject(&(struct ft_spec){ .family = 4,
				  .src = "198.18.0.1",
				  .dst = "198.18.1.2",
				  .proto = 17,
				  .sport = 1001,
				  .dport = 2000,
				  .payload = 100 },
	       7);
	inject(&(struct ft_spec){ .family = 4,
				  .src = "198.18.0.1",
				  .dst = "198.18.1.2",
				  .proto = 17,
				  .sport = 1002,
				  .dport = 2000,
				  .payload = 100 },
	       3);
	t.proto = 6, t.tcp_flags = 0x02;
	inject(&t, 1); /* SYN: to the host */
	t.tcp_flags = 0x10;
	inject(&t, 4); /* ACK: offloaded, to the sink */
	t.tcp_flags = 0x11;
	inject(&t, 1); /* FIN: to the host */

	count(host_fd, host_mac, host_seen);
	count(sink_fd, sink_mac, sink_seen);
	cr_assert_eq(host_seen[0] + sink_seen[0], 0, "flow 0 is dropped in the NIC");
	cr_assert_eq(sink_seen[1], 7);
	cr_assert_eq(host_seen[1], 0);
	cr_assert_eq(host_seen[2], 3);
	cr_assert_eq(sink_seen[2], 0);
	cr_assert_eq(host_seen[3], 2, "SYN and FIN reach the host");
	cr_assert_eq(sink_seen[3], 4);

	s = dump(7);
	cr_assert_eq(s.n, 3);
	for (int i = 0; i < 3; i++) {
		__u64 want[] = { 5, 7, 0, 4 };
		__u64 len[] = { 142, 142, 0, 154 };
		int f = s.st[i].rule.cookie - 5000;

		cr_assert_eq(s.st[i].packets, want[f], "flow %d", f);
		cr_assert_eq(s.st[i].bytes, want[f] * len[f], "flow %d", f);
	}
	/* Every frame the generator sent, accounted for once. */
	cr_assert_eq(ft_hw_emu_read_stats(pin_dir, &st), 0);
	cr_assert_eq(st.rx, 5 + 7 + 3 + 6);
	cr_assert_eq(st.dropped, 5);
	cr_assert_eq(st.redirected, 7 + 4);
	cr_assert_eq(st.to_host, 3 + 2);
	cr_assert_eq(st.tcp_control, 2);
	cr_assert_eq(st.no_port + st.unparsed, 0);
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " stats --pin-dir %s", pin_dir), 0);
	cr_assert_str_eq(out, "rx 21\ndropped 5\nredirected 11\nto_host 5\nno_port 0\n"
			      "tcp_control 2\nunparsed 0\n");
	close(host_fd);
	close(sink_fd);
	hw->ops->close(hw);
	hw = NULL;

	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " detach --netns %s --dev n0 --pin-dir %s",
			    ns[NIC], pin_dir),
		     0, "%s", out);
	cr_assert_eq(access(pin_dir, F_OK), -1, "the pins are gone");
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " detach --netns %s --dev h0", ns[HOST]), 0,
		     "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " detach --netns %s --dev h0", ns[HOST]), 1);
	cr_assert(strstr(out, "no XDP program on 'h0': nothing to detach"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), "ip -n %s link show n0 | grep -c xdp", ns[NIC]), 1,
		     "no XDP program left on n0: %s", out);
}

Test(e2e, the_tool_refuses_bad_input_and_leaves_nothing_behind)
{
	char out[4096];

	testbed();
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN " attach --dev n0 --to-host n1 --to-sink n2 "
				    "--capacity 0"),
		     2);
	cr_assert(strstr(out, "bad --capacity '0': give a number of rules, 1 to 65536"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " attach --dev n0"), 2);
	cr_assert(strstr(out, "attach needs --to-host and --to-sink"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out), EMU_BIN " frob"), 2);
	cr_assert(strstr(out, "unknown command 'frob'"), "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN " attach --netns %s --dev n0 --to-host n1 --to-sink nope "
				    "--pin-dir %s",
			    ns[NIC], pin_dir),
		     1);
	cr_assert(strstr(out, "no interface 'nope' in namespace"), "%s", out);
	cr_assert_eq(access(pin_dir, F_OK), -1, "nothing pinned");
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN
			    " attach --netns fte-absent-%d --dev n0 --to-host n1 --to-sink n2 "
			    "--pin-dir %s",
			    getpid(), pin_dir),
		     1);
	cr_assert(strstr(out, "cannot open network namespace"), "%s", out);
	/* A program of someone else's on the port: refused, and it stays. */
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN " attach --netns %s --dev n0 --to-host n1 --to-sink n2 "
				    "--pin-dir %s",
			    ns[NIC], pin_dir),
		     0, "%s", out);
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN " attach --netns %s --dev n0 --to-host n1 --to-sink n2 "
				    "--pin-dir %s-2",
			    ns[NIC], pin_dir),
		     1);
	cr_assert(strstr(out, "cannot attach XDP to 'n0'") &&
			  strstr(out, "another XDP program is attached"),
		  "%s", out);
	snprintf(out, sizeof(out), "%s-2", pin_dir);
	cr_assert_eq(access(out, F_OK), -1, "the failed attach unpinned what it pinned");
	cr_assert_eq(ft_run(out, sizeof(out),
			    EMU_BIN " attach --netns %s --dev n0 --to-host n1 "
				    "--to-sink n2 --pin-dir %s",
			    ns[NIC], pin_dir),
		     1);
	cr_assert(strstr(out, "already loaded under"), "%s", out);
}
