// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "log.h"
#include "pinned.h"
#include "tc_filters.h"

enum { FT_P_XDP = 0, FT_P_TC_IN, FT_P_TC_OUT, FT_P_MAX };

static const char *const ft_prog_names[FT_P_MAX] = {
	[FT_P_XDP] = FT_PROG_XDP,
	[FT_P_TC_IN] = FT_PROG_TC_INGRESS,
	[FT_P_TC_OUT] = FT_PROG_TC_EGRESS,
};

/* The pinned objects an attach or a detach works with. */
struct ft_att {
	const char *pin_dir;
	int ifaces_fd;
	int tx_fd;
	int prog_fd[FT_P_MAX];
	__u64 netns; /* this network namespace's cookie: ifindexes are per namespace */
};

int ft_xdp_mode_parse(const char *s, enum ft_xdp_mode *mode)
{
	if (!strcmp(s, "native"))
		*mode = FT_XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		*mode = FT_XDP_MODE_GENERIC;
	else if (!strcmp(s, "off"))
		*mode = FT_XDP_MODE_OFF;
	else {
		pr_err("bad value '%s' for --xdp-mode: expected native, generic, skb or off\n", s);
		return -EINVAL;
	}
	return 0;
}

int ft_iface_resolve(const char *ifname, __u32 *ifindex)
{
	unsigned int i = strlen(ifname) < IF_NAMESIZE ? if_nametoindex(ifname) : 0;

	if (!i) {
		pr_err("no interface named '%s' (see 'ip link' for the interfaces there are)\n",
		       ifname);
		return -ENODEV;
	}
	if (i >= FT_MAX_IFINDEX) {
		pr_err("interface '%s' has ifindex %u; flowtier handles ifindexes below %u\n",
		       ifname, i, FT_MAX_IFINDEX);
		return -ERANGE;
	}
	*ifindex = i;
	return 0;
}

int ft_attach_exit_status(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -ENODEV:
	case -EBUSY:
	case -EPERM:
	case -EACCES:
	case -EINVAL:
	case -ERANGE:
	case -ENOENT:
	case -EALREADY:	  /* another controller holds the pin dir */
	case -EADDRINUSE: /* another controller answers on the socket */
		return 2;
	default:
		return 1;
	}
}

const char *ft_attached_xdp_mode(const struct ft_iface *rec)
{
	if (!(rec->flags & FT_IF_XDP))
		return "-";
	return rec->flags & FT_IF_XDP_GENERIC ? "generic" : "native";
}

/* libxdp speaks through our logger, one level quieter, as libbpf does. */
static int ft_libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBXDP_WARN)
		return 0;
	ft_log_v(FT_LOG_DEBUG, fmt, ap);
	return 0;
}

static int ft_libbpf_silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static void ft_att_close(struct ft_att *a)
{
	if (a->ifaces_fd >= 0)
		close(a->ifaces_fd);
	if (a->tx_fd >= 0)
		close(a->tx_fd);
	for (int i = 0; i < FT_P_MAX; i++) {
		if (a->prog_fd[i] >= 0)
			close(a->prog_fd[i]);
		a->prog_fd[i] = -1;
	}
	a->ifaces_fd = a->tx_fd = -1;
}

static int ft_netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	err = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) ? -errno : 0;
	close(fd);
	if (err)
		pr_err("cannot tell this network namespace: %s\n", strerror(-err));
	return err;
}

/* progs: also open the pinned programs (attach needs them, detach does not). */
static int ft_att_open(struct ft_att *a, const char *pin_dir, int progs)
{
	int err = 0;

	a->pin_dir = pin_dir;
	a->tx_fd = -1;
	for (int i = 0; i < FT_P_MAX; i++)
		a->prog_fd[i] = -1;
	libxdp_set_print(ft_libxdp_print);
	a->ifaces_fd = -1;
	err = ft_netns_cookie(&a->netns);
	if (err)
		return err;
	a->ifaces_fd = ft_pinned_fd(pin_dir, FT_MAP_IFACES);
	if (a->ifaces_fd < 0)
		return a->ifaces_fd;
	a->tx_fd = ft_pinned_fd(pin_dir, FT_MAP_TX_PORTS);
	if (a->tx_fd < 0)
		err = a->tx_fd;
	for (int i = 0; !err && progs && i < FT_P_MAX; i++) {
		a->prog_fd[i] = ft_pinned_fd(pin_dir, ft_prog_names[i]);
		if (a->prog_fd[i] < 0)
			err = a->prog_fd[i];
	}
	if (err)
		ft_att_close(a);
	return err;
}

static int ft_rec_read(const struct ft_att *a, __u32 ifindex, struct ft_iface *rec)
{
	return bpf_map_lookup_elem(a->ifaces_fd, &ifindex, rec) ? -errno : 0;
}

static int ft_rec_write(const struct ft_att *a, __u32 ifindex, const struct ft_iface *rec)
{
	int err = bpf_map_update_elem(a->ifaces_fd, &ifindex, rec, BPF_ANY) ? -errno : 0;

	if (err)
		pr_err("cannot record interface %u in %s/%s: %s\n", ifindex, a->pin_dir,
		       FT_MAP_IFACES, strerror(-err));
	return err;
}

static void ft_prog_name_of(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(name, len, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* What XDP program runs on ifindex now, in which mode (XDP_FLAGS_*). */
static int ft_xdp_current(__u32 ifindex, __u32 *prog_id, __u32 *mode_flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	*prog_id = q.prog_id;
	*mode_flags = q.attach_mode == XDP_ATTACHED_SKB	 ? XDP_FLAGS_SKB_MODE
		      : q.attach_mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE
							 : XDP_FLAGS_DRV_MODE;
	if (q.attach_mode == XDP_ATTACHED_MULTI) { /* more than one mode: take the driver's */
		*prog_id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		*mode_flags = q.drv_prog_id ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	}
	return 0;
}

/* Refuses an XDP program flowtier did not attach, unless forced. */
static int ft_xdp_check_owner(const char *ifname, __u32 ifindex, const struct ft_iface *rec,
			      int force)
{
	__u32 id, mode;
	char name[BPF_OBJ_NAME_LEN];
	int err = ft_xdp_current(ifindex, &id, &mode);

	if (err) {
		pr_err("cannot query XDP on '%s': %s\n", ifname, strerror(-err));
		return err;
	}
	if (!id || ((rec->flags & FT_IF_XDP) && id == rec->xdp_prog_id))
		return 0;
	ft_prog_name_of(id, name, sizeof(name));
	if (force) {
		pr_warn("replacing XDP program %u ('%s') on '%s' (--force)\n", id, name, ifname);
		return 0;
	}
	pr_err("cannot attach XDP to '%s': another XDP program (id %u, '%s') is attached; use "
	       "--force to replace it\n",
	       ifname, id, name);
	return -EBUSY;
}

/* libxdp first (its dispatcher where the kernel allows it), a plain attach when it fails. */
static int ft_xdp_attach_new(int fd, __u32 ifindex, __u32 mode_flags)
{
	enum xdp_attach_mode m = mode_flags == XDP_FLAGS_SKB_MODE ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	struct xdp_program *p = xdp_program__from_fd(fd);
	int err = libxdp_get_error(p);

	if (!err) {
		/* Expected to fail where freplace is refused: its libbpf noise is not ours. */
		libbpf_print_fn_t old = libbpf_set_print(ft_libbpf_silent);

		err = xdp_program__attach(p, ifindex, m, 0);
		libbpf_set_print(old);
		xdp_program__close(p);
	}
	if (!err)
		return 0;
	pr_debug("libxdp could not attach (%s); attaching directly\n", strerror(-err));
	return bpf_xdp_attach(ifindex, fd, mode_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
}

/* Atomically swaps the program running on ifindex (ours, or forced) for fd. */
static int ft_xdp_replace(int fd, __u32 ifindex, __u32 old_id, __u32 old_mode, __u32 mode_flags)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	int err;

	o.old_prog_fd = bpf_prog_get_fd_by_id(old_id);
	if (o.old_prog_fd < 0)
		return -errno;
	if (old_mode == mode_flags) {
		err = bpf_xdp_attach(ifindex, fd, mode_flags | XDP_FLAGS_REPLACE, &o);
	} else {
		/* The kernel holds one mode at a time; a refused new mode puts the old one back. */
		err = bpf_xdp_attach(ifindex, -1, old_mode | XDP_FLAGS_REPLACE, &o);
		if (!err)
			err = bpf_xdp_attach(ifindex, fd, mode_flags, NULL);
		if (err && bpf_xdp_attach(ifindex, o.old_prog_fd, old_mode, NULL))
			pr_err("could not put XDP program %u back on interface %u\n", old_id,
			       ifindex);
	}
	close(o.old_prog_fd);
	return err;
}

static int ft_xdp_attach_mode(const struct ft_att *a, __u32 ifindex, __u32 mode_flags)
{
	int fd = a->prog_fd[FT_P_XDP];
	__u32 id, mode;
	int err = ft_xdp_current(ifindex, &id, &mode);

	if (err)
		return err;
	if (id)
		return ft_xdp_replace(fd, ifindex, id, mode, mode_flags);
	return ft_xdp_attach_new(fd, ifindex, mode_flags);
}

static int ft_xdp_attach(const struct ft_att *a, const char *ifname, __u32 ifindex,
			 enum ft_xdp_mode mode, struct ft_iface *rec)
{
	__u32 flags = mode == FT_XDP_MODE_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	libbpf_print_fn_t old = NULL;
	__u32 id, cur;
	int err;

	/* Native may fail where generic works: the kernel's complaint is not ours to print. */
	if (mode == FT_XDP_MODE_AUTO)
		old = libbpf_set_print(ft_libbpf_silent);
	err = ft_xdp_attach_mode(a, ifindex, flags);
	if (mode == FT_XDP_MODE_AUTO)
		libbpf_set_print(old);

	if (err == -EOPNOTSUPP && mode == FT_XDP_MODE_AUTO) {
		pr_warn("'%s' has no native XDP: attaching in generic mode, which is slower "
			"(--xdp-mode generic says so and silences this)\n",
			ifname);
		flags = XDP_FLAGS_SKB_MODE;
		err = ft_xdp_attach_mode(a, ifindex, flags);
	}
	if (!err)
		err = ft_xdp_current(ifindex, &id, &cur);
	if (err) {
		pr_err("cannot attach XDP to '%s': %s%s\n", ifname, strerror(-err),
		       err == -EOPNOTSUPP
			       ? " (the driver has no native XDP: try --xdp-mode generic)"
			       : "");
		return err;
	}
	rec->flags |= FT_IF_XDP;
	rec->flags &= ~FT_IF_XDP_GENERIC;
	if (flags == XDP_FLAGS_SKB_MODE)
		rec->flags |= FT_IF_XDP_GENERIC;
	rec->xdp_prog_id = id;
	return 0;
}

/* Detaches XDP only while it is still the program flowtier attached. */
static int ft_xdp_detach(const char *ifname, __u32 ifindex, struct ft_iface *rec)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	__u32 id, mode;
	int err = ft_xdp_current(ifindex, &id, &mode);

	if (err || !(rec->flags & FT_IF_XDP))
		return err;
	if (id != rec->xdp_prog_id) {
		pr_warn("leaving XDP on '%s' as it is: program %u replaced flowtier's\n", ifname,
			id);
	} else if (id) {
		o.old_prog_fd = bpf_prog_get_fd_by_id(id);
		if (o.old_prog_fd < 0)
			return -errno;
		err = bpf_xdp_attach(ifindex, -1, mode | XDP_FLAGS_REPLACE, &o);
		close(o.old_prog_fd);
		if (err) {
			pr_err("cannot detach XDP from '%s': %s\n", ifname, strerror(-err));
			return err;
		}
	}
	rec->flags &= ~(FT_IF_XDP | FT_IF_XDP_GENERIC);
	rec->xdp_prog_id = 0;
	return 0;
}

static void ft_tc_hook_of(struct bpf_tc_hook *h, __u32 ifindex, enum bpf_tc_attach_point point)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = point;
}

/* The filter at flowtier's priority and handle: its program id, 0 when there is none. */
static __u32 ft_tc_current(__u32 ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = FT_TC_HANDLE, .priority = FT_TC_PRIO);
	libbpf_print_fn_t old = libbpf_set_print(ft_libbpf_silent); /* none there is an answer */
	struct bpf_tc_hook h;
	int err;

	ft_tc_hook_of(&h, ifindex, point);
	err = bpf_tc_query(&h, &o);
	libbpf_set_print(old);
	return err ? 0 : o.prog_id;
}

static int ft_tc_attach_one(const struct ft_att *a, const char *ifname, __u32 ifindex, int which,
			    struct ft_iface *rec)
{
	enum bpf_tc_attach_point point = which == FT_P_TC_IN ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = FT_TC_HANDLE, .priority = FT_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE, .prog_fd = a->prog_fd[which]);
	__u32 flag = which == FT_P_TC_IN ? FT_IF_TC_INGRESS : FT_IF_TC_EGRESS;
	struct bpf_tc_hook h;
	int err;

	ft_tc_hook_of(&h, ifindex, point);
	err = bpf_tc_attach(&h, &o);
	if (err) {
		pr_err("cannot attach %s to '%s': %s\n", ft_prog_names[which], ifname,
		       strerror(-err));
		return err;
	}
	rec->flags |= flag;
	rec->tc_prog_id[which - FT_P_TC_IN] = o.prog_id;
	return 0;
}

static int ft_tc_detach_one(const char *ifname, __u32 ifindex, int which, struct ft_iface *rec)
{
	enum bpf_tc_attach_point point = which == FT_P_TC_IN ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = FT_TC_HANDLE, .priority = FT_TC_PRIO);
	__u32 flag = which == FT_P_TC_IN ? FT_IF_TC_INGRESS : FT_IF_TC_EGRESS, cur;
	struct bpf_tc_hook h;
	int err;

	if (!(rec->flags & flag))
		return 0;
	ft_tc_hook_of(&h, ifindex, point);
	cur = ft_tc_current(ifindex, point);
	/* Another pin dir's datapath may have replaced it (--force): that one stays. */
	if (cur && cur != rec->tc_prog_id[which - FT_P_TC_IN]) {
		pr_warn("leaving TC %s on '%s' as it is: program %u replaced flowtier's\n",
			which == FT_P_TC_IN ? "ingress" : "egress", ifname, cur);
	} else if (cur) {
		err = bpf_tc_detach(&h, &o);
		if (err && err != -ENOENT) {
			pr_err("cannot detach %s from '%s': %s\n", ft_prog_names[which], ifname,
			       strerror(-err));
			return err;
		}
	}
	rec->flags &= ~flag;
	rec->tc_prog_id[which - FT_P_TC_IN] = 0;
	return 0;
}

/* clsact: created when absent (and then removed with flowtier's last filter). */
static int ft_tc_hook_prepare(const char *ifname, __u32 ifindex, struct ft_iface *rec)
{
	struct bpf_tc_hook h;
	int err;

	libbpf_print_fn_t old = libbpf_set_print(ft_libbpf_silent); /* EEXIST is fine */

	ft_tc_hook_of(&h, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_create(&h);
	libbpf_set_print(old);
	if (!err)
		rec->flags |= FT_IF_CLSACT;
	if (err && err != -EEXIST) {
		pr_err("cannot add a clsact qdisc to '%s': %s\n", ifname, strerror(-err));
		return err;
	}
	return 0;
}

/* Removes the clsact qdisc flowtier added, unless someone else's filters are there now. */
static int ft_tc_hook_release(const char *ifname, __u32 ifindex, struct ft_iface *rec)
{
	struct bpf_tc_hook h;
	int n = 0, err;

	if (!(rec->flags & FT_IF_CLSACT))
		return 0;
	err = ft_tc_filter_count(ifindex, &n);
	if (err)
		return err;
	if (n) {
		pr_info("leaving the clsact qdisc on '%s': it holds %d filters of others\n", ifname,
			n);
	} else {
		ft_tc_hook_of(&h, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
		err = bpf_tc_hook_destroy(&h);
		if (err && err != -ENOENT && err != -EINVAL) {
			pr_err("cannot remove the clsact qdisc of '%s': %s\n", ifname,
			       strerror(-err));
			return err;
		}
	}
	rec->flags &= ~FT_IF_CLSACT;
	return 0;
}

/*
 * Order matters for exact counts: TC ingress is removed before the record
 * stops telling it that XDP counts, and XDP goes after it.
 */
static int ft_detach_one(const struct ft_att *a, const char *ifname, __u32 ifindex)
{
	struct ft_iface rec;
	int err = ft_rec_read(a, ifindex, &rec);

	if (!err)
		err = ft_tc_detach_one(ifname, ifindex, FT_P_TC_IN, &rec);
	if (!err)
		err = ft_xdp_detach(ifname, ifindex, &rec);
	if (!err)
		err = ft_rec_write(a, ifindex, &rec);
	if (!err)
		err = ft_tc_detach_one(ifname, ifindex, FT_P_TC_OUT, &rec);
	if (!err)
		err = ft_tc_hook_release(ifname, ifindex, &rec);
	if (!err)
		bpf_map_delete_elem(a->tx_fd, &ifindex);
	if (!err) {
		memset(&rec, 0, sizeof(rec));
		err = ft_rec_write(a, ifindex, &rec);
	}
	return err;
}

/*
 * XDP first, then the record that tells TC ingress to leave XDP's packets
 * alone, then TC: no packet counts twice, none goes uncounted.
 */
static int ft_attach_one(const struct ft_att *a, const struct ft_attach_opts *o, const char *ifname,
			 __u32 ifindex)
{
	struct ft_iface rec;
	int err = ft_rec_read(a, ifindex, &rec);

	if (err)
		return err;
	rec.netns_cookie = a->netns;
	if (o->xdp_mode == FT_XDP_MODE_OFF) /* XDP flowtier attached earlier goes */
		err = ft_xdp_detach(ifname, ifindex, &rec);
	else
		err = ft_xdp_attach(a, ifname, ifindex, o->xdp_mode, &rec);
	if (!err)
		err = ft_rec_write(a, ifindex, &rec);
	if (!err)
		err = ft_tc_hook_prepare(ifname, ifindex, &rec);
	if (!err)
		err = ft_rec_write(a, ifindex, &rec);
	if (!err)
		err = ft_tc_attach_one(a, ifname, ifindex, FT_P_TC_IN, &rec);
	if (!err)
		err = ft_tc_attach_one(a, ifname, ifindex, FT_P_TC_OUT, &rec);
	if (!err && bpf_map_update_elem(a->tx_fd, &ifindex, &ifindex, BPF_ANY))
		pr_warn("cannot add '%s' to the XDP redirect targets: %s\n", ifname,
			strerror(errno));
	if (!err)
		err = ft_rec_write(a, ifindex, &rec);
	else
		ft_rec_write(a, ifindex, &rec); /* what did get attached, for the undo */
	if (!err)
		pr_info("attached to '%s': XDP %s, TC ingress and egress\n", ifname,
			o->xdp_mode == FT_XDP_MODE_OFF ? "off" : ft_attached_xdp_mode(&rec));
	return err;
}

/* One record per ifindex: an ifindex of another namespace's interface is not this one. */
static int ft_rec_check_netns(const struct ft_att *a, const char *ifname, __u32 ifindex,
			      const struct ft_iface *rec)
{
	if (!rec->flags || rec->netns_cookie == a->netns)
		return 0;
	pr_err("ifindex %u ('%s') is flowtier's in another network namespace already, from %s: "
	       "give this namespace a pin dir of its own (--pin-dir)\n",
	       ifindex, ifname, a->pin_dir);
	return -EBUSY;
}

/* A filter at flowtier's priority and handle that flowtier did not put there is refused. */
static int ft_tc_check_owner(const char *ifname, __u32 ifindex, const struct ft_iface *rec,
			     int force)
{
	char name[BPF_OBJ_NAME_LEN];

	for (int i = 0; i < 2; i++) {
		__u32 id = ft_tc_current(ifindex, i ? BPF_TC_EGRESS : BPF_TC_INGRESS);

		if (!id || id == rec->tc_prog_id[i] || force)
			continue;
		ft_prog_name_of(id, name, sizeof(name));
		pr_err("cannot attach TC to '%s': the %s filter at flowtier's priority and handle "
		       "(0x%x) runs program %u ('%s') that flowtier did not attach; use --force to "
		       "replace it\n",
		       ifname, i ? "egress" : "ingress", FT_TC_PRIO, id, name);
		return -EBUSY;
	}
	return 0;
}

/* Every name resolved, every XDP owner checked: nothing is touched before. */
static int ft_attach_check(const struct ft_att *a, const struct ft_attach_opts *o,
			   char *const *ifnames, size_t n, __u32 *ifindex, int *was)
{
	struct ft_iface rec;
	int err = 0;

	for (size_t i = 0; !err && i < n; i++)
		err = ft_iface_resolve(ifnames[i], &ifindex[i]);
	for (size_t i = 0; !err && i < n; i++) {
		err = ft_rec_read(a, ifindex[i], &rec);
		if (!err)
			err = ft_rec_check_netns(a, ifnames[i], ifindex[i], &rec);
		if (!err && o->xdp_mode != FT_XDP_MODE_OFF) /* off leaves others' XDP alone */
			err = ft_xdp_check_owner(ifnames[i], ifindex[i], &rec, o->force);
		if (!err)
			err = ft_tc_check_owner(ifnames[i], ifindex[i], &rec, o->force);
		was[i] = rec.flags != 0;
	}
	return err;
}

int ft_attach_all(const struct ft_attach_opts *o, char *const *ifnames, size_t n)
{
	__u32 *ifindex = calloc(n + 1, sizeof(*ifindex));
	int *was = calloc(n + 1, sizeof(*was));
	struct ft_att a;
	size_t done = 0;
	int err = ifindex && was ? 0 : -ENOMEM;

	if (!err)
		err = ft_att_open(&a, o->pin_dir, 1);
	if (err)
		goto out;
	err = ft_attach_check(&a, o, ifnames, n, ifindex, was);
	for (; !err && done < n; done++)
		err = ft_attach_one(&a, o, ifnames[done], ifindex[done]);
	/* All or none: undo what this call attached, the failed one included. */
	for (size_t i = 0; err && i < done; i++) {
		if (!was[i])
			ft_detach_one(&a, ifnames[i], ifindex[i]);
	}
	ft_att_close(&a);
out:
	free(ifindex);
	free(was);
	return err;
}

/* Every name resolved and attached here before any is detached. */
static int ft_detach_check(const struct ft_att *a, char *const *ifnames, size_t n,
			   const __u32 *ifindex)
{
	struct ft_iface rec;
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		err = ft_rec_read(a, ifindex[i], &rec);
		/* A record of another namespace's interface is not this one's. */
		if (!err && (!rec.flags || rec.netns_cookie != a->netns)) {
			pr_err("flowtier is not attached to '%s' (from %s)\n", ifnames[i],
			       a->pin_dir);
			err = -ENOENT;
		}
	}
	return err;
}

int ft_detach_all(const char *pin_dir, char *const *ifnames, size_t n)
{
	__u32 *ifindex = calloc(n + 1, sizeof(*ifindex));
	struct ft_att a;
	int err = ifindex ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++)
		err = ft_iface_resolve(ifnames[i], &ifindex[i]);
	if (!err)
		err = ft_att_open(&a, pin_dir, 0);
	if (err)
		goto out;
	err = ft_detach_check(&a, ifnames, n, ifindex);
	for (size_t i = 0; !err && i < n; i++) {
		err = ft_detach_one(&a, ifnames[i], ifindex[i]);
		if (!err)
			pr_info("detached from '%s'\n", ifnames[i]);
	}
	ft_att_close(&a);
out:
	free(ifindex);
	return err;
}

int ft_attach_list(const char *pin_dir, struct ft_attached *out, size_t max)
{
	size_t len = (size_t)FT_MAX_IFINDEX * sizeof(struct ft_iface);
	struct ft_iface *recs;
	size_t n = 0;
	__u64 netns;
	int err = ft_netns_cookie(&netns);

	if (err)
		return err;
	recs = ft_pinned_mmap(pin_dir, FT_MAP_IFACES, len);
	if (!recs)
		return -ENOENT;
	for (__u32 i = 1; i < FT_MAX_IFINDEX; i++) {
		if (!recs[i].flags)
			continue;
		if (n < max) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].ifindex = i;
			out[n].rec = recs[i];
			out[n].other_netns = recs[i].netns_cookie != netns;
			if (out[n].other_netns || !if_indextoname(i, out[n].name))
				out[n].name[0] = '\0';
		}
		n++;
	}
	munmap(recs,
	       (len + sysconf(_SC_PAGESIZE) - 1) / sysconf(_SC_PAGESIZE) * sysconf(_SC_PAGESIZE));
	return (int)n;
}

int ft_detach_everything(const char *pin_dir, int force)
{
	struct ft_attached *l = calloc(FT_MAX_IFINDEX, sizeof(*l));
	struct ft_att a;
	int n, err = l ? 0 : -ENOMEM;

	if (!err)
		err = ft_att_open(&a, pin_dir, 0);
	if (err)
		goto out;
	n = ft_attach_list(pin_dir, l, FT_MAX_IFINDEX);
	for (int i = 0; !err && i < n; i++) {
		const char *name = l[i].name[0] ? l[i].name : "(gone)";
		struct ft_iface zero = {};

		if (l[i].other_netns && force) {
			pr_warn("forgetting ifindex %u, attached from another network namespace\n",
				l[i].ifindex);
			err = ft_rec_write(&a, l[i].ifindex, &zero);
		} else if (l[i].other_netns) {
			pr_err("ifindex %u was attached from another network namespace: run "
			       "'flowtier unload' there, or 'flowtier unload --force' when that "
			       "namespace is gone\n",
			       l[i].ifindex);
			err = -EBUSY;
		} else if (l[i].name[0])
			err = ft_detach_one(&a, name, l[i].ifindex);
		else /* the interface went away, and its programs with it */
			err = ft_rec_write(&a, l[i].ifindex, &zero);
		if (!err && l[i].name[0])
			pr_info("detached from '%s'\n", name);
	}
	ft_att_close(&a);
out:
	free(l);
	return err;
}
