// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>

#include "ct.h"

const char *ft_proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	case 136:
		return "udplite";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

const char *ft_state_name(__u8 state)
{
	static const char *const names[FT_STATE_MAX] = {
		[FT_STATE_NONE] = "none",	  [FT_STATE_NEW] = "new",
		[FT_STATE_SYN_SENT] = "syn_sent", [FT_STATE_ESTABLISHED] = "established",
		[FT_STATE_CLOSING] = "closing",	  [FT_STATE_CLOSED] = "closed",
	};

	return state < FT_STATE_MAX ? names[state] : "?";
}

const char *ft_verdict_name(__u8 verdict)
{
	static const char *const names[FT_VERDICT_MAX] = {
		[FT_VERDICT_PASS] = "pass",
		[FT_VERDICT_DROP] = "drop",
		[FT_VERDICT_REDIRECT] = "redirect",
	};

	return verdict < FT_VERDICT_MAX ? names[verdict] : "?";
}

void ft_addr_format(const struct ft_key *k, int side, char *buf, size_t len)
{
	if (!inet_ntop(k->family == FT_FAMILY_IPV6 ? AF_INET6 : AF_INET, k->addr[side], buf, len))
		snprintf(buf, len, "?");
}

static void ft_endpoint(const struct ft_key *k, int side, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	ft_addr_format(k, side, a, sizeof(a));
	snprintf(buf, len, k->family == FT_FAMILY_IPV6 ? "[%s]:%u" : "%s:%u", a,
		 ntohs(k->port[side]));
}

void ft_ct_print_header(FILE *f)
{
	fprintf(f, "%-7s %5s %-46s %-46s %-11s %-8s %10s %12s %10s %12s\n", "proto", "zone", "from",
		"to", "state", "verdict", "pkts", "bytes", "reply-pkts", "reply-bytes");
}

void ft_ct_print(FILE *f, const struct ft_ct *c)
{
	int o = c->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;
	char p[8], from[64], to[64];

	ft_endpoint(&c->key, o, from, sizeof(from));
	ft_endpoint(&c->key, !o, to, sizeof(to));
	fprintf(f, "%-7s %5u %-46s %-46s %-11s %-8s %10llu %12llu %10llu %12llu%s\n",
		ft_proto_name(c->key.proto, p, sizeof(p)), c->key.zone, from, to,
		ft_state_name(c->state), ft_verdict_name(c->verdict),
		(unsigned long long)c->dir[o].packets, (unsigned long long)c->dir[o].bytes,
		(unsigned long long)c->dir[!o].packets, (unsigned long long)c->dir[!o].bytes,
		c->flags & FT_CONN_FRAGMENT ? " frag" : "");
}

void ft_ct_print_json(FILE *f, const struct ft_ct *c)
{
	int o = c->flags & FT_CONN_ORIG_IS_1 ? 1 : 0;
	char p[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	ft_addr_format(&c->key, o, src, sizeof(src));
	ft_addr_format(&c->key, !o, dst, sizeof(dst));
	fprintf(f,
		"{\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,\"proto\":\"%s\","
		"\"zone\":%u,\"state\":\"%s\",\"verdict\":\"%s\",\"hw\":%s,\"fragments\":%s,"
		"\"packets\":%llu,\"bytes\":%llu,\"reply_packets\":%llu,\"reply_bytes\":%llu,"
		"\"cpus\":[%d,%d]}",
		src, dst, ntohs(c->key.port[o]), ntohs(c->key.port[!o]),
		ft_proto_name(c->key.proto, p, sizeof(p)), c->key.zone, ft_state_name(c->state),
		ft_verdict_name(c->verdict), c->hw == FT_HW_OFFLOADED ? "true" : "false",
		c->flags & FT_CONN_FRAGMENT ? "true" : "false",
		(unsigned long long)c->dir[o].packets, (unsigned long long)c->dir[o].bytes,
		(unsigned long long)c->dir[!o].packets, (unsigned long long)c->dir[!o].bytes,
		c->dir[o].owner_cpu, c->dir[!o].owner_cpu);
}

void ft_ct_print_buckets_json(FILE *f, const __u64 hist[FT_SLOTS + 1], __u32 nr_buckets)
{
	__u64 conns = 0;

	for (int k = 0; k <= FT_SLOTS; k++)
		conns += k * hist[k];
	fprintf(f, "{\"buckets\":%u,\"slots\":%d,\"connections\":%llu,\"in_use\":[", nr_buckets,
		FT_SLOTS, (unsigned long long)conns);
	for (int k = 0; k <= FT_SLOTS; k++)
		fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)hist[k]);
	fprintf(f, "]}\n");
}

void ft_ct_print_buckets(FILE *f, const __u64 hist[FT_SLOTS + 1], __u32 nr_buckets)
{
	__u64 conns = 0;

	for (int k = 0; k <= FT_SLOTS; k++)
		conns += k * hist[k];
	fprintf(f, "%u buckets of %d slots, %llu connections (%.1f%% full)\n", nr_buckets, FT_SLOTS,
		(unsigned long long)conns,
		nr_buckets ? 100.0 * conns / (nr_buckets * FT_SLOTS) : 0);
	fprintf(f, "%8s %12s\n", "in use", "buckets");
	for (int k = 0; k <= FT_SLOTS; k++)
		fprintf(f, "%8d %12llu\n", k, (unsigned long long)hist[k]);
}
