/* bpf/syscalls.h — system calls per thread of the target and gmp::blocking
 * spans (syscalls.bpf.c), shared with gmptrace. */
#ifndef GMP_BPF_SYSCALLS_H
#define GMP_BPF_SYSCALLS_H

#include "hist.h"

struct sys_key {
	unsigned int tid;
	unsigned int nr;
};
struct sys_val {
	unsigned long long count;
	unsigned long long ns;
	unsigned long long errors; /* returned < 0 */
	char comm[16];             /* the thread's name (its role) */
};
struct syscalls_data {
	struct gmp_hist blocking;            /* gmp::blocking spans, ns (enter -> exit of the same G) */
	unsigned long long blocking_handoffs; /* spans whose P was handed to another M */
	unsigned long long blocking_unpaired; /* exits without a seen enter (attached mid-span) */
};

#endif
