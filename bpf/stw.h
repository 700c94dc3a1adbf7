/* bpf/stw.h — stop-the-world pauses (stw.bpf.c), shared with gmptrace. */
#ifndef GMP_BPF_STW_H
#define GMP_BPF_STW_H

#include "hist.h"

struct stw_data {
	struct gmp_hist stopping[GMP_STW_REASON_COUNT]; /* decision -> every P stopped */
	struct gmp_hist total[GMP_STW_REASON_COUNT];    /* decision -> world restarted */
	unsigned long long begins[GMP_STW_REASON_COUNT];
	unsigned long long slow[GMP_STW_SLOW_CAUSE_COUNT];
};

#endif
