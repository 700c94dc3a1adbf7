// stw/stop.cpp — stop_the_world / start_the_world (Go's
// stopTheWorldWithSema / startTheWorldWithSema).
//
// Note [STW state machine]
// A P's status during a stop (p.hpp):
//
//   kIdle ─────────── taken off the idle list by the stopper ─────────┐
//   kSyscall ──────── stopper CASes its syscall token (Note [Syscall   │
//                     token] in sched/syscall.cpp) ───────────────────┤
//   kRunning ──┬───── its M reaches find_runnable (a safe point sent   ├─► kStopped
//              │      its G to g0) and gives the P up (stw_park_m in  │
//              │      sched/find.cpp)                                  │
//              └───── its M frees it any other way: every path goes   │
//                     through pidle_put_locked, which stops it ───────┘
//   the caller's own P (a goroutine stopper) counts as stopped at once.
//
// Sequence (one stopper at a time, serialized by world_mu, Go's worldsema):
//   1. decision: t0, generation++, probe stw_begin;
//   2. under sched.lock: stw_waiting = true and the kStopRequestedStw bit of
//      stop_requested (every switch then goes to g0, so a G's next safe
//      point ends in find_runnable), stopwait = nprocs, then stop what can be
//      stopped without waiting (idle, syscall, the caller's P), and set the
//      preempt flag of every running G;
//   3. wait until stopwait == 0 (all_stopped): spin (500 µs raised, 50 µs
//      for another goroutine, 20 µs for a plain thread), then sleep on
//      stw_note in 100 µs steps; every step re-flags running Gs (an M that
//      was on g0 may have picked a new G) and retries Ps that entered a
//      blocking call; after the hog threshold report once which G on which
//      P holds it;
//   4. stopped: probe stw_stopped(stopping ns); the caller works;
//   5. start_the_world, under sched.lock: clear the flags; first the Ps
//      stopped in a blocking call: the call's M gets its own P back if the
//      call returned (it waits in exitsyscall), else the P goes back to the
//      call when it has no queued work (its exitsyscall then takes the fast
//      path: a stop does not turn blocking calls into P waiters); then the
//      others: a P goes straight back to its M when that M still spins for
//      the restart (Note [Stopped Ms spin for the restart]; the M passes it
//      on to an exitsyscall waiter if there is one), else to a waiter, else
//      an M is started on it if it has work (queued Gs, io in flight,
//      timers), else it idles; then wakep, probe stw_end(total ns).
//
// Invariants while stopped: every P in [0, nprocs) is kStopped, no M runs a
// goroutine except the caller, the idle list is empty (so wakep, poke and
// wake_idle_p find nothing to start), and no syscall waiter gets a P.
// Nested: the thread that holds the world may stop it again; only the
// outermost start restarts it.
//
// Note [Bounded stops]
// A goroutine that reaches no safe point (a loop without runtime calls, a
// raw blocking system call) keeps its P running, so a stop that waits for
// it waits for ever. What a user triggers from outside (SIGQUIT's dump,
// SIGHUP's config reload, gmp::set_procs) stops with try_stop_the_world:
// at its bound the stopper stops waiting and holds the world as it is, the
// Ps stopped so far stopped and the others still running, and says which
// goroutine on which P did not stop. A dump proceeds like that (the running
// goroutine is shown as running, its stack unread); a reload or resize,
// which needs every P, restarts the world and fails with that line. The
// restart leaves a P that is still running alone (its M never stopped);
// should it stop meanwhile, it is stopped like any other and restarted.
// Unbounded stop_the_world (the program's own) still waits, reporting the
// goroutine it waits for after the hog threshold.
//
// Note [Stopped Ms spin for the restart]
// A goroutine stopper's pause lasts microseconds, while waking a parked M
// costs tens of µs in a VM (futex wake, IPI, vCPU wake-up), and the
// restart then waits on startm's futex_wake for each M. So an M that stops
// its P for a goroutine stopper (stw_park_m in sched/find.cpp) does not
// park at once: it registers in spinners[P id] and spins for Config::spin
// (as an M looking for work does), watching its slot; start_the_world,
// under sched.lock, hands that P straight back (status kRunning, P::m set,
// handoff published) instead of startm. The spinner gives up under
// sched.lock when its time is over, the world restarted without handing it
// the P (a syscall waiter took it), or the runtime stops: since both sides
// decide under sched.lock, a P is handed to a spinner exactly when it is
// still registered, and a spinner that gave up is woken by startm as before.
// Not with a plain-thread stopper: with as many busy Ms as CPUs the stopper
// is the extra thread, and Ms spinning on the other CPUs would compete with
// it for a CPU (and the pause of a thread stopper is not the one we cut).
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/go.hpp"
#include "io/ring.hpp"
#include "sched/sched.hpp"
#include "sched/syscall.hpp"
#include "stw/boost.hpp"
#include "stw/explain.hpp"
#include "stw/reasons.hpp"
#include "stw/stw.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

std::mutex world_mu;                      // held from stop to start (Go's worldsema)
std::atomic<std::uintptr_t> owner{0};     // pthread_self of world_mu's holder, 0 if none
// Owner only (the thread that holds world_mu):
int depth = 0;
gmp::stw::Reason cur_reason = gmp::stw::Reason::kUser;
std::uint64_t cur_gen = 0;
std::int64_t cur_t0 = 0;
std::int64_t cur_stopping = 0;
P* caller_p = nullptr;
bool self_boosted = false;  // the stopper's own thread is raised (Note [STW boost])
bool boost_open = false;    // boosts are still allowed in this stop (until kBoostMaxNs)

// The syscall token of each P stopped in a blocking call (0: none). Owner
// only (the stopper; read and cleared at start under sched.lock).
std::uint64_t syscall_tok[kMaxProcs];
M* syscall_m[kMaxProcs];
// The G last flagged on each P by this stop (compared, never dereferenced).
// Owner only.
G* flagged[kMaxProcs];

// Step 3's wait: all_stopped is set (by whoever stops the last P, under
// sched.lock) when stopwait reaches 0; the stopper spins on it and only a
// stopper that has announced its sleep (stopper_asleep) is woken through the
// futex, so the last P to stop costs no system call while the stopper spins.
// Both seq_cst: the stopper stores asleep then loads all_stopped, the waker
// stores all_stopped then loads asleep (one of them sees the other).
std::atomic<bool> all_stopped{false};
std::atomic<bool> stopper_asleep{false};

// Note [Stopped Ms spin for the restart]. spin_ok and spinners[i].m are
// guarded by sched.lock; granted is set under sched.lock by
// start_the_world (release) and cleared by the M it names (acquire), so a
// spinner left over from an earlier stop never takes another M's P.
bool spin_ok GMP_GUARDED_BY(sched.lock) = false;  // this stop's stopper is a goroutine
struct Spinner {
  M* m GMP_GUARDED_BY(sched.lock) = nullptr;  // the M spinning for P i, registered
  std::atomic<M*> granted{nullptr};   // P i is handed to this M
};
Spinner spinners[kMaxProcs];
std::atomic<std::uint64_t> n_spin_handoffs{0};

std::atomic<std::uint64_t> gen_counter{0};
std::atomic<std::int64_t> hog_threshold_ns{10'000'000};
std::atomic<std::uint64_t> n_hog_reports{0};

// How long the stopper spins on all_stopped before it sleeps. A sleeping
// stopper notices the last P a futex wake-up later (tens of µs in a VM,
// 0.1-1 ms under load: "stopper_wakeup" in Note [Slow stops explained]).
// A raised goroutine stopper (Note [STW boost]: pinned to a CPU no other P
// shares) has a CPU with nothing else to do for the runtime while its own P
// is stopped, so it spins long; any other goroutine stopper may share its
// CPU with the M it waits for, and a plain thread competes with the Ms.
constexpr std::int64_t kSpinRaisedNs = 500'000;
constexpr std::int64_t kSpinGoroutineNs = 50'000;
constexpr std::int64_t kSpinThreadNs = 20'000;
constexpr std::int64_t kSleepStepNs = 100'000;
// Boosts (Note [STW boost] in stw/boost.cpp) are dropped this long after
// the decision even if their M has not stopped, and none is made after: a
// goroutine without a safe point must not keep other threads off its CPU.
constexpr std::int64_t kBoostMaxNs = 2'000'000;
constexpr std::int64_t kNever = INT64_MAX;
// While spinning, step 3 looks for something to retry this often (without
// the lock; it was every 64 spins, ~40 µs here, which was the whole stop
// when a P entered a blocking call just after the first pass).
constexpr std::int64_t kRecheckNs = 2'000;

// The calling thread. Never inlined: pthread_self is declared const, and a
// goroutine that yields may resume on another thread (Note [TLS across
// switches] in sched/schedule.cpp).
[[gnu::noipa]] std::uintptr_t self_id() noexcept { return static_cast<std::uintptr_t>(pthread_self()); }

// Takes world_mu. A goroutine must not block its M on it: the holder may be
// waiting for this very P to stop. It yields instead, which, once the holder
// has set the stop flag, parks this P like any other.
void acquire_world() noexcept {
  if (getg() == nullptr) {
    world_mu.lock();
    return;
  }
  while (!world_mu.try_lock()) {
    gmp::yield();
    for (int i = 0; i < 64; i++) cpu_relax();
  }
}

// Takes sched.lock for the stopper and the restart. sched.lock is a plain
// std::mutex: a contended lock() sleeps in the kernel and costs a futex
// wake-up (tens of µs in a VM) where the holder, typically the M that just
// stopped the last P, keeps it for well under a microsecond. So try for a
// few µs first, when the caller has a CPU of its own (an M, a goroutine
// stopper). Not for a plain-thread stopper: on a machine whose Ms fill the
// CPUs the holder may be the M it displaced, and spinning only delays it
// (measured: +50 µs on the restart's median).
//
// A boosted stopper (Note [STW boost] in stw/boost.cpp) that still has not
// got the lock boosts its holder before it sleeps on it: the holder is
// usually an M whose thread another process's thread has preempted, which
// would keep the lock for the rest of its time slice (ms; traced).
//
// The stopper also tells Note [Slow stops explained] how long it slept on
// the lock and who held it.
enum class LockBy { kM, kStopper };
class GMP_SCOPED_CAPABILITY SchedLock {
 public:
  // kM: an M (it has its CPU: spin first). kStopper: the thread that holds
  // the world (spins when it is a goroutine, boosts the holder when it is
  // raised itself), from the stopper's own state.
  explicit SchedLock(LockBy by = LockBy::kM) noexcept GMP_ACQUIRE(sched.lock) {
    const bool stopper = by == LockBy::kStopper;
    const bool spin = !stopper || caller_p != nullptr;
    for (int i = 0; spin && i < 256; i++) {
      if (sched.lock.try_lock()) return;
      for (int k = 0; k < 8; k++) cpu_relax();
    }
    if (!stopper) {
      sched.lock.lock();
      return;
    }
    if (sched.lock.try_lock()) return;
    // glibc records the owner's tid in the mutex; a stale read boosts an M
    // for nothing (it is restored at the end of the wait or restart) or
    // names the wrong holder. Another libc: no holder to name, no boost.
#if defined(__GLIBC__)
    const int holder = __atomic_load_n(&sched.lock.native_handle()->__data.__owner, __ATOMIC_RELAXED);
#else
    const int holder = 0;
#endif
    if (self_boosted && boost_open) stw_boost_lock_holder(caller_p, cur_gen, holder);
    const std::int64_t t = nanotime();
    sched.lock.lock();
    stw_explain_lock_wait(nanotime() - t, holder);
  }
  ~SchedLock() GMP_RELEASE() { sched.lock.unlock(); }
  SchedLock(const SchedLock&) = delete;
  SchedLock& operator=(const SchedLock&) = delete;
};

// Asks the G running on allp[i] to yield: always in a locked pass, and
// between them only a G this stop has not flagged yet.
// seq_cst: after the stop flag, against exitsyscall's curg store (Note
// [Stop requests and blocking calls] in sched/syscall.cpp).
void flag_curg(int i, P* pp, bool reassert) noexcept {
  G* gp = pp->curg.load(std::memory_order_seq_cst);
  if (gp != nullptr && (reassert || gp != flagged[i])) {
    gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
    flagged[i] = gp;
  }
}

// REQUIRES: sched.lock held.
void preempt_running_locked() noexcept GMP_REQUIRES(sched.lock) {
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp->status.load(std::memory_order_relaxed) == PStatus::kRunning) flag_curg(i, pp, true);
  }
}

// Step 3's check between locked passes (no lock; the stopper only): flags a
// G switched in on a running P since the last pass (the M had passed its
// stop check before the flag was set), and says whether a locked pass is
// needed for a P that entered a blocking call. Taking sched.lock every few
// µs would make the Ms that stop their P sleep on it.
bool recheck_needs_lock() noexcept {
  bool lock = false;
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    PStatus st = pp->status.load(std::memory_order_relaxed);
    if (st == PStatus::kSyscall) lock = true;
    if (st == PStatus::kRunning && pp != caller_p) flag_curg(i, pp, false);
  }
  return lock;
}

// Stops Ps whose M is in a blocking call (also those that entered one after
// the first pass). REQUIRES: sched.lock held.
void stop_syscall_ps_locked() noexcept GMP_REQUIRES(sched.lock) {
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    std::uint64_t tok = 0;
    if (pp->status.load(std::memory_order_acquire) == PStatus::kSyscall && syscall_stop_p(pp, &tok)) {
      syscall_tok[i] = tok;
      syscall_m[i] = pp->m.load(std::memory_order_relaxed);
      stw_stop_p_locked(pp);
    }
  }
}

// The hog report: once per stop, which goroutine on which P holds it.
void report_holder(std::int64_t waited_ns) noexcept {
  n_hog_reports.fetch_add(1, std::memory_order_relaxed);
  int holder = 0;
  const std::int64_t lock_ns = stw_explain_lock_waited(&holder);
  if (lock_ns * 2 >= waited_ns) {
    errorf("runtime: stop-the-world (%s, generation %llu) has waited %lld ms, %lld ms of them for the scheduler lock "
           "(held by thread %d)",
           gmp::stw::reason_name(cur_reason), static_cast<unsigned long long>(cur_gen),
           static_cast<long long>(waited_ns / 1'000'000), static_cast<long long>(lock_ns / 1'000'000), holder);
    return;
  }
  LockGuard lk(sched.lock);
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    PStatus st = pp->status.load(std::memory_order_relaxed);
    if (st == PStatus::kStopped) continue;
    G* gp = pp->curg.load(std::memory_order_acquire);
    M* mp = pp->m.load(std::memory_order_relaxed);
    // Blame the goroutine only if its M has been on a CPU (Note [Slow stops
    // explained] in stw/explain.cpp): an M held off its CPU, or asleep in
    // the kernel, makes no progress through any loop.
    LagAccount lag;
    // A window under 1 ms (the snapshot came late) says too little.
    const bool known = stw_explain_lag(pp->id, nanotime(), &lag) && lag.window_ns >= 1'000'000;
    const long long window_ms = known ? static_cast<long long>(lag.window_ns / 1'000'000) : 0;
    const bool at_fault = !known || stw_explain_lag_is_no_safe_point(lag);
    if (!at_fault && (lag.state == 'R' || lag.runnable_ns * 2 >= lag.window_ns)) {
      errorf("runtime: stop-the-world (%s, generation %llu) has waited %lld ms for P %d: its M %d (thread %d) has been "
             "runnable but off its CPU for most of the last %lld ms (on a CPU %lld ms): another thread holds the CPU",
             gmp::stw::reason_name(cur_reason), static_cast<unsigned long long>(cur_gen),
             static_cast<long long>(waited_ns / 1'000'000), pp->id, lag.m_id, lag.tid, window_ms,
             static_cast<long long>(lag.on_cpu_ns / 1'000'000));
    } else if (!at_fault) {
      errorf("runtime: stop-the-world (%s, generation %llu) has waited %lld ms for P %d: its M %d (thread %d, state %c) "
             "has been neither on a CPU nor runnable for most of the last %lld ms: blocked in the kernel, or its vCPU "
             "held by the host",
             gmp::stw::reason_name(cur_reason), static_cast<unsigned long long>(cur_gen),
             static_cast<long long>(waited_ns / 1'000'000), pp->id, lag.m_id, lag.tid, lag.state, window_ms);
    } else if (gp != nullptr) {
      errorf("runtime: stop-the-world (%s, generation %llu) has waited %lld ms for P %d: goroutine %llu (M %d) has "
             "not reached a safe point (add gmp::preempt_point() to its loop)",
             gmp::stw::reason_name(cur_reason), static_cast<unsigned long long>(cur_gen),
             static_cast<long long>(waited_ns / 1'000'000), pp->id, static_cast<unsigned long long>(gp->id),
             mp != nullptr ? mp->id : -1);
    } else {
      errorf("runtime: stop-the-world (%s, generation %llu) has waited %lld ms for P %d (M %d, no goroutine)",
             gmp::stw::reason_name(cur_reason), static_cast<unsigned long long>(cur_gen),
             static_cast<long long>(waited_ns / 1'000'000), pp->id, mp != nullptr ? mp->id : -1);
    }
  }
}

}  // namespace

void stw_stop_p_locked(P* pp) noexcept GMP_REQUIRES(sched.lock) {
  stw_explain_note_last(pp->id);
  pp->m.store(nullptr, std::memory_order_relaxed);
  pp->curg.store(nullptr, std::memory_order_relaxed);
  pp->status.store(PStatus::kStopped, std::memory_order_seq_cst);
  if (--sched.stopwait == 0) {
    all_stopped.store(true, std::memory_order_seq_cst);
    if (stopper_asleep.load(std::memory_order_seq_cst)) sched.stw_note.wakeup();
  }
}

bool stw_spin_register_locked(M* mp, P* pp) noexcept GMP_REQUIRES(sched.lock) {
  if (!spin_ok || sched.cfg.spin.count() <= 0) return false;
  spinners[pp->id].m = mp;
  return true;
}

P* stw_spin_for_restart(M* mp, P* pp) noexcept {
  Spinner& s = spinners[pp->id];
  auto take = [&]() noexcept {
    M* want = mp;
    return s.granted.load(std::memory_order_relaxed) == mp &&
           s.granted.compare_exchange_strong(want, nullptr, std::memory_order_acquire);
  };
  const std::int64_t until = nanotime() + sched.cfg.spin.count();
  for (;;) {
    for (int i = 0; i < 32; i++) cpu_relax();
    if (take()) return pp;
    if (sched.stw_waiting.load(std::memory_order_relaxed) && !sched.stopping.load(std::memory_order_relaxed) &&
        nanotime() < until) {
      continue;
    }
    // Give up (Note [Stopped Ms spin for the restart]): decided under the
    // lock start_the_world hands Ps out under.
    SchedLock lk;
    if (take()) return pp;
    if (s.m == mp) s.m = nullptr;
    return nullptr;
  }
}

std::uint64_t stw_spin_handoffs() noexcept { return n_spin_handoffs.load(std::memory_order_relaxed); }

P* stw_caller_p() noexcept { return caller_p; }
void stw_set_caller_p(P* pp) noexcept { caller_p = pp; }

// At gmp::start, before any M runs: spinners[i].m is written without
// sched.lock.
void stw_reset() noexcept GMP_NO_THREAD_SAFETY_ANALYSIS {
  for (int i = 0; i < kMaxProcs; i++) {
    syscall_tok[i] = 0;
    spinners[i].m = nullptr;
    spinners[i].granted.store(nullptr, std::memory_order_relaxed);
  }
  syscall_reset();
  stw_boost_reset();
  stw_explain_reset();
  n_spin_handoffs.store(0, std::memory_order_relaxed);
  gen_counter.store(0, std::memory_order_relaxed);
  n_hog_reports.store(0, std::memory_order_relaxed);
  stw_stats_reset();
}

}  // namespace gmp::detail

namespace gmp::stw {

namespace {

// Stops the world; gives up waiting for running Ps at bound_ns after the
// decision (kNever: waits for ever) and returns false, the world then held
// with those Ps still running (Note [Bounded stops]).
bool stop_impl(Reason reason, std::int64_t bound_ns) noexcept {
  using namespace detail;
  GMP_CHECK(sched.running.load(std::memory_order_acquire), "runtime: stop_the_world while the runtime is not running");
  M* mp = getm();
  GMP_CHECK(mp == nullptr || getg() != nullptr, "runtime: stop_the_world called on g0");
  const std::uintptr_t me = self_id();
  if (owner.load(std::memory_order_relaxed) == me) {
    depth++;  // nested: the world is already stopped by us
    return true;
  }
  acquire_world();
  owner.store(self_id(), std::memory_order_relaxed);  // not `me`: yielding may have moved us
  depth = 1;
  // Re-read: a goroutine that yielded in acquire_world may be on another M.
  mp = getm();
  caller_p = mp != nullptr ? mp->p : nullptr;
  if (G* gp = getg()) gp->preempt.store(0, std::memory_order_relaxed);  // the caller must not switch while it holds the world
  cur_reason = reason;
  // Note [STW boost]: a goroutine stopper on a pinned M runs the stop at
  // SCHED_FIFO, so another process's thread on its CPU cannot preempt it
  // for a time slice in the middle (raised before the decision: the
  // syscall is not part of the pause).
  self_boosted = caller_p != nullptr && sched.cfg.stw_boost.count() > 0 && stw_boost_raise_self(mp, caller_p);
  cur_gen = gen_counter.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::int64_t t0 = nanotime();
  cur_t0 = t0;
  GMP_PROBE_STW_BEGIN(static_cast<int>(reason), cur_gen);
  stw_explain_begin();
  stw_boost_begin();
  boost_open = sched.cfg.stw_boost.count() > 0 && stw_boost_permitted();
  {
    SchedLock lk(LockBy::kStopper);
    sched.stw_note.clear();
    all_stopped.store(false, std::memory_order_relaxed);
    spin_ok = caller_p != nullptr;
    sched.stw_waiting.store(true, std::memory_order_seq_cst);
    sched.stop_requested.fetch_or(kStopRequestedStw, std::memory_order_seq_cst);
    sched.stopwait = sched.nprocs + 1;  // +1 until the first pass is done
    for (int i = 0; i < sched.nprocs; i++) flagged[i] = nullptr;
    if (caller_p != nullptr) stw_stop_p_locked(caller_p);
    while (P* pp = pidle_get_locked(nullptr)) stw_stop_p_locked(pp);
    // Ps handed to an M or a syscall waiter that is not running yet (Note
    // [P in transit] in sched/idle.cpp).
    while (P* pp = stw_take_handed_p_locked()) stw_stop_p_locked(pp);
    while (P* pp = syscall_waiter_revoke_locked()) stw_stop_p_locked(pp);
    stop_syscall_ps_locked();
    preempt_running_locked();
    if (--sched.stopwait == 0) all_stopped.store(true, std::memory_order_relaxed);
  }
  // Wait for the running Ps (step 3 of the Note).
  const std::int64_t spin_until =
      t0 + (self_boosted ? kSpinRaisedNs : caller_p != nullptr ? kSpinGoroutineNs : kSpinThreadNs);
  // Note [Slow stops explained] (stw/explain.cpp): once, this far in.
  const std::int64_t snap_after = stw_explain_snapshot_after();
  std::int64_t snap_at = snap_after >= 0 ? t0 + snap_after : kNever;
  std::int64_t next_check = t0 + kRecheckNs;
  bool reported = false;
  // Note [STW boost]: from boost_at, raise the Ms of Ps still running (again
  // every recheck, for an M that took a P meanwhile; a sleeping stopper
  // wakes for the first pass only); drop them at drop_at.
  std::int64_t boost_at = boost_open ? t0 + sched.cfg.stw_boost.count() : kNever;
  std::int64_t drop_at = boost_open ? t0 + kBoostMaxNs : kNever;
  const std::int64_t give_up_at = bound_ns == kNever ? kNever : t0 + bound_ns;
  bool boost_passed = false;
  bool gave_up = false;
  while (!all_stopped.load(std::memory_order_acquire)) {
    std::int64_t now = nanotime();
    if (now >= give_up_at) [[unlikely]] {
      gave_up = true;
      break;
    }
    if (now >= snap_at) [[unlikely]] {
      snap_at = kNever;
      if (all_stopped.load(std::memory_order_acquire)) break;  // nothing left to observe
      stw_explain_snapshot(caller_p, now, all_stopped);
    }
    if (now >= boost_at) [[unlikely]] {
      stw_boost_lagging(caller_p, cur_gen);
      boost_passed = true;
      boost_at = now + kRecheckNs < drop_at ? now + kRecheckNs : kNever;
    }
    if (now >= drop_at) [[unlikely]] {
      stw_boost_drop_all(true);
      boost_at = drop_at = kNever;
      boost_open = false;
    }
    if (now < spin_until) {
      for (int i = 0; i < 16; i++) cpu_relax();
      if (now < next_check) continue;
      next_check = now + kRecheckNs;
      if (!recheck_needs_lock()) continue;
    } else {
      std::int64_t wake = now + kSleepStepNs;
      if (!boost_passed && boost_at < wake) wake = boost_at;
      if (drop_at < wake) wake = drop_at;
      if (give_up_at < wake) wake = give_up_at;
      stopper_asleep.store(true, std::memory_order_seq_cst);
      if (!all_stopped.load(std::memory_order_seq_cst)) sched.stw_note.sleep(wake);
      stopper_asleep.store(false, std::memory_order_relaxed);
      if (all_stopped.load(std::memory_order_acquire)) break;
      sched.stw_note.clear();
      now = nanotime();
    }
    {
      SchedLock lk(LockBy::kStopper);
      stop_syscall_ps_locked();
      preempt_running_locked();
    }
    if (!reported && now - t0 >= hog_threshold_ns.load(std::memory_order_relaxed)) {
      reported = true;
      report_holder(now - t0);
    }
  }
  const std::int64_t t1 = nanotime();
  stw_boost_drop_all(false);  // Ms whose P stopped on another path, lock holders
  cur_stopping = t1 - t0;
  stw_explain_stopped(t1);
  GMP_PROBE_STW_STOPPED(static_cast<int>(reason), cur_gen, cur_stopping);
#ifndef NDEBUG
  for (int i = 0; i < sched.nprocs && !gave_up; i++) {
    GMP_CHECK(sched.allp[i]->status.load() == PStatus::kStopped, "runtime: P %d not stopped after stop_the_world", i);
  }
#endif
  return !gave_up;
}

}  // namespace

void stop_the_world(Reason reason) noexcept { stop_impl(reason, detail::kNever); }

Status try_stop_the_world(Reason reason, std::chrono::nanoseconds bound) {
  using namespace detail;
  if (stop_impl(reason, bound.count() < 0 ? 0 : bound.count())) return {};
  std::string why;
  LockGuard lk(sched.lock);
  const std::int64_t now = nanotime();
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp->status.load(std::memory_order_relaxed) == PStatus::kStopped) continue;
    G* gp = pp->curg.load(std::memory_order_acquire);
    M* mp = pp->m.load(std::memory_order_relaxed);
    char buf[256];
    if (gp != nullptr) {
      const std::int64_t since = gp->state_since_ns.load(std::memory_order_relaxed);
      std::snprintf(buf, sizeof buf, "goroutine %llu on P %d (M %d, running %lld ms) has not reached a safe point",
                    static_cast<unsigned long long>(g_id_relaxed(gp)), pp->id, mp != nullptr ? mp->id : -1,
                    since > 0 && now > since ? static_cast<long long>((now - since) / 1'000'000) : 0LL);
    } else {
      std::snprintf(buf, sizeof buf, "P %d (M %d) has not stopped", pp->id, mp != nullptr ? mp->id : -1);
    }
    why += (why.empty() ? "" : "; ") + std::string(buf);
  }
  if (why.empty()) why = "a P stopped only as the bound passed";
  return Status::error("stop-the-world (" + std::string(reason_name(reason)) + ") gave up after " +
                       std::to_string(bound.count() / 1'000'000) + " ms: " + why);
}

void start_the_world() noexcept {
  using namespace detail;
  GMP_CHECK(owner.load(std::memory_order_relaxed) == self_id(),
            "runtime: start_the_world by a thread that did not stop the world");
  if (--depth > 0) return;
  P* work[kMaxProcs];
  int nwork = 0;
  bool given[kMaxProcs] = {};  // handed out by the first pass
  stw_boost_begin();  // for holders of sched.lock the restart boosts
  boost_open = self_boosted;
  {
    SchedLock lk(LockBy::kStopper);
    sched.stw_waiting.store(false, std::memory_order_seq_cst);
    sched.stop_requested.fetch_and(~kStopRequestedStw, std::memory_order_seq_cst);
    // First the Ps stopped in a blocking call (Note [Syscall token]): a call
    // that returned during the stop waits for a P, and gets its own back
    // (handing it another P and then restoring this one to a call that had
    // ended left a kSyscall P with a stale token, which sysmon later retook
    // while it sat on the idle list: a P on the list twice, another lost).
    // A call still running gets its P back in kSyscall, unless the P has
    // queued work (then an M runs it; the call's exitsyscall finds its token
    // gone and waits for a P like any M whose P was retaken).
    for (int i = 0; i < sched.nprocs; i++) {
      P* pp = sched.allp[i];
      std::uint64_t tok = syscall_tok[i];
      syscall_tok[i] = 0;
      if (tok == 0) continue;
      if (syscall_waiter_take_m_locked(syscall_m[i], pp)) {
        given[i] = true;
      } else if (pp->runq.empty() && pp->inbox.empty()) {
        // Its M is still in the call, or has just found its token gone and
        // is about to wait: then sysmon retakes the P for it (a waiter is
        // work) at its next tick.
        pp->m.store(syscall_m[i], std::memory_order_relaxed);
        syscall_restore_p(pp, tok);
        given[i] = true;
      }  // else it has work: the second pass gives it an M
    }
    for (int i = 0; i < sched.nprocs; i++) {
      P* pp = sched.allp[i];
      if (pp == caller_p) {
        pp->m.store(getm(), std::memory_order_relaxed);
        pp->curg.store(getg(), std::memory_order_release);
        pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
        continue;
      }
      M* spinner = spinners[i].m;  // cleared whoever gets the P: that M gives up
      spinners[i].m = nullptr;
      if (given[i]) continue;
      // A stop that gave up (Note [Bounded stops]): this P still runs.
      if (pp->status.load(std::memory_order_relaxed) != PStatus::kStopped) continue;
      if (spinner != nullptr) {
        // Its M still spins for the restart: hand the P straight back, work
        // or not (it looks for work and idles the P itself, as any M does).
        // If an M back from a blocking call waits for a P, the spinner
        // passes this P on to it (stw_park_m): the waiter still gets it
        // first, but its futex wake-up is made by the spinner, not here.
        pp->m.store(spinner, std::memory_order_relaxed);
        pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
        spinners[i].granted.store(spinner, std::memory_order_release);
        n_spin_handoffs.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (syscall_waiter_take_locked(pp)) continue;  // an M back from a blocking call
      bool has_work = !pp->runq.empty() || !pp->inbox.empty() || io_inflight(pp) > 0 ||
                      poll_sources_deadline(pp) >= 0;
      if (has_work) {
        pp->status.store(PStatus::kRunning, std::memory_order_seq_cst);
        work[nwork++] = pp;
      } else {
        pidle_put_locked(pp);
      }
    }
  }
  stw_boost_drop_all(false);
  boost_open = false;
  for (int i = 0; i < nwork; i++) startm(work[i], false);
  const std::int64_t total = nanotime() - cur_t0;
  stw_record(cur_reason, cur_gen, static_cast<std::uint64_t>(cur_stopping), static_cast<std::uint64_t>(total));
  GMP_PROBE_STW_END(static_cast<int>(cur_reason), cur_gen, total);
  stw_explain_finish(cur_reason, cur_gen, cur_stopping, total);
  caller_p = nullptr;
  owner.store(0, std::memory_order_relaxed);
  const bool restore_self = self_boosted;
  self_boosted = false;
  world_mu.unlock();
  wakep();  // the global queue may hold work for an idle P
  if (restore_self) stw_boost_restore_stopper(getm());
}

bool world_stopped() noexcept { return detail::sched.stw_waiting.load(std::memory_order_acquire); }

std::uint64_t generation() noexcept { return detail::gen_counter.load(std::memory_order_relaxed); }

void set_hog_report_threshold(std::chrono::nanoseconds t) noexcept {
  detail::hog_threshold_ns.store(t.count() < 0 ? 0 : t.count(), std::memory_order_relaxed);
}

std::uint64_t hog_reports() noexcept { return detail::n_hog_reports.load(std::memory_order_relaxed); }

}  // namespace gmp::stw
