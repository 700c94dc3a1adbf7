/* bpf/alloc.h — allocation latency and pool traffic (alloc.bpf.c), shared
 * with gmptrace. Tiers: gmp_pool_tier; class groups: GMP_POOL_CLASS_GROUPS. */
#ifndef GMP_BPF_ALLOC_H
#define GMP_BPF_ALLOC_H

#include "hist.h"

struct alloc_data {
	struct gmp_hist lat[GMP_TIER_COUNT];                          /* alloc_sample ns per tier */
	struct gmp_hist lat_group[GMP_TIER_COUNT][GMP_POOL_CLASS_GROUPS]; /* ... per class group */
	struct gmp_hist size[GMP_TIER_COUNT];                         /* sampled object sizes, bytes */
	unsigned long long refills[GMP_TIER_COUNT], refill_objects[GMP_TIER_COUNT];
	unsigned long long flushes[GMP_TIER_COUNT], flush_objects[GMP_TIER_COUNT];
	unsigned long long fallbacks[GMP_TIER_COUNT];
	unsigned long long fallback_reason[GMP_FALLBACK_REASON_END];
	/* hits and misses of the pooled tiers while traced: the growth of each
	 * (cache, tier, class)'s counters between its samples (alloc_sample v3) */
	unsigned long long hits[GMP_TIER_COUNT], misses[GMP_TIER_COUNT];
	unsigned long long slow;                                      /* samples over min_ns */
	struct gmp_hist malloc_lat[2];                                /* 0 libc malloc, 1 jemalloc mallocx (sampled) */
};

#endif
