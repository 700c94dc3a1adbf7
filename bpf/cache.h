/* bpf/cache.h — perf-event counts attributed to the target (cache.bpf.c). */
#ifndef GMP_BPF_CACHE_H
#define GMP_BPF_CACHE_H

/* Events gmptrace opens, in this order (the attach cookie is the index). */
enum cache_event {
	CACHE_EV_LLC_REFS = 0,   /* hardware: cache references */
	CACHE_EV_LLC_MISSES = 1, /* hardware: cache misses */
	CACHE_EV_PAGE_FAULTS = 2,
	CACHE_EV_CTX_SWITCHES = 3,
	CACHE_EV_MIGRATIONS = 4,
	CACHE_EV_CPU_CLOCK = 5,  /* ns */
	CACHE_EV_COUNT = 6
};

struct cache_key {
	unsigned int tid;
	unsigned int event;
};
struct cache_val {
	unsigned long long count;
	char comm[16]; /* the thread's name (its role) */
};

#endif
