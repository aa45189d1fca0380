/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The tc flower backend of the hardware tier (`--offload tc`): struct
 * ft_hw over rtnetlink, through libmnl, in the network namespace of the
 * caller at open time.
 *
 * - add: RTM_NEWTFILTER, up to FT_HW_TC_BATCH requests per sendmsg, each
 *   ack matched to its op by sequence number, extack text kept. An op
 *   whose ack never came (10 s) gets -ETIMEDOUT, or -EPROTO when the
 *   receive failed (the call returns that error): its outcome is unknown,
 *   and a dump tells. When sendmsg itself fails, the batch's ops get its
 *   error.
 * - del: RTM_DELTFILTER with NLM_F_ECHO. Linux's tfilter_del_notify
 *   (net/sched/cls_api.c, 6.1 and later) fills the filter, counters
 *   included, before it deletes it and sends that message to an echoing
 *   requester, so the final counters come with the delete itself: no
 *   packet slips between a separate read and the delete.
 * - dump: RTM_GETTFILTER NLM_F_DUMP of each of flowtier's two prios on the
 *   device, on a socket of its own, so that the callback may add and
 *   delete (not dump). Filters of another shape in those prios are not
 *   reported, so never deleted.
 *
 * Counters: a rule's packets and bytes are its action's TCA_STATS_BASIC,
 * everything the rule handled. With skip_sw (the default) that is the
 * NIC's count (the same as TCA_STATS_BASIC_HW); with skip_hw it is
 * software flower's, which stands in for the NIC in tests; with none it
 * is both. lastuse_ms is the action's tcf_t lastuse (clock ticks of
 * 1/USER_HZ s: the age of the last match, or of the install when none).
 * Drivers refresh hardware counters about once a second (mlx5), so a dump
 * or a delete's final counters can be that old.
 */
#ifndef FT_HW_TC_H
#define FT_HW_TC_H

#include "hw.h"
#include "tc_flower.h"

/* Requests per sendmsg: their acks and echoes must fit the socket's receive buffer. */
#define FT_HW_TC_BATCH 32

/* --tc-flags */
enum ft_tc_flags {
	FT_TC_FLAGS_SKIP_SW = 0, /* the NIC only (default): an ack means the rule is in hardware */
	FT_TC_FLAGS_SKIP_HW,	 /* software flower only: testing without an offload NIC */
	FT_TC_FLAGS_NONE,	 /* both: the kernel offloads when it can */
};

struct ft_hw_tc_opts {
	enum ft_tc_flags flags; /* --tc-flags */
	__u16 prio4, prio6;	/* 0: FT_TC_PRIO_IPV4, FT_TC_PRIO_IPV6 */
	/*
	 * --tc-capacity N, a test aid: past N of its own rules on a device
	 * the backend refuses an add with ENOSPC, as a full NIC would. 0: off.
	 */
	__u32 capacity;
};

/* Opens the backend; 0 or -errno. Close it with (*hw)->ops->close(*hw). */
int ft_hw_tc_open(struct ft_hw **hw, const struct ft_hw_tc_opts *o);

/* "skip_sw", "skip_hw", "none" -> flags: 0 or -EINVAL. */
int ft_tc_flags_parse(const char *s, enum ft_tc_flags *flags);
const char *ft_tc_flags_name(enum ft_tc_flags flags);

/* The extack of an add the capacity refuses, for capacity N: */
#define FT_HW_TC_CAPACITY_FMT                                                                      \
	"flowtier test capacity reached: %u rules on this device (--tc-capacity)"

#endif
