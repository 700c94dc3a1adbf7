// SPDX-License-Identifier: GPL-2.0
/* bpf/io.bpf.c — submit -> complete latency of the runtime's io_uring
 * operations per op, from gmp:io_submit(op, seq, p) and
 * gmp:io_complete(op, res, p, seq): seq is unique per ring and rings are
 * per P, so (p, seq) pairs the two. */
#include "gmp_bpf.h"
#include <bpf/usdt.bpf.h>
#include "io.h"

const volatile __u64 min_ns = 0;

struct io_data io;
GMP_RING(io_events, 256 * 1024);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} io_start SEC(".maps");

static __always_inline __u64 io_key(long p, long seq)
{
	return ((__u64)p << 48) ^ (__u64)seq;
}

SEC("usdt")
int BPF_USDT(io_submit, long op, long seq, long p)
{
	__u64 k = io_key(p, seq), now = bpf_ktime_get_ns();
	bpf_map_update_elem(&io_start, &k, &now, BPF_ANY);
	if (op >= 0 && op < GMP_IO_OP_COUNT)
		__sync_fetch_and_add(&io.submits[op], 1);
	if (p >= 0 && p < GMP_IO_MAX_P)
		__sync_fetch_and_add(&io.p_submits[p], 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(io_complete, long op, long res, long p, long seq)
{
	__u64 k = io_key(p, seq);
	__u64 *t0 = bpf_map_lookup_elem(&io_start, &k);
	if (!t0) {
		__sync_fetch_and_add(&io.unpaired, 1);
		return 0;
	}
	/* Paired only: submits - completions is what is in flight since attach. */
	if (p >= 0 && p < GMP_IO_MAX_P)
		__sync_fetch_and_add(&io.p_completions[p], 1);
	__u64 d = bpf_ktime_get_ns() - *t0;
	bpf_map_delete_elem(&io_start, &k);
	if (op < 0 || op >= GMP_IO_OP_COUNT)
		return 0;
	gmp_hist_add(&io.lat[op], d);
	if (res < 0)
		__sync_fetch_and_add(&io.errors[op], 1);
	if (min_ns == 0 || d < min_ns)
		return 0;
	struct gmp_span_event *e = gmp_reserve(&io_events, &io_events_drops, sizeof(*e));
	if (!e)
		return 0;
	e->kind = GMP_EV_IO_SLOW;
	e->tid = gmp_tid();
	e->arg = op;
	e->id = seq;
	e->ns = d;
	e->res = res;
	e->p = p;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
