// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "tc_filters.h"

static int ft_tc_count_cb(const struct nlmsghdr *nlh, void *data)
{
	int *n = data;

	/* Only a whole filter message counts; a short one says nothing. */
	if (nlh->nlmsg_type == RTM_NEWTFILTER &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct tcmsg))
		(*n)++;
	return MNL_CB_OK;
}

static int ft_tc_dump(struct mnl_socket *nl, int ifindex, __u32 parent, int *n)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	unsigned int seq = time(NULL), port = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	ssize_t len;
	int ret;

	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	ret = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -errno : MNL_CB_OK;
	while (ret > MNL_CB_STOP) {
		len = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, len, seq, port, ft_tc_count_cb, n);
		if (ret < 0)
			ret = -errno;
	}
	free(buf);
	return ret < 0 ? ret : 0;
}

int ft_tc_filter_count(int ifindex, int *n)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int err;

	*n = 0;
	if (!nl)
		return -errno;
	err = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) ? -errno : 0;
	if (!err)
		err = ft_tc_dump(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), n);
	if (!err)
		err = ft_tc_dump(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), n);
	if (err)
		pr_err("cannot list the TC filters of interface %d: %s\n", ifindex, strerror(-err));
	mnl_socket_close(nl);
	return err;
}
