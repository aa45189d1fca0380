// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: what the kernel sends back over rtnetlink for the tc
 * flower backend: a dump buffer (ft_tc_parse_dump_buf), each message as a
 * filter (ft_tc_parse_filter) and as an ack (ft_tc_parse_ack), walked as
 * the backend walks its replies (ft_tc_msg_ok). Nothing may
 * read outside the buffer (ASan), and every rule handed on must be one
 * flowtier could have installed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_cls.h>

#include "tc_flower.h"

static const struct ft_tc_place ft_fuzz_place = {
	.flags = TCA_CLS_FLAGS_SKIP_SW,
	.prio4 = FT_TC_PRIO_IPV4,
	.prio6 = FT_TC_PRIO_IPV6,
};

/* The request's seq and port id in tests/test_tc_reply.c, whose replies are the seeds. */
#define FT_FUZZ_SEQ    77
#define FT_FUZZ_PORTID 4242

static int ft_fuzz_rule(const struct ft_hw_stat *st, void *ctx)
{
	(void)ctx;
	if (st->rule.verdict != FT_VERDICT_DROP && st->rule.verdict != FT_VERDICT_REDIRECT)
		abort();
	return 0;
}

/* Each message on its own, as the add and delete paths read their replies. */
static void ft_fuzz_each(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	char extack[FT_HW_EXTACK_LEN];
	struct ft_hw_stat st;
	int left = (int)len;

	while (ft_tc_msg_ok(nlh, left)) {
		if (ft_tc_parse_filter(nlh, &ft_fuzz_place, &st) == 1)
			ft_fuzz_rule(&st, NULL);
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			extack[FT_HW_EXTACK_LEN - 1] = 'x';
			ft_tc_parse_ack(nlh, extack);
			if (!memchr(extack, '\0', sizeof(extack)))
				abort();
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int cb_ret = 0;
	/* Netlink buffers are 4-byte aligned; a copy keeps ASan's view exact. */
	void *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ft_tc_parse_dump_buf(buf, size, FT_FUZZ_SEQ, FT_FUZZ_PORTID, &ft_fuzz_place, ft_fuzz_rule,
			     NULL, &cb_ret);
	ft_fuzz_each(buf, size);
	free(buf);
	return 0;
}
