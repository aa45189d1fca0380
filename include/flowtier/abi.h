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
 * in three cache lines: the head (key, verdict, flags), then one line per
 * direction, written per packet only by the CPU that owns the direction.
 */
#define FT_SLOTS	    8
#define FT_DEFAULT_CONNS    (1u << 20)
#define FT_MAX_ZONES	    65536
#define FT_MAX_IFINDEX	    65536
#define FT_MAX_RULES	    256
#define FT_MAX_TIMEOUT_SECS (30u * 86400)
/* A timeout of 0 would end every connection of its class on its next packet. */
#define FT_MIN_TIMEOUT_SECS 1

/* ft_conn.last_tick counts coarse nanoseconds >> FT_TICK_SHIFT (~1.05 ms). */
#define FT_TICK_SHIFT 20

/*
 * Ticks a CPU waits before it reuses a slot another CPU may still be
 * writing (a tombstone), or past a timeout before it frees another CPU's
 * stale entry; also how long a direction's owner must be idle, and then a
 * pending owner must wait, before the direction moves to another CPU.
 * Far longer than one BPF program runs with preemption off.
 */
#define FT_GRACE_TICKS 16

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

/*
 * Who counts a direction with plain stores. Changed only by
 * compare-and-swap of the whole word; seq is the slot's reuse sequence
 * when the connection was created, so a swap aimed at a connection that
 * has since left the slot fails.
 */
struct ft_owner {
	__u8 seq;
	__u8 flags;  /* FT_OWN_* */
	__u16 cpu;   /* the owning CPU + 1; 0: none yet. With FT_OWN_PENDING: the CPU taking over */
	__u32 since; /* FT_OWN_PENDING: the tick the move began */
};

#define FT_OWN_PENDING (1u << 0) /* cpu takes the direction over FT_GRACE_TICKS after since */
#define FT_OWN_SHARED  (1u << 1) /* a CPU other than the owner has counted here */

/*
 * One direction: packets whose source is key.addr[d], key.port[d]. Its
 * packets are packets + shared_packets, its bytes likewise.
 */
struct ft_dir {
	struct ft_owner owner;
	__u64 packets; /* counted by the owner, plain stores */
	__u64 bytes;
	__u64 last_ns;	      /* the owner's last packet; bpf_ktime_get_coarse_ns() */
	__u64 shared_packets; /* counted by other CPUs, atomic adds */
	__u64 shared_bytes;
	__u64 shared_last_ns;
	__u16 in_ifindex; /* where it last arrived (ingress hooks); 0: unseen */
	__u8 pad[6];
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

/*
 * One connection; its meta word (tag, state, reuse sequence) and last_tick
 * are in its bucket's index line. The state is the meta word's.
 */
struct ft_conn {
	/* The head: written when the connection is created, then only on events. */
	struct ft_key key;
	/* The verdict word: one aligned 8-byte store, so readers never see half of it. */
	__u32 redirect_ifindex;
	__u16 rule_gen; /* ft_config.rule_gen, truncated, when the verdict was chosen */
	__u8 verdict;	/* enum ft_verdict */
	__u8 pad0;
	/* The seen word: bits only ever added, with an atomic OR. */
	__u8 tcp_flags[2];
	__u8 flags;	/* FT_CONN_* */
	__u8 hw;	/* FT_HW_*: the controller's byte */
	__u32 lock;	/* slot 0 only: the bucket's creation lock, the holder's CPU + 1 */
	__u64 first_ns; /* the connection's first packet */
	/* One line per direction. */
	struct ft_dir dir[2];
};

/*
 * meta[i] packs what a search needs of slot i: the hash tag (bits 16-31,
 * never 0 in a live slot), the class byte (bits 8-15) and a reuse sequence
 * (bits 0-7) that makes a compare-and-swap fail once the slot was
 * recycled. The class byte of a live slot is its timeout class (bits 8-11)
 * and which sides sent a FIN (bits 12-13); of a slot with tag 0, free (0),
 * claimed by a CPU writing it, or a tombstone. last_tick[i] is in
 * FT_TICK_SHIFT units: the slot's age for timeouts and eviction, and a
 * tombstone's since it became one.
 */
struct ft_bucket {
	__u32 meta[FT_SLOTS];
	__u32 last_tick[FT_SLOTS];
	struct ft_conn slot[FT_SLOTS];
};

#define FT_META_TAG(m)	       ((m) >> 16)
#define FT_META_CLS(m)	       (((m) >> 8) & 0xff)
#define FT_META_CLASS(m)       (((m) >> 8) & 0x0f)
#define FT_META_FINS(m)	       (((m) >> 12) & 0x03)
#define FT_META_SEQ(m)	       ((m)&0xff)
#define FT_META(tag, cls, seq) (((tag) << 16) | ((cls) << 8) | (seq))
#define FT_CLASS_CLAIMED       14 /* tag 0: a CPU is writing a new connection here */
#define FT_CLASS_TOMB	       15 /* tag 0: free FT_GRACE_TICKS after last_tick */

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

/* The state a live slot's timeout class stands for. */
static inline __u8 ft_class_state(__u32 class)
{
	switch (class) {
	case FT_TO_TCP_SYN_SENT:
		return FT_STATE_SYN_SENT;
	case FT_TO_TCP_CLOSING:
		return FT_STATE_CLOSING;
	case FT_TO_TCP_CLOSED:
		return FT_STATE_CLOSED;
	case FT_TO_UDP_NEW:
	case FT_TO_ICMP_NEW:
	case FT_TO_OTHER_NEW:
		return FT_STATE_NEW;
	case FT_TO_TCP_ESTABLISHED:
	case FT_TO_UDP_ESTABLISHED:
	case FT_TO_ICMP_ESTABLISHED:
	case FT_TO_OTHER_ESTABLISHED:
		return FT_STATE_ESTABLISHED;
	}
	return FT_STATE_NONE;
}

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
	__u32 buckets; /* in ft_conns; 0: the config is not written yet */
	__u32 pad0;
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
	FT_FAIL_BUSY, /* both buckets' free slots are tombstones or being written */
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
	__u64 foreign;	       /* packets counted by a CPU not owning their direction */
	__u64 owner_moves;     /* directions taken over by another CPU */
	__u64 create_races;    /* a new connection another CPU had just created */
	__u64 lock_timeouts;   /* creations that went ahead without the bucket lock */
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
_Static_assert(sizeof(struct ft_owner) == 8, "the owner word is swapped whole");
_Static_assert(sizeof(struct ft_dir) == 64, "a direction is one cache line");
_Static_assert(sizeof(struct ft_conn) == 192, "a connection is three cache lines");
_Static_assert(__builtin_offsetof(struct ft_conn, redirect_ifindex) == 40, "the verdict word");
_Static_assert(__builtin_offsetof(struct ft_conn, tcp_flags) == 48, "the seen word");
_Static_assert(__builtin_offsetof(struct ft_conn, dir) == 64, "directions after the head");
_Static_assert(__builtin_offsetof(struct ft_bucket, slot) == 64, "the index is one cache line");
_Static_assert(sizeof(struct ft_bucket) == 64 + 192 * FT_SLOTS, "200 bytes per connection");
_Static_assert(sizeof(struct ft_timeouts) == 64, "ft_timeouts layout");
_Static_assert(sizeof(struct ft_config) == 128, "ft_config layout");
_Static_assert(sizeof(struct ft_zone) == 24, "ft_zone layout");
_Static_assert(sizeof(struct ft_rule) == 48, "ft_rule layout");
_Static_assert(sizeof(struct ft_iface) == 24, "ft_iface layout");
_Static_assert(sizeof(struct ft_stats) ==
		       8 * (FT_HOOK_MAX + FT_VERDICT_MAX + FT_MAL_MAX + FT_NONIP_MAX + 2 +
			    FT_EVICT_MAX + FT_RECLAIM_MAX + FT_FAIL_MAX + 6),
	       "ft_stats layout");

#endif
