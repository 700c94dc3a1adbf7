/* bpf/hist.h — the histogram layout kernel and user side share: round-up
 * log2 slots (gmp/probes_abi.h), their count and their sum. */
#ifndef GMP_HIST_H
#define GMP_HIST_H

#include "gmp/probes_abi.h"

struct gmp_hist {
	unsigned long long slots[GMP_HIST_SLOTS];
	unsigned long long count;
	unsigned long long sum;
};

#endif
