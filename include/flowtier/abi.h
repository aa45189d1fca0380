/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the datapath (bpf/) and the controller (user/) share: map names,
 * map value layouts and the enums stored in them. Fixed-width types only;
 * every struct has its size asserted so that both sides agree.
 */
#ifndef FLOWTIER_ABI_H
#define FLOWTIER_ABI_H

#ifdef __bpf__
/* vmlinux.h already defines the __u* types. */
#else
#include <linux/types.h>
#endif

#define FT_PIN_DIR "/sys/fs/bpf/flowtier"

/* Map names, as the BPF object declares them and as they are pinned. */
#define FT_MAP_CONNS	"ft_conns"
#define FT_MAP_CONFIG	"ft_config"
#define FT_MAP_TIMEOUTS "ft_timeouts"
#define FT_MAP_ZONES	"ft_zones"
#define FT_MAP_IF_ZONE	"ft_if_zone"
#define FT_MAP_RULES	"ft_rules"
#define FT_MAP_STATS	"ft_stats"
#define FT_MAP_TX_PORTS "ft_tx_ports"
#define FT_MAP_IFACES	"ft_ifaces"

/* Program names. */
#define FT_PROG_XDP	   "ft_xdp"
#define FT_PROG_TC_INGRESS "ft_tc_ingress"
#define FT_PROG_TC_EGRESS  "ft_tc_egress"

/*
 * Connection table geometry. A bucket is one array element: an index line
 * holding every slot's meta word and last_tick, then FT_SLOTS slots. A
 * search reads the index line and then only the slot whose tag matches;
 * picking a victim reads only the index lines. A slot is one connection
 * in two cache lines: key and state in the first, counters in the second.
 */
#define FT_SLOTS	    8
#define FT_DEFAULT_CONNS    (1u << 20)
#define FT_MAX_ZONES	    65536
#define FT_MAX_IFINDEX	    65536
#define FT_MAX_RULES	    256
#define FT_MAX_TIMEOUT_SECS (30u * 86400)

/* ft_conn.last_tick counts coarse nanoseconds >> FT_TICK_SHIFT (~1.05 ms). */
#define FT_TICK_SHIFT 20

/* Connection key, canonical: (addr[0], port[0]) sorts before (addr[1], port[1]). */
struct ft_key {
	__u8 addr[2][16]; /* IPv4 in the first 4 bytes, rest zero */
	__be16 port[2];	  /* ICMP echo: both are the identifier */
	__u8 proto;
	__u8 family; /* FT_FAMILY_* */
	__u16 zone;
};

enum ft_family {
	FT_FAMILY_IPV4 = 4,
	FT_FAMILY_IPV6 = 6,
};

/* One direction: packets whose source is key.addr[d], key.port[d]. */
struct ft_dir {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns; /* bpf_ktime_get_coarse_ns() of the first packet, 0: none */
	__u64 last_ns;
};

enum ft_state {
	FT_STATE_NONE = 0, /* free slot */
	FT_STATE_NEW,	   /* non-TCP, one direction seen */
	FT_STATE_SYN_SENT, /* TCP, one direction seen */
	FT_STATE_ESTABLISHED,
	FT_STATE_CLOSING, /* TCP, a FIN seen */
	FT_STATE_CLOSED,  /* TCP, RST seen or FIN seen both ways */
	FT_STATE_MAX,
};

enum ft_verdict {
	FT_VERDICT_PASS = 0,
	FT_VERDICT_DROP,
	FT_VERDICT_REDIRECT,
	FT_VERDICT_MAX,
};

/* ft_conn.flags */
#define FT_CONN_ORIG_IS_1 (1u << 0) /* the connection was opened by side 1 */
#define FT_CONN_FRAGMENT  (1u << 1) /* non-first fragments were counted here */

/* ft_conn.hw: written only by the controller. */
#define FT_HW_NONE	0
#define FT_HW_OFFLOADED 1

/* One connection; its meta word and last_tick are in its bucket's index line. */
struct ft_conn {
	/* First cache line: the key and what a state change reads. */
	struct ft_key key;
	__u32 redirect_ifindex;
	__u16 rule_gen;	     /* ft_config.rule_gen, truncated, when the verdict was chosen */
	__u16 in_ifindex[2]; /* where each direction last arrived (ingress hooks); 0: unseen */
	__u8 state;	     /* enum ft_state */
	__u8 verdict;	     /* enum ft_verdict */
	__u8 hw;	     /* FT_HW_* */
	__u8 flags;	     /* FT_CONN_* */
	__u8 tcp_flags[2];
	__u8 pad[8];
	/* Second cache line: the counters. */
	struct ft_dir dir[2];
};

/*
 * meta[i] packs what a search needs of slot i: the hash tag (bits 16-31,
 * never 0 in a live slot), the timeout class (bits 8-15) and a reuse
 * sequence (bits 0-7) that makes a remote compare-and-swap fail once the
 * slot was recycled. A slot is free when its tag is 0. last_tick[i] is in
 * FT_TICK_SHIFT units: the slot's age for timeouts and eviction.
 */
struct ft_bucket {
	__u32 meta[FT_SLOTS];
	__u32 last_tick[FT_SLOTS];
	struct ft_conn slot[FT_SLOTS];
};

#define FT_META_TAG(m)		 ((m) >> 16)
#define FT_META_CLASS(m)	 (((m) >> 8) & 0xff)
#define FT_META_SEQ(m)		 ((m)&0xff)
#define FT_META(tag, class, seq) (((tag) << 16) | ((class) << 8) | (seq))

/* Timeout classes: index into ft_timeouts. */
enum ft_timeout_class {
	FT_TO_TCP_SYN_SENT = 0,
	FT_TO_TCP_ESTABLISHED,
	FT_TO_TCP_CLOSING,
	FT_TO_TCP_CLOSED,
	FT_TO_UDP_NEW,
	FT_TO_UDP_ESTABLISHED,
	FT_TO_ICMP_NEW,
	FT_TO_ICMP_ESTABLISHED,
	FT_TO_OTHER_NEW,
	FT_TO_OTHER_ESTABLISHED,
	FT_TO_MAX,
};

struct ft_timeouts {
	__u32 secs[FT_TO_MAX];
	__u32 pad[16 - FT_TO_MAX];
};

/*
 * Global settings. seed and the geometry are fixed when the table is
 * created and kept with it, so that a reload finds its connections again.
 */
struct ft_config {
	__u64 seed[6]; /* hash key: NH over the key's words, then a final mix */
	__u32 nr_cpus;
	__u32 cpu_buckets; /* buckets owned by each CPU */
	__u32 rule_count;
	__u32 rule_gen;
	__u32 zone_sweep_buckets; /* bound of the stale pass before a zone refusal */
	__u32 if_zones; /* 1 once any interface has a zone: untagged traffic looks it up */
	__u32 pad[14];
};

struct ft_zone {
	__u64 count; /* live connections, updated atomically */
	__u64 refused;
	__u32 limit; /* 0: unlimited */
	__u32 pad;
};

/* A verdict rule; rules are tried in order, the first match wins. */
struct ft_rule {
	__u8 src[16];
	__u8 dst[16];
	__u8 family; /* 0: any */
	__u8 proto;  /* 0: any */
	__u8 src_len;
	__u8 dst_len;
	__u16 dport_lo; /* host order; 0-65535 matches all */
	__u16 dport_hi;
	__u8 verdict;
	__u8 pad[3];
	__u32 redirect_ifindex;
};

enum ft_malformed {
	FT_MAL_ETH_TRUNC = 0,
	FT_MAL_VLAN_TRUNC,
	FT_MAL_VLAN_DEPTH, /* more than two VLAN tags */
	FT_MAL_IP4_TRUNC,
	FT_MAL_IP4_VERSION,
	FT_MAL_IP4_IHL,
	FT_MAL_IP4_LEN, /* total length below the header length */
	FT_MAL_IP6_TRUNC,
	FT_MAL_IP6_VERSION,
	FT_MAL_EXTHDR_TRUNC,
	FT_MAL_EXTHDR_DEPTH, /* more extension headers than FT_MAX_EXTHDR */
	FT_MAL_L4_TRUNC,
	FT_MAL_MAX,
};

enum ft_nonip {
	FT_NONIP_ARP = 0,
	FT_NONIP_LLDP,
	FT_NONIP_MPLS,
	FT_NONIP_8023, /* 802.3 length field (LLC/STP) */
	FT_NONIP_OTHER,
	FT_NONIP_MAX,
};

enum ft_evict {
	FT_EVICT_NOT_ESTABLISHED = 0, /* bucket full: oldest not-established entry */
	FT_EVICT_LRU,		      /* bucket full, all established: oldest entry */
	FT_EVICT_MAX,
};

enum ft_reclaim {
	FT_RECLAIM_LOOKUP = 0, /* stale entry met while searching a bucket */
	FT_RECLAIM_REUSE,      /* same tuple seen again after its timeout */
	FT_RECLAIM_ZONE_SWEEP, /* bounded pass before refusing a zone */
	FT_RECLAIM_TCP_REOPEN, /* SYN on a closed connection */
	FT_RECLAIM_MAX,
};

enum ft_insert_fail {
	FT_FAIL_ZONE_LIMIT = 0,
	FT_FAIL_NO_CPU_PART, /* CPU id beyond the table's geometry */
	FT_FAIL_MAX,
};

enum ft_hook {
	FT_HOOK_XDP = 0,
	FT_HOOK_TC_INGRESS,
	FT_HOOK_TC_EGRESS,
	FT_HOOK_MAX,
};

/* Per-CPU event counters; packet and byte counts live in the connections. */
struct ft_stats {
	__u64 packets[FT_HOOK_MAX];
	__u64 verdict[FT_VERDICT_MAX];
	__u64 malformed[FT_MAL_MAX];
	__u64 nonip[FT_NONIP_MAX];
	__u64 fragments;
	__u64 created;
	__u64 evicted[FT_EVICT_MAX];
	__u64 reclaimed[FT_RECLAIM_MAX];
	__u64 insert_failed[FT_FAIL_MAX];
	__u64 redirect_failed; /* redirect target missing from ft_tx_ports */
	__u64 zone_sweeps;     /* bounded stale passes before a zone refusal */
};

/*
 * ft_ifaces: what flowtier attached to each interface (by ifindex), so that
 * a later command or a restarted controller knows it, and so that TC
 * ingress leaves the packets XDP already counted.
 */
#define FT_IF_XDP	  (1u << 0) /* ft_xdp runs on the interface's ingress */
#define FT_IF_TC_INGRESS  (1u << 1)
#define FT_IF_TC_EGRESS	  (1u << 2)
#define FT_IF_CLSACT	  (1u << 3) /* flowtier created the clsact qdisc */
#define FT_IF_XDP_GENERIC (1u << 4) /* XDP in generic (skb) mode */

struct ft_iface {
	__u32 flags;	     /* FT_IF_* */
	__u32 xdp_prog_id;   /* the XDP program flowtier attached, to recognise it later */
	__u32 tc_prog_id[2]; /* ingress, egress */
	__u64 netns_cookie;  /* the network namespace the ifindex belongs to */
};

_Static_assert(sizeof(struct ft_key) == 40, "ft_key layout");
_Static_assert(sizeof(struct ft_dir) == 32, "ft_dir layout");
_Static_assert(sizeof(struct ft_conn) == 128, "a connection is two cache lines");
_Static_assert(__builtin_offsetof(struct ft_conn, dir) == 64, "counters in the second line");
_Static_assert(__builtin_offsetof(struct ft_bucket, slot) == 64, "the index is one cache line");
_Static_assert(sizeof(struct ft_bucket) == 64 + 128 * FT_SLOTS, "136 bytes per connection");
_Static_assert(sizeof(struct ft_timeouts) == 64, "ft_timeouts layout");
_Static_assert(sizeof(struct ft_config) == 128, "ft_config layout");
_Static_assert(sizeof(struct ft_zone) == 24, "ft_zone layout");
_Static_assert(sizeof(struct ft_rule) == 48, "ft_rule layout");
_Static_assert(sizeof(struct ft_iface) == 24, "ft_iface layout");
_Static_assert(sizeof(struct ft_stats) ==
		       8 * (FT_HOOK_MAX + FT_VERDICT_MAX + FT_MAL_MAX + FT_NONIP_MAX + 2 +
			    FT_EVICT_MAX + FT_RECLAIM_MAX + FT_FAIL_MAX + 2),
	       "ft_stats layout");

#endif
