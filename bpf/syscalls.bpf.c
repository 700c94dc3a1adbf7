// SPDX-License-Identifier: GPL-2.0
/* bpf/syscalls.bpf.c — every system call of the target's threads (raw
 * syscall tracepoints, filtered by tgid in the kernel): count, time and
 * errors per (thread, syscall); and gmp::blocking spans from
 * gmp:syscall_block_enter/exit keyed by goroutine id (a G returns from the
 * call on the M that made it, but the key is the G as everywhere else). */
#include "gmp_bpf.h"
#include <bpf/usdt.bpf.h>
#include "syscalls.h"

const volatile __u32 targ_tgid = 0;
const volatile __u64 min_ns = 0;

struct syscalls_data sys;
GMP_RING(sys_events, 256 * 1024);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sys_key);
	__type(value, struct sys_val);
} sys_stats SEC(".maps");

struct start { __u64 ts; __u32 nr; __u32 pad; };
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct start);
} sys_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} block_start SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u64 pt = bpf_get_current_pid_tgid();
	if ((pt >> 32) != targ_tgid)
		return 0;
	__u32 tid = (__u32)pt;
	struct start s = {.ts = bpf_ktime_get_ns(), .nr = (__u32)id};
	bpf_map_update_elem(&sys_start, &tid, &s, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pt = bpf_get_current_pid_tgid();
	if ((pt >> 32) != targ_tgid)
		return 0;
	__u32 tid = (__u32)pt;
	struct start *s = bpf_map_lookup_elem(&sys_start, &tid);
	if (!s)
		return 0;
	struct sys_key k = {.tid = tid, .nr = s->nr};
	__u64 d = bpf_ktime_get_ns() - s->ts;
	bpf_map_delete_elem(&sys_start, &tid);
	struct sys_val *v = bpf_map_lookup_elem(&sys_stats, &k);
	if (!v) {
		struct sys_val z = {};
		bpf_map_update_elem(&sys_stats, &k, &z, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&sys_stats, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->ns, d);
	bpf_get_current_comm(v->comm, sizeof(v->comm));
	if (ret < 0)
		__sync_fetch_and_add(&v->errors, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(block_enter, long goid, long p)
{
	__u64 g = goid, now = bpf_ktime_get_ns();
	bpf_map_update_elem(&block_start, &g, &now, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(block_exit, long goid, long p, long handed)
{
	__u64 g = goid;
	__u64 *t0 = bpf_map_lookup_elem(&block_start, &g);
	if (!t0) {
		__sync_fetch_and_add(&sys.blocking_unpaired, 1);
		return 0;
	}
	__u64 d = bpf_ktime_get_ns() - *t0;
	bpf_map_delete_elem(&block_start, &g);
	gmp_hist_add(&sys.blocking, d);
	if (handed)
		__sync_fetch_and_add(&sys.blocking_handoffs, 1);
	if (min_ns == 0 || d < min_ns)
		return 0;
	struct gmp_span_event *e = gmp_reserve(&sys_events, &sys_events_drops, sizeof(*e));
	if (!e)
		return 0;
	e->kind = GMP_EV_BLOCKING_SLOW;
	e->tid = gmp_tid();
	e->arg = handed;
	e->id = goid;
	e->ns = d;
	e->res = 0;
	e->p = p;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
