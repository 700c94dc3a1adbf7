// trace/probes.hpp — every USDT probe of the runtime, in one place.
//
// Provider "gmp". Probe names and argument orders are a public, versioned
// interface (docs/PROBES.md): add probes, never change or reuse one.
// Each probe has a semaphore (probes.cpp); a tracer that attaches increments
// it, so a probe nobody listens to costs one load and a predicted branch.
// Operands are registers or constants only (STAP_SDT_ARG_CONSTRAINT=nr, set by
// the build) because libbpf 1.1 cannot parse indexed memory operands.
// The values probes carry and the probe-set version live in the C header
// gmp/probes_abi.h, shared with bpf/; probes.cpp checks the C++ enums
// against it. With GMP_PROBES_OFF (CMake -DGMP_PROBES=OFF) every probe
// compiles to nothing and GMP_PROBE_ENABLED is false: the baseline for
// measuring what present-but-unattached probes cost.
#pragma once

#include "gmp/probes_abi.h"

#ifndef GMP_PROBES_OFF
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#endif

// GMP_PROBE_LIST(X): X(name) for every probe. probes.cpp defines one
// semaphore per entry; tests check each name appears in the ELF notes.
#define GMP_PROBE_LIST(X) \
  X(g_create)             \
  X(g_run)                \
  X(g_park)               \
  X(g_ready)              \
  X(g_exit)               \
  X(p_steal)              \
  X(m_park)               \
  X(m_unpark)             \
  X(preempt_request)      \
  X(stack_overflow)       \
  X(alloc_sample)         \
  X(pool_refill)          \
  X(pool_flush)           \
  X(pool_fallback)        \
  X(timer_fire)           \
  X(select_wake)          \
  X(mutex_starving)       \
  X(io_submit)            \
  X(io_complete)          \
  X(syscall_block_enter)  \
  X(syscall_block_exit)   \
  X(stw_begin)            \
  X(stw_stopped)          \
  X(stw_end)              \
  X(stw_boost)            \
  X(stw_slow)             \
  X(sched_latency)

#define GMP_PROBE_DECLARE_SEMAPHORE(name) extern "C" volatile unsigned short gmp_##name##_semaphore;
GMP_PROBE_LIST(GMP_PROBE_DECLARE_SEMAPHORE)
#undef GMP_PROBE_DECLARE_SEMAPHORE

#ifdef GMP_PROBES_OFF
#define GMP_PROBE_ENABLED(name) false
#undef STAP_PROBE2
#undef STAP_PROBE3
#undef STAP_PROBE4
#define STAP_PROBE2(p, n, a, b) ((void)(a), (void)(b))
#define STAP_PROBE3(p, n, a, b, c) ((void)(a), (void)(b), (void)(c))
#define STAP_PROBE4(p, n, a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))
#else
#define GMP_PROBE_ENABLED(name) __builtin_expect(gmp_##name##_semaphore != 0, 0)
#endif

// g_create(goid, parent_goid, stack_bytes)
#define GMP_PROBE_G_CREATE(goid, parent, stack) \
  do { if (GMP_PROBE_ENABLED(g_create)) STAP_PROBE3(gmp, g_create, goid, parent, stack); } while (0)
// g_run(goid, p_id, m_id): a G starts or resumes running.
#define GMP_PROBE_G_RUN(goid, pid, mid) \
  do { if (GMP_PROBE_ENABLED(g_run)) STAP_PROBE3(gmp, g_run, goid, pid, mid); } while (0)
// g_park(goid, wait_reason, p_id): WaitReason values, docs/PROBES.md.
#define GMP_PROBE_G_PARK(goid, reason, pid) \
  do { if (GMP_PROBE_ENABLED(g_park)) STAP_PROBE3(gmp, g_park, goid, reason, pid); } while (0)
// g_ready(goid, waker_goid, p_id): a parked G is made runnable.
#define GMP_PROBE_G_READY(goid, waker, pid) \
  do { if (GMP_PROBE_ENABLED(g_ready)) STAP_PROBE3(gmp, g_ready, goid, waker, pid); } while (0)
// g_exit(goid, p_id)
#define GMP_PROBE_G_EXIT(goid, pid) \
  do { if (GMP_PROBE_ENABLED(g_exit)) STAP_PROBE2(gmp, g_exit, goid, pid); } while (0)
// p_steal(thief_p, victim_p, count)
#define GMP_PROBE_P_STEAL(thief, victim, n) \
  do { if (GMP_PROBE_ENABLED(p_steal)) STAP_PROBE3(gmp, p_steal, thief, victim, n); } while (0)
// m_park(m_id, p_id), m_unpark(m_id, p_id)
#define GMP_PROBE_M_PARK(mid, pid) \
  do { if (GMP_PROBE_ENABLED(m_park)) STAP_PROBE2(gmp, m_park, mid, pid); } while (0)
#define GMP_PROBE_M_UNPARK(mid, pid) \
  do { if (GMP_PROBE_ENABLED(m_unpark)) STAP_PROBE2(gmp, m_unpark, mid, pid); } while (0)
// preempt_request(goid, p_id, ran_ns): sysmon asks a running G to yield.
#define GMP_PROBE_PREEMPT_REQUEST(goid, pid, ran_ns) \
  do { if (GMP_PROBE_ENABLED(preempt_request)) STAP_PROBE3(gmp, preempt_request, goid, pid, ran_ns); } while (0)
// stack_overflow(goid, stack_bytes, fault_addr)
#define GMP_PROBE_STACK_OVERFLOW(goid, stack, addr) \
  do { if (GMP_PROBE_ENABLED(stack_overflow)) STAP_PROBE3(gmp, stack_overflow, goid, stack, addr); } while (0)
// Memory pool (docs/PROBES.md, "Memory pool"). tier: 0 fast, 1 txn, 2 stable.
// alloc_sample(tier, size_class, ns, bytes, cache, hits, misses): every Nth
// allocation (stats.sample_every), timed; bytes = the class's object size
// (v2); the sampling cache's id and its cumulative hits and misses of this
// tier and class (v3). Arguments are evaluated only while a tracer attaches.
#define GMP_PROBE_ALLOC_SAMPLE(tier, cls, ns, bytes, cache, hits, misses)                                           \
  do {                                                                                                              \
    if (GMP_PROBE_ENABLED(alloc_sample)) STAP_PROBE7(gmp, alloc_sample, tier, cls, ns, bytes, cache, hits, misses); \
  } while (0)
// pool_refill(tier, size_class, count): a per-P cache took a batch from a central list.
#define GMP_PROBE_POOL_REFILL(tier, cls, n) \
  do { if (GMP_PROBE_ENABLED(pool_refill)) STAP_PROBE3(gmp, pool_refill, tier, cls, n); } while (0)
// pool_flush(tier, size_class, count): a batch went back to a central list.
#define GMP_PROBE_POOL_FLUSH(tier, cls, n) \
  do { if (GMP_PROBE_ENABLED(pool_flush)) STAP_PROBE3(gmp, pool_flush, tier, cls, n); } while (0)
// pool_fallback(tier, size_class, reason): served by jemalloc instead
// (1 arena exhausted, 2 tier degraded, 3 no arena).
#define GMP_PROBE_POOL_FALLBACK(tier, cls, reason) \
  do { if (GMP_PROBE_ENABLED(pool_fallback)) STAP_PROBE3(gmp, pool_fallback, tier, cls, reason); } while (0)

// ---- channels, sync and timers (docs/PROBES.md "Channels, sync and timers") --
// timer_fire(p_id, late_ns, stolen): a timer callback runs; late_ns = now -
// deadline at the poll; stolen = 1 when a thief P ran it.
#define GMP_PROBE_TIMER_FIRE(pid, late_ns, stolen) \
  do { if (GMP_PROBE_ENABLED(timer_fire)) STAP_PROBE3(gmp, timer_fire, pid, late_ns, stolen); } while (0)
// select_wake(goid, case_index, ncases): a select returns; case_index -1 =
// default, -2 = timeout; ncases = channel cases.
#define GMP_PROBE_SELECT_WAKE(goid, idx, ncases) \
  do { if (GMP_PROBE_ENABLED(select_wake)) STAP_PROBE3(gmp, select_wake, goid, idx, ncases); } while (0)
// mutex_starving(mutex_addr, waited_ns): a Mutex enters starvation mode.
#define GMP_PROBE_MUTEX_STARVING(addr, waited_ns) \
  do { if (GMP_PROBE_ENABLED(mutex_starving)) STAP_PROBE2(gmp, mutex_starving, addr, waited_ns); } while (0)

// ---- I/O and syscalls (docs/PROBES.md "I/O and syscalls") --------------------
// io_submit(op, seq, p_id): an operation (io::Op value) is queued on P's ring.
#define GMP_PROBE_IO_SUBMIT(op, seq, pid) \
  do { if (GMP_PROBE_ENABLED(io_submit)) STAP_PROBE3(gmp, io_submit, op, seq, pid); } while (0)
// io_complete(op, res, p_id, seq): its last CQE was reaped; res is the kernel
// result; seq pairs it with its io_submit (v2).
#define GMP_PROBE_IO_COMPLETE(op, res, pid, seq) \
  do { if (GMP_PROBE_ENABLED(io_complete)) STAP_PROBE4(gmp, io_complete, op, res, pid, seq); } while (0)
// syscall_block_enter(goid, p_id): gmp::blocking starts; the P is "in syscall".
#define GMP_PROBE_SYSCALL_BLOCK_ENTER(goid, pid) \
  do { if (GMP_PROBE_ENABLED(syscall_block_enter)) STAP_PROBE2(gmp, syscall_block_enter, goid, pid); } while (0)
// syscall_block_exit(goid, p_id, handed_off): it returns on p_id; handed_off = 1
// when sysmon gave the old P to another M meanwhile.
#define GMP_PROBE_SYSCALL_BLOCK_EXIT(goid, pid, handed) \
  do { if (GMP_PROBE_ENABLED(syscall_block_exit)) STAP_PROBE3(gmp, syscall_block_exit, goid, pid, handed); } while (0)

// Stop-the-world (docs/PROBES.md, "Stop-the-world"). reason: gmp::stw::Reason
// values; generation: 1 for the first stop since start.
// stw_begin(reason, generation, 0): the decision to stop.
#define GMP_PROBE_STW_BEGIN(reason, gen) \
  do { if (GMP_PROBE_ENABLED(stw_begin)) STAP_PROBE3(gmp, stw_begin, reason, gen, 0); } while (0)
// stw_stopped(reason, generation, stopping_ns): every P is stopped.
#define GMP_PROBE_STW_STOPPED(reason, gen, ns) \
  do { if (GMP_PROBE_ENABLED(stw_stopped)) STAP_PROBE3(gmp, stw_stopped, reason, gen, ns); } while (0)
// stw_end(reason, generation, total_ns): the world is started again.
#define GMP_PROBE_STW_END(reason, gen, ns) \
  do { if (GMP_PROBE_ENABLED(stw_end)) STAP_PROBE3(gmp, stw_end, reason, gen, ns); } while (0)
// stw_boost(generation, m_id, res): the stop raised M's thread to SCHED_FIFO
// (res 0) or the kernel refused (res -errno). Note [STW boost].
#define GMP_PROBE_STW_BOOST(gen, mid, res) \
  do { if (GMP_PROBE_ENABLED(stw_boost)) STAP_PROBE3(gmp, stw_boost, gen, mid, res); } while (0)
// stw_slow(reason, generation, cause, cause_ns): a stop reached the slow-stop
// threshold; cause: gmp::stw::SlowCause values. Note [Slow stops explained].
#define GMP_PROBE_STW_SLOW(reason, gen, cause, ns) \
  do { if (GMP_PROBE_ENABLED(stw_slow)) STAP_PROBE4(gmp, stw_slow, reason, gen, cause, ns); } while (0)

// ---- scheduling latency (docs/PROBES.md "Scheduling latency") ---------------
// sched_latency(goid, p_id, ns, every): a G that was made runnable starts
// running on p_id after ns nanoseconds. Sampled: one transition in `every` of
// each G is stamped (sched/latency.hpp), so attaching costs a probe hit per
// `every` switches, not one per switch.
#define GMP_PROBE_SCHED_LATENCY(goid, pid, ns, every) \
  do { if (GMP_PROBE_ENABLED(sched_latency)) STAP_PROBE4(gmp, sched_latency, goid, pid, ns, every); } while (0)
