/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flower rule the tc tests install: one connection between two
 * documentation addresses, in either family, on ports tc prints back.
 * Shared by test_hw_tc (this kernel) and tc_check (Debian's, in the VM).
 */
#ifndef FT_RULE_FIXTURE_H
#define FT_RULE_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "hw.h"

/* in: the device it arrives on; out: where a redirect sends it. */
static inline struct ft_hw_rule ft_fixture_rule(int family, int proto, int verdict, int dir,
						__u32 in, __u32 out)
{
	struct ft_hw_rule r;

	memset(&r, 0, sizeof(r));
	if (family == 4) {
		inet_pton(AF_INET, "198.18.0.1", r.key.addr[0]);
		inet_pton(AF_INET, "198.18.0.2", r.key.addr[1]);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", r.key.addr[0]);
		inet_pton(AF_INET6, "2001:db8::2", r.key.addr[1]);
	}
	r.key.port[0] = htons(40000);
	r.key.port[1] = htons(proto == IPPROTO_TCP ? 443 : 5353);
	r.key.proto = proto;
	r.key.family = family;
	r.dir = dir;
	r.verdict = verdict;
	r.ifindex = in;
	r.redirect_ifindex = verdict == FT_VERDICT_REDIRECT ? out : 0;
	return r;
}

#endif
