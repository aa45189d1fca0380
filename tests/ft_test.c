// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ft_test.h"
#include "flowtier.skel.h"

void ft_test_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0, "cannot pin to CPU %d", cpu);
}

void ft_test_load(struct ft_datapath *dp, __u32 conns, __u64 seed0, __u64 seed1)
{
	struct ft_dp_opts o = { .conns = conns, .seed = { seed0, seed1 } };

	/* Packets run on CPU 0 unless a test pins itself elsewhere. */
	ft_test_pin(0);
	cr_assert_eq(ft_dp_open(dp, &o), 0, "cannot load the datapath");
}

int ft_test_try_run(struct ft_datapath *dp, enum ft_test_prog prog, const void *pkt, size_t len,
		    __u32 *retval, void *out, __u32 *out_len)
{
	struct bpf_program *progs[] = {
		[FT_T_XDP] = dp->skel->progs.ft_xdp,
		[FT_T_TC_IN] = dp->skel->progs.ft_tc_ingress,
		[FT_T_TC_OUT] = dp->skel->progs.ft_tc_egress,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .repeat = 1);
	int err;

	if (out) {
		opts.data_out = out;
		opts.data_size_out = FT_FRAME_MAX;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(progs[prog]), &opts);
	if (err)
		return -errno;
	*retval = opts.retval;
	if (out_len)
		*out_len = opts.data_size_out;
	return 0;
}

__u32 ft_test_run(struct ft_datapath *dp, enum ft_test_prog prog, const void *pkt, size_t len)
{
	__u32 ret = 0;
	int err = ft_test_try_run(dp, prog, pkt, len, &ret, NULL, NULL);

	cr_assert_eq(err, 0, "BPF_PROG_TEST_RUN of a %zu-byte packet failed: %s", len,
		     strerror(-err));
	return ret;
}

void ft_test_reset(struct ft_datapath *dp)
{
	struct ft_stats *zero = calloc(dp->nr_cpus, sizeof(*zero));
	__u32 key = 0;

	cr_assert_not_null(zero);
	memset(dp->buckets, 0, (size_t)dp->nr_buckets * sizeof(*dp->buckets));
	memset(dp->zones, 0, FT_MAX_ZONES * sizeof(*dp->zones));
	dp->skel->bss->ft_sweep_cursor = 0;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.ft_stats), &key, zero, BPF_ANY),
		     0, "cannot clear ft_stats: %s", strerror(errno));
	free(zero);
}

static void put16(__u8 *p, __u16 v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static size_t build_l4(const struct ft_spec *s, __u8 *p)
{
	size_t n = 0;

	switch (s->proto) {
	case 6:
		put16(p, s->sport), put16(p + 2, s->dport);
		p[12] = 5 << 4, p[13] = s->tcp_flags;
		n = 20;
		break;
	case 17:
	case 136:
		put16(p, s->sport), put16(p + 2, s->dport);
		put16(p + 4, 8 + s->payload);
		n = 8;
		break;
	case 132:
		put16(p, s->sport), put16(p + 2, s->dport);
		n = 12;
		break;
	case 1:
	case 58:
		p[0] = s->icmp_type;
		put16(p + 4, s->sport);
		n = 8;
		break;
	}
	if (s->frag == 2)
		n = 0; /* a non-first fragment carries payload only */
	memset(p + n, 0xab, s->payload);
	return n + s->payload;
}

static size_t build_ipv4(const struct ft_spec *s, __u8 *p)
{
	size_t ihl = 20 + 4 * s->ip4_opt_words;
	size_t l4 = build_l4(s, p + ihl);

	p[0] = 0x40 | (ihl / 4);
	put16(p + 2, ihl + l4);
	if (s->frag == 1)
		put16(p + 6, 0x2000); /* MF, offset 0 */
	else if (s->frag == 2)
		put16(p + 6, 185); /* offset 1480 */
	p[8] = 64;
	p[9] = s->proto;
	memset(p + 20, 1, ihl - 20); /* NOP options */
	cr_assert_eq(inet_pton(AF_INET, s->src, p + 12), 1);
	cr_assert_eq(inet_pton(AF_INET, s->dst, p + 16), 1);
	return ihl + l4;
}

static size_t build_ipv6(const struct ft_spec *s, __u8 *p)
{
	static const __u8 chain[] = { 0, 43, 60 };
	__u8 *nh = p + 6;
	size_t off = 40, l4;

	p[0] = 0x60;
	p[7] = 64;
	cr_assert_eq(inet_pton(AF_INET6, s->src, p + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, s->dst, p + 24), 1);
	for (int i = 0; i < s->nexthdrs; i++) {
		*nh = chain[i % 3];
		nh = p + off;
		memset(p + off, 0, 8);
		p[off + 1] = 0; /* 8 bytes */
		off += 8;
	}
	if (s->frag) {
		*nh = 44;
		nh = p + off;
		memset(p + off, 0, 8);
		put16(p + off + 2, s->frag == 2 ? (1480 | 1) : 1); /* offset | M */
		off += 8;
	}
	if (s->ah) {
		*nh = 51;
		nh = p + off;
		memset(p + off, 0, 24);
		p[off + 1] = 4;		   /* (4 + 2) * 4 = 24 bytes: 12 fixed, a 96-bit ICV */
		put16(p + off + 4, 0x100); /* SPI 0x100 */
		off += 24;
	}
	*nh = s->proto;
	l4 = build_l4(s, p + off);
	put16(p + 4, off - 40 + l4);
	return off + l4;
}

size_t ft_build(const struct ft_spec *s, __u8 *buf)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 2 }, smac[6] = { 0x02, 0, 0, 0, 0, 1 };
	size_t off = 12;

	memset(buf, 0, 1514);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->vlan_proto[i] ? s->vlan_proto[i] : 0x8100);
		put16(buf + off + 2, s->vlan_id[i]);
		off += 4;
	}
	if (s->ethertype)
		put16(buf + off, s->ethertype);
	else
		put16(buf + off, s->family == 6 ? 0x86dd : 0x0800);
	off += 2;
	if (s->family != 4 && s->family != 6) {
		memset(buf + off, 0xab, s->payload);
		return off + s->payload;
	}
	return off + (s->family == 6 ? build_ipv6(s, buf + off) : build_ipv4(s, buf + off));
}

__u32 ft_send(struct ft_datapath *dp, enum ft_test_prog prog, const struct ft_spec *s)
{
	__u8 buf[1514];
	size_t len = ft_build(s, buf);

	return ft_test_run(dp, prog, buf, len);
}

static void addr_of(const struct ft_spec *s, const char *a, __u8 out[16])
{
	memset(out, 0, 16);
	cr_assert_eq(inet_pton(s->family == 6 ? AF_INET6 : AF_INET, a, out), 1);
}

/* Whether key k is the spec's connection; *side: which side of k its source is. */
static int ft_key_is(const struct ft_key *k, const struct ft_spec *s, __u16 zone, int *side)
{
	__u8 src[16], dst[16];
	int icmp = s->proto == 1 || s->proto == 58;
	int echo = icmp && (s->icmp_type == 8 || s->icmp_type == 0 || s->icmp_type == 128 ||
			    s->icmp_type == 129);
	__u16 sp = s->frag == 2 || (icmp && !echo) ? 0 : htons(s->sport);
	__u16 dp_ = s->frag == 2 || (icmp && !echo) ? 0 : htons(icmp ? s->sport : s->dport);

	addr_of(s, s->src, src);
	addr_of(s, s->dst, dst);
	if (k->proto != s->proto || k->family != s->family || k->zone != zone)
		return 0;
	for (int d = 0; d < 2; d++) {
		if (memcmp(k->addr[d], src, 16) || memcmp(k->addr[!d], dst, 16) ||
		    k->port[d] != sp || k->port[!d] != dp_)
			continue;
		*side = d;
		return 1;
	}
	return 0;
}

struct ft_ct *ft_find(struct ft_datapath *dp, const struct ft_spec *s, __u16 zone, int *src_side,
		      __u32 *bucket, int *slot)
{
	static struct ft_ct ring[16];
	static unsigned next;
	struct ft_ct *c;
	int side;

	for (__u32 b = 0; b < dp->nr_buckets; b++) {
		struct ft_bucket *bk = &dp->buckets[b];

		for (int i = 0; i < FT_SLOTS; i++) {
			if (!FT_META_TAG(bk->meta[i]) ||
			    !ft_key_is(&bk->slot[i].key, s, zone, &side))
				continue;
			c = &ring[next++ % 16];
			cr_assert_eq(ft_ct_read(bk, i, c), 1);
			if (src_side)
				*src_side = side;
			if (bucket)
				*bucket = b;
			if (slot)
				*slot = i;
			return c;
		}
	}
	return NULL;
}

__u32 ft_count_key(struct ft_datapath *dp, const struct ft_spec *s, __u16 zone)
{
	__u32 n = 0;
	int side;

	for (__u32 b = 0; b < dp->nr_buckets; b++)
		for (int i = 0; i < FT_SLOTS; i++)
			n += FT_META_TAG(dp->buckets[b].meta[i]) &&
			     ft_key_is(&dp->buckets[b].slot[i].key, s, zone, &side);
	return n;
}

__u32 ft_count_live(struct ft_datapath *dp)
{
	__u32 n = 0;

	for (__u32 b = 0; b < dp->nr_buckets; b++)
		for (int i = 0; i < FT_SLOTS; i++)
			n += FT_META_TAG(dp->buckets[b].meta[i]) != 0;
	return n;
}

struct ft_stats ft_stats_of(struct ft_datapath *dp)
{
	struct ft_stats st;

	cr_assert_eq(ft_dp_read_stats(dp, &st), 0);
	return st;
}

void ft_age_all(struct ft_datapath *dp, __u32 secs)
{
	__u32 ticks = (__u32)(((__u64)secs * 1000000000ull) >> FT_TICK_SHIFT);

	for (__u32 b = 0; b < dp->nr_buckets; b++)
		for (int i = 0; i < FT_SLOTS; i++)
			dp->buckets[b].last_tick[i] -= ticks;
}

int ft_run(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *f;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	f = popen(cmd, "r");
	cr_assert_not_null(f, "cannot run %s", cmd);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void ft_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}
