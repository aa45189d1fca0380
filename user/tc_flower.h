/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tc flower messages for the hardware tier: building requests and
 * parsing the filters the kernel reports. Pure functions over buffers,
 * so that tests can compare them with iproute2's and feed them replies.
 *
 * Where flowtier's rules live: clsact ingress, one prio per family. The
 * default prios are 15 (IPv4) and 16 (IPv6) because mlx5 in switchdev
 * mode refuses a prio above 16 (FDB_TC_MAX_PRIO) with EOPNOTSUPP unless
 * its firmware ignores flow levels, because prio 1 is where hand-written
 * and Open vSwitch rules usually go (lower prios match first, so those
 * win), and because both sort before 0xc000, the prio the kernel gives a
 * TC-BPF program attached without one: with software flower standing in
 * for the NIC (skip_hw), flower sees a packet before the BPF tier does.
 */
#ifndef FT_TC_FLOWER_H
#define FT_TC_FLOWER_H

#include <stddef.h>
#include <linux/netlink.h>
#include <linux/types.h>
#include "hw.h"

#define FT_TC_PRIO_IPV4 15
#define FT_TC_PRIO_IPV6 16

/* Room for the largest request (IPv6, mirred, cookie: 240 bytes). */
#define FT_TC_MSG_MAX 512

/* TCP flags the hardware must see 0 of: set-up and tear-down stay in software. */
#define FT_TC_TCP_FLAGS_MASK 0x07 /* FIN | SYN | RST */

/* Where and how a backend's rules are placed. */
struct ft_tc_place {
	__u32 flags; /* TCA_CLS_FLAGS_SKIP_SW (default), _SKIP_HW or 0 */
	__u16 prio4; /* prio of IPv4 rules */
	__u16 prio6; /* prio of IPv6 rules */
};

/*
 * Each builder writes one request at buf (room for len bytes) and returns
 * its length, or -EINVAL (a rule flowtier cannot express) or -ENOSPC (too
 * small a buffer). seq becomes nlmsg_seq; nlmsg_pid stays 0.
 */
int ft_tc_build_add(void *buf, size_t len, const struct ft_tc_place *p, const struct ft_hw_rule *r,
		    __u32 seq);
/* Asks the kernel for the filter, counters included, as it deletes it (NLM_F_ECHO). */
int ft_tc_build_del(void *buf, size_t len, const struct ft_tc_place *p, const struct ft_hw_rule *r,
		    __u32 seq);
/* A dump of one family's prio on ifindex (FT_FAMILY_IPV4 or _IPV6). */
int ft_tc_build_dump(void *buf, size_t len, const struct ft_tc_place *p, __u32 ifindex, int family,
		     __u32 seq);

/*
 * Parses one RTM_NEWTFILTER or RTM_DELTFILTER message. Returns 1 and
 * fills st when it is a rule of flowtier's shape in p's prios, 0 when it
 * is something else (another prio, a prio's header without a filter, a
 * filter of another shape), -EBADMSG when the message or any attribute is
 * truncated or malformed.
 */
int ft_tc_parse_filter(const struct nlmsghdr *nlh, const struct ft_tc_place *p,
		       struct ft_hw_stat *st);

/*
 * Parses the ack in an NLMSG_ERROR message: returns its error (0 or
 * -errno) and copies the extack text into extack (FT_HW_EXTACK_LEN bytes,
 * "" when none); -EBADMSG when malformed.
 */
int ft_tc_parse_ack(const struct nlmsghdr *nlh, char *extack);

/*
 * 1 when a whole message starts at nlh within len bytes. Unlike
 * mnl_nlmsg_ok, a length of 2^31 or more is not taken for a small one.
 */
int ft_tc_msg_ok(const struct nlmsghdr *nlh, int len);

/*
 * One buffer of a dump's replies (seq and portid: the request's). Calls
 * cb for each of flowtier's rules until cb returns non-zero, whose value
 * is kept in *cb_ret; later rules are skipped but the buffer is still
 * checked. Returns 1 when the buffer ends the dump (NLMSG_DONE), 0 when
 * more is to come, the dump's -errno (NLMSG_ERROR) or -EBADMSG.
 */
int ft_tc_parse_dump_buf(const void *buf, size_t len, __u32 seq, __u32 portid,
			 const struct ft_tc_place *p,
			 int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx, int *cb_ret);

#endif
