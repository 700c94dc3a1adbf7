// SPDX-License-Identifier: GPL-2.0
/* bpf/alloc.bpf.c — allocation latency from the pool's sampled
 * gmp:alloc_sample (the runtime times every Nth allocation and fires the
 * probe with the duration), pool refills, flushes and fallbacks, the user
 * stack of every sample over min_ns (bpf_get_stack: whole because the
 * runtime is built with frame pointers), and optionally the allocations that
 * leave the pool: libc malloc and jemalloc's mallocx timed by uprobe +
 * uretprobe keyed by thread. That pairing is safe only because malloc and
 * mallocx never switch goroutines or stacks; a uretprobe on anything that can
 * park would find the return on another thread (and the kernel kills the
 * process), so no other function here gets one. */
#include "gmp_bpf.h"
#include <bpf/usdt.bpf.h>
#include "alloc.h"

const volatile __u64 min_ns = 0;           /* slow-event threshold; 0: none */
const volatile __u32 malloc_sample_every = 64;

struct alloc_data alloc;
GMP_RING(alloc_events, 1024 * 1024);

/* The last hits and misses seen per (cache, tier, class): key cache << 8 |
 * tier << 6 | class. A key's first sample only records them, so what the
 * program adds up is what happened while it was attached (between a class's
 * first and last sample in each cache). */
struct hm {
	__u64 hits, misses;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hm);
} alloc_last SEC(".maps");

static __always_inline void count_hits(long tier, long cls, long cache, __u64 hits, __u64 misses)
{
	if (tier > 2 || cls < 0 || cls >= 64)
		return;
	__u32 key = ((__u32)cache & 0xffff) << 8 | (__u32)tier << 6 | (__u32)cls;
	struct hm *last = bpf_map_lookup_elem(&alloc_last, &key);
	if (!last) {
		struct hm first = {hits, misses};
		bpf_map_update_elem(&alloc_last, &key, &first, BPF_NOEXIST);
		return;
	}
	/* Counters only grow; a smaller value is another cache reusing an id
	 * (a foreign thread's slot): start again from it. */
	if (hits >= last->hits && misses >= last->misses) {
		__sync_fetch_and_add(&alloc.hits[tier], hits - last->hits);
		__sync_fetch_and_add(&alloc.misses[tier], misses - last->misses);
	}
	last->hits = hits;
	last->misses = misses;
}

static __always_inline __u32 class_group(__u64 bytes)
{
	__u32 s = gmp_slot(bytes); /* 16 B -> 4 */
	s = s > 4 ? s - 4 : 0;
	return s < GMP_POOL_CLASS_GROUPS ? s : GMP_POOL_CLASS_GROUPS - 1;
}

SEC("usdt")
int BPF_USDT(alloc_sample, long tier, long cls, long ns, long bytes, long cache, long hits, long misses)
{
	if (tier < 0 || tier >= GMP_TIER_COUNT)
		return 0;
	count_hits(tier, cls, cache, hits, misses);
	gmp_hist_add(&alloc.lat[tier], ns);
	gmp_hist_add(&alloc.lat_group[tier][class_group(bytes)], ns);
	gmp_hist_add(&alloc.size[tier], bytes);
	if (min_ns == 0 || (__u64)ns < min_ns)
		return 0;
	__sync_fetch_and_add(&alloc.slow, 1);
	struct gmp_alloc_event *e = gmp_reserve(&alloc_events, &alloc_events_drops, sizeof(*e));
	if (!e)
		return 0;
	e->kind = GMP_EV_ALLOC_SLOW;
	e->tier = tier;
	e->cls = cls;
	e->tid = gmp_tid();
	e->ns = ns;
	e->bytes = bytes;
	e->stack_bytes = bpf_get_stack(ctx, e->stack, sizeof(e->stack), BPF_F_USER_STACK);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(pool_refill, long tier, long cls, long n)
{
	if (tier >= 0 && tier < GMP_TIER_COUNT) {
		__sync_fetch_and_add(&alloc.refills[tier], 1);
		__sync_fetch_and_add(&alloc.refill_objects[tier], n);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(pool_flush, long tier, long cls, long n)
{
	if (tier >= 0 && tier < GMP_TIER_COUNT) {
		__sync_fetch_and_add(&alloc.flushes[tier], 1);
		__sync_fetch_and_add(&alloc.flush_objects[tier], n);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(pool_fallback, long tier, long cls, long reason)
{
	if (tier >= 0 && tier < GMP_TIER_COUNT)
		__sync_fetch_and_add(&alloc.fallbacks[tier], 1);
	if (reason >= 0 && reason < GMP_FALLBACK_REASON_END)
		__sync_fetch_and_add(&alloc.fallback_reason[reason], 1);
	return 0;
}

/* ---- malloc / mallocx (optional: every call traps into the kernel) ---- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} malloc_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} malloc_tick SEC(".maps");

static __always_inline int enter(void)
{
	__u32 zero = 0, tid = gmp_tid();
	__u64 *t = bpf_map_lookup_elem(&malloc_tick, &zero);
	if (!t)
		return 0;
	if (++(*t) % (malloc_sample_every ? malloc_sample_every : 1) != 0)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&malloc_start, &tid, &now, BPF_ANY);
	return 0;
}

static __always_inline int leave(int which)
{
	__u32 tid = gmp_tid();
	__u64 *t0 = bpf_map_lookup_elem(&malloc_start, &tid);
	if (!t0)
		return 0;
	__u64 d = bpf_ktime_get_ns() - *t0;
	bpf_map_delete_elem(&malloc_start, &tid);
	gmp_hist_add(&alloc.malloc_lat[which & 1], d);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter) { return enter(); }
SEC("uretprobe")
int BPF_KRETPROBE(malloc_leave) { return leave(0); }
SEC("uprobe")
int BPF_KPROBE(mallocx_enter) { return enter(); }
SEC("uretprobe")
int BPF_KRETPROBE(mallocx_leave) { return leave(1); }

char LICENSE[] SEC("license") = "GPL";
