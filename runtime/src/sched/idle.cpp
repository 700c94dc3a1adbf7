// sched/idle.cpp — idle Ps, parked Ms, waking them (Go's pidleput/pidleget,
// startm/stopm, wakep, acquirep/releasep) and creating Ms.
//
// Parked Ms sleep on their own futex Note. A P remembers the M that last ran
// it (home_m) and startm prefers that M, so with one M per P each M keeps its
// P and its CPU pinning, and no sched_setaffinity call is needed after start.
//
// Note [P in transit]
// startm hands a P to a parked (or new) M through M::nextp and wakes it; the
// M claims the P under sched.lock once it runs, a futex wake-up later (tens
// of µs in a VM, ms when its CPU is busy). Until then the P has no running M
// and nothing can stop it at a safe point, so a stop-the-world takes it back
// instead of waiting (stw_take_handed_p_locked), and startm does not hand
// a P out while a stop is pending (it stops it, as Go's handoffp does). An M
// whose P was taken back finds nextp null and parks again; a new M does the
// same instead of exiting. Whoever hands a P to an M (handoff_locked) or
// takes one off the idle list for an M (pidle_get_locked,
// pidle_remove_locked) records that M as the P's M at once, under the same
// lock: until its acquirep the M is on its way to the P's next safe point,
// and a stop that waits for the P can see (and boost, and explain) which
// thread it waits for.
//
// Note [Waking Ms]
// An M that has just given its P back (find_runnable found no work, a
// syscall waiter or a stop-the-world took it), or was woken without one
// (its timer deadline came, it was poked, its ring got a completion, or a
// stop-the-world took back the P it was handed) holds no P and is on no
// idle list until it has run a little further: it then takes a P
// (acquirep) or parks again (stopm_in_ring). A startm in that window found
// no idle M and made a new thread, although one was about to look for work:
// `orders` at 2 Ps made 4 Ms in its first second, and on a loaded machine,
// where the window lasts as long as the kernel keeps the M off a CPU, a
// soak went from 20 threads to 70. So such an M is "waking" (M::waking,
// counted in sched.nwaking, both under sched.lock), and startm with no idle
// M hands the P to a waking M through nextp instead (the P's own M first),
// with no wake-up to send: the M is awake. The M takes it at stopm_in_ring's
// entry, before it would sleep; if it acquires another P first (an idle P
// with work, its last P back), acquirep hands the one it was given on to
// startm again. New threads are made only when no M is idle or waking.
//
// Note [P affinity]
// With pinning on, an M re-pins itself (sched_setaffinity) whenever it
// acquires a P whose CPU is not the one it is pinned to. A P that moves from
// one M to another therefore moves the Ms between CPUs, and until both have
// re-pinned, two busy Ms can share one CPU while the other idles: the
// waiting one loses a whole kernel time slice (milliseconds). `orders` at
// 2 Ps swapped its two Ps ~400 times a second (1 169 sched_setaffinity
// calls per M in 3 s) and its p99 was 2-3 ms, from exactly these waits
// (perf sched timehist: an M migrated onto its sibling's CPU, the sibling
// runnable there for 5.4 ms). The swaps came from Ms taking whichever idle
// P came first: an M without a P took the first idle P with a due timer
// (take_idle_p_with_work), though that P's own M was idle and spinning for
// that very deadline (Note [Timer lead]); the two then crossed over. So an
// M without a P leaves alone an idle P whose only work is due timers or
// completions while the P's own M idles waiting on it (M::waits_for: it
// waits in that P's ring until that P's next deadline; an M that cannot
// wait in the ring sleeps on its futex and is not counted as waiting).
// Queued goroutines are still taken by
// any M, and sysmon's catch-all still wakes a P whose due work nobody takes.
// After: 170-250 calls per M in 3 s, p99 49-90 us (docs/ORDERS.md). Having
// pidle_get_locked prefer an M's own P as well was tried and dropped: it
// changed nothing here and made the 4-P spawn burst ~15 % slower.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <cstring>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "io/ring.hpp"
#include "sched/hooks.hpp"
#include "sched/sanitizer.hpp"
#include "sched/sched.hpp"
#include "sched/signals.hpp"
#include "sched/syscall.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

// REQUIRES: Sched::lock held. `idle` true: pp joins the idle list.
void account_idle_locked(P* pp, bool idle) noexcept GMP_REQUIRES(sched.lock) {
  std::int64_t now = nanotime();
  pp->idle_seq.fetch_add(1, std::memory_order_acq_rel);
  std::int64_t since = pp->idle_since_ns.load(std::memory_order_relaxed);
  if (idle) {
    if (since < 0) pp->idle_since_ns.store(now, std::memory_order_relaxed);
  } else if (since >= 0) {
    pp->idle_ns.store(pp->idle_ns.load(std::memory_order_relaxed) + (now - since), std::memory_order_relaxed);
    pp->idle_since_ns.store(-1, std::memory_order_relaxed);
  }
  pp->idle_seq.fetch_add(1, std::memory_order_release);
}

}  // namespace

std::int64_t p_busy_ns(const P* pp, std::int64_t now) noexcept {
  for (;;) {
    std::uint32_t s0 = pp->idle_seq.load(std::memory_order_acquire);
    if (s0 & 1) continue;
    std::int64_t idle = pp->idle_ns.load(std::memory_order_relaxed);
    std::int64_t since = pp->idle_since_ns.load(std::memory_order_relaxed);
    std::int64_t created = pp->created_ns.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (pp->idle_seq.load(std::memory_order_relaxed) != s0) continue;
    if (since >= 0 && now > since) idle += now - since;
    std::int64_t busy = now - created - idle;
    return busy > 0 ? busy : 0;
  }
}

void pidle_put_locked(P* pp) noexcept GMP_REQUIRES(sched.lock) {
  // A P given up while the world stops is stopped, not idled (Go's
  // handoffp/gcstopm): every path that frees a P comes here.
  if (sched.stw_waiting.load(std::memory_order_relaxed)) {
    stw_stop_p_locked(pp);
    return;
  }
  pp->m.store(nullptr, std::memory_order_relaxed);
  account_idle_locked(pp, true);
  pp->status.store(PStatus::kIdle, std::memory_order_seq_cst);  // Note [Inbox hand-off]
  pp->idle_link = sched.pidle;
  sched.pidle = pp;
  sched.npidle.fetch_add(1, std::memory_order_seq_cst);
}

P* pidle_get_locked(M* to) noexcept GMP_REQUIRES(sched.lock) {
  P* pp = sched.pidle;
  if (pp == nullptr) return nullptr;
  sched.pidle = pp->idle_link;
  pp->idle_link = nullptr;
  account_idle_locked(pp, false);
  pp->m.store(to, std::memory_order_release);  // as in handoff_locked
  pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
  sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
  return pp;
}

bool pidle_remove_locked(P* pp, M* to) noexcept GMP_REQUIRES(sched.lock) {
  for (P** link = &sched.pidle; *link != nullptr; link = &(*link)->idle_link) {
    if (*link == pp) {
      *link = pp->idle_link;
      pp->idle_link = nullptr;
      account_idle_locked(pp, false);
      pp->m.store(to, std::memory_order_release);  // as in handoff_locked
      pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
      sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
      return true;
    }
  }
  return false;
}

void handoff_locked(M* mp, P* pp) noexcept GMP_REQUIRES(sched.lock) {
  mp->nextp = pp;
  // Release: mp may be new (newm), and racy readers of P::m that look into
  // the M (the stopper's boost and slow-stop snapshot, sysmon) load with
  // acquire.
  pp->m.store(mp, std::memory_order_release);
}

void m_waking_locked(M* mp) noexcept GMP_REQUIRES(sched.lock) {
  if (!mp->waking) {
    mp->waking = true;
    sched.nwaking++;
  }
}

void acquirep(M* mp, P* pp) noexcept {
  mp->p = pp;
  run_p_acquire_hooks(mp, pp);  // the pool's inline path follows this M's P (sched/hooks.hpp)
  pp->m.store(mp, std::memory_order_relaxed);
  pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
  P* extra = nullptr;
  bool extra_spinning = false;
  {
    LockGuard lk(sched.lock);
    pp->home_m = mp;
    if (mp->waking) {  // Note [Waking Ms]
      mp->waking = false;
      sched.nwaking--;
      extra = mp->nextp;  // handed one while we took this one
      extra_spinning = mp->nextp_spinning;
      mp->nextp = nullptr;
      mp->nextp_spinning = false;
    }
  }
  if (extra != nullptr) startm(extra, extra_spinning);  // its spinning count goes with it
  if (sched.cfg.pin && pp->cpu >= 0 && mp->pinned_cpu.load(std::memory_order_relaxed) != pp->cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pp->cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) {
      mp->pinned_cpu.store(pp->cpu, std::memory_order_relaxed);
    }
  }
}

void releasep(M* mp) noexcept {
  P* pp = mp->p;
  pp->curg.store(nullptr, std::memory_order_relaxed);
  run_p_release_hooks(mp, pp);  // the pool's slot, the elision owner hint (sched/hooks.hpp)
  mp->p = nullptr;
}

namespace {

// REQUIRES: sched.lock held.
M* mget_locked(P* pp) noexcept GMP_REQUIRES(sched.lock) {
  M* want = pp != nullptr ? pp->home_m : nullptr;
  M** link = &sched.midle;
  if (want != nullptr && want->idle) {
    for (; *link != nullptr; link = &(*link)->idle_link) {
      if (*link == want) break;
    }
  }
  if (*link == nullptr) link = &sched.midle;
  M* mp = *link;
  if (mp == nullptr) return nullptr;
  *link = mp->idle_link;
  mp->idle_link = nullptr;
  mp->idle = false;
  return mp;
}

// Claims the P handed to mp (or null), with the spinning count a hand-off
// to a waking M carries (Note [Waking Ms]); mp is no longer waking.
P* claim_nextp_locked(M* mp) noexcept GMP_REQUIRES(sched.lock) {
  if (mp->waking) {
    mp->waking = false;
    sched.nwaking--;
  }
  P* pp = mp->nextp;
  mp->nextp = nullptr;
  if (mp->nextp_spinning) {
    mp->nextp_spinning = false;
    if (mp->spinning) {
      sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    } else {
      mp->spinning = true;  // as startm sets it for a parked M
    }
  }
  return pp;
}

// A waking M not yet handed a P, pp's own M first (Note [Waking Ms]).
M* waking_m_locked(P* pp) noexcept GMP_REQUIRES(sched.lock) {
  if (sched.nwaking == 0) return nullptr;
  if (M* home = pp->home_m; home != nullptr && home->waking && home->nextp == nullptr) return home;
  for (M* mp : sched.allm) {
    if (mp->waking && mp->nextp == nullptr) return mp;
  }
  return nullptr;
}

void* m_main(void* arg) {
  M* mp = static_cast<M*>(arg);
  setm(mp);
  mp->g0.is_g0 = true;
  mp->curg = &mp->g0;
  san_g0_init(&mp->g0);
  {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* addr = nullptr;
      size_t size = 0;
      pthread_attr_getstack(&attr, &addr, &size);
      mp->g0.stack.lo = static_cast<char*>(addr);
      mp->g0.stack.hi = static_cast<char*>(addr) + size;
      pthread_attr_destroy(&attr);
    }
  }
  signals_init_thread(mp);
  // Timers wake parked Ms: the default 50 us timer slack would be their error.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  char name[16];
  std::snprintf(name, sizeof name, "gmp-m%d", mp->id);
  pthread_setname_np(pthread_self(), name);
  run_m_start_hooks(mp);
  P* pp = nullptr;
  {
    LockGuard lk(sched.lock);
    pp = claim_nextp_locked(mp);
  }
  // Its P was taken back by a stop-the-world before it ran (Note [P in
  // transit]): park like any idle M until handed one.
  while (pp == nullptr && !sched.stopping.load(std::memory_order_acquire)) pp = stopm(mp, -1);
  if (pp != nullptr) {
    acquirep(mp, pp);
    m_schedule_loop(mp);
  }
  {
    // Under sched.lock: a goroutine back from a blocking call during stop
    // runs on to its next switch on this P once pp->m is null (syscall.cpp).
    LockGuard lk(sched.lock);
    if (P* held = mp->p) {
      releasep(mp);
      held->m.store(nullptr, std::memory_order_relaxed);
      syscall_wake_waiters_locked();  // one may wait for this P to run on to its exit
    }
  }
  run_m_stop_hooks(mp);
  signals_fini_thread(mp);
  setm(nullptr);
  return nullptr;
}

}  // namespace

M* newm(P* pp, bool spinning) noexcept {
  M* mp = new M();
  {
    LockGuard lk(sched.lock);
    mp->id = static_cast<int>(sched.allm.size());
    if (pp != nullptr) handoff_locked(mp, pp);
    mp->spinning = spinning;
    mp->rand_state = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(mp->id + 1);
    sched.allm.push_back(mp);
  }
  sched.mcount.fetch_add(1, std::memory_order_relaxed);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // g0 runs the scheduler and, on overflow reports, nothing big.
  pthread_attr_setstacksize(&attr, 256 * 1024);
  // Block signals in Ms so that process signals go to the user's threads.
  sigset_t all, old;
  sigfillset(&all);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGFPE);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGABRT);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int r = pthread_create(&mp->thread, &attr, m_main, mp);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  GMP_CHECK(r == 0, "runtime: cannot create thread for M %d: %s", mp->id, std::strerror(r));
  return mp;
}

void startm(P* pp, bool spinning) noexcept {
  UniqueLock lk(sched.lock);
  if (sched.stopping.load(std::memory_order_relaxed)) {
    if (pp != nullptr) pidle_put_locked(pp);
    if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  if (pp == nullptr) {
    pp = pidle_get_locked(nullptr);
    if (pp == nullptr) {
      lk.unlock();
      if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
  } else if (sched.stw_waiting.load(std::memory_order_relaxed)) {
    // A stop is pending: the stopper gets the P now rather than after an M
    // has woken up to give it back (Note [P in transit]).
    stw_stop_p_locked(pp);
    lk.unlock();
    if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  M* mp = mget_locked(pp);
  if (mp == nullptr) {
    if (M* wm = waking_m_locked(pp)) {  // Note [Waking Ms]: it is awake already
      handoff_locked(wm, pp);
      wm->nextp_spinning = spinning;
      return;
    }
    lk.unlock();
    newm(pp, spinning);
    return;
  }
  handoff_locked(mp, pp);
  mp->spinning = spinning;
  lk.unlock();
  sched.n_unparks.fetch_add(1, std::memory_order_relaxed);
  GMP_PROBE_M_UNPARK(mp->id, pp->id);
  mp->park.wakeup();
  run_m_wake_hooks(mp);  // it may wait in a ring (io/ring.cpp, Note [Idle M in its ring])
}

P* stw_take_handed_p_locked() noexcept GMP_REQUIRES(sched.lock) {
  for (M* mp : sched.allm) {
    P* pp = mp->nextp;
    if (pp == nullptr) continue;
    mp->nextp = nullptr;
    if (mp->waking) {  // handed while awake (Note [Waking Ms]): the count is in nextp_spinning
      if (mp->nextp_spinning) sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      mp->nextp_spinning = false;
      return pp;
    }
    m_waking_locked(mp);  // woken, it will find no P
    if (mp->spinning) {
      // Set by the waker and read by the M only after it has claimed nextp
      // under sched.lock, which it now finds empty.
      mp->spinning = false;
      sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    }
    return pp;
  }
  return nullptr;
}

void wakep_idle() noexcept {
  int expected = 0;
  if (sched.nmspinning.load(std::memory_order_relaxed) != 0 ||
      !sched.nmspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
    return;
  }
  startm(nullptr, true);
}

void wake_idle_p(P* pp) noexcept {
  {
    LockGuard lk(sched.lock);
    if (!pidle_remove_locked(pp, nullptr)) return;  // someone took it: its M checks the inbox
  }
  startm(pp, false);
}

void poke_idle_p(P* pp) noexcept {
  LockGuard lk(sched.lock);
  if (pp->status.load(std::memory_order_relaxed) != PStatus::kIdle) return;
  M* mp = pp->home_m;
  if (mp != nullptr && mp->idle) {
    mp->park.wakeup();
    run_m_wake_hooks(mp);
  }
}

P* stopm(M* mp, std::int64_t deadline_ns) noexcept { return stopm_in_ring(mp, deadline_ns, nullptr); }

// Note [Timer lead]
// A timed futex or io_uring wait returns late by the kernel's timer and
// wake-up latency: on this kind of VM ~50 us at the median and 85-145 us at
// the 99th percentile for a plain thread with 1 ns timer slack. A goroutine
// sleeping 1 ms would inherit all of it. So an idle M whose deadline is a
// timer sleeps until deadline - lead and spins (cpu_relax, watching for a
// hand-off, a poke, a completion in its ring, the stop) for the rest. The
// lead is the M's own estimate of the ~99.9th percentile of its wake-up
// lateness — a fixed-step quantile tracker: +999 steps when a wake-up was
// later than the estimate, -1 step otherwise, so it settles where 0.1 % of
// wake-ups are later (the 99th percentile of sleeps must be on time, after
// the hand-back's own few microseconds; p99.5 left it at 50-70 us here) —
// capped by Config::timer_lead. Where timers are
// precise (bare metal, an idle host) the estimate stays small and so does
// the spin; it is never a polling loop: the M sleeps until the last lead
// before each deadline. Cost: up to `lead` of CPU per timer wake-up of an
// idle M (docs/SCHEDULER.md has the figures).
namespace {

// After a wait until slept_until (a time still ahead when the wait began if
// `timed`): learns the lateness of a timed wake-up, then spins to
// deadline_ns. Returns true if ring_p got events while spinning.
bool timer_lead_spin(M* mp, std::int64_t slept_until, bool timed, std::int64_t deadline_ns, P* ring_p) noexcept {
  if (mp->park.signaled()) return false;  // handed a P or poked: not a timeout
  std::int64_t now = nanotime();
  if (now < slept_until) return false;     // spurious early return
  if (timed) {  // a wait that began after slept_until tells nothing of the kernel
    constexpr std::int64_t kStep = 100;   // ns
    if (now - slept_until > mp->timer_late_ns) {
      mp->timer_late_ns += 999 * kStep;
    } else if (mp->timer_late_ns >= kStep) {
      mp->timer_late_ns -= kStep;
    }
  }
  if (now >= deadline_ns) return false;
  const std::int64_t start = now;
  bool ring_event = false;
  while (now < deadline_ns) {
    for (int i = 0; i < 16; i++) cpu_relax();
    if (mp->park.signaled() || sched.stopping.load(std::memory_order_relaxed)) break;
    if (ring_p != nullptr && io_ring_has_events(ring_p)) {
      ring_event = true;
      break;
    }
    now = nanotime();
  }
  sched.n_timer_lead_wakeups.fetch_add(1, std::memory_order_relaxed);
  sched.n_timer_lead_spin_ns.fetch_add(static_cast<std::uint64_t>(now - start), std::memory_order_relaxed);
  return ring_event;
}

}  // namespace

// stopm, waiting in ring_p's io_uring instead of the futex when ring_p is not
// null (Note [Idle M in its ring] in io/ring.cpp): returns null as soon as
// that ring has completions, so the caller takes ring_p back and reaps them.
P* stopm_in_ring(M* mp, std::int64_t deadline_ns, P* ring_p) noexcept {
  {
    LockGuard lk(sched.lock);
    if (sched.stopping.load(std::memory_order_relaxed)) return nullptr;
    if (P* pp = claim_nextp_locked(mp)) return pp;  // handed one on our way here (Note [Waking Ms])
    mp->park.clear();
    mp->idle = true;
    mp->idle_link = sched.midle;
    sched.midle = mp;
  }
  sched.n_parks.fetch_add(1, std::memory_order_relaxed);
  GMP_PROBE_M_PARK(mp->id, -1);
  for (;;) {
    bool ring_event = false;
    // Note [Timer lead]: sleep until a little before the deadline.
    std::int64_t sleep_until = deadline_ns;
    bool timed = false;
    if (deadline_ns >= 0) {
      std::int64_t cap = sched.cfg.timer_lead.count();
      sleep_until = deadline_ns - (mp->timer_late_ns < cap ? mp->timer_late_ns : cap);
      timed = sleep_until > nanotime();
    }
    if (ring_p != nullptr) {
      ring_event = io_idle_wait(mp, ring_p, sleep_until);
    } else {
      mp->park.sleep(sleep_until);
    }
    if (deadline_ns >= 0 && !ring_event) ring_event = timer_lead_spin(mp, sleep_until, timed, deadline_ns, ring_p);
    LockGuard lk(sched.lock);
    if (mp->nextp != nullptr) return claim_nextp_locked(mp);  // the waker took us off the idle list
    bool stopping = sched.stopping.load(std::memory_order_relaxed);
    if (stopping || mp->park.signaled() || deadline_ns >= 0 || ring_event) {
      // Stopping, poked, or the deadline may have passed: leave the idle list.
      if (mp->idle) {
        for (M** link = &sched.midle; *link != nullptr; link = &(*link)->idle_link) {
          if (*link == mp) {
            *link = mp->idle_link;
            break;
          }
        }
        mp->idle = false;
        mp->idle_link = nullptr;
      }
      if (!stopping && !ring_event && mp->nextp == nullptr && deadline_ns >= 0 && !mp->park.signaled() &&
          nanotime() < deadline_ns) {
        // Spurious early return: go back on the idle list.
        mp->idle = true;
        mp->idle_link = sched.midle;
        sched.midle = mp;
        continue;
      }
      if (!stopping) m_waking_locked(mp);  // Note [Waking Ms]
      return nullptr;
    }
  }
}

void resetspinning(M* mp) noexcept {
  mp->spinning = false;
  int n = sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst) - 1;
  GMP_CHECK(n >= 0, "runtime: negative spinning M count");
  // We were the last spinner and found work: there may be more, so make sure
  // somebody keeps looking.
  if (n == 0) wakep();
}

}  // namespace gmp::detail
