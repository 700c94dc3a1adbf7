// SPDX-License-Identifier: GPL-2.0
/* bpf/stw.bpf.c — stop-the-world pauses from the gmp:stw_* probes: a
 * histogram per reason of the stopping and total times, and one ring-buffer
 * record per pause (stw_end) and per slow stop (stw_slow, which the runtime
 * fires after stw_end, on the same thread). A pause is the runtime's own
 * measurement: the probes carry the durations, nothing is timed here. */
#include "gmp_bpf.h"
#include <bpf/usdt.bpf.h>
#include "stw.h"

struct stw_data stw;
/* Stops are serialised (one stopper at a time): the last stopping time
 * belongs to the pause that stw_end reports next. */
__u64 cur_stopping_ns;
GMP_RING(stw_events, 256 * 1024);

SEC("usdt")
int BPF_USDT(stw_begin, long reason, long gen, long zero)
{
	if (reason >= 0 && reason < GMP_STW_REASON_COUNT)
		__sync_fetch_and_add(&stw.begins[reason], 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(stw_stopped, long reason, long gen, long ns)
{
	if (reason >= 0 && reason < GMP_STW_REASON_COUNT)
		gmp_hist_add(&stw.stopping[reason], ns);
	cur_stopping_ns = ns;
	return 0;
}

static __always_inline void emit(long reason, long gen, long stopping, long total, int cause, long cause_ns)
{
	struct gmp_stw_event *e = gmp_reserve(&stw_events, &stw_events_drops, sizeof(*e));
	if (!e)
		return;
	e->kind = GMP_EV_STW;
	e->reason = reason;
	e->generation = gen;
	e->stopping_ns = stopping;
	e->total_ns = total;
	e->slow_cause = cause;
	e->slow_cause_ns = cause_ns;
	e->tid = gmp_tid();
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
}

SEC("usdt")
int BPF_USDT(stw_end, long reason, long gen, long ns)
{
	if (reason < 0 || reason >= GMP_STW_REASON_COUNT)
		return 0;
	gmp_hist_add(&stw.total[reason], ns);
	emit(reason, gen, cur_stopping_ns, ns, -1, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(stw_slow, long reason, long gen, long cause, long cause_ns)
{
	if (cause >= 0 && cause < GMP_STW_SLOW_CAUSE_COUNT)
		__sync_fetch_and_add(&stw.slow[cause], 1);
	emit(reason, gen, 0, 0, cause, cause_ns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
