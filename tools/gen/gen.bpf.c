// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The generator's XDP program, run by BPF_PROG_TEST_RUN in live-frames mode:
 * each run takes the next entry of the schedule, writes that flow's headers
 * over the frame and redirects it out of the generator's veth.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "gen.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* The veth the frames leave by, in the namespace ft-gen runs in. */
const volatile __u32 out_ifindex = 0;

/* The next schedule entry to send; ft-gen resets it before each run. */
__u32 next = 0;

/* 1 while ft-gen runs the program; 0: it is only attached. */
__u32 armed = 0;

/* Runs whose entry or flow was out of range: must stay 0. */
__u64 bad = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct gen_flow);
	__uint(max_entries, 1); /* set by ft-gen to the number of flows */
} gen_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);	/* array elements are 8-byte aligned: mmap sees a u64 */
	__uint(max_entries, 1); /* set by ft-gen: the schedule chunk */
} gen_sched SEC(".maps");

static __always_inline __u8 gen_tcp_flags(__u32 kind)
{
	switch (kind) {
	case GEN_SYN:
		return TCP_SYN;
	case GEN_SYNACK:
		return TCP_SYN | TCP_ACK;
	case GEN_FIN:
	case GEN_FIN_REV:
		return TCP_FIN | TCP_ACK;
	default:
		return TCP_ACK;
	}
}

SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 i, kind, fi;
	struct gen_flow *f;
	__u64 *e;
	__u8 off;

	/*
	 * ft-gen also attaches this program to the namespace's loopback (see
	 * gen.c); packets there pass unless a test run is on. Test runs come
	 * in on loopback too, and frame metadata does not survive a page's
	 * reuse, so nothing else tells them apart.
	 */
	if (!armed)
		return XDP_PASS;
	i = next++;
	e = bpf_map_lookup_elem(&gen_sched, &i);
	if (!e)
		goto bad;
	kind = (__u32)*e >> GEN_FLOW_BITS;
	fi = (__u32)*e & GEN_FLOW_MASK;
	f = bpf_map_lookup_elem(&gen_flows, &fi);
	if (!f || data + GEN_HDR_LEN > end)
		goto bad;
	if (kind == GEN_SYNACK || kind == GEN_FIN_REV || kind == GEN_REPLY)
		__builtin_memcpy(data, f->hdr[1], GEN_HDR_LEN);
	else
		__builtin_memcpy(data, f->hdr[0], GEN_HDR_LEN);
	off = f->tcp_flags_off;
	/* Two constant offsets keep the packet access provable. */
	if (off == 14 + 20 + 13)
		*(__u8 *)(data + 14 + 20 + 13) = gen_tcp_flags(kind);
	else if (off == 14 + 40 + 13)
		*(__u8 *)(data + 14 + 40 + 13) = gen_tcp_flags(kind);
	return bpf_redirect(out_ifindex, 0);
bad:
	__sync_fetch_and_add(&bad, 1);
	return XDP_DROP;
}
