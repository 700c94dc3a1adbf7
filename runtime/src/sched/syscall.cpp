// sched/syscall.cpp — gmp::blocking: system calls io_uring cannot do (Go's
// entersyscall / exitsyscall / retake / handoffp).
//
// Note [Syscall token]
// A P in a blocking call has P::status == kSyscall and a non-zero token in
// sys_state[P::id], unique per call (P id and a per-P sequence). Whoever
// CASes the token to 0 owns the P: the returning M (fast path: it keeps its
// P) or sysmon (retake: it hands the P to another M). The token, not the
// status, is the CAS target, so a P that was retaken and has since entered a
// new blocking call under another M cannot be taken back by the first M
// (the ABA Go avoids with syscalltick). The status is stored before the
// token is published, so that nobody can own the P while our kSyscall store
// is still to land (entersyscall).
//
// Retake rule (Go's retake): a call seen with the same token on two
// consecutive sysmon ticks (≥ 20 µs) is retaken if its P has work — queued
// goroutines, a non-empty global queue, I/O in flight on its ring, or a due
// poll source — or if no P idles and no M spins, or after 10 ms anyway.
//
// Slow exit: the M lost its P. It takes an idle P if there is one, else it
// waits (a "syscall waiter") until an M that runs out of work hands it its P
// (find.cpp gives a P to a waiter before putting it on the idle list), so
// the goroutine, still on this M's stack, resumes on that P.
#include "sched/syscall.hpp"

#include <mutex>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/go.hpp"
#include "gmp/io.hpp"
#include "io/ring.hpp"
#include "sched/hooks.hpp"
#include "sched/sysmon.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

struct alignas(64) SysState {
  std::atomic<std::uint64_t> token{0};  // Note [Syscall token]
  std::uint64_t seq = 0;                // owner M only
  std::uint64_t seen_token = 0;         // sysmon only
  std::int64_t seen_since_ns = 0;       // sysmon only
};
SysState sys_state[kMaxProcs];

struct SysWaiter {
  M* mp = nullptr;
  P* got = nullptr;  // guarded by sched.lock
  Note note;
  SysWaiter* next = nullptr;
};
SysWaiter* waiters = nullptr;  // guarded by sched.lock
// Waiters handed a P that they have not claimed yet (their futex wake-up is
// on its way; Note [P in transit] in idle.cpp), linked by next. Guarded by
// sched.lock.
SysWaiter* granted = nullptr;

constexpr std::int64_t kForceRetakeNs = 10'000'000;

void handoffp(P* pp, bool work) noexcept {
  io_counters.handoffs.fetch_add(1, std::memory_order_relaxed);
  if (work) {
    startm(pp, false);
    return;
  }
  LockGuard lk(sched.lock);
  if (!syscall_waiter_take_locked(pp)) pidle_put_locked(pp);
}

void retake(std::int64_t now) noexcept {
  for (int i = 0; i < sched.nprocs; i++) {
    SysState& s = sys_state[i];
    std::uint64_t tok = s.token.load(std::memory_order_acquire);
    if (tok == 0) continue;
    if (tok != s.seen_token) {
      s.seen_token = tok;
      s.seen_since_ns = now;
      continue;  // first sight: give it one tick
    }
    P* pp = sched.allp[i];
    bool work = !pp->runq.empty() || !pp->inbox.empty() || sched.gq_size.load(std::memory_order_relaxed) > 0 ||
                io_inflight(pp) > 0 || syscall_n_waiters.load(std::memory_order_relaxed) > 0;
    if (!work) {
      std::int64_t d = poll_sources_deadline(pp);
      work = d >= 0 && d <= now;
    }
    bool others = sched.npidle.load(std::memory_order_relaxed) + sched.nmspinning.load(std::memory_order_relaxed) > 0;
    if (!work && others && now - s.seen_since_ns < kForceRetakeNs) continue;
    if (!s.token.compare_exchange_strong(tok, 0, std::memory_order_acq_rel)) continue;
    s.seen_token = 0;
    pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);  // owned by us until handed
    handoffp(pp, work);
  }
}

struct HookRegistrar {
  HookRegistrar() { sysmon_add_hook({"retake", retake}); }
} hook_registrar;

}  // namespace

namespace {

// Note [Stop requests and blocking calls]
// A goroutine that leaves gmp::blocking resumes without passing a safe
// point, on a P that a stop-the-world may already wait for: its stop
// request can have missed it (the stopper's pass found the P in the call,
// or handed to this M but not running). So exitsyscall publishes the G as
// its P's curg (seq_cst) and then reads the stop flag (seq_cst), while the
// stopper sets the flag and then reads curg (stw/stop.cpp): one of the two
// sees the other, and the G yields at its next safe point. entersyscall is
// one: a G flagged there stops before its call rather than leaving its P
// in kSyscall for the stopper's next check.
void flag_if_stw_pending(G* gp) noexcept {
  if ((sched.stop_requested.load(std::memory_order_seq_cst) & kStopRequestedStw) != 0) {
    gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
  }
}

// REQUIRES: sched.lock held; *link is a waiter.
void waiter_take_locked(SysWaiter** link, P* pp) noexcept GMP_REQUIRES(sched.lock) {
  SysWaiter* w = *link;
  *link = w->next;
  syscall_n_waiters.fetch_sub(1, std::memory_order_relaxed);
  pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
  pp->m.store(w->mp, std::memory_order_relaxed);
  w->got = pp;
  w->next = granted;
  granted = w;
  w->note.wakeup();
}

}  // namespace

bool syscall_waiter_can_take_locked() noexcept GMP_REQUIRES(sched.lock) {
  // While the world stops a waiter gets no P: start_the_world hands them out.
  return waiters != nullptr && !sched.stw_waiting.load(std::memory_order_relaxed);
}

bool syscall_waiter_take_locked(P* pp) noexcept GMP_REQUIRES(sched.lock) {
  if (!syscall_waiter_can_take_locked()) return false;
  waiter_take_locked(&waiters, pp);
  return true;
}

P* syscall_waiter_revoke_locked() noexcept GMP_REQUIRES(sched.lock) {
  SysWaiter* w = granted;
  if (w == nullptr) return nullptr;
  granted = w->next;
  P* pp = w->got;
  w->got = nullptr;
  w->next = waiters;
  waiters = w;
  syscall_n_waiters.fetch_add(1, std::memory_order_relaxed);
  return pp;
}

void syscall_wake_waiters_locked() noexcept GMP_REQUIRES(sched.lock) {
  for (SysWaiter* w = waiters; w != nullptr; w = w->next) w->note.wakeup();
}

std::atomic<int> syscall_n_waiters{0};
std::atomic<int> syscall_n_blocking{0};

void syscall_reset() noexcept {
  for (SysState& s : sys_state) {
    s.token.store(0, std::memory_order_relaxed);
    s.seen_token = 0;
  }
}

bool syscall_waiter_take_m_locked(M* mp, P* pp) noexcept GMP_REQUIRES(sched.lock) {
  if (sched.stw_waiting.load(std::memory_order_relaxed)) return false;
  for (SysWaiter** l = &waiters; *l != nullptr; l = &(*l)->next) {
    if ((*l)->mp == mp) {
      waiter_take_locked(l, pp);
      return true;
    }
  }
  return false;
}

bool syscall_stop_p(P* pp, std::uint64_t* tok_out) noexcept {
  SysState& s = sys_state[pp->id];
  std::uint64_t tok = s.token.load(std::memory_order_acquire);
  if (tok == 0 || !s.token.compare_exchange_strong(tok, 0, std::memory_order_acq_rel)) return false;
  *tok_out = tok;
  return true;
}

void syscall_restore_p(P* pp, std::uint64_t tok) noexcept {
  // The M is still in its call (no waiter took the P): give the P back to
  // the call, so that it returns on the fast path; sysmon may retake it.
  pp->status.store(PStatus::kSyscall, std::memory_order_seq_cst);
  sys_state[pp->id].token.store(tok, std::memory_order_seq_cst);
}

std::uint64_t entersyscall() noexcept {
  io_counters.blocking_calls.fetch_add(1, std::memory_order_relaxed);
  M* mp = getm();
  if (mp == nullptr || mp->p == nullptr || mp->curg == nullptr || mp->curg->is_g0) return 0;
  // A runtime call is a safe point. Above all for a stop-the-world: a P that
  // enters a call after the stopper's pass is caught only at its next check
  // (Note [Stop requests and blocking calls]).
  if (mp->curg->preempt.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    preempt_slow();
    mp = getm();  // it may resume on another M
  }
  P* pp = mp->p;
  SysState& s = sys_state[pp->id];
  std::uint64_t tok = (static_cast<std::uint64_t>(pp->id + 1) << 48) | (++s.seq & 0xFFFF'FFFF'FFFFULL);
  GMP_PROBE_SYSCALL_BLOCK_ENTER(mp->curg->id, pp->id);
  // The call may allocate from the pool while sysmon hands our P to another
  // M: from here to exitsyscall this M uses the pool as a foreign thread,
  // never the P's cache (two Ms would share it).
  mp->in_blocking = true;
  syscall_n_blocking.fetch_add(1, std::memory_order_relaxed);
  // The P may be another M's before we are back: the pool's slot and the
  // elision owner hint (Note [Owner hint] in sync/elided_lock.hpp) go with it.
  run_p_release_hooks(mp, pp);
  // Status before token: whoever takes the P takes it by CAS of the token
  // (a stop-the-world, sysmon's retake) and then writes the status, so the
  // token must not be takeable while our kSyscall store is still to come.
  // In the other order a stopper that read the previous call's kSyscall
  // could take this call's token, stop the P, and then have our store turn
  // the stopped P back into kSyscall in the middle of the stop
  // (Stw.GoroutineLoopingOnBlockingCallsStops, ~1 run in 100).
  pp->status.store(PStatus::kSyscall, std::memory_order_seq_cst);
  s.token.store(tok, std::memory_order_seq_cst);
  return tok;
}

std::uint64_t entersyscallblock() noexcept {
  std::uint64_t tok = entersyscall();
  if (tok == 0) return 0;
  int pid = static_cast<int>(tok >> 48) - 1;
  P* pp = sched.allp[pid];
  bool work = !pp->runq.empty() || !pp->inbox.empty() || sched.gq_size.load(std::memory_order_relaxed) > 0 ||
              io_inflight(pp) > 0 || syscall_n_waiters.load(std::memory_order_relaxed) > 0;
  // The call will block: give the P away now (to an M if there is work,
  // else to a waiter or the idle list) rather than after sysmon's ticks.
  std::uint64_t want = tok;
  if (sys_state[pid].token.compare_exchange_strong(want, 0, std::memory_order_acq_rel)) {
    pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
    handoffp(pp, work);
  }
  return tok;
}

void exitsyscall(std::uint64_t tok) noexcept {
  if (tok == 0) return;
  int pid = static_cast<int>(tok >> 48) - 1;
  P* pp = sched.allp[pid];
  SysState& s = sys_state[pid];
  M* mp = getm();
  G* gp = mp->curg;
  mp->in_blocking = false;
  syscall_n_blocking.fetch_sub(1, std::memory_order_relaxed);
  std::uint64_t want = tok;
  if (s.token.compare_exchange_strong(want, 0, std::memory_order_acq_rel)) {
    // curg first: a stop-the-world may have stopped the P meanwhile, cleared
    // it and given the P back to the call.
    pp->curg.store(gp, std::memory_order_seq_cst);
    pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
    run_p_acquire_hooks(mp, pp);  // the P is ours again: its cache too
    GMP_PROBE_SYSCALL_BLOCK_EXIT(gp->id, pp->id, 0);
    flag_if_stw_pending(gp);
    return;
  }
  // Sysmon handed our P to another M.
  mp->p = nullptr;
  P* np = nullptr;
  SysWaiter w;
  w.mp = mp;
  {
    LockGuard lk(sched.lock);
    np = pidle_get_locked(mp);
    if (np == nullptr) {
      w.next = waiters;
      waiters = &w;
      syscall_n_waiters.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (np == nullptr) {
    for (;;) {
      // Woken when handed a P, or when the runtime stops (then also when
      // the M that held our P lets it go). No periodic wake-up: it would
      // preempt the M running on this M's CPU every time (the deadline is
      // only a backstop).
      w.note.sleep(nanotime() + 100'000'000);
      LockGuard lk(sched.lock);
      if (w.got != nullptr) {
        np = w.got;
        for (SysWaiter** l = &granted; *l != nullptr; l = &(*l)->next) {
          if (*l == &w) {
            *l = w.next;
            break;
          }
        }
        break;
      }
      // The runtime stops: leave the waiters and run the goroutine to its
      // next switch on the old P once the M that held it has let it go on
      // its way out (m_main releases it under sched.lock, which orders its
      // last writes to the P before ours; docs/IO.md).
      if (sched.stopping.load(std::memory_order_relaxed) && pp->m.load(std::memory_order_relaxed) == nullptr) {
        for (SysWaiter** l = &waiters; *l != nullptr; l = &(*l)->next) {
          if (*l == &w) {
            *l = w.next;
            syscall_n_waiters.fetch_sub(1, std::memory_order_relaxed);
            break;
          }
        }
        np = pp;
        break;
      }
      w.note.clear();
    }
  }
  acquirep(mp, np);
  gp->last_p.store(np, std::memory_order_relaxed);
  np->curg.store(gp, std::memory_order_seq_cst);
  GMP_PROBE_SYSCALL_BLOCK_EXIT(gp->id, np->id, 1);
  flag_if_stw_pending(gp);
}

}  // namespace gmp::detail
