/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Each generated flow's addresses and ports, and its frame headers. */
#ifndef FT_GEN_FLOWS_H
#define FT_GEN_FLOWS_H

#include <linux/types.h>
#include "gen.h"

/* A flow as its client sends it: src is the client, dst the server. */
struct gen_tuple {
	__u8 family;	       /* 4 or 6 */
	__u8 proto;	       /* 6 or 17 */
	__u16 sport, dport;    /* host order */
	__u8 src[16], dst[16]; /* IPv4 in the first 4 bytes */
};

/*
 * Flow i's tuple. Clients are 198.18.0.0/16 and 2001:db8:1::/64, servers
 * 198.19.0.0/24 and 2001:db8:2::/64 (the testbed's links use 198.19.250.0
 * and above); the client address and port together are unique per flow.
 */
void gen_tuple_of(__u32 i, __u8 family, __u8 proto, struct gen_tuple *t);

/* Both directions' headers for frames of size bytes from src_mac to dst_mac. */
void gen_headers(const struct gen_tuple *t, const __u8 *src_mac, const __u8 *dst_mac, __u32 size,
		 struct gen_flow *f);

/* The tuple's addresses as text, for the ground truth. */
void gen_tuple_addrs(const struct gen_tuple *t, char *src, char *dst, size_t len);

#endif
