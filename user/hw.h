/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hardware tier's backends: what the offload manager asks of a NIC.
 *
 * One interface, several implementations (tc flower over rtnetlink, the
 * emulated NIC of the testbed, the simulator's NIC, the tests' scripted
 * NIC). The manager never knows which one it drives.
 *
 * A rule matches one direction of one connection exactly (5-tuple) and
 * applies its verdict in the NIC. It is named by (ifindex, handle), which
 * the manager chooses, and carries the manager's flow id as a cookie, so
 * that a restarted controller can adopt the rules it finds.
 */
#ifndef FT_HW_H
#define FT_HW_H

#include <stddef.h>
#include <linux/types.h>
#include "flowtier/abi.h"

#define FT_HW_EXTACK_LEN 128

/* How a backend error is handled; see ft_hw_classify(). */
enum ft_hw_class {
	FT_HWC_OK = 0,
	FT_HWC_EXHAUSTED,   /* the device is full: ENOSPC, ENOMEM, ENOBUFS, EIO, ENOENT + extack */
	FT_HWC_TRANSIENT,   /* EAGAIN, EBUSY: retry later */
	FT_HWC_UNSUPPORTED, /* EOPNOTSUPP: permanent for this flow shape (or device) */
	FT_HWC_INVALID,	    /* EINVAL */
	FT_HWC_EXISTS,	    /* EEXIST: resync */
	FT_HWC_OTHER,	    /* anything else */
	FT_HWC_MAX,
};

/* One rule: one direction of one connection. */
struct ft_hw_rule {
	struct ft_key key; /* the connection's canonical key */
	__u8 dir;	   /* matches packets whose source is key.addr[dir], key.port[dir] */
	__u8 verdict;	   /* FT_VERDICT_DROP or FT_VERDICT_REDIRECT */
	__u16 pad;
	__u32 ifindex;		/* the device where this direction arrives */
	__u32 redirect_ifindex; /* FT_VERDICT_REDIRECT: where it leaves */
	__u32 handle;		/* chosen by the manager, unique per ifindex and family */
	__u64 cookie;		/* the manager's flow id, kept by the device */
};

/* One add or delete, and how it went. */
struct ft_hw_op {
	struct ft_hw_rule rule;
	int err;		       /* 0 or -errno, set by the backend */
	char extack[FT_HW_EXTACK_LEN]; /* the device's reason, "" when none */
};

/* A rule as the device reports it, with its counters. */
struct ft_hw_stat {
	struct ft_hw_rule rule;
	__u64 packets; /* handled by the device (hardware counters only) */
	__u64 bytes;
	__u64 lastuse_ms; /* milliseconds since the rule last matched a packet */
};

struct ft_hw;

struct ft_hw_ops {
	const char *name;
	/*
	 * Adds n rules, several per system call where the backend can; every
	 * op gets its own err and extack. Returns 0 when the request itself
	 * went out (individual ops may still have failed), or -errno.
	 */
	int (*add)(struct ft_hw *hw, struct ft_hw_op *ops, size_t n);
	/*
	 * Deletes n rules. When final is not NULL, final[i] receives the
	 * counters of ops[i]'s rule as they were when it was deleted (so no
	 * packet counted by the device is lost); an op that failed leaves
	 * final[i] zeroed.
	 */
	int (*del)(struct ft_hw *hw, struct ft_hw_op *ops, size_t n, struct ft_hw_stat *final);
	/*
	 * Calls cb once per rule of flowtier's on ifindex (its own prios or
	 * table, nobody else's), with its counters. Stops early and returns
	 * what cb returned when that is not 0; otherwise 0 or -errno.
	 */
	int (*dump)(struct ft_hw *hw, __u32 ifindex,
		    int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx);
	void (*close)(struct ft_hw *hw);
};

/* Every backend embeds this first. */
struct ft_hw {
	const struct ft_hw_ops *ops;
};

/* Appends a fresh op for rule r to *ops (n used, cap allocated); 0 or -ENOMEM. */
int ft_hw_ops_append(struct ft_hw_op **ops, size_t *n, size_t *cap, const struct ft_hw_rule *r);

/*
 * Deletes every rule of flowtier's the backend lists on ifindex (unload,
 * or rules no controller will adopt); *removed counts them.
 */
int ft_hw_flush(struct ft_hw *hw, __u32 ifindex, size_t *removed);

/* The class of a backend error (-errno or errno) and its extack text. */
enum ft_hw_class ft_hw_classify(int err, const char *extack);
const char *ft_hw_class_name(enum ft_hw_class c);

#endif
