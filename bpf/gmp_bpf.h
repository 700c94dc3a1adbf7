/* bpf/gmp_bpf.h — helpers every program of bpf/ shares (BPF side only):
 * round-up log2 slots (gmp/probes_abi.h), the target filter, and ring-buffer
 * output that counts failed reservations per CPU (libbpf reports no
 * ring-buffer loss; the tool reads `drops` and says how many were lost). */
#ifndef GMP_BPF_H
#define GMP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmp/probes_abi.h"
#include "hist.h"

/* Slot i holds 2^(i-1) < v <= 2^i (slot 0: v <= 1). */
static __always_inline __u32 gmp_slot(__u64 v)
{
	__u32 r = 0;
	if (v <= 1)
		return 0;
	v--;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	r += 1;
	return r < GMP_HIST_SLOTS ? r : GMP_HIST_SLOTS - 1;
}

static __always_inline void gmp_hist_add(struct gmp_hist *h, __u64 v)
{
	__u32 s = gmp_slot(v);
	if (s < GMP_HIST_SLOTS)
		__sync_fetch_and_add(&h->slots[s], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, v);
}

/* A ring of events and its per-CPU count of failed reservations. */
#define GMP_RING(name, bytes)                                 \
	struct {                                                  \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                   \
		__uint(max_entries, bytes);                           \
	} name SEC(".maps");                                      \
	struct {                                                  \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);              \
		__uint(max_entries, 1);                               \
		__type(key, __u32);                                   \
		__type(value, __u64);                                 \
	} name##_drops SEC(".maps")

static __always_inline void *gmp_reserve(void *ring, void *drops, __u64 size)
{
	void *e = bpf_ringbuf_reserve(ring, size, 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *d = bpf_map_lookup_elem(drops, &zero);
		if (d)
			(*d)++;
	}
	return e;
}

static __always_inline __u32 gmp_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

#endif
