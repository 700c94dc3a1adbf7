// SPDX-License-Identifier: GPL-2.0
/* bpf/cache.bpf.c — one perf_event program for every counter gmptrace opens
 * per CPU (hardware cache references/misses where a PMU exists; page
 * faults, context switches, migrations and CPU clock always): each overflow
 * of a counter sampling every `period` events adds `period` to the thread of
 * the target that was running, keyed by the event index in the attach
 * cookie. Samples of other processes are ignored. */
#include "gmp_bpf.h"
#include "cache.h"

const volatile __u32 targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cache_key);
	__type(value, struct cache_val);
} counts SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid();
	if ((pt >> 32) != targ_tgid)
		return 0;
	struct cache_key k = {.tid = (__u32)pt, .event = (__u32)bpf_get_attach_cookie(ctx)};
	__u64 period = ctx->sample_period;
	struct cache_val *v = bpf_map_lookup_elem(&counts, &k);
	if (!v) {
		struct cache_val z = {};
		bpf_get_current_comm(z.comm, sizeof(z.comm));
		bpf_map_update_elem(&counts, &k, &z, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->count, period);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
