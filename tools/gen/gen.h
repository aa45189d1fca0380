/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What ft-gen and ft-sink share with their BPF programs: the generator's
 * per-flow frame headers and schedule entries, and the sink's counters.
 * Fixed-width types only; sizes asserted.
 */
#ifndef FT_GEN_H
#define FT_GEN_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/*
 * Bytes of header a frame starts with: Ethernet + IPv6 + TCP is the longest
 * (14 + 40 + 20); shorter headers are zero-padded into the payload.
 */
#define GEN_HDR_LEN 80

/* The generator's frames are never shorter: the header block must fit. */
#define GEN_MIN_FRAME 80

/* Schedule entries: kind in the top byte, flow index below. */
#define GEN_FLOW_BITS	      24
#define GEN_FLOW_MASK	      ((1u << GEN_FLOW_BITS) - 1)
#define GEN_MAX_FLOWS	      (1u << 20)
#define GEN_ENTRY(kind, flow) (((__u32)(kind) << GEN_FLOW_BITS) | (flow))

/* What one scheduled packet is; decides direction and TCP flags. */
enum gen_kind {
	GEN_DATA = 0, /* client to server; TCP: ACK */
	GEN_SYN,      /* client to server, TCP SYN */
	GEN_SYNACK,   /* server to client, TCP SYN|ACK */
	GEN_FIN,      /* client to server, TCP FIN|ACK */
	GEN_FIN_REV,  /* server to client, TCP FIN|ACK */
	GEN_REQUEST,  /* client to server, UDP, before the data (--udp-reply) */
	GEN_REPLY,    /* server to client, UDP, after the request (--udp-reply) */
	GEN_KINDS,
};

/* One flow: its frame headers client to server ([0]) and back ([1]). */
struct gen_flow {
	__u8 hdr[2][GEN_HDR_LEN];
	__u8 tcp_flags_off; /* where the TCP flags byte is; 0: not TCP */
	__u8 pad[7];
};

_Static_assert(sizeof(struct gen_flow) == 168, "gen_flow layout");

/* The sink's per-flow key: addresses and ports as the packet carries them. */
struct sink_key {
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u16 sport; /* host order */
	__u16 dport; /* host order */
	__u16 pad;
	__u32 saddr[4]; /* network order; IPv4 in saddr[0] */
	__u32 daddr[4];
};

_Static_assert(sizeof(struct sink_key) == 40, "sink_key layout");

struct sink_val {
	__u64 packets;
	__u64 bytes;
	__u64 syn;    /* SYN without ACK */
	__u64 synack; /* SYN with ACK */
	__u64 fin;
	__u64 rst;
};

_Static_assert(sizeof(struct sink_val) == 48, "sink_val layout");

/* Per sink port (ifindex): everything it received, and what was not TCP/UDP over IP. */
struct sink_port {
	__u64 packets;
	__u64 bytes;
	__u64 other;	/* not IPv4/IPv6 TCP/UDP: counted here only */
	__u64 overflow; /* flows the table had no room for */
};

_Static_assert(sizeof(struct sink_port) == 32, "sink_port layout");

#endif
