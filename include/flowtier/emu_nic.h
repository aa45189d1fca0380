/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the emulated NIC (bpf/emu_nic.bpf.c) and its users (the loader in
 * tools/emu-nic, the `emu` offload backend in user/hw_emu.c) share: map
 * names, the flow table's key and value, the counters and the NIC's ports.
 *
 * The NIC is an XDP program on the port where traffic arrives. A packet
 * that matches a rule of its exact-match flow table is dropped or sent out
 * of another port of the NIC; any other packet goes on to the host port.
 */
#ifndef FLOWTIER_EMU_NIC_H
#define FLOWTIER_EMU_NIC_H

#ifdef __bpf__
/* vmlinux.h already defines the __u* types. */
#else
#include <linux/types.h>
#endif

#define FT_EMU_PIN_DIR "/sys/fs/bpf/flowtier-emu"

/* Map and program names, as the object declares them and as they are pinned. */
#define FT_EMU_MAP_FLOWS    "emu_flows"
#define FT_EMU_MAP_COUNTERS "emu_counters"
#define FT_EMU_MAP_CONFIG   "emu_config"
#define FT_EMU_MAP_PORTS    "emu_ports"
#define FT_EMU_MAP_STATS    "emu_stats"
#define FT_EMU_PROG_NIC	    "emu_nic"
#define FT_EMU_PROG_PASS    "emu_pass"

/* The table's size when the loader is not given one, and its ceiling. */
#define FT_EMU_DEFAULT_CAPACITY 256
#define FT_EMU_MAX_CAPACITY	65536

/*
 * A rule's match, like a tc flower rule's: one direction of one
 * connection, exactly. Addresses hold IPv4 in their first 4 bytes, the
 * rest zero. ifindex is the NIC port the packet arrives on, 0: any port
 * (a packet looks up its own port first, then 0).
 */
struct ft_emu_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;  /* TCP or UDP */
	__u8 family; /* FT_FAMILY_* */
	__u16 pad;
	__u32 ifindex;
};

enum ft_emu_action {
	FT_EMU_DROP = 1,
	FT_EMU_REDIRECT,
};

/* FT_EMU_OWNER_FLOWTIER marks the rules flowtier installed; others are left alone. */
#define FT_EMU_OWNER_FLOWTIER 0x66746965u /* "ftie" */

/* A counter slot that is not there: the rule counts nothing. */
#define FT_EMU_NO_SLOT 0xffffffffu

/*
 * A rule's action and identity. Its counters live apart, in emu_counters
 * at index slot: a slot is reused only after the rule that owned it was
 * deleted, every program that could still count into it has finished, and
 * its final counters were read (see user/hw_emu.c).
 */
struct ft_emu_rule {
	__u64 cookie;	   /* the manager's flow id */
	__u32 handle;	   /* unique per dev_ifindex and family */
	__u32 slot;	   /* index in emu_counters, or FT_EMU_NO_SLOT */
	__u32 out_ifindex; /* FT_EMU_REDIRECT: NIC port to send it out of, 0: the sink port */
	__u32 owner;	   /* FT_EMU_OWNER_FLOWTIER for flowtier's rules */
	/* As the manager named them, reported back and never used by the NIC. */
	__u32 dev_ifindex;
	__u32 redirect_ifindex;
	__u16 zone;
	__u8 dir;
	__u8 action; /* enum ft_emu_action */
	__u32 pad;
};

/* One rule's counters, per CPU. */
struct ft_emu_counters {
	__u64 packets;
	__u64 bytes;   /* whole frames, Ethernet header included */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last packet, or when the rule was added */
};

/* The NIC's ports: where unmatched packets go and where redirect rules send them. */
struct ft_emu_port {
	__u32 ifindex;	 /* 0: not set */
	__u8 src_mac[6]; /* written as the frame's source when not zero */
	__u8 dst_mac[6]; /* written as the frame's destination when not zero */
};

enum ft_emu_port_id {
	FT_EMU_PORT_HOST = 0,
	FT_EMU_PORT_SINK,
	FT_EMU_PORT_MAX,
};

struct ft_emu_config {
	struct ft_emu_port port[FT_EMU_PORT_MAX];
	__u32 capacity; /* rules the table holds (its size) */
	__u32 pad;
};

/* What became of every packet the NIC received, per CPU. */
struct ft_emu_stats {
	__u64 rx;
	__u64 dropped;	   /* by a drop rule */
	__u64 redirected;  /* by a redirect rule, out of a NIC port */
	__u64 to_host;	   /* matched no rule, sent to the host port */
	__u64 no_port;	   /* dropped: the target port is not in emu_ports */
	__u64 tcp_control; /* TCP with SYN, FIN or RST: never matched (part of to_host) */
	__u64 unparsed;	   /* not TCP/UDP over IP, fragments, IPv6 extension headers (to_host) */
	__u64 pad;
};

_Static_assert(sizeof(struct ft_emu_key) == 44, "ft_emu_key layout");
_Static_assert(sizeof(struct ft_emu_rule) == 40, "ft_emu_rule layout");
_Static_assert(sizeof(struct ft_emu_counters) == 24, "ft_emu_counters layout");
_Static_assert(sizeof(struct ft_emu_port) == 16, "ft_emu_port layout");
_Static_assert(sizeof(struct ft_emu_config) == 40, "ft_emu_config layout");
_Static_assert(sizeof(struct ft_emu_stats) == 64, "ft_emu_stats layout");

#endif
