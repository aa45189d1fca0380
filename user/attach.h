/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attaching the pinned datapath to interfaces: ft_xdp on ingress (libxdp,
 * or a plain attach where libxdp cannot), ft_tc_ingress and ft_tc_egress on
 * clsact at flowtier's own priority and handle, next to other filters.
 * What is attached where is recorded in the pinned ft_ifaces map, so that
 * a later command or a restarted controller knows it.
 */
#ifndef FT_ATTACH_H
#define FT_ATTACH_H

#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>
#include "flowtier/abi.h"

/* flowtier's TC filters: a priority and handle of its own, next to everyone else's. */
#define FT_TC_PRIO   0x4654 /* "FT" */
#define FT_TC_HANDLE 0x4654

enum ft_xdp_mode {
	FT_XDP_MODE_AUTO = 0, /* native, generic with a warning when the driver lacks it */
	FT_XDP_MODE_NATIVE,
	FT_XDP_MODE_GENERIC,
	/* TC only: tc flower (software, or a NIC that offloads tc where XDP is unwanted) sees
	 * packets before flowtier's TC ingress program; XDP would see them before flower. */
	FT_XDP_MODE_OFF,
};

struct ft_attach_opts {
	const char *pin_dir;
	enum ft_xdp_mode xdp_mode;
	int force; /* replace an XDP program flowtier did not attach */
};

/* One attached interface, as recorded. */
struct ft_attached {
	__u32 ifindex;
	char name[IF_NAMESIZE]; /* "" when the interface is gone or in another namespace */
	int other_netns;	/* recorded from another network namespace */
	struct ft_iface rec;
};

/* "native", "generic", "skb" or "off"; -EINVAL after saying what is expected. */
int ft_xdp_mode_parse(const char *s, enum ft_xdp_mode *mode);

/* ifname's ifindex; -ENODEV after naming the interface. */
int ft_iface_resolve(const char *ifname, __u32 *ifindex);

/*
 * Attaches every interface, or none: all are resolved and checked before
 * the first is touched, and one that fails undoes the others this call
 * attached. -ENODEV: unknown interface; -EBUSY: an XDP program flowtier
 * did not attach (without force); other -errno from the kernel.
 */
int ft_attach_all(const struct ft_attach_opts *o, char *const *ifnames, size_t n);

/* Detaches the named interfaces (-ENOENT: flowtier is not attached there). */
int ft_detach_all(const char *pin_dir, char *const *ifnames, size_t n);

/*
 * Detaches every recorded interface (plain unload, before the maps are
 * unpinned); -EBUSY when some were attached from another network namespace,
 * unless force: their records are then dropped (a deleted namespace took
 * its interfaces and their programs with it).
 */
int ft_detach_everything(const char *pin_dir, int force);

/* The recorded interfaces into out (at most max); returns how many there are, or -errno. */
int ft_attach_list(const char *pin_dir, struct ft_attached *out, size_t max);

/*
 * The exit status for an attach or detach error: 2 for what the user can
 * fix (no such interface, a foreign XDP program, privileges), 1 otherwise.
 */
int ft_attach_exit_status(int err);

/* "native", "generic" or "-" for a record. */
const char *ft_attached_xdp_mode(const struct ft_iface *rec);

#endif
