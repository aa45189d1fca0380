/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Test helpers: load the datapath unpinned, build packets, run them, read the table. */
#ifndef FT_TEST_H
#define FT_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "datapath.h"
#include "table.h"

/* BPF_PROG_TEST_RUN return codes, as the programs return them. */
#define FT_XDP_DROP	1
#define FT_XDP_PASS	2
#define FT_XDP_REDIRECT 4
#define FT_TC_OK	0
#define FT_TC_SHOT	2
#define FT_TC_REDIRECT	7

enum ft_test_prog {
	FT_T_XDP = 0,
	FT_T_TC_IN,
	FT_T_TC_OUT,
};

/* Runs the test on one CPU, so that BPF_PROG_TEST_RUN runs the program there. */
void ft_test_pin(int cpu);

/*
 * Runs a shell command (stderr joined to stdout); returns its exit status
 * and its output, cut to cap - 1 bytes and terminated, in out.
 */
int ft_run(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs a shell command; the test fails, naming it, unless it exits 0. */
void ft_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads a table of `conns` connections; the test is pinned to CPU 0 until it says otherwise. */
void ft_test_load(struct ft_datapath *dp, __u32 conns, __u64 seed0, __u64 seed1);

/* Runs one packet through a program; returns the program's return code. */
__u32 ft_test_run(struct ft_datapath *dp, enum ft_test_prog prog, const void *pkt, size_t len);

/* The longest frame ft_build writes and ft_test_try_run hands back. */
#define FT_FRAME_MAX 1514

/*
 * Like ft_test_run, but a frame the kernel refuses is not a failure: returns
 * 0 or BPF_PROG_TEST_RUN's -errno. When out is not NULL it receives the frame
 * as the program left it (room for FT_FRAME_MAX bytes) and *out_len its length.
 */
int ft_test_try_run(struct ft_datapath *dp, enum ft_test_prog prog, const void *pkt, size_t len,
		    __u32 *retval, void *out, __u32 *out_len);

/*
 * Empties the table, the zones (counts and limits) and the event counters,
 * as a fresh load would, without the second a reload spends in the verifier.
 * The configuration, timeouts and rules stay.
 */
void ft_test_reset(struct ft_datapath *dp);

#define FT_SPEC_MAX_VLAN 3

/* What to build: Ethernet, optional VLAN tags, IPv4 or IPv6, L4. */
struct ft_spec {
	int family; /* 4 or 6; 0 with ethertype: a frame that is not IP */
	const char *src, *dst;
	__u8 proto;
	__u16 sport, dport; /* host order; the ICMP echo id is sport */
	__u8 tcp_flags;
	__u8 icmp_type;			    /* for ICMP/ICMPv6 */
	int nvlan;			    /* up to FT_SPEC_MAX_VLAN; the datapath takes two */
	__u16 vlan_id[FT_SPEC_MAX_VLAN];    /* the whole TCI: priority and DEI bits may be set */
	__u16 vlan_proto[FT_SPEC_MAX_VLAN]; /* 0: 802.1Q */
	int ip4_opt_words;		    /* IPv4 options, 32-bit words of NOP */
	int nexthdrs;	 /* IPv6: hop-by-hop, routing, dest opts in turn, before any fragment */
	int frag;	 /* 0: none; 1: first fragment; 2: non-first fragment */
	int payload;	 /* bytes after the L4 header */
	int ah;		 /* IPv6: an authentication header (24 bytes) after any fragment header */
	__u16 ethertype; /* not 0: this EtherType (or 802.3 length) after the tags */
};

/* Writes the frame into buf (at least 1514 bytes); returns its length. */
size_t ft_build(const struct ft_spec *s, __u8 *buf);

/* Builds and runs; returns the program's return code. */
__u32 ft_send(struct ft_datapath *dp, enum ft_test_prog prog, const struct ft_spec *s);

/*
 * Finds the live connection of (src, sport) -> (dst, dport) in either
 * orientation, as the controller reads it (state from the meta word, each
 * direction's counters summed over CPUs). *src_side tells which side of
 * the key src is. NULL: none. The copy stays valid for the next 15 calls.
 */
struct ft_ct *ft_find(struct ft_datapath *dp, const struct ft_spec *s, __u16 zone, int *src_side,
		      __u32 *bucket, int *slot);

/* Live entries holding the key of (src, sport) -> (dst, dport), in either orientation. */
__u32 ft_count_key(struct ft_datapath *dp, const struct ft_spec *s, __u16 zone);

/* Live connections in the table. */
__u32 ft_count_live(struct ft_datapath *dp);

struct ft_stats ft_stats_of(struct ft_datapath *dp);

/* Makes every live entry look `secs` seconds older. */
void ft_age_all(struct ft_datapath *dp, __u32 secs);

#endif
