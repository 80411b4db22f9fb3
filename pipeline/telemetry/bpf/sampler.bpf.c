// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * netchange packet sampler: random 1-in-N sampling at TCX (or clsact) ingress and egress.
 *
 * Per data source (ifindex, direction) the kernel keeps, per CPU, the rate, the sample pool (packets seen,
 * counting GSO segments as wire packets), the samples taken and the drops (ring buffer full).  Sampled headers
 * and metadata go to user space through one ring buffer.  Built CO-RE against vmlinux.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define HDR_MAX 256   /* upper bound of the copied header; the user chooses up to this */
#define TC_NEXT -1    /* TCX_NEXT == TC_ACT_UNSPEC: never change the packet's fate */

/* One per-CPU value per data source holds both the configuration and the counters, so a packet costs one
 * array lookup (inlined by the JIT; a hash lookup cost twice as much here).  The slot is
 * (ifindex mod SLOTS, direction); user space refuses two sampled interfaces that would share a slot, and
 * the program checks the ifindex so that an unsampled interface on a used slot is left alone. */
#define SLOTS 1024

struct src_state {
	__u32 ifindex;  /* owner of the slot */
	__u32 rate;     /* 1-in-N; 0 disables sampling of this source */
	__u32 snaplen;  /* header bytes to copy */
	__u32 pad;
	__u64 pool;
	__u64 samples;
	__u64 drops;
};

/* Not called "sample": vmlinux.h has a struct of that name. */
struct sample_event {
	__u64 ts_ns;
	__u64 pool;     /* this CPU's pool for the source at the time of the sample */
	__u64 drops;    /* this CPU's drops for the source */
	__u32 ifindex;
	__u32 frame_len;
	__u32 rate;
	__u32 segs;
	__u16 hdr_len;
	__u8 direction; /* 0 ingress, 1 egress */
	__u8 cpu;
	__u32 pad;
	__u8 hdr[HDR_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SLOTS);
	__type(key, __u32);                 /* (ifindex % SLOTS) << 1 | direction */
	__type(value, struct src_state);
} sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

static __always_inline int handle(struct __sk_buff *skb, __u8 direction)
{
	__u32 ifindex = skb->ifindex;
	__u32 key = (ifindex % SLOTS) << 1 | direction;
	struct src_state *st = bpf_map_lookup_elem(&sources, &key);
	if (!st || st->rate == 0 || st->ifindex != ifindex)
		return TC_NEXT;

	/* A GSO super-packet stands for gso_segs wire packets: count them all in the pool and sample the skb
	 * with probability min(segs, rate)/rate so that each wire packet keeps its 1-in-N chance. */
	__u32 segs = skb->gso_segs;
	if (segs == 0)
		segs = 1;
	st->pool += segs;
	__u32 rate = st->rate;
	if (rate > 1 && bpf_get_prandom_u32() % rate >= segs)
		return TC_NEXT;

	struct sample_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		st->drops += 1;  /* reported to collectors as sFlow drops */
		return TC_NEXT;
	}
	st->samples += 1;

	__u32 len = skb->len;
	__u32 n = st->snaplen;
	if (n > len)
		n = len;
	if (n > HDR_MAX)
		n = HDR_MAX;
	/* The verifier wants a constant upper bound and a non-zero length. */
	n &= 2 * HDR_MAX - 1;
	if (n < 1 || n > HDR_MAX || bpf_skb_load_bytes(skb, 0, ev->hdr, n) < 0)
		n = 0;

	ev->ts_ns = bpf_ktime_get_ns();
	ev->pool = st->pool;
	ev->drops = st->drops;
	ev->ifindex = ifindex;
	/* Per wire packet length: a GSO skb's length spread over its segments. */
	ev->frame_len = segs > 1 ? (len + segs - 1) / segs : len;
	ev->rate = rate;
	ev->segs = segs;
	ev->hdr_len = n;
	ev->direction = direction;
	ev->cpu = bpf_get_smp_processor_id();
	ev->pad = 0;
	bpf_ringbuf_submit(ev, 0);
	return TC_NEXT;
}

SEC("tc")
int sample_ingress(struct __sk_buff *skb)
{
	return handle(skb, 0);
}

SEC("tc")
int sample_egress(struct __sk_buff *skb)
{
	return handle(skb, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
