/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Human-readable connection lines. */
#ifndef FT_CT_H
#define FT_CT_H

#include <stdio.h>
#include "flowtier/abi.h"
#include "table.h"

const char *ft_proto_name(__u8 proto, char *buf, size_t len);
const char *ft_state_name(__u8 state);
const char *ft_verdict_name(__u8 verdict);

/* The address of one side of the key, without its port. */
void ft_addr_format(const struct ft_key *k, int side, char *buf, size_t len);

void ft_ct_print_header(FILE *f);
/* One line, the side that opened the connection first. */
void ft_ct_print(FILE *f, const struct ft_ct *c);

/*
 * One JSON object: src and sport are the side that opened the connection;
 * packets/bytes are that side's, reply_packets/reply_bytes the other's;
 * cpus: the CPU owning each of the two directions (-1: none yet).
 */
void ft_ct_print_json(FILE *f, const struct ft_ct *c);

/* The bucket fill histogram, as ovs-appctl dpctl/ct-bkts shows it. */
void ft_ct_print_buckets(FILE *f, const __u64 hist[FT_SLOTS + 1], __u32 nr_buckets);
/* The same as {"buckets":N,"slots":8,"connections":N,"in_use":[count of buckets per fill]}. */
void ft_ct_print_buckets_json(FILE *f, const __u64 hist[FT_SLOTS + 1], __u32 nr_buckets);

#endif
