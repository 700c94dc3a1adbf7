// sched/m.hpp — M: an OS thread that runs goroutines when it holds a P.
//
// Each M has a g0: the context of its own thread stack, where it runs the
// scheduler when it has nothing to switch to directly (find_runnable, park).
// Each M owns its signal stack for its whole life (stack overflow reports run
// on it), whatever P it holds.
//
// Switch protocol (Note [Deferred switch action] in schedule.cpp): a G that
// gives up its M records in M::pending what must happen to it once its
// context is saved (requeue, park commit, free), switches, and the context
// that resumes runs the action.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "base/futex.hpp"
#include "sched/g.hpp"

namespace gmp::detail {

struct P;

enum class PendingKind : std::uint8_t {
  kNone,
  kYield,    // requeue prev at the tail of the local queue
  kPreempt,  // requeue prev on the global queue (it hogged its P)
  kPark,     // run commit(arg); if it refuses, requeue prev (runnext)
  kExit,     // recycle prev's descriptor and stack
};

struct PendingAction {
  PendingKind kind = PendingKind::kNone;
  G* gp = nullptr;
  bool (*commit)(void*) = nullptr;
  void* arg = nullptr;
};

struct alignas(64) M {
  int id = 0;
  pthread_t thread{};

  G g0;                     // this thread's scheduling context; g0.is_g0 = true
  G* curg = nullptr;        // the G running on this M (or &g0). Owner only.
  P* p = nullptr;           // the P held, or null. Owner only (set under Sched::lock when handed over).
  P* nextp = nullptr;       // the P handed to a parked M by its waker. Guarded by Sched::lock.
  bool spinning = false;    // counted in Sched::nmspinning. Owner only (waker sets before unpark).
  // find_runnable is polling its P's timers and ring and will run what they
  // ready itself: ready() skips its wakep (find.cpp wakes one M when more
  // than one G was readied). Owner only.
  bool poll_for_self = false;
  PendingAction pending;    // owner only; see above
  // The CPU this thread is bound to, or -1. Written by the M (acquirep);
  // read by a stopper deciding whether it may raise the M (Note [STW boost]).
  std::atomic<int> pinned_cpu{-1};
  std::uint64_t rand_state = 0;  // for random victim order. Owner only.
  // ~99.9th percentile of how late this M's timed idle sleeps woke up (ns),
  // tracked with fixed steps (Note [Timer lead] in idle.cpp). Owner only.
  std::int64_t timer_late_ns = 0;

  Note park;                // the M sleeps here when it has no P
  M* idle_link = nullptr;   // idle list link. Guarded by Sched::lock.
  bool idle = false;        // on the idle list. Guarded by Sched::lock.
  // The idle P in whose ring, and until whose next deadline, this M waits in
  // park_without_p, else null (Note [P affinity] in idle.cpp). Written by the
  // M, read by other Ms under Sched::lock while `idle`.
  std::atomic<P*> waits_for{nullptr};
  // Counted in Sched::nwaking (Note [Waking Ms] in idle.cpp); a P handed to
  // a waking M says in nextp_spinning whether it comes with a spinning
  // count (the M owns `spinning` while awake). Guarded by Sched::lock.
  bool waking = false;
  bool nextp_spinning = false;
  // Inside a gmp::blocking call (entersyscall..exitsyscall): its P may be
  // handed to another M meanwhile, so the pool treats this M as a foreign
  // thread (mem/current_p.cpp) and channel locks as a non-owner
  // (sync/elided_lock.hpp). Owner only.
  bool in_blocking = false;

  // This M owns its P right now: it holds one and is not inside
  // gmp::blocking (what the pool's per-P cache and one-P lock elision rely
  // on: one such M per P). Owner only.
  bool owns_p() const noexcept { return p != nullptr && !in_blocking; }

  // Stop-the-world boost (Note [STW boost] in stw/boost.cpp). tid is written
  // once by the M at start (release) after the boost_* fields it publishes;
  // 0 until then (the stopper skips it). boost: atomic state, the stopper
  // and the M each move it (kBoost* values in stw/boost.cpp).
  std::atomic<int> tid{0};
  int boost_policy = 0;            // the thread's policy at start; read-only after tid
  int boost_nice = 0;              // and its nice value
  std::atomic<std::uint8_t> boost{0};
  // This thread's /proc schedstat, opened by the M at start and closed at
  // its exit, read by a stopper explaining a slow stop (Note [Slow stops
  // explained] in stw/explain.cpp): the first open of a thread's file costs
  // 10-60 µs here, too much inside a pause. -1 if it could not be opened.
  std::atomic<int> schedstat_fd{-1};

  void* sigstack = nullptr;  // the signal stack, for the M's life
  std::size_t sigstack_bytes = 0;

  std::uint64_t next_rand() noexcept {
    // xorshift64*
    std::uint64_t x = rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rand_state = x;
    return x * 0x2545F4914F6CDD1DULL;
  }
};

// The M of the calling thread, or null. Never cached by the compiler across
// a call: a goroutine that switches out may resume on another thread (Note
// [TLS across switches] in schedule.cpp). On x86-64 it is one volatile asm
// load relative to %fs, which the compiler can neither hoist nor merge; elsewhere an
// out-of-line call that is never analysed interprocedurally.
#if defined(__x86_64__) && !defined(GMP_GETM_OUT_OF_LINE)
inline M* getm() noexcept {
  M* mp;
  // gmp_tls_m is the thread_local defined in schedule.cpp (initial-exec;
  // the linker relaxes the GOT load to a constant in an executable).
  asm volatile("movq gmp_tls_m@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0" : "=r"(mp) : : "memory");
  return mp;
}
#else
M* getm() noexcept;
#endif

}  // namespace gmp::detail
