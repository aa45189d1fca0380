// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Addresses per flow and the frame headers the BPF program copies. */
#include <arpa/inet.h>
#include <string.h>

#include "flows.h"

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define TCP_LEN 20
#define UDP_LEN 8

void gen_tuple_of(__u32 i, __u8 family, __u8 proto, struct gen_tuple *t)
{
	__u32 server = 1 + i % 250;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->proto = proto;
	t->sport = 10000 + (i >> 16);
	t->dport = proto == 6 ? 80 : 53;
	if (family == 4) {
		__u8 src[4] = { 198, 18, (i >> 8) & 0xff, i & 0xff };
		__u8 dst[4] = { 198, 19, 0, server };

		memcpy(t->src, src, 4);
		memcpy(t->dst, dst, 4);
		return;
	}
	/* 2001:db8:1::<i>, 2001:db8:2::<server> */
	t->src[0] = 0x20, t->src[1] = 0x01, t->src[2] = 0x0d, t->src[3] = 0xb8, t->src[5] = 1;
	t->src[13] = (i >> 16) & 0xff, t->src[14] = (i >> 8) & 0xff, t->src[15] = i & 0xff;
	memcpy(t->dst, t->src, 6);
	t->dst[5] = 2;
	t->dst[15] = server;
}

static __u16 ip4_csum(const __u8 *h)
{
	__u32 sum = 0;

	for (int i = 0; i < IP4_LEN; i += 2)
		sum += (h[i] << 8) | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* The IP header from a to b; returns its length. */
static int gen_ip(__u8 *h, const struct gen_tuple *t, const __u8 *a, const __u8 *b, __u32 size)
{
	if (t->family == 4) {
		h[0] = 0x45;
		put16(h + 2, size - ETH_LEN);
		put16(h + 6, 0x4000); /* DF */
		h[8] = 64;
		h[9] = t->proto;
		memcpy(h + 12, a, 4);
		memcpy(h + 16, b, 4);
		put16(h + 10, ip4_csum(h));
		return IP4_LEN;
	}
	h[0] = 0x60;
	put16(h + 4, size - ETH_LEN - IP6_LEN);
	h[6] = t->proto;
	h[7] = 64;
	memcpy(h + 8, a, 16);
	memcpy(h + 24, b, 16);
	return IP6_LEN;
}

/*
 * One direction. L4 checksums stay 0: nothing on the path verifies them
 * (forwarding does not, the sink counts in XDP).
 */
static void gen_dir(__u8 *h, const struct gen_tuple *t, int rev, const __u8 *src_mac,
		    const __u8 *dst_mac, __u32 size)
{
	__u16 sp = rev ? t->dport : t->sport, dp = rev ? t->sport : t->dport;
	__u8 *l4;

	memcpy(h, dst_mac, 6);
	memcpy(h + 6, src_mac, 6);
	put16(h + 12, t->family == 4 ? 0x0800 : 0x86dd);
	l4 = h + ETH_LEN +
	     gen_ip(h + ETH_LEN, t, rev ? t->dst : t->src, rev ? t->src : t->dst, size);
	put16(l4, sp);
	put16(l4 + 2, dp);
	if (t->proto == 17) {
		put16(l4 + 4, size - (__u32)(l4 - h));
		return;
	}
	put32(l4 + 4, rev ? 2000 : 1000); /* seq */
	put32(l4 + 8, rev ? 1001 : 2001); /* ack */
	l4[12] = (TCP_LEN / 4) << 4;
	put16(l4 + 14, 65535); /* window */
}

void gen_headers(const struct gen_tuple *t, const __u8 *src_mac, const __u8 *dst_mac, __u32 size,
		 struct gen_flow *f)
{
	memset(f, 0, sizeof(*f));
	gen_dir(f->hdr[0], t, 0, src_mac, dst_mac, size);
	gen_dir(f->hdr[1], t, 1, src_mac, dst_mac, size);
	if (t->proto == 6)
		f->tcp_flags_off = ETH_LEN + (t->family == 4 ? IP4_LEN : IP6_LEN) + 13;
}

void gen_tuple_addrs(const struct gen_tuple *t, char *src, char *dst, size_t len)
{
	int af = t->family == 4 ? AF_INET : AF_INET6;

	inet_ntop(af, t->src, src, len);
	inet_ntop(af, t->dst, dst, len);
}
