// SPDX-License-Identifier: GPL-2.0
/* bpf/runq.bpf.c — run-queue delay from gmp:sched_latency (the runtime
 * stamps one transition in `every` of each G and fires the probe with the
 * measured delay: a probe per switch would cost 10-40x the switch), plus
 * steals (p_steal) and preemptions (preempt_request). */
#include "gmp_bpf.h"
#include <bpf/usdt.bpf.h>
#include "runq.h"

const volatile __u64 min_ns = 0; /* slow-event threshold; 0: none */

struct runq_data runq;
GMP_RING(runq_events, 256 * 1024);

SEC("usdt")
int BPF_USDT(sched_latency, long goid, long p, long ns, long every)
{
	gmp_hist_add(&runq.delay, ns);
	runq.every = every;
	if (min_ns == 0 || (__u64)ns < min_ns)
		return 0;
	__sync_fetch_and_add(&runq.slow, 1);
	struct gmp_span_event *e = gmp_reserve(&runq_events, &runq_events_drops, sizeof(*e));
	if (!e)
		return 0;
	e->kind = GMP_EV_RUNQ_SLOW;
	e->tid = gmp_tid();
	e->arg = p;
	e->id = goid;
	e->ns = ns;
	e->res = 0;
	e->p = p;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(p_steal, long thief, long victim, long n)
{
	__sync_fetch_and_add(&runq.steals, 1);
	__sync_fetch_and_add(&runq.stolen, n);
	return 0;
}

SEC("usdt")
int BPF_USDT(preempt_request, long goid, long p, long ran_ns)
{
	__sync_fetch_and_add(&runq.preempts, 1);
	gmp_hist_add(&runq.preempt_ran, ran_ns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
