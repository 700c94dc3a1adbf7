/* bpf/runq.h — scheduling (runq.bpf.c), shared with gmptrace. */
#ifndef GMP_BPF_RUNQ_H
#define GMP_BPF_RUNQ_H

#include "hist.h"

struct runq_data {
	struct gmp_hist delay;            /* sched_latency: runnable -> running, ns (sampled) */
	unsigned long long every;         /* the runtime's sampling period, last seen */
	unsigned long long slow;          /* samples over min_ns */
	unsigned long long steals, stolen; /* p_steal: successes, Gs moved */
	unsigned long long preempts;      /* preempt_request */
	struct gmp_hist preempt_ran;      /* ... how long the G had run, ns */
};

#endif
