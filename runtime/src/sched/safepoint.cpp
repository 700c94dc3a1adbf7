// sched/safepoint.cpp — run a function on every P without stopping the world
// (Go's forEachP).
//
// Note [Safe-point functions]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Some per-P work must be done by the P's owner, or while the P has none:
// sweeping a P's pool cache (stw/uses.cpp) touches state that only the M
// holding the P may touch. A stop-the-world gives that, at the price of a
// pause for every goroutine; most of that pause is the stopping itself (the
// slowest P's distance to a safe point), not the work. on_each_p gets the
// same guarantee P by P, and nobody waits for anybody:
//
//   - The caller publishes fn and a new generation (sp_gen), and sets
//     kStopRequestedSafePoint in stop_requested: every switch then goes
//     through g0 (schedule_from_g skips its fast path), and find_runnable,
//     on g0 with no goroutine of the P running, runs fn for a P whose
//     sp_done is behind (safe_point_run), before it picks the next G.
//   - The goroutine running on each running P is asked to yield at its next
//     safe point (as a stop-the-world asks), and stays on its P.
//   - The caller's own P (when it is a goroutine) runs fn at once: its M
//     owns the P and the goroutine is between two safe points.
//   - An idle P has no owner: the caller runs fn for it under Sched::lock,
//     which taking an idle P requires (idle.cpp), so no M can take it
//     meanwhile. Ps that go idle later are looked at again while waiting.
//   - A P whose M is in a blocking call (kSyscall), or stopped by a
//     stop-the-world, is not waited for: it runs fn in find_runnable when
//     it next schedules (the generation check does not depend on the bit).
//   - The caller waits at most bound_ns for the running Ps (a goroutine with
//     no safe point is not waited for either: it too runs fn later), then
//     clears the bit.
// fn must not block or switch goroutines, and must stay valid for the life
// of the process: a P that lags runs the latest fn when it gets to it.
#include <chrono>
#include <thread>

#include "base/clock.hpp"
#include "gmp/time.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

void safe_point_run(P* pp) noexcept {
  const std::uint64_t gen = sched.sp_gen.load(std::memory_order_acquire);
  if (auto fn = sched.sp_fn.load(std::memory_order_acquire)) fn(pp);
  pp->sp_done.store(gen, std::memory_order_release);
}

namespace {

// Idle Ps behind gen run fn here. REQUIRES: sched.lock held. Returns true if
// every P is done.
bool run_for_idle_locked(std::uint64_t gen) noexcept {
  bool all = true;
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp->sp_done.load(std::memory_order_acquire) == gen) continue;
    if (pp->status.load(std::memory_order_acquire) == PStatus::kIdle) {
      safe_point_run(pp);
    } else {
      all = false;
    }
  }
  return all;
}

}  // namespace

int on_each_p(void (*fn)(P*), std::int64_t bound_ns) noexcept {
  LockGuard one(sched.sp_mu);
  sched.sp_fn.store(fn, std::memory_order_release);
  const std::uint64_t gen = sched.sp_gen.fetch_add(1, std::memory_order_acq_rel) + 1;
  sched.stop_requested.fetch_or(kStopRequestedSafePoint, std::memory_order_seq_cst);
  // Running goroutines yield at their next safe point (preempt_slow keeps
  // them on their P), so that their M reaches find_runnable. seq_cst: after
  // the bit, as stw/stop.cpp's flag_curg; a G flagged just after it left
  // its P yields once for nothing.
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp->status.load(std::memory_order_seq_cst) != PStatus::kRunning) continue;
    G* gp = pp->curg.load(std::memory_order_seq_cst);
    if (gp != nullptr && !gp->is_g0) gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
  }
  M* mp = getm();
  const bool on_g = mp != nullptr && mp->curg != nullptr && !mp->curg->is_g0 && mp->p != nullptr;
  if (on_g) safe_point_run(mp->p);
  const std::int64_t deadline = nanotime() + bound_ns;
  int lagging = 0;
  for (bool first = true;; first = false) {
    {
      LockGuard lk(sched.lock);
      if (run_for_idle_locked(gen)) {
        lagging = 0;
        break;
      }
    }
    // Who is left: running Ps are waited for; the others run it later.
    lagging = 0;
    bool wait = false;
    for (int i = 0; i < sched.nprocs; i++) {
      P* pp = sched.allp[i];
      if (pp->sp_done.load(std::memory_order_acquire) == gen) continue;
      lagging++;
      if (pp->status.load(std::memory_order_acquire) != PStatus::kSyscall &&
          pp->status.load(std::memory_order_acquire) != PStatus::kStopped)
        wait = true;
    }
    if (!wait || nanotime() >= deadline) break;
    if (first) continue;  // a switch takes well under a microsecond: look again first
    // Let the other Ps get to a switch; a goroutine caller lets its own P
    // run others meanwhile.
    if (on_g) {
      gmp::sleep_for(std::chrono::microseconds(20));
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  sched.stop_requested.fetch_and(~kStopRequestedSafePoint, std::memory_order_seq_cst);
  return lagging;
}

}  // namespace gmp::detail
