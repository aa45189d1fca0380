// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Inside the VM (Debian 12's kernel, where cls_flower exists): the tc
 * backend adds, dumps and deletes real flower rules (skip_hw: software
 * flower stands in for the NIC) on a veth, packets sent into the veth
 * move their counters, and iproute2's `tc -s filter show` lists exactly
 * those rules.
 *
 * usage: ft-tc-check A B C
 *   A receives the packets sent into its peer B and holds clsact;
 *   C is where redirected packets leave.
 * Prints "tc-check: passed" and exits 0, or names the first difference.
 * FT_TC names iproute2's tc when "tc" alone would not find it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "hw_tc.h"
#include "rule_fixture.h"

#define PAYLOAD 60

static const char *dev_a, *dev_b, *dev_c;
static __u32 ifindex_a, ifindex_b, ifindex_c;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "tc-check: FAIL: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	exit(1);
}

static struct ft_hw_rule rule(int family, int proto, int verdict, int dir, __u32 handle)
{
	struct ft_hw_rule r = ft_fixture_rule(family, proto, verdict, dir, ifindex_a, ifindex_c);

	r.handle = handle;
	r.cookie = 0x1000 + handle;
	return r;
}

/* One frame of rule r's direction (or SYN/RST ones), with PAYLOAD bytes; returns its length. */
static size_t frame(const struct ft_hw_rule *r, __u8 tcp_flags, __u8 *f)
{
	int v4 = r->key.family == 4, tcp = r->key.proto == IPPROTO_TCP;
	size_t l3 = v4 ? 20 : 40, l4 = tcp ? 20 : 8, len = 14 + l3 + l4 + PAYLOAD;
	__u8 *ip = f + 14, *th = ip + l3;
	__u16 v;

	memset(f, 0, len);
	memset(f, 0xff, 6); /* broadcast: A takes it */
	f[6] = 0x02;
	v = htons(v4 ? ETH_P_IP : ETH_P_IPV6);
	memcpy(f + 12, &v, 2);
	if (v4) {
		ip[0] = 0x45, ip[8] = 64, ip[9] = r->key.proto;
		v = htons(len - 14);
		memcpy(ip + 2, &v, 2);
		memcpy(ip + 12, r->key.addr[r->dir], 4);
		memcpy(ip + 16, r->key.addr[!r->dir], 4);
	} else {
		ip[0] = 0x60, ip[6] = r->key.proto, ip[7] = 64;
		v = htons(l4 + PAYLOAD);
		memcpy(ip + 4, &v, 2);
		memcpy(ip + 8, r->key.addr[r->dir], 16);
		memcpy(ip + 24, r->key.addr[!r->dir], 16);
	}
	memcpy(th, &r->key.port[r->dir], 2);
	memcpy(th + 2, &r->key.port[!r->dir], 2);
	if (tcp) {
		th[12] = 5 << 4;
		th[13] = tcp_flags;
	} else {
		v = htons(8 + PAYLOAD);
		memcpy(th + 4, &v, 2);
	}
	return len;
}

/* Sends n frames into B; A's ingress sees them. Returns the length at A's ingress (no Ethernet
 * header). */
static __u64 send_frames(const struct ft_hw_rule *r, __u8 tcp_flags, int n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = ifindex_b,
				   .sll_halen = 6 };
	__u8 f[256];
	size_t len = frame(r, tcp_flags, f);
	int fd = socket(AF_PACKET, SOCK_RAW, 0), i;

	if (fd < 0)
		fail("AF_PACKET socket: %s", strerror(errno));
	memset(sll.sll_addr, 0xff, 6);
	for (i = 0; i < n; i++)
		if (sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len)
			fail("cannot send into %s: %s", dev_b, strerror(errno));
	close(fd);
	return len - 14;
}

static void add_one(struct ft_hw *hw, struct ft_hw_rule r, int err, const char *extack)
{
	struct ft_hw_op op = { .rule = r };

	if (hw->ops->add(hw, &op, 1))
		fail("add of handle %u did not go out", r.handle);
	if (op.err != err || strcmp(op.extack, extack))
		fail("add of handle %u: %d \"%s\", want %d \"%s\"", r.handle, op.err, op.extack,
		     err, extack);
	printf("tc-check: add handle %u: %d %s\n", r.handle, op.err, op.extack);
}

struct found {
	int n;
	struct ft_hw_stat st[8];
};

static int on_rule(const struct ft_hw_stat *st, void *ctx)
{
	struct found *f = ctx;

	if (f->n == 8)
		return -E2BIG;
	f->st[f->n++] = *st;
	return 0;
}

struct adopt {
	struct ft_hw *hw;
	__u64 stale;
	int seen, deleted;
	struct ft_hw_stat final;
};

static int adopt_cb(const struct ft_hw_stat *st, void *ctx)
{
	struct adopt *a = ctx;
	struct ft_hw_op op = { .rule = st->rule };

	a->seen++;
	if (st->rule.cookie != a->stale)
		return 0;
	if (a->hw->ops->del(a->hw, &op, 1, &a->final) || op.err)
		return op.err ? op.err : -EIO;
	a->deleted++;
	return 0;
}

static struct found dump(struct ft_hw *hw)
{
	struct found f = { 0 };
	int err = hw->ops->dump(hw, ifindex_a, on_rule, &f);

	if (err)
		fail("dump of %s: %s", dev_a, strerror(-err));
	return f;
}

/* bytes as software flower counts them, from the network header; the backend adds Ethernet's. */
static void expect_stat(const struct ft_hw_stat *st, const struct ft_hw_rule *r, __u64 packets,
			__u64 l3_bytes)
{
	__u64 bytes = l3_bytes + packets * ETH_HLEN;

	if (memcmp(&st->rule, r, sizeof(*r)))
		fail("handle %u came back as another rule (handle %u, cookie %llx)", r->handle,
		     st->rule.handle, (unsigned long long)st->rule.cookie);
	if (st->packets != packets || st->bytes != bytes)
		fail("handle %u counted %llu packets %llu bytes, want %llu %llu", r->handle,
		     (unsigned long long)st->packets, (unsigned long long)st->bytes,
		     (unsigned long long)packets, (unsigned long long)bytes);
	if (st->lastuse_ms > 10000)
		fail("handle %u: lastuse %llu ms", r->handle, (unsigned long long)st->lastuse_ms);
	printf("tc-check: handle %u: %llu packets, %llu bytes, lastuse %llu ms, cookie %llx\n",
	       r->handle, (unsigned long long)packets, (unsigned long long)bytes,
	       (unsigned long long)st->lastuse_ms, (unsigned long long)st->rule.cookie);
}

/* `tc -s filter show dev A ingress`, split into filters; each must hold its words. */
static void expect_tc_lists(const char *const want[][12], int nwant)
{
	char cmd[128], out[16384], *blocks[16], *p;
	size_t len;
	int n = 0, i, j, k, hits, best;
	FILE *f;

	/* FT_TC: iproute2's tc where a busybox shell would run its own applet */
	snprintf(cmd, sizeof(cmd), "%s -s filter show dev %s ingress",
		 getenv("FT_TC") ? getenv("FT_TC") : "tc", dev_a);
	f = popen(cmd, "r");
	if (!f)
		fail("cannot run tc");
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	if (pclose(f) != 0)
		fail("%s failed", cmd);
	printf("tc-check: %s:\n%s", cmd, out);
	/* a filter starts at a line "filter ... handle ..."; header lines of a prio hold no handle
	 */
	for (p = strstr(out, "filter "); p; p = strstr(p + 1, "\nfilter "))
		if (n < 16)
			blocks[n++] = p + (*p == '\n');
	for (i = 0, hits = 0; i < n; i++) {
		p = strchr(blocks[i], '\n');
		if (p && memmem(blocks[i], p - blocks[i], " handle ", 8))
			hits++;
	}
	if (hits != nwant)
		fail("tc lists %d filters, want %d", hits, nwant);
	for (k = 0; k < nwant; k++) {
		for (i = 0, best = 0; i < n; i++) {
			char *end = i + 1 < n ? blocks[i + 1] : out + len, saved = *end;

			*end = '\0';
			for (j = 0; j < 12 && want[k][j] && strstr(blocks[i], want[k][j]); j++)
				;
			*end = saved;
			if (j == 12 || !want[k][j])
				break;
			best = j > best ? j : best;
		}
		if (i == n)
			fail("tc lists no filter with %s: the closest lacks \"%s\"", want[k][0],
			     want[k][best]);
	}
}

int main(int argc, char **argv)
{
	struct ft_hw_tc_opts o = { .flags = FT_TC_FLAGS_SKIP_HW, .capacity = 3 };
	struct ft_hw *hw, *hw2;
	struct ft_hw_rule r1, r2, r3, r4;
	struct ft_hw_op del[3];
	struct ft_hw_stat final[3];
	struct found f;
	__u64 l1, l2, l3;
	char full[FT_HW_EXTACK_LEN];
	int err, i;

	if (argc != 4)
		fail("usage: ft-tc-check A B C");
	dev_a = argv[1], dev_b = argv[2], dev_c = argv[3];
	ifindex_a = if_nametoindex(dev_a);
	ifindex_b = if_nametoindex(dev_b);
	ifindex_c = if_nametoindex(dev_c);
	if (!ifindex_a || !ifindex_b || !ifindex_c)
		fail("no such devices: %s %s %s", dev_a, dev_b, dev_c);
	err = ft_hw_tc_open(&hw, &o);
	if (err)
		fail("ft_hw_tc_open: %s", strerror(-err));

	r1 = rule(4, IPPROTO_TCP, FT_VERDICT_DROP, 0, 1);
	r2 = rule(4, IPPROTO_UDP, FT_VERDICT_REDIRECT, 1, 2);
	r3 = rule(6, IPPROTO_TCP, FT_VERDICT_REDIRECT, 0, 3);
	r4 = rule(6, IPPROTO_UDP, FT_VERDICT_DROP, 1, 4);

	/* skip_sw (the default) on a device that cannot offload: what the manager will see. */
	struct ft_hw_tc_opts hwo = { .flags = FT_TC_FLAGS_SKIP_SW };

	err = ft_hw_tc_open(&hw2, &hwo);
	if (err)
		fail("skip_sw ft_hw_tc_open: %s", strerror(-err));
	struct ft_hw_op probe = { .rule = r1 };

	if (hw2->ops->add(hw2, &probe, 1))
		fail("the skip_sw add did not go out");
	printf("tc-check: skip_sw add on a veth: %d \"%s\" (%s)\n", probe.err, probe.extack,
	       ft_hw_class_name(ft_hw_classify(probe.err, probe.extack)));
	if (probe.err != -EOPNOTSUPP || probe.extack[0])
		fail("a skip_sw add on a veth got %d \"%s\", want %d and no text", probe.err,
		     probe.extack, -EOPNOTSUPP);
	hw2->ops->close(hw2);
	snprintf(full, sizeof(full), FT_HW_TC_CAPACITY_FMT, 3);
	add_one(hw, r1, 0, "");
	add_one(hw, r2, 0, "");
	add_one(hw, r3, 0, "");
	add_one(hw, r4, -ENOSPC, full);
	add_one(hw, r1, -EEXIST, "Filter already exists");

	l1 = send_frames(&r1, 0x10, 5); /* ACK: flower's */
	send_frames(&r1, 0x02, 2);	/* SYN: stays in software */
	send_frames(&r1, 0x11, 1);	/* FIN: stays in software */
	l2 = send_frames(&r2, 0, 3);
	l3 = send_frames(&r3, 0x18, 4);

	f = dump(hw);
	if (f.n != 3)
		fail("the dump found %d rules, want 3", f.n);
	expect_stat(&f.st[0], &r1, 5, 5 * l1);
	expect_stat(&f.st[1], &r2, 3, 3 * l2);
	expect_stat(&f.st[2], &r3, 4, 4 * l3);

	char redir[64], sent1[48], sent2[48], sent3[48];

	snprintf(redir, sizeof(redir), "mirred (Egress Redirect to device %s) stolen", dev_c);
	snprintf(sent1, sizeof(sent1), "Sent %llu bytes 5 pkt", (unsigned long long)(5 * l1));
	snprintf(sent2, sizeof(sent2), "Sent %llu bytes 3 pkt", (unsigned long long)(3 * l2));
	snprintf(sent3, sizeof(sent3), "Sent %llu bytes 4 pkt", (unsigned long long)(4 * l3));
	const char *const want[][12] = {
		{ "protocol ip pref 15 flower chain 0 handle 0x1 \n", "eth_type ipv4\n",
		  "ip_proto tcp\n", "src_ip 198.18.0.1\n", "dst_ip 198.18.0.2\n",
		  "src_port 40000\n", "dst_port 443\n", "tcp_flags 0x0/7\n", "skip_hw\n",
		  "action order 1: gact action drop\n", sent1, "cookie 0000000000001001\n" },
		{ "protocol ip pref 15 flower chain 0 handle 0x2 \n", "ip_proto udp\n",
		  "src_ip 198.18.0.2\n", "dst_ip 198.18.0.1\n", "src_port 5353\n",
		  "dst_port 40000\n", "skip_hw\n", redir, sent2, "cookie 0000000000001002\n",
		  NULL },
		{ "protocol ipv6 pref 16 flower chain 0 handle 0x3 \n", "eth_type ipv6\n",
		  "src_ip 2001:db8::1\n", "dst_ip 2001:db8::2\n", "src_port 40000\n",
		  "dst_port 443\n", "tcp_flags 0x0/7\n", redir, sent3, "cookie 0000000000001003\n",
		  NULL },
	};
	expect_tc_lists(want, 3);

	/* A restarted controller finds the rules, and they count against the capacity. */
	err = ft_hw_tc_open(&hw2, &o);
	if (err)
		fail("second ft_hw_tc_open: %s", strerror(-err));
	f = dump(hw2);
	if (f.n != 3)
		fail("the second backend found %d rules, want 3", f.n);
	add_one(hw2, r4, -ENOSPC, full);
	/* Adoption: the dump's callback deletes the rule whose flow is gone, as it goes. */
	struct adopt ad = { .hw = hw2, .stale = r2.cookie };

	err = hw2->ops->dump(hw2, ifindex_a, adopt_cb, &ad);
	if (err || ad.seen != 3 || ad.deleted != 1)
		fail("adoption: %s, %d seen, %d deleted, want 3 and 1", strerror(-err), ad.seen,
		     ad.deleted);
	expect_stat(&ad.final, &r2, 3, 3 * l2);
	add_one(hw2, r4, 0, ""); /* in the stale rule's place */
	add_one(hw2, r2, -ENOSPC, full);
	hw2->ops->close(hw2);
	f = dump(hw);
	if (f.n != 3 || f.st[0].rule.handle != 1 || f.st[1].rule.handle != 3 ||
	    f.st[2].rule.handle != 4)
		fail("after adoption the dump found %d rules, want handles 1, 3, 4", f.n);

	/* Packets after the dump are in the final counters the delete returns. */
	send_frames(&r1, 0x10, 2);
	del[0] = (struct ft_hw_op){ .rule = r1 };
	del[1] = (struct ft_hw_op){ .rule = r3 };
	del[2] = (struct ft_hw_op){ .rule = r4 };
	if (hw->ops->del(hw, del, 3, final))
		fail("the delete did not go out");
	for (i = 0; i < 3; i++)
		if (del[i].err)
			fail("delete of handle %u: %s %s", del[i].rule.handle,
			     strerror(-del[i].err), del[i].extack);
	expect_stat(&final[0], &r1, 7, 7 * l1);
	expect_stat(&final[1], &r3, 4, 4 * l3);
	expect_stat(&final[2], &r4, 0, 0);
	f = dump(hw);
	if (f.n != 0)
		fail("%d rules left after the delete", f.n);
	expect_tc_lists(NULL, 0);
	/* A rule already gone: the kernel's error, and no final counters. */
	memset(final, 0xff, sizeof(final));
	if (hw->ops->del(hw, del, 1, final))
		fail("the second delete did not go out");
	if (del[0].err != -ENOENT || final[0].packets || final[0].rule.handle)
		fail("deleting a deleted rule: %d \"%s\", want %d", del[0].err, del[0].extack,
		     -ENOENT);
	printf("tc-check: delete of a deleted rule: %d %s\n", del[0].err, del[0].extack);
	hw->ops->close(hw);
	printf("tc-check: passed\n");
	return 0;
}
