/* bpf/io.h — io_uring operations of the runtime (io.bpf.c). */
#ifndef GMP_BPF_IO_H
#define GMP_BPF_IO_H

#include "hist.h"

struct io_data {
	struct gmp_hist lat[GMP_IO_OP_COUNT]; /* io_submit -> io_complete, ns, per op */
	unsigned long long submits[GMP_IO_OP_COUNT];
	unsigned long long errors[GMP_IO_OP_COUNT];   /* res < 0 */
	unsigned long long unpaired;                  /* completions without a seen submit */
};

#endif
