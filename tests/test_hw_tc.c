// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The tc flower backend.
 *
 * Encoding: each request flowtier builds is compared, as a decoded
 * attribute tree, with what iproute2's tc sends for the same rule,
 * captured with strace (the host kernel has no cls_flower and refuses the
 * request, but tc sends it first). Order and NLA_F_NESTED do not matter.
 * Two normalisations, both applied to tc's tree only:
 * - tc sends an all-ones mask with every address (KEY_IPV4/6_SRC/DST_MASK);
 *   flowtier sends none, which cls_flower's fl_set_key_val reads as all
 *   ones. All-ones address masks are dropped; any other mask stays.
 * - on a delete, tc sends the flower options its parser always writes
 *   (flags 0, the eth type), which tc_del_tfilter never reads; they are
 *   dropped. flowtier's delete also sets NLM_F_ECHO to receive the final
 *   counters; tc's flags get NLM_F_ECHO added before they are compared.
 *
 * Replies: the parser is fed replies built here as Linux 6.1 builds them,
 * and truncated or malformed ones. The backend itself runs against the
 * host kernel, which refuses every flower add with its own error: each op
 * of a batch must get its own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>

#include "ft_test.h"
#include "hw_tc.h"
#include "tc_cap.h"
#include "tc_flower.h"
#include "rule_fixture.h"

static char ns[32], dev_a[IFNAMSIZ], dev_b[IFNAMSIZ], dev_c[IFNAMSIZ];
static __u32 ifindex_a, ifindex_b, ifindex_c;

static const struct ft_tc_place place_default = {
	.flags = TCA_CLS_FLAGS_SKIP_SW,
	.prio4 = FT_TC_PRIO_IPV4,
	.prio6 = FT_TC_PRIO_IPV6,
};

/* A namespace of this test's own: a and b a veth pair, a with clsact; c without clsact. */
static void setup_ns(void)
{
	char path[64];
	int fd;

	snprintf(ns, sizeof(ns), "ftt-%d", getpid());
	snprintf(dev_a, sizeof(dev_a), "ftt%da", getpid());
	snprintf(dev_b, sizeof(dev_b), "ftt%db", getpid());
	snprintf(dev_c, sizeof(dev_c), "ftt%dc", getpid());
	ft_sh("ip netns add %s", ns);
	ft_sh("ip -n %s link add %s type veth peer name %s", ns, dev_a, dev_b);
	ft_sh("ip -n %s link add %s type veth peer name %sd", ns, dev_c, dev_c);
	ft_sh("ip -n %s link set %s up && ip -n %s link set %s up", ns, dev_a, ns, dev_b);
	ft_sh("ip netns exec %s tc qdisc add dev %s clsact", ns, dev_a);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "cannot open %s", path);
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "cannot enter %s", ns);
	close(fd);
	ifindex_a = if_nametoindex(dev_a);
	ifindex_b = if_nametoindex(dev_b);
	ifindex_c = if_nametoindex(dev_c);
	cr_assert(ifindex_a && ifindex_b && ifindex_c);
}

static void teardown_ns(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns);
	if (system(cmd) != 0)
		fprintf(stderr, "test_hw_tc: cannot delete netns %s\n", ns);
}

/* ---- the rules ---- */

static struct ft_hw_rule make_rule(int family, int proto, int verdict, int dir)
{
	struct ft_hw_rule r = ft_fixture_rule(family, proto, verdict, dir, ifindex_a, ifindex_b);

	r.handle = 0x1234;
	r.cookie = 0x0102030405060708ull;
	return r;
}

/* The same rule in tc's words. */
static void tc_args(const struct ft_hw_rule *r, const char *flags, char *out, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], act[96];
	int af = r->key.family == 4 ? AF_INET : AF_INET6;

	inet_ntop(af, r->key.addr[r->dir], src, sizeof(src));
	inet_ntop(af, r->key.addr[!r->dir], dst, sizeof(dst));
	if (r->verdict == FT_VERDICT_DROP)
		snprintf(act, sizeof(act), "drop");
	else
		snprintf(act, sizeof(act), "mirred egress redirect dev %s", dev_b);
	snprintf(out, len,
		 "filter add dev %s ingress prio %u handle 0x%x protocol %s flower %s ip_proto %s "
		 "src_ip %s dst_ip %s src_port %u dst_port %u %s action %s cookie %016llx",
		 dev_a, r->key.family == 4 ? FT_TC_PRIO_IPV4 : FT_TC_PRIO_IPV6, r->handle,
		 r->key.family == 4 ? "ip" : "ipv6", flags,
		 r->key.proto == IPPROTO_TCP ? "tcp" : "udp", src, dst, ntohs(r->key.port[r->dir]),
		 ntohs(r->key.port[!r->dir]), r->key.proto == IPPROTO_TCP ? "tcp_flags 0/0x7" : "",
		 act, (unsigned long long)r->cookie);
}

/* ---- capturing tc's request ---- */

/* Parses one strace hexdump line (" | 00000  c8 00 ...  ascii |"); returns its bytes. */
static size_t hex_line(const char *line, __u8 *out)
{
	size_t n = 0, j, col;
	unsigned int v;

	for (j = 0; j < 16; j++) {
		col = 10 + 3 * j + (j >= 8);
		if (strlen(line) < col + 2 || !isxdigit(line[col]) || !isxdigit(line[col + 1]))
			break;
		sscanf(line + col, "%2x", &v);
		out[n++] = v;
	}
	return n;
}

/* Runs tc under strace in the test's namespace; copies the first request of that type. */
static size_t capture(const char *args, __u16 type, __u8 *msg, size_t cap)
{
	static __u8 buf[65536];
	char cmd[1024], line[256];
	size_t len = 0, found = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s strace -f -qq -e trace=sendmsg -e write=all -s 0 tc %s "
		 "2>&1 >/dev/null",
		 ns, args);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, " bytes in buffer ")) {
			len = 0; /* a new sendmsg */
			continue;
		}
		if (strncmp(line, " | ", 3) != 0 || len + 16 > sizeof(buf))
			continue;
		len += hex_line(line, buf + len);
		if (!found && len >= sizeof(struct nlmsghdr) &&
		    ((struct nlmsghdr *)buf)->nlmsg_type == type &&
		    len >= ((struct nlmsghdr *)buf)->nlmsg_len) {
			found = ((struct nlmsghdr *)buf)->nlmsg_len;
			cr_assert_leq(found, cap);
			memcpy(msg, buf, found);
		}
	}
	pclose(f);
	cr_assert_gt(found, 0, "strace showed no request of type %u from: tc %s", type, args);
	return found;
}

/* ---- attribute trees ---- */

enum level { L_TOP, L_FLOWER, L_ACTS, L_ACT, L_LEAF };

#define NORM_MASKS  1 /* drop all-ones address masks */
#define NORM_DELOPT 2 /* drop TCA_OPTIONS */

static enum level child_of(enum level l, unsigned int type)
{
	if (l == L_TOP && type == TCA_OPTIONS)
		return L_FLOWER;
	if (l == L_FLOWER && type == TCA_FLOWER_ACT)
		return L_ACTS;
	if (l == L_ACTS)
		return L_ACT;
	if (l == L_ACT && type == TCA_ACT_OPTIONS)
		return L_LEAF;
	return L_LEAF + 1; /* not nested */
}

static int dropped(enum level l, unsigned int type, const struct nlattr *a, int norm)
{
	const __u8 *p = mnl_attr_get_payload(a);
	size_t i;

	if ((norm & NORM_DELOPT) && l == L_TOP && type == TCA_OPTIONS)
		return 1;
	if (!(norm & NORM_MASKS) || l != L_FLOWER ||
	    (type != TCA_FLOWER_KEY_IPV4_SRC_MASK && type != TCA_FLOWER_KEY_IPV4_DST_MASK &&
	     type != TCA_FLOWER_KEY_IPV6_SRC_MASK && type != TCA_FLOWER_KEY_IPV6_DST_MASK))
		return 0;
	for (i = 0; i < mnl_attr_get_payload_len(a); i++)
		if (p[i] != 0xff)
			return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "type=hex" or "type{...}", sorted, at every level. */
static char *tree(const void *data, size_t len, enum level l, int norm)
{
	char *ent[64], *out, *child, hex[2 * 64 + 1];
	const struct nlattr *attr;
	size_t n = 0, i, total = 1;
	unsigned int type;

	mnl_attr_for_each_payload(data, len)
	{
		type = mnl_attr_get_type(attr);
		if (dropped(l, type, attr, norm))
			continue;
		cr_assert_lt(n, 64);
		if (child_of(l, type) <= L_LEAF) {
			child = tree(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr),
				     child_of(l, type), norm);
			cr_assert_geq(asprintf(&ent[n], "%02u{%s}", type, child), 0);
			free(child);
		} else {
			cr_assert_leq(mnl_attr_get_payload_len(attr), 64);
			for (i = 0; i < mnl_attr_get_payload_len(attr); i++)
				sprintf(hex + 2 * i, "%02x",
					((const __u8 *)mnl_attr_get_payload(attr))[i]);
			hex[2 * i] = '\0';
			cr_assert_geq(asprintf(&ent[n], "%02u=%s", type, hex), 0);
		}
		total += strlen(ent[n]) + 1;
		n++;
	}
	qsort(ent, n, sizeof(ent[0]), cmp_str);
	out = calloc(1, total);
	cr_assert_not_null(out);
	for (i = 0; i < n; i++) {
		strcat(out, i ? "," : "");
		strcat(out, ent[i]);
		free(ent[i]);
	}
	return out;
}

/* The header (but seq and pid) and the tree of a request. */
static char *describe(const __u8 *msg, int norm, __u16 add_flags)
{
	const struct nlmsghdr *nlh = (const void *)msg;
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*t));
	char *attrs, *out;

	attrs = tree(msg + off, nlh->nlmsg_len - off, L_TOP, norm);
	cr_assert_geq(asprintf(&out,
			       "type=%u flags=%#x family=%u ifindex=%d handle=%#x parent=%#x "
			       "info=%#x [%s]",
			       nlh->nlmsg_type, nlh->nlmsg_flags | add_flags, t->tcm_family,
			       t->tcm_ifindex, t->tcm_handle, t->tcm_parent, t->tcm_info, attrs),
		      0);
	free(attrs);
	return out;
}

static void expect_same(const __u8 *tc, const __u8 *ours, int norm, __u16 add_flags)
{
	char *a = describe(tc, norm, add_flags), *b = describe(ours, 0, 0);

	cr_expect_str_eq(b, a, "flowtier's request differs from tc's:\nflowtier %s\ntc       %s", b,
			 a);
	free(a);
	free(b);
}

static void check_add(int family, int proto, int verdict, int dir, const char *tc_flags,
		      __u32 flags)
{
	struct ft_tc_place p = place_default;
	__u8 tc[FT_TC_MSG_MAX], ours[FT_TC_MSG_MAX];
	struct ft_hw_rule r = make_rule(family, proto, verdict, dir);
	char args[512];
	int len;

	p.flags = flags;
	tc_args(&r, tc_flags, args, sizeof(args));
	capture(args, RTM_NEWTFILTER, tc, sizeof(tc));
	len = ft_tc_build_add(ours, sizeof(ours), &p, &r, 1);
	cr_assert_gt(len, 0, "ft_tc_build_add: %d", len);
	expect_same(tc, ours, NORM_MASKS, 0);
}

TestSuite(encode, .init = setup_ns, .fini = teardown_ns);

Test(encode, add_ipv4_tcp_drop_is_what_tc_sends)
{
	check_add(4, IPPROTO_TCP, FT_VERDICT_DROP, 0, "skip_sw", TCA_CLS_FLAGS_SKIP_SW);
}

Test(encode, add_ipv4_udp_drop_from_side_1_is_what_tc_sends)
{
	check_add(4, IPPROTO_UDP, FT_VERDICT_DROP, 1, "skip_sw", TCA_CLS_FLAGS_SKIP_SW);
}

Test(encode, add_ipv4_tcp_redirect_is_what_tc_sends)
{
	check_add(4, IPPROTO_TCP, FT_VERDICT_REDIRECT, 1, "skip_hw", TCA_CLS_FLAGS_SKIP_HW);
}

Test(encode, add_ipv4_udp_redirect_is_what_tc_sends)
{
	check_add(4, IPPROTO_UDP, FT_VERDICT_REDIRECT, 0, "skip_sw", TCA_CLS_FLAGS_SKIP_SW);
}

Test(encode, add_ipv6_tcp_drop_is_what_tc_sends)
{
	check_add(6, IPPROTO_TCP, FT_VERDICT_DROP, 1, "skip_sw", TCA_CLS_FLAGS_SKIP_SW);
}

Test(encode, add_ipv6_udp_drop_without_flags_is_what_tc_sends)
{
	check_add(6, IPPROTO_UDP, FT_VERDICT_DROP, 0, "", 0);
}

Test(encode, add_ipv6_tcp_redirect_is_what_tc_sends)
{
	check_add(6, IPPROTO_TCP, FT_VERDICT_REDIRECT, 0, "skip_sw", TCA_CLS_FLAGS_SKIP_SW);
}

Test(encode, add_ipv6_udp_redirect_is_what_tc_sends)
{
	check_add(6, IPPROTO_UDP, FT_VERDICT_REDIRECT, 1, "skip_hw", TCA_CLS_FLAGS_SKIP_HW);
}

static void check_del(int family)
{
	__u8 tc[FT_TC_MSG_MAX], ours[FT_TC_MSG_MAX];
	struct ft_hw_rule r = make_rule(family, IPPROTO_TCP, FT_VERDICT_DROP, 0);
	char args[256];

	snprintf(args, sizeof(args),
		 "filter del dev %s ingress prio %u handle 0x%x protocol %s flower", dev_a,
		 family == 4 ? FT_TC_PRIO_IPV4 : FT_TC_PRIO_IPV6, r.handle,
		 family == 4 ? "ip" : "ipv6");
	capture(args, RTM_DELTFILTER, tc, sizeof(tc));
	cr_assert_gt(ft_tc_build_del(ours, sizeof(ours), &place_default, &r, 1), 0);
	expect_same(tc, ours, NORM_DELOPT, NLM_F_ECHO);
}

Test(encode, del_ipv4_is_what_tc_sends)
{
	check_del(4);
}

Test(encode, del_ipv6_is_what_tc_sends)
{
	check_del(6);
}

static void check_dump(int family)
{
	__u8 tc[FT_TC_MSG_MAX], ours[FT_TC_MSG_MAX];
	char args[256];

	snprintf(args, sizeof(args), "filter show dev %s ingress prio %u protocol %s", dev_a,
		 family == 4 ? FT_TC_PRIO_IPV4 : FT_TC_PRIO_IPV6, family == 4 ? "ip" : "ipv6");
	capture(args, RTM_GETTFILTER, tc, sizeof(tc));
	cr_assert_gt(ft_tc_build_dump(ours, sizeof(ours), &place_default, ifindex_a, family, 1), 0);
	expect_same(tc, ours, 0, 0);
}

Test(encode, dump_ipv4_is_what_tc_sends)
{
	check_dump(4);
}

Test(encode, dump_ipv6_is_what_tc_sends)
{
	check_dump(6);
}

Test(encode_rules, refuses_what_it_cannot_express)
{
	__u8 buf[FT_TC_MSG_MAX];
	struct ft_hw_rule r;

	ifindex_a = 2, ifindex_b = 3;
	r = make_rule(4, IPPROTO_TCP, FT_VERDICT_DROP, 0);
	r.handle = 0; /* a delete would take the whole prio */
	cr_expect_eq(ft_tc_build_add(buf, sizeof(buf), &place_default, &r, 1), -EINVAL);
	cr_expect_eq(ft_tc_build_del(buf, sizeof(buf), &place_default, &r, 1), -EINVAL);
	r = make_rule(4, IPPROTO_ICMP, FT_VERDICT_DROP, 0);
	cr_expect_eq(ft_tc_build_add(buf, sizeof(buf), &place_default, &r, 1), -EINVAL);
	r = make_rule(4, IPPROTO_TCP, FT_VERDICT_PASS, 0);
	cr_expect_eq(ft_tc_build_add(buf, sizeof(buf), &place_default, &r, 1), -EINVAL);
	r = make_rule(6, IPPROTO_UDP, FT_VERDICT_REDIRECT, 0);
	r.redirect_ifindex = 0;
	cr_expect_eq(ft_tc_build_add(buf, sizeof(buf), &place_default, &r, 1), -EINVAL);
	r = make_rule(6, IPPROTO_UDP, FT_VERDICT_REDIRECT, 0);
	cr_expect_eq(ft_tc_build_add(buf, 100, &place_default, &r, 1), -ENOSPC);
	cr_expect_eq(ft_tc_build_add(buf, 20, &place_default, &r, 1), -ENOSPC);
	cr_expect_eq(ft_tc_build_dump(buf, sizeof(buf), &place_default, 0, 4, 1), -EINVAL);
}

/* ---- the backend against the host kernel, which has no cls_flower ---- */

/* libmnl's sendto lands here: how many system calls a batch of requests took. */
static int sendto_calls;

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	sendto_calls++;
	return syscall(SYS_sendto, fd, buf, len, flags, to, tolen);
}

static struct ft_hw *open_tc(__u32 capacity)
{
	struct ft_hw_tc_opts o = { .flags = FT_TC_FLAGS_SKIP_SW, .capacity = capacity };
	struct ft_hw *hw;

	cr_assert_eq(ft_hw_tc_open(&hw, &o), 0);
	cr_assert_str_eq(hw->ops->name, "tc");
	return hw;
}

static struct ft_hw_op op_on(__u32 ifindex, __u32 handle, int family)
{
	struct ft_hw_op op;

	memset(&op, 0, sizeof(op));
	op.rule = make_rule(family, IPPROTO_TCP, FT_VERDICT_DROP, 0);
	op.rule.ifindex = ifindex;
	op.rule.handle = handle;
	op.err = 12345;
	strcpy(op.extack, "stale");
	return op;
}

static void expect_op(const struct ft_hw_op *op, int err, const char *extack, size_t i)
{
	cr_expect_eq(op->err, err, "op %zu: err %d (%s), want %d", i, op->err, strerror(-op->err),
		     err);
	cr_expect_str_eq(op->extack, extack, "op %zu: extack \"%s\", want \"%s\"", i, op->extack,
			 extack);
}

TestSuite(kernel, .init = setup_ns, .fini = teardown_ns);

Test(kernel, each_op_of_a_batch_gets_its_own_ack)
{
	struct ft_hw *hw = open_tc(0);
	struct ft_hw_op ops[5] = {
		op_on(ifindex_a, 1, 4), op_on(ifindex_c, 2, 4), op_on(999999, 3, 6),
		op_on(ifindex_a, 4, 6), op_on(ifindex_a, 5, 4),
	};

	ops[3].rule.key.proto = IPPROTO_ICMP; /* refused before it is sent */
	sendto_calls = 0;
	cr_assert_eq(hw->ops->add(hw, ops, 5), 0);
	cr_expect_eq(sendto_calls, 1, "4 requests took %d sendto", sendto_calls);
	expect_op(&ops[0], -ENOENT, "TC classifier not found", 0);
	expect_op(&ops[1], -EINVAL, "Parent Qdisc doesn't exists", 1);
	expect_op(&ops[2], -ENODEV, "", 2); /* __tcf_qdisc_find says nothing more */
	expect_op(&ops[3], -EINVAL, "", 3);
	expect_op(&ops[4], -ENOENT, "TC classifier not found", 4);
	hw->ops->close(hw);
}

Test(kernel, more_ops_than_a_batch_all_get_their_ack)
{
	struct ft_hw *hw = open_tc(0);
	struct ft_hw_op ops[2 * FT_HW_TC_BATCH + 5];
	size_t i, n = sizeof(ops) / sizeof(ops[0]);

	for (i = 0; i < n; i++)
		ops[i] = op_on(i % 2 ? ifindex_a : ifindex_c, i + 1, i % 3 ? 4 : 6);
	sendto_calls = 0;
	cr_assert_eq(hw->ops->add(hw, ops, n), 0);
	cr_expect_eq(sendto_calls, 3, "%zu requests took %d sendto, want 3 batches", n,
		     sendto_calls);
	for (i = 0; i < n; i++)
		if (i % 2)
			expect_op(&ops[i], -ENOENT, "TC classifier not found", i);
		else
			expect_op(&ops[i], -EINVAL, "Parent Qdisc doesn't exists", i);
	hw->ops->close(hw);
}

Test(kernel, past_the_capacity_an_add_is_enospc_with_its_extack)
{
	struct ft_hw *hw = open_tc(1);
	struct ft_hw_op ops[4] = {
		op_on(ifindex_a, 1, 4),
		op_on(ifindex_a, 2, 4),
		op_on(ifindex_a, 3, 6),
		op_on(ifindex_c, 1, 4),
	};
	const char *full = "flowtier test capacity reached: 1 rules on this device (--tc-capacity)";

	cr_assert_eq(hw->ops->add(hw, ops, 4), 0);
	/* The first holds the device's one place while it is in flight, then fails in the kernel.
	 */
	expect_op(&ops[0], -ENOENT, "TC classifier not found", 0);
	expect_op(&ops[1], -ENOSPC, full, 1);
	expect_op(&ops[2], -ENOSPC, full, 2);
	expect_op(&ops[3], -EINVAL, "Parent Qdisc doesn't exists", 3);
	cr_expect_eq(ft_hw_classify(ops[1].err, ops[1].extack), FT_HWC_EXHAUSTED);
	/* The failed add gave its place back. */
	cr_assert_eq(hw->ops->add(hw, &ops[1], 1), 0);
	expect_op(&ops[1], -ENOENT, "TC classifier not found", 1);
	hw->ops->close(hw);
}

Test(kernel, a_failed_delete_has_its_error_and_zeroed_counters)
{
	struct ft_hw *hw = open_tc(0);
	struct ft_hw_op ops[2] = { op_on(ifindex_a, 1, 4), op_on(ifindex_c, 1, 6) };
	struct ft_hw_stat final[2], zero;

	memset(final, 0xff, sizeof(final));
	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(hw->ops->del(hw, ops, 2, final), 0);
	expect_op(&ops[0], -ENOENT, "Cannot find specified filter chain", 0);
	expect_op(&ops[1], -EINVAL, "Parent Qdisc doesn't exists", 1);
	cr_expect_arr_eq(&final[0], &zero, sizeof(zero));
	cr_expect_arr_eq(&final[1], &zero, sizeof(zero));
	hw->ops->close(hw);
}

static int count_rule(const struct ft_hw_stat *st, void *ctx)
{
	(void)st;
	++*(int *)ctx;
	return 0;
}

Test(kernel, dumps_of_devices_without_flowtier_rules_are_empty)
{
	struct ft_hw *hw = open_tc(0);
	int calls = 0;

	cr_expect_eq(hw->ops->dump(hw, ifindex_a, count_rule, &calls), 0);
	cr_expect_eq(hw->ops->dump(hw, ifindex_c, count_rule, &calls), 0);
	cr_expect_eq(hw->ops->dump(hw, 999999, count_rule, &calls), 0);
	cr_expect_eq(calls, 0);
	hw->ops->close(hw);
}

Test(options, flags_names_and_bad_options)
{
	struct ft_hw_tc_opts o = { .flags = FT_TC_FLAGS_SKIP_SW };
	enum ft_tc_flags f;
	struct ft_hw *hw;

	cr_expect_eq(ft_tc_flags_parse("skip_sw", &f), 0);
	cr_expect_eq(f, FT_TC_FLAGS_SKIP_SW);
	cr_expect_eq(ft_tc_flags_parse("skip_hw", &f), 0);
	cr_expect_eq(f, FT_TC_FLAGS_SKIP_HW);
	cr_expect_eq(ft_tc_flags_parse("none", &f), 0);
	cr_expect_eq(f, FT_TC_FLAGS_NONE);
	cr_expect_eq(ft_tc_flags_parse("skip-sw", &f), -EINVAL);
	cr_expect_str_eq(ft_tc_flags_name(FT_TC_FLAGS_SKIP_HW), "skip_hw");
	o.prio4 = FT_TC_PRIO_IPV6; /* one prio holds one protocol */
	cr_expect_eq(ft_hw_tc_open(&hw, &o), -EINVAL);
	cr_expect_null(hw);
	o.prio4 = 0;
	o.flags = 7;
	cr_expect_eq(ft_hw_tc_open(&hw, &o), -EINVAL);
}
