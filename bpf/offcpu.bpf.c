// SPDX-License-Identifier: GPL-2.0
/* bpf/offcpu.bpf.c — per thread of the target: off-CPU and on-CPU time,
 * involuntary switches (switched out while runnable) and CPU migrations (a
 * pinned M should never migrate), from tp_btf/sched_switch and
 * sched_migrate_task, with raw tracepoint twins for kernels without tp_btf
 * (the tool loads one set). Filtered to the target's tgid in the kernel. */
#include "gmp_bpf.h"
#include "offcpu.h"

const volatile __u32 targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct offcpu_thread);
} threads SEC(".maps");

struct ts_pair { __u64 out, in; };
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ts_pair);
} stamps SEC(".maps");

struct gmp_hist offcpu_hist; /* every off-CPU interval of the target's threads, ns */

static __always_inline struct offcpu_thread *thread(__u32 tid)
{
	struct offcpu_thread *t = bpf_map_lookup_elem(&threads, &tid);
	if (t)
		return t;
	struct offcpu_thread z = {};
	bpf_map_update_elem(&threads, &tid, &z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();
	if ((__u32)BPF_CORE_READ(prev, tgid) == targ_tgid) {
		__u32 tid = BPF_CORE_READ(prev, pid);
		struct offcpu_thread *t = thread(tid);
		struct ts_pair *s = bpf_map_lookup_elem(&stamps, &tid);
		if (t) {
			__sync_fetch_and_add(&t->switches, 1);
			/* __state == TASK_RUNNING (0): preempted, not blocked. */
			if (BPF_CORE_READ(prev, __state) == 0)
				__sync_fetch_and_add(&t->involuntary, 1);
			if (s && s->in)
				__sync_fetch_and_add(&t->oncpu_ns, now - s->in);
		}
		struct ts_pair n = {.out = now, .in = 0};
		bpf_map_update_elem(&stamps, &tid, &n, BPF_ANY);
	}
	if ((__u32)BPF_CORE_READ(next, tgid) == targ_tgid) {
		__u32 tid = BPF_CORE_READ(next, pid);
		struct ts_pair *s = bpf_map_lookup_elem(&stamps, &tid);
		struct offcpu_thread *t = thread(tid);
		if (s && s->out && t) {
			__u64 d = now - s->out;
			__sync_fetch_and_add(&t->offcpu_ns, d);
			gmp_hist_add(&offcpu_hist, d);
		}
		if (t) {
			t->last_cpu = bpf_get_smp_processor_id();
			BPF_CORE_READ_STR_INTO(&t->comm, next, comm);
		}
		struct ts_pair n = {.out = 0, .in = now};
		bpf_map_update_elem(&stamps, &tid, &n, BPF_ANY);
	}
}

static __always_inline void on_migrate(struct task_struct *p)
{
	if ((__u32)BPF_CORE_READ(p, tgid) != targ_tgid)
		return;
	struct offcpu_thread *t = thread(BPF_CORE_READ(p, pid));
	if (t)
		__sync_fetch_and_add(&t->migrations, 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(prev, next);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(migrate_btf, struct task_struct *p, int dest_cpu)
{
	on_migrate(p);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(prev, next);
	return 0;
}

SEC("raw_tp/sched_migrate_task")
int BPF_PROG(migrate_raw, struct task_struct *p, int dest_cpu)
{
	on_migrate(p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
