/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The generator's flow mix and schedule: which flows exist, how many packets
 * each sends in each time slice, in what order. A function of the parameters
 * and the seed only, never of timing, so a run's ground truth is reproducible.
 */
#ifndef FT_GEN_MIX_H
#define FT_GEN_MIX_H

#include <stdio.h>
#include <linux/types.h>

#define GEN_MAX_SHIFTS 64

struct gen_params {
	__u32 flows;
	double alpha;
	double rate;		       /* data packets per second, all flows */
	double duration;	       /* seconds */
	double shifts[GEN_MAX_SHIFTS]; /* seconds, ascending */
	int nshifts;
	__u64 seed;
	double v6_share;
	double tcp_share;
	__u32 size; /* frame bytes */
	__u32 slice_ms;
	__u32 interval_ms;
	int udp_reply; /* UDP flows open with a request and a reply, as TCP's SYN and SYN-ACK */
};

struct gen_mix {
	struct gen_params p;
	__u32 slices;
	__u32 epochs;		  /* 1 + shifts */
	__u32 epoch;		  /* the current one */
	__u32 *shift_slice;	  /* [e]: the slice epoch e + 1 starts at */
	__u8 *family;		  /* [flow]: 4 or 6 */
	__u8 *proto;		  /* [flow]: 6 or 17 */
	__u32 *ranks;		  /* [e * flows + flow]: 1 is the hottest */
	__u64 *per_rank;	  /* [rank - 1]: data packets per slice, in 2^-32 units */
	__u64 *acc;		  /* [flow]: fractional packets carried to the next slice */
	__u64 *data, *fwd, *rev;  /* [flow]: packets sent */
	__u32 *ivl_fwd, *ivl_rev; /* [flow]: packets in the current interval */
	__u32 ivl;		  /* the current interval */
	FILE *ivl_out;		  /* NULL: no per-interval file */
	__u64 rng_perm, rng_order;
	__u32 *entries; /* the schedule mix_open/slice/close made */
	size_t nentries, cap;
};

/* 0, or -EINVAL with a message naming the bad parameter, or -ENOMEM. */
int mix_init(struct gen_mix *m, const struct gen_params *p);
void mix_free(struct gen_mix *m);

/* Each fills m->entries: SYN of every TCP flow, then their SYN-ACKs (--udp-reply: UDP too). */
int mix_open(struct gen_mix *m);
/* Data packets of slice s (0 <= s < slices), shuffled; applies a shift due at s. */
int mix_slice(struct gen_mix *m, __u32 s);
/* FIN of every TCP flow, then the server's FIN. */
int mix_close(struct gen_mix *m);
/* Writes the last interval's counts (when ivl_out is set). */
int mix_finish(struct gen_mix *m);

#endif
