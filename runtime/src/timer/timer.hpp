// timer/timer.hpp — the runtime's internal timer API (per-P 4-ary heaps).
//
// For modules that need "call fn at time T" on a P (sleep, select timeouts,
// gmp::Timer/Ticker, io deadlines):
//
//   TimerNode t;               // owned by the caller; must outlive any firing
//   t.fn = my_fn; t.arg = me;  // fn(arg, now_ns) runs on an M that holds a P
//   timer_arm(&t, nanotime() + 5'000'000);
//   ...
//   timer_cancel(&t);          // true: removed before it fired
//
// Rules:
//   - fn runs on the M of the P whose heap holds t (the P that armed it), or
//     on a P that steals due timers from it (the last steal pass of an idle
//     M, as in Go), with no timer lock held; it must not block or park. It
//     may call detail::wake / ready, channel try_send, timer_arm of another
//     node.
//   - Arm from a goroutine puts t in its P's heap; from any other thread in
//     P 0's heap, waking P 0 if it idles so that its M recomputes its sleep.
//   - A goroutine that arms a timer which wakes that same goroutine must arm
//     it in its park commit (after its context is saved): a timer may fire
//     on another P at once.
//   - timer_cancel waits for a running fn to return, so after it returns the
//     node may be freed. REQUIRES: not called from t's own fn, and no
//     concurrent timer_arm/timer_cancel of the same node.
//   - period > 0 makes a ticker: after fn returns the node is re-armed at
//     when + period (or now + period if it fell a whole period behind); it
//     never runs twice at once (Note [Ticker re-arm] in timer.cpp).
//   - detached nodes free themselves in fn: nobody touches them after fn is
//     called, and they cannot be cancelled.
// Monotonic clock (CLOCK_MONOTONIC ns, base/clock.hpp) throughout.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/histogram.hpp"

namespace gmp::detail {

// * In words, not GMP_GUARDED_BY: which heap's lock guards a node is chosen
// at run time (by pid), which the analysis cannot express.
struct TimerNode {
  std::int64_t when = 0;      // guarded by the lock of heap `pid` while armed*
  std::int64_t period = 0;    // > 0: a ticker
  void (*fn)(void* arg, std::int64_t now_ns) noexcept = nullptr;
  void* arg = nullptr;
  bool detached = false;
  std::atomic<int> pid{-1};   // the P whose heap holds it, -1 when not armed; written under that heap's lock
  int index = -1;             // position in that heap; guarded by its lock*
  std::atomic<bool> running{false};  // fn is executing (set under the heap lock, cleared after fn)
};

void timer_arm(TimerNode* t, std::int64_t when_ns) noexcept;
bool timer_cancel(TimerNode* t) noexcept;
// Counts for tests and stats: timers fired by their own P, and by a thief.
struct TimerStats {
  std::uint64_t fired = 0;
  std::uint64_t stolen = 0;
};
TimerStats timer_stats() noexcept;
// How late timers fired (now - deadline, ns), over every P's heap, since
// the process started.
gmp::HistogramSnapshot timer_lateness();
// gmp::set_procs (stw/procresize.cpp): moves every timer of a removed P to
// another P. REQUIRES: the world is stopped.
struct P;
void timers_move(P* from, P* to) noexcept;
// gmp::stop: disarms every timer of every P. The heaps outlive the runtime,
// but the goroutines that armed most of their nodes (sleeps, select
// timeouts: nodes on those goroutines' stacks) are discarded, so a node left
// armed would fire into unmapped memory in the next run. A detached node
// (gmp::after) is leaked, not run: its send would wake a discarded
// goroutine. Returns how many were armed. REQUIRES: no M runs (all joined).
int timers_drop_all() noexcept;

}  // namespace gmp::detail
