// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus text exposition format 0.0.4, from a struct ft_metrics_src.
 * Families come in a fixed order and series within a family in a fixed order
 * (enum order, zones ascending, flows by rank), so that the same source
 * always gives the same text. Series with a fixed label set are written
 * even when 0: a series that appears only once it is non-zero breaks rate().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "hw.h"
#include "metrics.h"
#include "offload.h"
#include "scan.h"

#define FT_TIER_NAMES_MAX 2

static const char *const ft_hook_names[FT_HOOK_MAX] = {
	[FT_HOOK_XDP] = "xdp",
	[FT_HOOK_TC_INGRESS] = "tc_ingress",
	[FT_HOOK_TC_EGRESS] = "tc_egress",
};

static const char *const ft_mal_names[FT_MAL_MAX] = {
	[FT_MAL_ETH_TRUNC] = "eth_truncated",	[FT_MAL_VLAN_TRUNC] = "vlan_truncated",
	[FT_MAL_VLAN_DEPTH] = "vlan_depth",	[FT_MAL_IP4_TRUNC] = "ipv4_truncated",
	[FT_MAL_IP4_VERSION] = "ipv4_version",	[FT_MAL_IP4_IHL] = "ipv4_ihl",
	[FT_MAL_IP4_LEN] = "ipv4_length",	[FT_MAL_IP6_TRUNC] = "ipv6_truncated",
	[FT_MAL_IP6_VERSION] = "ipv6_version",	[FT_MAL_EXTHDR_TRUNC] = "exthdr_truncated",
	[FT_MAL_EXTHDR_DEPTH] = "exthdr_depth", [FT_MAL_L4_TRUNC] = "l4_truncated",
};

static const char *const ft_nonip_names[FT_NONIP_MAX] = {
	[FT_NONIP_ARP] = "arp",	   [FT_NONIP_LLDP] = "lldp",   [FT_NONIP_MPLS] = "mpls",
	[FT_NONIP_8023] = "802.3", [FT_NONIP_OTHER] = "other",
};

static const char *const ft_evict_names[FT_EVICT_MAX] = {
	[FT_EVICT_NOT_ESTABLISHED] = "not_established",
	[FT_EVICT_LRU] = "lru",
};

static const char *const ft_reclaim_names[FT_RECLAIM_MAX] = {
	[FT_RECLAIM_LOOKUP] = "lookup",
	[FT_RECLAIM_REUSE] = "reuse",
	[FT_RECLAIM_ZONE_SWEEP] = "zone_sweep",
	[FT_RECLAIM_TCP_REOPEN] = "tcp_reopen",
};

static const char *const ft_fail_names[FT_FAIL_MAX] = {
	[FT_FAIL_ZONE_LIMIT] = "zone_limit",
	[FT_FAIL_BUSY] = "busy",
};

static const char *const ft_dir_names[2] = { "original", "reply" };
static const char *const ft_tier_names[FT_TIER_NAMES_MAX] = { "software", "hardware" };

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t ft_utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80		    ? 1
		     : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		     : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		     : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
						    : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three-byte forms, surrogates, and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

/*
 * A label value: the format escapes backslash, double quote and newline,
 * and a scraper rejects the whole text when a value is not UTF-8, so an
 * invalid byte (a device name or a driver's message can hold any) becomes
 * U+FFFD.
 */
static int ft_escape_n(struct ft_textbuf *out, const char *v, size_t n)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t i = 0;

	while (i < n && s[i]) {
		size_t len = ft_utf8_len(s + i, n - i);

		if (!len)
			ft_textbuf_append(out, "\xef\xbf\xbd", 3), len = 1;
		else if (s[i] == '\\')
			ft_textbuf_append(out, "\\\\", 2);
		else if (s[i] == '"')
			ft_textbuf_append(out, "\\\"", 2);
		else if (s[i] == '\n')
			ft_textbuf_append(out, "\\n", 2);
		else
			ft_textbuf_append(out, v + i, len);
		i += len;
	}
	return out->err;
}

int ft_metrics_escape(struct ft_textbuf *out, const char *v)
{
	return ft_escape_n(out, v, strlen(v));
}

/* HELP and TYPE; help texts are constants without backslashes or newlines. */
static void ft_family(struct ft_textbuf *b, const char *name, const char *type, const char *help)
{
	ft_textbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",...} value; labels alternate keys and values, n pairs. */
static void ft_series(struct ft_textbuf *b, const char *name, const char *const *labels, int n,
		      const char *value)
{
	ft_textbuf_append(b, name, strlen(name));
	for (int i = 0; i < n; i++) {
		ft_textbuf_printf(b, "%s%s=\"", i ? "," : "{", labels[2 * i]);
		ft_metrics_escape(b, labels[2 * i + 1]);
		ft_textbuf_append(b, "\"", 1);
	}
	ft_textbuf_printf(b, "%s %s\n", n ? "}" : "", value);
}

static void ft_u64(struct ft_textbuf *b, const char *name, const char *const *labels, int n,
		   __u64 v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	ft_series(b, name, labels, n, num);
}

/* The shortest of %.15g and %.17g that reads back as v; Go's spellings of the specials. */
static void ft_double(struct ft_textbuf *b, const char *name, const char *const *labels, int n,
		      double v)
{
	char num[32];

	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), v > 0 ? "+Inf" : "-Inf");
	else if (snprintf(num, sizeof(num), "%.15g", v), strtod(num, NULL) != v)
		snprintf(num, sizeof(num), "%.17g", v);
	ft_series(b, name, labels, n, num);
}

/* One counter family with one label over an enum's values. */
static void ft_enum_counter(struct ft_textbuf *b, const char *name, const char *help,
			    const char *label, const char *const *names, const __u64 *v, int n)
{
	ft_family(b, name, "counter", help);
	for (int i = 0; i < n; i++)
		ft_u64(b, name, (const char *[]){ label, names[i] }, 1, v[i]);
}

static void ft_plain(struct ft_textbuf *b, const char *name, const char *type, const char *help,
		     __u64 v)
{
	ft_family(b, name, type, help);
	ft_u64(b, name, NULL, 0, v);
}

/*
 * Traffic and connections are summed over the scan's flows when there is a
 * scan (a connection split over CPU parts is one flow), else over the
 * table's entries; bucket fill always comes from the table.
 */
struct ft_sums {
	__u64 packets[2][FT_VERDICT_MAX][FT_TIER_NAMES_MAX]; /* direction, verdict, tier */
	__u64 bytes[2][FT_VERDICT_MAX][FT_TIER_NAMES_MAX];
	__u64 hist[FT_SLOTS + 1];
	__u32 *conns; /* [zone * FT_STATE_MAX + state] */
};

/*
 * The table changes while it is read: an entry read half before and half
 * after a change is at worst one packet off in one series, which a scrape
 * can live with; only the indexes taken from it must be checked.
 */
static void ft_sum_one(struct ft_sums *t, __u8 flags, __u8 verdict, __u8 hw, __u8 state, __u16 zone,
		       const __u64 packets[2], const __u64 bytes[2])
{
	int o = flags & FT_CONN_ORIG_IS_1 ? 1 : 0;
	int tier = hw == FT_HW_OFFLOADED;

	for (int d = 0; d < 2 && verdict < FT_VERDICT_MAX; d++) {
		t->packets[d != o][verdict][tier] += packets[d];
		t->bytes[d != o][verdict][tier] += bytes[d];
	}
	if (state < FT_STATE_MAX)
		t->conns[(size_t)zone * FT_STATE_MAX + state]++;
}

static void ft_sum_flows(const struct ft_scan *s, struct ft_sums *t)
{
	size_t n = ft_scan_entries(s);
	struct ft_flow v;
	const struct ft_flow *f = &v;

	/* A flow whose slots were all recycled since the scan is the table's now. */
	for (size_t i = 0; i < n; i++)
		if (!ft_scan_read(s, i, &v))
			ft_sum_one(t, f->flags, f->verdict, f->hw, f->state,
				   ft_flow_key(s, f)->zone, f->packets, f->bytes);
}

/* Bucket fill, and the entries' sums unless a scan gives them. */
static void ft_sum_table(const struct ft_metrics_src *src, struct ft_sums *t, int entries)
{
	for (__u32 b = 0; b < src->nr_buckets; b++) {
		int used = 0;

		for (int i = 0; i < FT_SLOTS; i++) {
			struct ft_ct c;

			/* A slot that kept changing while read is live all the same. */
			if (!FT_META_TAG(
				    __atomic_load_n(&src->buckets[b].meta[i], __ATOMIC_ACQUIRE)))
				continue;
			used++;
			if (entries && ft_ct_read(&src->buckets[b], i, &c) == 1)
				ft_sum_one(t, c.flags, c.verdict, c.hw, c.state, c.key.zone,
					   (const __u64[2]){ c.dir[0].packets, c.dir[1].packets },
					   (const __u64[2]){ c.dir[0].bytes, c.dir[1].bytes });
		}
		t->hist[used]++;
	}
}

static void ft_render_traffic(struct ft_textbuf *b, const struct ft_sums *t)
{
	static const char *const help[2] = {
		"Packets counted by the connections tracked now, by direction (original: from "
		"the side that opened it), verdict and tier (where the connection is now). It "
		"falls when connections end.",
		"Bytes of Ethernet frames counted by the connections tracked now, by direction, "
		"verdict and tier. It falls when connections end.",
	};
	static const char *const names[2] = { "flowtier_flow_packets", "flowtier_flow_bytes" };

	for (int m = 0; m < 2; m++) {
		ft_family(b, names[m], "gauge", help[m]);
		for (int d = 0; d < 2; d++)
			for (int v = 0; v < FT_VERDICT_MAX; v++)
				for (int r = 0; r < FT_TIER_NAMES_MAX; r++)
					ft_u64(b, names[m],
					       (const char *[]){ "direction", ft_dir_names[d],
								 "verdict", ft_verdict_name(v),
								 "tier", ft_tier_names[r] },
					       3, m ? t->bytes[d][v][r] : t->packets[d][v][r]);
	}
}

static void ft_render_conns(struct ft_textbuf *b, const struct ft_sums *t)
{
	const char *name = "flowtier_connections";
	char zone[8];

	ft_family(b, name, "gauge", "Connections tracked now, by zone and state.");
	for (size_t z = 0; z < FT_MAX_ZONES; z++) {
		for (int s = 1; s < FT_STATE_MAX; s++) {
			__u32 n = t->conns[z * FT_STATE_MAX + s];

			if (!n)
				continue;
			snprintf(zone, sizeof(zone), "%zu", z);
			ft_u64(b, name, (const char *[]){ "zone", zone, "state", ft_state_name(s) },
			       2, n);
		}
	}
}

static void ft_render_table(struct ft_textbuf *b, const struct ft_metrics_src *src,
			    const struct ft_sums *t)
{
	const char *name = "flowtier_table_buckets";
	char used[4];

	ft_plain(b, "flowtier_table_slots", "gauge", "Connection slots in the table.",
		 (__u64)src->nr_buckets * FT_SLOTS);
	ft_family(b, name, "gauge",
		  "Buckets of the connection table by how many of their slots are in use.");
	for (int k = 0; k <= FT_SLOTS; k++) {
		snprintf(used, sizeof(used), "%d", k);
		ft_u64(b, name, (const char *[]){ "slots_in_use", used }, 1, t->hist[k]);
	}
}

static void ft_render_stats(struct ft_textbuf *b, const struct ft_stats *s)
{
	ft_enum_counter(b, "flowtier_packets_total", "Packets seen by each of flowtier's programs.",
			"hook", ft_hook_names, s->packets, FT_HOOK_MAX);
	ft_family(b, "flowtier_verdicts_total", "counter", "Packets by the verdict applied.");
	for (int v = 0; v < FT_VERDICT_MAX; v++)
		ft_u64(b, "flowtier_verdicts_total",
		       (const char *[]){ "verdict", ft_verdict_name(v) }, 1, s->verdict[v]);
	ft_enum_counter(b, "flowtier_malformed_packets_total",
			"Packets that failed to parse, passed untracked, by reason.", "reason",
			ft_mal_names, s->malformed, FT_MAL_MAX);
	ft_enum_counter(b, "flowtier_non_ip_packets_total",
			"Frames that are not IP, passed untracked, by class.", "class",
			ft_nonip_names, s->nonip, FT_NONIP_MAX);
	ft_plain(b, "flowtier_fragments_total", "counter",
		 "Non-first fragments, counted to the connection of their addresses.",
		 s->fragments);
	ft_plain(b, "flowtier_connections_created_total", "counter", "Connections created.",
		 s->created);
	ft_enum_counter(b, "flowtier_evictions_total",
			"Live connections evicted from a full bucket pair, by reason.", "reason",
			ft_evict_names, s->evicted, FT_EVICT_MAX);
	ft_enum_counter(b, "flowtier_reclaims_total",
			"Stale connections whose slot was taken back, by where it happened.",
			"reason", ft_reclaim_names, s->reclaimed, FT_RECLAIM_MAX);
	ft_enum_counter(b, "flowtier_insert_failures_total",
			"New connections that could not be stored, by reason.", "reason",
			ft_fail_names, s->insert_failed, FT_FAIL_MAX);
	ft_plain(b, "flowtier_redirect_failures_total", "counter",
		 "XDP redirects whose target was missing from ft_tx_ports.", s->redirect_failed);
	ft_plain(b, "flowtier_zone_sweeps_total", "counter",
		 "Bounded stale passes run before refusing a connection to a full zone.",
		 s->zone_sweeps);
	ft_plain(b, "flowtier_foreign_packets_total", "counter",
		 "Packets counted by a CPU that does not own their direction, with atomic adds.",
		 s->foreign);
	ft_plain(b, "flowtier_owner_moves_total", "counter",
		 "Connection directions taken over by another CPU after their owner went quiet.",
		 s->owner_moves);
	ft_plain(b, "flowtier_create_races_total", "counter",
		 "New connections another CPU had created while this one waited for the lock.",
		 s->create_races);
	ft_plain(b, "flowtier_lock_timeouts_total", "counter",
		 "Creations that went ahead without their bucket's lock (a holder stalled).",
		 s->lock_timeouts);
}

static int ft_zone_used(const struct ft_zone *z)
{
	return z->count || z->refused || z->limit;
}

/* Only zones in use, or limited, or that refused: 65,536 zones of zeros help nobody. */
static void ft_render_zones(struct ft_textbuf *b, const struct ft_zone *zones)
{
	static const char *const names[3] = { "flowtier_zone_connections",
					      "flowtier_zone_limit_connections",
					      "flowtier_zone_refusals_total" };
	static const char *const types[3] = { "gauge", "gauge", "counter" };
	static const char *const help[3] = {
		"Live connections per zone, as the datapath counts them against the limit.",
		"The zone's connection limit, for zones that have one.",
		"New connections refused because the zone was full.",
	};
	char zone[8];

	for (int m = 0; m < 3; m++) {
		ft_family(b, names[m], types[m], help[m]);
		for (size_t z = 0; z < FT_MAX_ZONES; z++) {
			const struct ft_zone *zn = &zones[z];
			__u64 v = m == 0 ? zn->count : m == 1 ? zn->limit : zn->refused;

			if (!ft_zone_used(zn) || (m == 1 && !zn->limit))
				continue;
			snprintf(zone, sizeof(zone), "%zu", z);
			ft_u64(b, names[m], (const char *[]){ "zone", zone }, 1, v);
		}
	}
}

static void ft_render_scan(struct ft_textbuf *b, const struct ft_metrics_src *src)
{
	ft_plain(b, "flowtier_flows", "gauge",
		 "Flows the controller tracks: connections merged by key.",
		 ft_scan_count(src->scan));
	ft_family(b, "flowtier_scan_duration_seconds", "gauge",
		  "How long the last scan of the connection table took.");
	ft_double(b, "flowtier_scan_duration_seconds", NULL, 0, src->last_scan_ns / 1e9);
}

/* The identity of one flow direction, as labels: what stays while the flow lives. */
struct ft_flow_labels {
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char sport[8], dport[8], zone[8], pnum[8];
	const char *labels[12];
};

static void ft_flow_labels(struct ft_flow_labels *l, const struct ft_ranked *r)
{
	const struct ft_key *k = r->key;
	int d = r->dir;

	ft_addr_format(k, d, l->src, sizeof(l->src));
	ft_addr_format(k, !d, l->dst, sizeof(l->dst));
	snprintf(l->sport, sizeof(l->sport), "%u", ntohs(k->port[d]));
	snprintf(l->dport, sizeof(l->dport), "%u", ntohs(k->port[!d]));
	snprintf(l->zone, sizeof(l->zone), "%u", k->zone);
	memcpy(l->labels,
	       (const char *[]){ "src", l->src, "sport", l->sport, "dst", l->dst, "dport", l->dport,
				 "proto", ft_proto_name(k->proto, l->pnum, sizeof(l->pnum)), "zone",
				 l->zone },
	       sizeof(l->labels));
}

static int ft_render_top(struct ft_textbuf *b, const struct ft_metrics_src *src)
{
	static const char *const names[4] = { "flowtier_top_flow_packets_total",
					      "flowtier_top_flow_bytes_total",
					      "flowtier_top_flow_packets_per_second",
					      "flowtier_top_flow_bytes_per_second" };
	static const char *const help[4] = {
		"Packets of the busiest flow directions (--metrics-top), since the controller "
		"first saw the flow.",
		"Bytes of the busiest flow directions (--metrics-top), since the controller first "
		"saw the flow.",
		"Packets per second of the busiest flow directions, smoothed.",
		"Bytes per second of the busiest flow directions, smoothed.",
	};
	size_t k = src->top < FT_METRICS_MAX_TOP ? src->top : FT_METRICS_MAX_TOP, n;
	struct ft_ranked *top = calloc(k, sizeof(*top));
	struct ft_flow_labels *l = calloc(k, sizeof(*l));
	int err = 0;

	if (!top || !l) {
		err = -ENOMEM;
		goto out;
	}
	n = ft_tiering_rank(src->tiering, src->scan, src->top_sort, k, top);
	for (size_t i = 0; i < n; i++)
		ft_flow_labels(&l[i], &top[i]);
	for (int m = 0; m < 4; m++) {
		ft_family(b, names[m], m < 2 ? "counter" : "gauge", help[m]);
		for (size_t i = 0; i < n; i++) {
			const struct ft_flow *f = top[i].flow;
			int d = top[i].dir;
			__u64 hp, hb;

			/* Totals since first seen, plus what the NIC carried. */
			ft_tiering_tier(src->tiering, top[i].key, d, &hp, &hb);
			if (m < 2)
				ft_u64(b, names[m], l[i].labels, 6,
				       m ? f->total_bytes[d] + hb : f->total_packets[d] + hp);
			else
				ft_double(b, names[m], l[i].labels, 6,
					  ft_tiering_value(src->tiering, &top[i],
							   m == 3 ? FT_SORT_BPS : FT_SORT_PPS));
		}
	}
out:
	free(top);
	free(l);
	return err;
}

static void ft_dev_name(const struct ft_metrics_src *src, __u32 ifindex, char *buf, size_t len)
{
	char name[IF_NAMESIZE];

	if (src->ifname) {
		if (!src->ifname(ifindex, buf, len))
			return;
	} else if (len >= IF_NAMESIZE && if_indextoname(ifindex, name)) {
		snprintf(buf, len, "%s", name);
		return;
	}
	snprintf(buf, len, "%u", ifindex);
}

/* The per-device gauges: rules now, learned capacity, out of resources. */
static void ft_render_dev_gauges(struct ft_textbuf *b, const struct ft_offload_stats *o,
				 char (*dev)[64])
{
	static const char *const names[3] = { "flowtier_offload_rules",
					      "flowtier_offload_capacity_rules",
					      "flowtier_offload_out_of_resources" };
	static const char *const help[3] = {
		"Rules in the device now.",
		"Rules the device held when it last ran out of room; 0: not known yet.",
		"1 while the device is out of resources for new rules.",
	};

	for (int m = 0; m < 3; m++) {
		ft_family(b, names[m], "gauge", help[m]);
		for (__u32 i = 0; i < o->ndevs; i++) {
			const struct ft_offload_dev_stats *d = &o->devs[i];
			__u64 v = m == 0 ? d->rules : m == 1 ? d->capacity : d->oor != 0;

			ft_u64(b, names[m], (const char *[]){ "device", dev[i] }, 1, v);
		}
	}
}

static void ft_render_dev_ops(struct ft_textbuf *b, const struct ft_offload_stats *o,
			      char (*dev)[64])
{
	static const char *const ops[4] = { "install", "remove", "swap", "rollback" };
	const char *name = "flowtier_offload_operations_total";

	ft_family(b, name, "counter",
		  "Rule operations by the offload manager: installs, removals, swaps (a hotter "
		  "flow for a colder one) and rollbacks.");
	for (__u32 i = 0; i < o->ndevs; i++) {
		const struct ft_offload_dev_stats *d = &o->devs[i];
		const __u64 v[4] = { d->installs, d->removals, d->swaps, d->rollbacks };

		for (int k = 0; k < 4; k++)
			ft_u64(b, name, (const char *[]){ "device", dev[i], "operation", ops[k] },
			       2, v[k]);
	}
	name = "flowtier_offload_oor_transitions_total";
	ft_family(b, name, "counter",
		  "Times the device entered or left the out-of-resources state.");
	for (__u32 i = 0; i < o->ndevs; i++) {
		ft_u64(b, name, (const char *[]){ "device", dev[i], "transition", "enter" }, 2,
		       o->devs[i].oor_enter);
		ft_u64(b, name, (const char *[]){ "device", dev[i], "transition", "leave" }, 2,
		       o->devs[i].oor_leave);
	}
	name = "flowtier_offload_failures_total";
	ft_family(b, name, "counter", "Failed rule operations by the class of their error.");
	for (__u32 i = 0; i < o->ndevs; i++)
		for (int c = FT_HWC_OK + 1; c < FT_HWC_MAX; c++)
			ft_u64(b, name,
			       (const char *[]){ "device", dev[i], "class", ft_hw_class_name(c) },
			       2, o->devs[i].failures[c]);
	name = "flowtier_offload_last_error_info";
	ft_family(b, name, "gauge", "The device's last error message (extack), when it gave one.");
	for (__u32 i = 0; i < o->ndevs; i++) {
		const char *msg = o->devs[i].last_extack;

		/* A driver's text: never read past its field, terminated or not. */
		if (!strnlen(msg, FT_HW_EXTACK_LEN))
			continue;
		ft_textbuf_printf(b, "%s{device=\"", name);
		ft_metrics_escape(b, dev[i]);
		ft_textbuf_printf(b, "\",message=\"");
		ft_escape_n(b, msg, strnlen(msg, FT_HW_EXTACK_LEN));
		ft_textbuf_printf(b, "\"} 1\n");
	}
}

static int ft_render_offload(struct ft_textbuf *b, const struct ft_metrics_src *src)
{
	const struct ft_offload_stats *o = src->offload;
	char(*dev)[64] = calloc(o->ndevs ? o->ndevs : 1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	for (__u32 i = 0; i < o->ndevs; i++)
		ft_dev_name(src, o->devs[i].ifindex, dev[i], sizeof(dev[i]));
	ft_plain(b, "flowtier_offload_intervals_total", "counter",
		 "Intervals the offload manager has run.", o->intervals);
	ft_family(b, "flowtier_offload_coverage_ratio", "gauge",
		  "Share of candidate packets handled in hardware over the counter lag and a "
		  "second more.");
	ft_double(b, "flowtier_offload_coverage_ratio", NULL, 0, o->coverage);
	ft_family(b, "flowtier_offload_interval_packets", "gauge",
		  "Candidate packets of the last interval by the tier that handled them.");
	ft_u64(b, "flowtier_offload_interval_packets", (const char *[]){ "tier", "software" }, 1,
	       o->sw_packets);
	ft_u64(b, "flowtier_offload_interval_packets", (const char *[]){ "tier", "hardware" }, 1,
	       o->hw_packets);
	ft_render_dev_gauges(b, o, dev);
	ft_render_dev_ops(b, o, dev);
	free(dev);
	return 0;
}

int ft_metrics_render(const struct ft_metrics_src *src, struct ft_textbuf *out)
{
	struct ft_sums t = {};
	int err = 0;

	if (src->scan || src->buckets) {
		t.conns = calloc((size_t)FT_MAX_ZONES * FT_STATE_MAX, sizeof(*t.conns));
		if (!t.conns)
			return -ENOMEM;
		if (src->scan)
			ft_sum_flows(src->scan, &t);
		if (src->buckets)
			ft_sum_table(src, &t, !src->scan);
		ft_render_traffic(out, &t);
		ft_render_conns(out, &t);
	}
	if (src->buckets)
		ft_render_table(out, src, &t);
	if (src->stats)
		ft_render_stats(out, src->stats);
	if (src->zones)
		ft_render_zones(out, src->zones);
	if (src->scan)
		ft_render_scan(out, src);
	if (src->scan && src->top)
		err = ft_render_top(out, src);
	if (!err && src->offload)
		err = ft_render_offload(out, src);
	free(t.conns);
	return err ? err : out->err;
}
