// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The tc flower backend: requests out in batches, acks back by sequence number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>

#include "hw_tc.h"
#include "tc_cap.h"

#define FT_HW_TC_RCVBUF	   (1 << 20)
#define FT_HW_TC_RECV_SIZE 32768
#define FT_HW_TC_TIMEOUT_S 10
#define FT_HW_TC_LIMIT	   (FT_HW_TC_BATCH * FT_TC_MSG_MAX)

struct ft_hw_tc {
	struct ft_hw hw;
	struct mnl_socket *nl;	 /* adds and deletes */
	struct mnl_socket *dump; /* dumps, so that their callbacks may add and delete */
	__u32 seq;
	struct ft_tc_place place;
	struct ft_tc_cap *cap;		/* NULL: no --tc-capacity */
	char batch[2 * FT_HW_TC_LIMIT]; /* mnl_nlmsg_batch wants twice its limit */
	char recv[FT_HW_TC_RECV_SIZE];
	char dump_recv[FT_HW_TC_RECV_SIZE]; /* apart: a dump's callback may add and delete */
};

/* One request of a batch: which op, and whether it reserved room under --tc-capacity. */
struct ft_hw_tc_req {
	size_t op;
	int reserved;
	int acked;
};

static const char *const ft_tc_flag_names[] = {
	[FT_TC_FLAGS_SKIP_SW] = "skip_sw",
	[FT_TC_FLAGS_SKIP_HW] = "skip_hw",
	[FT_TC_FLAGS_NONE] = "none",
};

int ft_tc_flags_parse(const char *s, enum ft_tc_flags *flags)
{
	unsigned int i;

	for (i = 0; i < sizeof(ft_tc_flag_names) / sizeof(ft_tc_flag_names[0]); i++)
		if (strcmp(s, ft_tc_flag_names[i]) == 0) {
			*flags = i;
			return 0;
		}
	return -EINVAL;
}

const char *ft_tc_flags_name(enum ft_tc_flags flags)
{
	return (unsigned int)flags <= FT_TC_FLAGS_NONE ? ft_tc_flag_names[flags] : "?";
}

static __u16 ft_hw_tc_prio(const struct ft_hw_tc *t, const struct ft_hw_rule *r)
{
	return r->key.family == FT_FAMILY_IPV4 ? t->place.prio4 : t->place.prio6;
}

/* Reserves room under --tc-capacity; 1 when the op is refused here and not sent. */
static int ft_hw_tc_reserve(struct ft_hw_tc *t, struct ft_hw_op *op, int *reserved)
{
	const struct ft_hw_rule *r = &op->rule;
	int ret;

	*reserved = 0;
	if (!t->cap)
		return 0;
	ret = ft_tc_cap_take(t->cap, r->ifindex, ft_hw_tc_prio(t, r), r->handle);
	if (ret == -ENOSPC)
		snprintf(op->extack, sizeof(op->extack), FT_HW_TC_CAPACITY_FMT,
			 ft_tc_cap_limit(t->cap));
	if (ret < 0) {
		op->err = ret;
		return 1;
	}
	*reserved = ret == 0;
	return 0;
}

/* What an op's outcome means for --tc-capacity's count. */
static void ft_hw_tc_settle(struct ft_hw_tc *t, const struct ft_hw_op *op, int del, int reserved)
{
	const struct ft_hw_rule *r = &op->rule;

	if (!t->cap)
		return;
	if ((del && (op->err == 0 || op->err == -ENOENT)) || (!del && reserved && op->err))
		ft_tc_cap_drop(t->cap, r->ifindex, ft_hw_tc_prio(t, r), r->handle);
}

/*
 * Writes up to FT_HW_TC_BATCH requests (*nreq of them); returns how many
 * ops it went through, refused ones included.
 */
static size_t ft_hw_tc_fill(struct ft_hw_tc *t, struct mnl_nlmsg_batch *b, struct ft_hw_op *ops,
			    size_t n, int del, struct ft_hw_tc_req *req, __u32 first_seq,
			    size_t *nreq)
{
	size_t i, k = 0;
	int len;

	for (i = 0; i < n && k < FT_HW_TC_BATCH; i++) {
		ops[i].err = 0;
		ops[i].extack[0] = '\0';
		req[k].reserved = 0;
		if (!del && ft_hw_tc_reserve(t, &ops[i], &req[k].reserved))
			continue;
		if (del)
			len = ft_tc_build_del(mnl_nlmsg_batch_current(b), FT_TC_MSG_MAX, &t->place,
					      &ops[i].rule, first_seq + k);
		else
			len = ft_tc_build_add(mnl_nlmsg_batch_current(b), FT_TC_MSG_MAX, &t->place,
					      &ops[i].rule, first_seq + k);
		if (len < 0) {
			ops[i].err = len;
			ft_hw_tc_settle(t, &ops[i], del, req[k].reserved);
			continue;
		}
		mnl_nlmsg_batch_next(b); /* cannot overflow: FT_HW_TC_BATCH x FT_TC_MSG_MAX */
		req[k].op = i;
		req[k].acked = 0;
		k++;
	}
	*nreq = k;
	return i;
}

/* One reply of the batch; returns 1 when it was an op's ack. */
static int ft_hw_tc_reply(struct ft_hw_tc *t, const struct nlmsghdr *nlh, struct ft_hw_op *ops,
			  struct ft_hw_stat *final, struct ft_hw_tc_req *req, size_t nreq,
			  __u32 first_seq)
{
	__u32 k = nlh->nlmsg_seq - first_seq; /* wraps with the sequence */
	struct ft_hw_op *op;
	int err;

	if (k >= nreq || req[k].acked)
		return 0; /* a late reply to an earlier request */
	op = &ops[req[k].op];
	if (nlh->nlmsg_type == RTM_DELTFILTER && final &&
	    ft_tc_parse_filter(nlh, &t->place, &final[req[k].op]) != 1)
		memset(&final[req[k].op], 0, sizeof(*final));
	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 0;
	err = ft_tc_parse_ack(nlh, op->extack);
	op->err = err;
	req[k].acked = 1;
	return 1;
}

/* Reads until every request of the batch has its ack; 0 or -errno. */
static int ft_hw_tc_collect(struct ft_hw_tc *t, struct ft_hw_op *ops, struct ft_hw_stat *final,
			    struct ft_hw_tc_req *req, size_t nreq, __u32 first_seq)
{
	const struct nlmsghdr *nlh;
	size_t pending = nreq;
	ssize_t got;
	int len;

	while (pending) {
		got = mnl_socket_recvfrom(t->nl, t->recv, sizeof(t->recv));
		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		len = (int)got;
		for (nlh = (void *)t->recv; ft_tc_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			pending -= ft_hw_tc_reply(t, nlh, ops, final, req, nreq, first_seq);
	}
	return 0;
}

/* Sends up to FT_HW_TC_BATCH requests and waits for their acks; returns ops consumed or -errno. */
static ssize_t ft_hw_tc_batch(struct ft_hw_tc *t, struct ft_hw_op *ops, size_t n, int del,
			      struct ft_hw_stat *final)
{
	struct ft_hw_tc_req req[FT_HW_TC_BATCH];
	__u32 first_seq = t->seq + 1;
	struct mnl_nlmsg_batch *b;
	size_t used, nreq, k;
	int err = 0, lost = 0;

	b = mnl_nlmsg_batch_start(t->batch, FT_HW_TC_LIMIT);
	if (!b)
		return -ENOMEM;
	used = ft_hw_tc_fill(t, b, ops, n, del, req, first_seq, &nreq);
	t->seq += nreq;
	if (nreq && mnl_socket_sendto(t->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		err = lost = -errno; /* nothing went out */
	else if (nreq)
		err = ft_hw_tc_collect(t, ops, final, req, nreq, first_seq);
	/* Lost acks (a timeout, an overflow) leave the outcome unknown: not a full device. */
	if (!lost)
		lost = err == -ETIMEDOUT ? -ETIMEDOUT : -EPROTO;
	for (k = 0; k < nreq; k++) {
		if (!req[k].acked)
			ops[req[k].op].err = lost;
		if (final && ops[req[k].op].err)
			memset(&final[req[k].op], 0, sizeof(*final));
		ft_hw_tc_settle(t, &ops[req[k].op], del, req[k].reserved);
	}
	mnl_nlmsg_batch_stop(b);
	return err ? err : (ssize_t)used;
}

static int ft_hw_tc_run(struct ft_hw *hw, struct ft_hw_op *ops, size_t n, int del,
			struct ft_hw_stat *final)
{
	struct ft_hw_tc *t = (struct ft_hw_tc *)hw;
	ssize_t done;
	size_t i;

	if (final)
		memset(final, 0, n * sizeof(*final));
	for (i = 0; i < n; i += done) {
		done = ft_hw_tc_batch(t, ops + i, n - i, del, final ? final + i : NULL);
		if (done < 0)
			return done;
	}
	return 0;
}

static int ft_hw_tc_add(struct ft_hw *hw, struct ft_hw_op *ops, size_t n)
{
	return ft_hw_tc_run(hw, ops, n, 0, NULL);
}

static int ft_hw_tc_del(struct ft_hw *hw, struct ft_hw_op *ops, size_t n, struct ft_hw_stat *final)
{
	return ft_hw_tc_run(hw, ops, n, 1, final);
}

struct ft_hw_tc_dump_ctx {
	struct ft_hw_tc *t;
	int (*cb)(const struct ft_hw_stat *st, void *ctx);
	void *ctx;
};

/* Rules found on the device count under --tc-capacity, as after a restart. */
static int ft_hw_tc_dump_cb(const struct ft_hw_stat *st, void *ctx)
{
	struct ft_hw_tc_dump_ctx *d = ctx;
	const struct ft_hw_rule *r = &st->rule;
	int err = 0;

	if (d->t->cap)
		err = ft_tc_cap_seen(d->t->cap, r->ifindex, ft_hw_tc_prio(d->t, r), r->handle);
	return err ? err : d->cb(st, d->ctx);
}

static int ft_hw_tc_dump_family(struct ft_hw_tc *t, __u32 ifindex, int family,
				struct ft_hw_tc_dump_ctx *d)
{
	__u32 seq = ++t->seq, portid = mnl_socket_get_portid(t->dump);
	char req[FT_TC_MSG_MAX];
	int len, ret = 0, cb_ret = 0;
	ssize_t got;

	len = ft_tc_build_dump(req, sizeof(req), &t->place, ifindex, family, seq);
	if (len < 0)
		return len;
	if (mnl_socket_sendto(t->dump, req, len) < 0)
		return -errno;
	/* Read to the end even after the callback stops, so the socket stays in step. */
	while (ret == 0) {
		got = mnl_socket_recvfrom(t->dump, t->dump_recv, sizeof(t->dump_recv));
		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		ret = ft_tc_parse_dump_buf(t->dump_recv, got, seq, portid, &t->place,
					   ft_hw_tc_dump_cb, d, &cb_ret);
	}
	return ret < 0 ? ret : cb_ret;
}

static int ft_hw_tc_dump(struct ft_hw *hw, __u32 ifindex,
			 int (*cb)(const struct ft_hw_stat *st, void *ctx), void *ctx)
{
	struct ft_hw_tc_dump_ctx d = { (struct ft_hw_tc *)hw, cb, ctx };
	int ret;

	ret = ft_hw_tc_dump_family(d.t, ifindex, FT_FAMILY_IPV4, &d);
	if (ret == 0)
		ret = ft_hw_tc_dump_family(d.t, ifindex, FT_FAMILY_IPV6, &d);
	return ret;
}

static void ft_hw_tc_close(struct ft_hw *hw)
{
	struct ft_hw_tc *t = (struct ft_hw_tc *)hw;

	if (!t)
		return;
	if (t->nl)
		mnl_socket_close(t->nl);
	if (t->dump)
		mnl_socket_close(t->dump);
	ft_tc_cap_free(t->cap);
	free(t);
}

static const struct ft_hw_ops ft_hw_tc_ops = {
	.name = "tc",
	.add = ft_hw_tc_add,
	.del = ft_hw_tc_del,
	.dump = ft_hw_tc_dump,
	.close = ft_hw_tc_close,
};

/* Extack text, acks without the request echoed back, room for a batch's replies, a timeout. */
static int ft_hw_tc_socket(struct mnl_socket **nl)
{
	struct timeval tv = { .tv_sec = FT_HW_TC_TIMEOUT_S };
	int one = 1, rcvbuf = FT_HW_TC_RCVBUF, fd;

	*nl = mnl_socket_open(NETLINK_ROUTE);
	if (!*nl)
		return -errno;
	fd = mnl_socket_get_fd(*nl);
	if (mnl_socket_setsockopt(*nl, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(*nl, NETLINK_CAP_ACK, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	/* Past rmem_max only with CAP_NET_ADMIN; the batch size keeps the default enough. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return mnl_socket_bind(*nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
}

int ft_hw_tc_open(struct ft_hw **hw, const struct ft_hw_tc_opts *o)
{
	static const __u32 flags[] = {
		[FT_TC_FLAGS_SKIP_SW] = TCA_CLS_FLAGS_SKIP_SW,
		[FT_TC_FLAGS_SKIP_HW] = TCA_CLS_FLAGS_SKIP_HW,
		[FT_TC_FLAGS_NONE] = 0,
	};
	struct ft_hw_tc *t;
	int err;

	*hw = NULL;
	if ((unsigned int)o->flags > FT_TC_FLAGS_NONE ||
	    (o->prio4 && o->prio4 == (o->prio6 ? o->prio6 : FT_TC_PRIO_IPV6)) ||
	    (o->prio6 && o->prio6 == (o->prio4 ? o->prio4 : FT_TC_PRIO_IPV4)))
		return -EINVAL; /* one prio holds one protocol */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->hw.ops = &ft_hw_tc_ops;
	t->place.flags = flags[o->flags];
	t->place.prio4 = o->prio4 ? o->prio4 : FT_TC_PRIO_IPV4;
	t->place.prio6 = o->prio6 ? o->prio6 : FT_TC_PRIO_IPV6;
	err = ft_hw_tc_socket(&t->nl);
	if (!err)
		err = ft_hw_tc_socket(&t->dump);
	if (!err && o->capacity)
		err = ft_tc_cap_new(&t->cap, o->capacity);
	if (err) {
		ft_hw_tc_close(&t->hw);
		return err;
	}
	*hw = &t->hw;
	return 0;
}
