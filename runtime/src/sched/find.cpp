// sched/find.cpp — find_runnable: what an M does when its P's queues are
// empty (Go's findRunnable): poll, steal, spin briefly, then give the P back
// and park.
//
// Note [Spinning Ms]
// An M is "spinning" while it holds a P and looks for work in other Ps.
// sched.nmspinning counts them; at most half the busy Ps' worth may spin
// (more would burn CPU stealing from each other). Submitters call wakep(),
// which starts a spinning M only when none spins and a P is idle; a spinning
// M that finds work calls resetspinning(), which wakes another if it was the
// last, so bursts fan out one M at a time without a thundering herd.
//
// Note [Delicate dance]
// A spinning M that gives up must (1) put its P on the idle list, (2) drop
// its spinning count, then (3) look at every queue once more. Doing (3)
// before (2) would let a submitter see "an M is spinning", skip wakep, and
// leave its work with nobody looking. After (3) finds work it takes a P back.
#include <mutex>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "io/ring.hpp"
#include "sched/syscall.hpp"
#include "sched/sched.hpp"
#include "stw/boost.hpp"

namespace gmp::detail {

namespace {

constexpr int kMaxPollSources = 4;
const PollSource* poll_srcs[kMaxPollSources];
int n_poll_srcs = 0;  // written during static init only

// Takes back an idle P that has work (queues or due poll sources), for M
// mp that has none; mp is its M from here (Note [P in transit] in idle.cpp).
// Returns null if no idle P has any.
P* take_idle_p_with_work(M* mp, std::int64_t now) noexcept {
  bool global = sched.gq_size.load(std::memory_order_seq_cst) > 0;
  for (int i = 0; i < sched.nprocs; i++) {
    P* p2 = sched.allp[i];
    bool queued = !p2->runq.empty() || !p2->inbox.empty();
    bool work = queued;
    if (!work) {
      std::int64_t d = poll_sources_deadline(p2);
      work = d >= 0 && d <= now;
    }
    if (!work && !global) continue;
    LockGuard lk(sched.lock);
    // Only due timers or completions, and the P's own M idles waiting for
    // exactly those (its deadline, its ring): leave the P to it rather than
    // swap Ps between Ms (Note [P affinity] in idle.cpp).
    if (work && !queued && p2->home_m != nullptr && p2->home_m != mp && p2->home_m->idle &&
        p2->home_m->waits_for.load(std::memory_order_relaxed) == p2)
      work = false;
    if (work && pidle_remove_locked(p2, mp)) return p2;
    return pidle_get_locked(mp);  // null: every P is busy, their Ms will get to it
  }
  return nullptr;
}

// Stop-the-world (Go's gcstopm): give mp's P to the stopper, then park until
// start_the_world hands mp a P. Returns false when the runtime stops.
// REQUIRES: mp holds a P.
bool stw_park_m(M* mp) noexcept {
  P* pp = mp->p;
  bool spin = false;
  // A stop that waited for this M may have raised it to SCHED_FIFO: back to
  // its own policy before anything spins (Note [STW boost] in
  // stw/boost.cpp). Claimed after kStopped is stored; if the raise is still
  // in flight the stopper restores it and the M parks instead of spinning.
  BoostClaim boost = BoostClaim::kNotBoosted;
  {
    LockGuard lk(sched.lock);
    if (!sched.stw_waiting.load(std::memory_order_relaxed)) {
      boost = stw_boost_claim(mp);  // restarted meanwhile: not stopped, runs on
    } else {
      releasep(mp);
      m_waking_locked(mp);  // Note [Waking Ms] in idle.cpp
      pp->searching.store(false, std::memory_order_seq_cst);
      stw_stop_p_locked(pp);
      boost = stw_boost_claim(mp);
      spin = boost != BoostClaim::kStopperRestores && stw_spin_register_locked(mp, pp);
    }
  }
  if (boost == BoostClaim::kRestore) stw_boost_restore_self(mp);
  if (mp->p != nullptr) return true;  // restarted meanwhile
  if (mp->spinning) {
    mp->spinning = false;
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  }
  // A goroutine stopper's pause is short: wait for the restart on the CPU
  // rather than through a futex wake-up (Note [Stopped Ms spin for the
  // restart] in stw/stop.cpp).
  if (spin) {
    if (P* np = stw_spin_for_restart(mp, pp)) {
      // A goroutine back from a blocking call that waits for a P gets it
      // first, as at any restart; waking it is this M's job, not the
      // stopper's. Then this M parks like one that lost its P.
      bool passed;
      {
        LockGuard lk(sched.lock);
        passed = syscall_waiter_take_locked(np);
      }
      if (!passed) {
        acquirep(mp, np);
        return true;
      }
    }
  }
  for (;;) {
    if (P* np = stopm(mp, -1)) {
      acquirep(mp, np);
      return true;
    }
    if (sched.stopping.load(std::memory_order_acquire)) return false;
    // Poked (a timer on an idle P): after the restart, take an idle P with work.
    if (!sched.stw_waiting.load(std::memory_order_acquire)) {
      if (P* p2 = take_idle_p_with_work(mp, nanotime())) {
        acquirep(mp, p2);
        return true;
      }
    }
  }
}

}  // namespace

void register_poll_source(const PollSource* src) noexcept {
  // Static initialisation only: a source silently dropped would never be polled.
  GMP_CHECK(n_poll_srcs < kMaxPollSources, "runtime: more than %d poll sources (raise kMaxPollSources): %s",
            kMaxPollSources, src->name);
  poll_srcs[n_poll_srcs++] = src;
}

int poll_sources(P* pp, std::int64_t now_ns) noexcept {
  int n = 0;
  for (int i = 0; i < n_poll_srcs; i++) n += poll_srcs[i]->poll(pp, now_ns);
  return n;
}

std::int64_t poll_sources_deadline(P* pp) noexcept {
  std::int64_t best = -1;
  for (int i = 0; i < n_poll_srcs; i++) {
    std::int64_t d = poll_srcs[i]->next_deadline(pp);
    if (d >= 0 && (best < 0 || d < best)) best = d;
  }
  return best;
}

void steal_poll_sources(P* thief, P* victim) noexcept {
  if (n_poll_srcs == 0) return;
  std::int64_t now = nanotime();
  for (int i = 0; i < n_poll_srcs; i++) {
    if (poll_srcs[i]->steal != nullptr) poll_srcs[i]->steal(thief, victim, now);
  }
}

namespace {

// Note [Parking an M without a P]
// What an M does once it has given its P back (find_runnable found no work,
// or handed the P to a syscall waiter): stop spinning, take an idle P that
// has work if there is one (Note [Delicate dance]), else park until handed
// a P or until `last`'s next deadline, waiting in last's ring while last
// stays idle. True: this M holds a P again and should look for work; false:
// the runtime is stopping.
// REQUIRES: mp holds no P; last is the P it gave back.
bool park_without_p(M* mp, P* last) noexcept {
  last->searching.store(false, std::memory_order_seq_cst);
  bool was_spinning = mp->spinning;
  if (was_spinning) {
    mp->spinning = false;
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  }

  // Note [Delicate dance] and Note [Inbox hand-off].
  if (P* p2 = take_idle_p_with_work(mp, nanotime())) {
    acquirep(mp, p2);
    if (was_spinning) {
      mp->spinning = true;
      sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
    }
    return true;
  }

  // Park until handed a P, or until the last P's next deadline (timers).
  // While the last P stays idle its M waits in that P's io_uring, so that a
  // completion for it wakes us (Note [Idle M in its ring] in io/ring.cpp).
  P* ring_p = io_ring_waitable(last) ? last : nullptr;
  for (;;) {
    // Once another M has taken `last`, its owner reaps its ring and runs its
    // timers: waiting there would only wake us for its completions, and two
    // Ms could end up in one ring while another idle P had none.
    const bool last_idle = last->status.load(std::memory_order_seq_cst) == PStatus::kIdle;
    if (!last_idle) ring_p = nullptr;
    std::int64_t deadline = last_idle && n_poll_srcs > 0 ? poll_sources_deadline(last) : -1;
    // Waiting in last's ring (its completions wake us) until its deadline
    // (its timers): other Ms leave last's due work to us (Note [P affinity]).
    mp->waits_for.store(ring_p != nullptr ? last : nullptr, std::memory_order_relaxed);
    P* np = stopm_in_ring(mp, deadline, ring_p);
    mp->waits_for.store(nullptr, std::memory_order_relaxed);
    if (np != nullptr) {
      acquirep(mp, np);
      return true;
    }
    if (sched.stopping.load(std::memory_order_acquire)) return false;
    // Deadline passed or poked: take our P back if it still idles with due work.
    std::int64_t d = n_poll_srcs > 0 ? poll_sources_deadline(last) : -1;
    if (d >= 0 && d <= nanotime()) {
      bool got;
      {
        LockGuard lk(sched.lock);
        got = pidle_remove_locked(last, mp);
      }
      if (got) {
        acquirep(mp, last);
        return true;
      }
      // Another M runs it and will reap its ring: wait on the futex now.
      ring_p = nullptr;
    }
    if (P* p2 = take_idle_p_with_work(mp, nanotime())) {
      acquirep(mp, p2);
      return true;
    }
  }
}

}  // namespace

G* find_runnable(M* mp, bool* inherit) noexcept {
top:
  if (sched.stopping.load(std::memory_order_acquire)) return nullptr;
  if (sched.stw_waiting.load(std::memory_order_acquire)) [[unlikely]] {
    if (!stw_park_m(mp)) return nullptr;
    goto top;
  }
  P* pp = mp->p;
  // Note [Safe-point functions] in safepoint.cpp: no goroutine of pp runs.
  if (pp->sp_done.load(std::memory_order_relaxed) != sched.sp_gen.load(std::memory_order_acquire)) [[unlikely]] {
    safe_point_run(pp);
  }
  // Note [Waiters before the run queue]
  // A goroutine whose P was retaken during gmp::blocking waits on its M for
  // a P (exitsyscall). A P gives itself to a waiter when it goes idle, but a
  // P that always has a runnable goroutine never does: a busy goroutine with
  // safe points on one P kept a waiter out for 20 s (FileIo
  // OperationIsSubmittedWhileABusyGoroutineHoldsTheP, ~1 run in 30 under
  // ctest -j2, when the call outlived a sysmon tick). So whenever this M looks
  // for its next goroutine and an M waits, the P goes to the waiter, with
  // its run queue, and this M parks (Go puts the returning goroutine on the
  // global queue instead; here it keeps its M). One relaxed load per
  // schedule. The waiter's goroutine runs on the P's current time slice,
  // which counts time in blocking calls (sysmon.cpp), so goroutines looping
  // on calls do not pass the Ps between them for longer than a slice while
  // others queue. (Making the waiter yield to a non-empty queue at once
  // halved gmprun stw's blocking calls and tripled its stop p99.)
  if (syscall_waiters() > 0) [[unlikely]] {
    UniqueLock lk(sched.lock);
    if (!sched.stopping.load(std::memory_order_relaxed) && syscall_waiter_can_take_locked()) {
      releasep(mp);
      m_waking_locked(mp);             // Note [Waking Ms] in idle.cpp
      syscall_waiter_take_locked(pp);  // succeeds: checked under this lock
      lk.unlock();
      if (!park_without_p(mp, pp)) return nullptr;
      goto top;
    }
  }
  pp->searching.store(true, std::memory_order_seq_cst);

  if (G* gp = runq_get(pp, inherit)) return gp;
  if (sched.gq_size.load(std::memory_order_relaxed) > 0) {
    if (G* gp = globrunq_get(pp, 0)) return gp;
  }
  std::int64_t now = nanotime();
  if (n_poll_srcs > 0) {
    // This M runs the first G its timers and ring ready, at once: waking
    // another M for it (ready()'s wakep) would put a futex or eventfd
    // syscall, several microseconds in a VM, between a due timer and its
    // goroutine. Only when more than one is readied may another P help.
    mp->poll_for_self = true;
    int n = poll_sources(pp, now);
    mp->poll_for_self = false;
    if (n > 1) wakep();
    if (n > 0) {
      if (G* gp = runq_get(pp, inherit)) return gp;
    }
  }

  // Steal and spin, if the spinning budget allows (Note [Spinning Ms]).
  int busy = sched.nprocs - sched.npidle.load(std::memory_order_relaxed);
  if (mp->spinning || 2 * sched.nmspinning.load(std::memory_order_relaxed) < busy) {
    if (!mp->spinning) {
      mp->spinning = true;
      sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
    }
    if (G* gp = steal_work(mp, pp, inherit)) return gp;
    // Bounded spin: a parked M costs tens of µs to wake in a VM, so stay
    // around for Config::spin in case work arrives; never spin unbounded.
    const std::int64_t until = now + sched.cfg.spin.count();
    while (nanotime() < until) {
      for (int i = 0; i < 32; i++) cpu_relax();
      if (sched.stopping.load(std::memory_order_relaxed)) return nullptr;
      if (sched.stw_waiting.load(std::memory_order_relaxed)) goto top;
      if (!pp->runq.empty() || !pp->inbox.empty() || sched.gq_size.load(std::memory_order_relaxed) > 0) goto top;
      for (int i = 0; i < sched.nprocs; i++) {
        P* p2 = sched.allp[i];
        if (p2 != pp && p2->runq.size() > 0) goto top;
      }
      if (n_poll_srcs > 0) {
        std::int64_t d = poll_sources_deadline(pp);
        if (d >= 0 && d <= nanotime()) goto top;
      }
    }
  }

  // Give the P back.
  {
    UniqueLock lk(sched.lock);
    if (sched.stopping.load(std::memory_order_relaxed)) return nullptr;
    if (sched.gq_size.load(std::memory_order_relaxed) > 0) {
      G* gp = globrunq_get_locked(pp, 0);
      lk.unlock();
      *inherit = false;
      return gp;
    }
    releasep(mp);
    m_waking_locked(mp);  // until it parks or takes a P (Note [Waking Ms] in idle.cpp)
    // A goroutine back from gmp::blocking without a P gets this one first.
    if (!syscall_waiter_take_locked(pp)) pidle_put_locked(pp);
  }
  if (!park_without_p(mp, pp)) return nullptr;
  goto top;
}

}  // namespace gmp::detail
