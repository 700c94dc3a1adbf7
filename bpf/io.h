/* bpf/io.h — io_uring operations of the runtime (io.bpf.c). */
#ifndef GMP_BPF_IO_H
#define GMP_BPF_IO_H

#include "hist.h"

/* Per-P counts for Ps below this (the runtime's own bound, sched.hpp kMaxProcs). */
#define GMP_IO_MAX_P 256

struct io_data {
	struct gmp_hist lat[GMP_IO_OP_COUNT]; /* io_submit -> io_complete, ns, per op */
	unsigned long long submits[GMP_IO_OP_COUNT];
	unsigned long long errors[GMP_IO_OP_COUNT];   /* res < 0 */
	unsigned long long unpaired;                  /* completions without a seen submit */
	unsigned long long p_submits[GMP_IO_MAX_P];   /* per P (each P has its own ring) */
	unsigned long long p_completions[GMP_IO_MAX_P]; /* paired with a seen submit */
};

#endif
