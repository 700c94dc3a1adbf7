/* gmp/probes_abi.h — what a tracer of the runtime's USDT probes must agree on.
 *
 * Plain C (C99 and C++, and clang -target bpf): the probe-set version, the
 * numeric values the probes carry (wait reasons, stop-the-world reasons and
 * slow causes, pool tiers and fallback reasons, I/O operations), the log2
 * histogram convention, and the records the BPF programs of bpf/ send to
 * gmptrace through ring buffers. runtime/src/trace/probes.hpp includes it and
 * runtime/src/trace/probes.cpp checks at compile time that every C++ enum
 * still has these values; every BPF program of bpf/ includes it.
 *
 * Append-only: values are never renumbered or reused, probes are added, never
 * changed; an argument may be appended to a probe (readers that take fewer
 * keep working). Each such change raises GMP_PROBES_VERSION (docs/PROBES.md
 * lists what each version added).
 */
#ifndef GMP_PROBES_ABI_H
#define GMP_PROBES_ABI_H

/* Version 1: the first probe set. Version 2: alloc_sample gains `bytes`,
 * io_complete gains `seq`, sched_latency is added. Version 3: alloc_sample
 * gains `cache`, `hits` and `misses`. A binary carries its version in the
 * symbol gmp_probes_version (a const unsigned int). */
#define GMP_PROBES_VERSION 3

/* ---- wait reasons (g_park's `reason`; gmp::detail::WaitReason) ---- */
enum gmp_wait_reason {
  GMP_WAIT_NONE = 0,
  GMP_WAIT_JOIN = 1,
  GMP_WAIT_WAIT_GROUP = 2,
  GMP_WAIT_CHAN_SEND = 3,
  GMP_WAIT_CHAN_RECV = 4,
  GMP_WAIT_SELECT = 5,
  GMP_WAIT_SELECT_NO_CASES = 6,
  GMP_WAIT_MUTEX = 7,
  GMP_WAIT_RWMUTEX_READ = 8,
  GMP_WAIT_RWMUTEX_WRITE = 9,
  GMP_WAIT_COND = 10,
  GMP_WAIT_ONCE = 11,
  GMP_WAIT_SEMAPHORE = 12,
  GMP_WAIT_SLEEP = 13,
  GMP_WAIT_TIMER = 14,
  GMP_WAIT_IO = 15,
  GMP_WAIT_SYSCALL = 16,
  GMP_WAIT_STOP_THE_WORLD = 17,
  GMP_WAIT_PREEMPTED = 18,
  GMP_WAIT_USER = 19,
  GMP_WAIT_COUNT = 20
};

/* ---- stop-the-world (stw_*'s `reason`, stw_slow's `cause`) ---- */
enum gmp_stw_reason {
  GMP_STW_USER = 0,
  GMP_STW_PROCRESIZE = 1,
  GMP_STW_POOL_SWEEP = 2,
  GMP_STW_CONFIG_RELOAD = 3,
  GMP_STW_GOROUTINE_DUMP = 4,
  GMP_STW_REASON_COUNT = 5
};
enum gmp_stw_slow_cause {
  GMP_STW_SLOW_M_PREEMPTED = 0,
  GMP_STW_SLOW_NO_SAFE_POINT = 1,
  GMP_STW_SLOW_M_BLOCKED = 2,
  GMP_STW_SLOW_STOPPER_PREEMPTED = 3,
  GMP_STW_SLOW_SCHED_LOCK = 4,
  GMP_STW_SLOW_HELD = 5,
  GMP_STW_SLOW_UNKNOWN = 6,
  GMP_STW_SLOW_STOPPER_WAKEUP = 7,
  GMP_STW_SLOW_CAUSE_COUNT = 8
};

/* ---- memory pool (alloc_sample/pool_*'s `tier`, pool_fallback's `reason`) ---- */
enum gmp_pool_tier {
  GMP_TIER_FAST = 0,
  GMP_TIER_TXN = 1,
  GMP_TIER_STABLE = 2,
  GMP_TIER_LARGE = 3, /* jemalloc, outside the pool */
  GMP_TIER_COUNT = 4
};
enum gmp_pool_fallback_reason {
  GMP_FALLBACK_EXHAUSTED = 1, /* the arena is exhausted */
  GMP_FALLBACK_DEGRADED = 2,  /* the tier is degraded */
  GMP_FALLBACK_NO_ARENA = 3,  /* the pool has no arena (init failed or not yet) */
  GMP_FALLBACK_REASON_END = 4
};
/* Size classes: 52, 16 B .. 256 KiB. Histograms group them by log2 of the
 * class size: group g holds sizes in (2^(g+3), 2^(g+4)], g = 0 for 16 B. */
#define GMP_POOL_CLASSES 52
#define GMP_POOL_CLASS_GROUPS 15

/* ---- I/O (io_submit/io_complete's `op`; gmp::io::Op) ---- */
enum gmp_io_op {
  GMP_IO_READ = 0, GMP_IO_WRITE = 1, GMP_IO_READV = 2, GMP_IO_WRITEV = 3, GMP_IO_PREAD = 4,
  GMP_IO_PWRITE = 5, GMP_IO_OPENAT = 6, GMP_IO_CLOSE = 7, GMP_IO_FSYNC = 8, GMP_IO_STATX = 9,
  GMP_IO_ACCEPT = 10, GMP_IO_CONNECT = 11, GMP_IO_RECV = 12, GMP_IO_SEND = 13, GMP_IO_RECVMSG = 14,
  GMP_IO_SENDMSG = 15, GMP_IO_SHUTDOWN = 16, GMP_IO_POLL = 17, GMP_IO_TIMEOUT = 18, GMP_IO_CANCEL = 19,
  GMP_IO_OP_COUNT = 20
};

/* ---- histograms ----
 * Log2 with round-up: slot i counts values v with 2^(i-1) < v <= 2^i (slot 0:
 * v <= 1), so 2^i is the slot's true upper bound (Prometheus `le`). Values
 * are nanoseconds (or bytes for object sizes); values past the last slot
 * count in it. */
#define GMP_HIST_SLOTS 48

/* ---- ring-buffer records (bpf/ -> gmptrace) ----
 * Every record starts with `kind`; the per-CPU count of failed reservations
 * of each ring is kept next to it (loss is never silent). */
enum gmp_event_kind {
  GMP_EV_STW = 1,
  GMP_EV_ALLOC_SLOW = 2,
  GMP_EV_RUNQ_SLOW = 3,
  GMP_EV_IO_SLOW = 4,
  GMP_EV_BLOCKING_SLOW = 5
};
#define GMP_STACK_DEPTH 32

struct gmp_stw_event {
  unsigned int kind; /* GMP_EV_STW */
  unsigned int reason;
  unsigned long long generation;
  unsigned long long stopping_ns;
  unsigned long long total_ns;
  int slow_cause; /* -1: not slow */
  unsigned int tid; /* the stopper's thread */
  unsigned long long slow_cause_ns;
  unsigned long long ts_ns; /* bpf_ktime_get_ns at stw_end */
};

struct gmp_alloc_event {
  unsigned int kind; /* GMP_EV_ALLOC_SLOW */
  unsigned int tier;
  unsigned int cls;
  unsigned int tid;
  unsigned long long ns;
  unsigned long long bytes;
  int stack_bytes; /* bytes of `stack` filled (bpf_get_stack); < 0: -errno */
  unsigned int pad;
  unsigned long long stack[GMP_STACK_DEPTH];
};

/* A slow run-queue wait (sched_latency), a slow I/O operation or a long
 * gmp::blocking span. */
struct gmp_span_event {
  unsigned int kind; /* GMP_EV_RUNQ_SLOW, GMP_EV_IO_SLOW, GMP_EV_BLOCKING_SLOW */
  unsigned int tid;
  long long arg; /* runq: P id; io: op; blocking: handed_off */
  unsigned long long id; /* runq, blocking: goid; io: seq */
  unsigned long long ns;
  long long res; /* io: the kernel result; else 0 */
  int p;
  unsigned int pad;
};

#endif /* GMP_PROBES_ABI_H */
