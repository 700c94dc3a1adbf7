// sched/schedule.cpp — switching between goroutines: spawn, run, yield,
// park, ready, exit.
//
// Note [Deferred switch action]
// A goroutine that gives up its M cannot requeue or publish itself before its
// context is saved: another M could resume it on a half-saved stack. So it
// records what must happen to it in M::pending, switches (directly to the
// next G when its P has one, else to the M's g0), and the context that resumes
// on this M runs the action in finish_switch(): requeue (yield), publish to a
// waker (park's commit), or recycle (exit). One switch per hand-off, no trip
// through g0 on the fast path.
//
// Note [TLS across switches]
// A goroutine may park on one M and resume on another. The compiler may keep
// the address of a thread_local in a register across a call, which would then
// point at the old thread's copy (brpc#3520). Every runtime read of the
// current M goes through getm(), which reads this thread's TLS afresh on every
// call: a volatile asm load relative to %fs on x86-64 (with a memory clobber,
// so it is not moved across the switch call), elsewhere a call that is never
// inlined nor analysed interprocedurally. No local M* or P* is used after a
// switch returns.
//
// Note [Where a woken G goes]
// ready(gp) puts gp in the waker's runnext slot (Go's goready): a ping-pong
// pair then stays on one P and shares one time slice (runnext inherits it).
// Exception: if gp's last P is looking for work (its M is spinning), gp goes
// to that P's inbox instead, where it runs within a microsecond or so, on the
// P whose caches it warmed, without waiting for the waker to block. After a
// runnext put the waker calls wakep() as Go does: it costs two loads unless a
// P idles while no M spins, and it bounds how long a G waits in runnext behind
// a waker that keeps running. (Skipping it when runnext was empty made
// 2-P ping-pong ~1.5x faster but left such a G to sysmon, which sleeps up to
// 10 ms when idle.)

// Note [Inbox hand-off]
// Waker: push to lp->inbox (seq_cst), then load lp->status; if kIdle, take lp
// off the idle list and start an M on it. Idler: store status = kIdle
// (seq_cst, under Sched::lock), then check every inbox before parking. In any
// interleaving one of the two sees the other, so a G is never left in the
// inbox of a parked P.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>

#include "arch/context.hpp"
#include "gmp/go.hpp"
#include "base/check.hpp"
#include "base/clock.hpp"
#include "sched/latency.hpp"
#include "sched/sanitizer.hpp"
#include "sched/sched.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

Sched sched;

// The current M (m.hpp getm() reads it by this assembler name).
[[gnu::tls_model("initial-exec")]] thread_local M* tls_m asm("gmp_tls_m") = nullptr;

namespace {
const std::atomic<std::uint32_t> kNeverPreempt{0};
}  // namespace

#if !defined(__x86_64__) || defined(GMP_GETM_OUT_OF_LINE)
[[gnu::noipa]] M* getm() noexcept { return tls_m; }
#endif
void setm(M* mp) noexcept { tls_m = mp; }

namespace {

// errno is per thread and a goroutine may resume on another thread; glibc's
// __errno_location is declared const, so the compiler may keep its result
// across the switch and restore errno into the old thread's copy (ThreadSanitizer
// caught it). Read and write it so that nothing is cached across the switch
// (Note [TLS across switches]).
#if defined(__x86_64__) && !defined(GMP_GETM_OUT_OF_LINE)
// glibc's errno lives in the static TLS block, at the same offset from the
// thread pointer in every thread: computed once at load time (a plain
// global, not a function-local static with its guard on every switch), then
// errno is accessed with one %fs-relative volatile asm (same reasoning as
// getm()).
std::intptr_t compute_errno_tp_offset() noexcept {
  char* tp;
  asm("movq %%fs:0, %0" : "=r"(tp));
  return reinterpret_cast<char*>(&errno) - tp;
}
const std::intptr_t errno_tp_offset = compute_errno_tp_offset();
int errno_get() noexcept {
  int e;
  asm volatile("movl %%fs:(%1), %0" : "=r"(e) : "r"(errno_tp_offset) : "memory");
  return e;
}
void errno_set(int e) noexcept { asm volatile("movl %0, %%fs:(%1)" : : "r"(e), "r"(errno_tp_offset) : "memory"); }
#else
[[gnu::noipa]] int errno_get() noexcept { return errno; }
[[gnu::noipa]] void errno_set(int e) noexcept { errno = e; }
#endif

void finish_switch(G* prev) noexcept;
void g_entry(void* from) noexcept;

// Switches from cur to next on mp. Returns when cur is resumed, possibly on
// another M: nothing read from mp before the switch is valid after it.
// Inlined into its two callers (one call level less on every hand-off).
[[gnu::always_inline]] inline void switch_to(M* mp, G* cur, G* next) noexcept {
  if (next->sp == nullptr) {
    // First run: bind a stack now (g.hpp), preferably the one freed last.
    int err = g_bind_stack(mp->p, next);
    if (err != 0) {
      fatal(
          "runtime: cannot map a goroutine stack of %zu KiB: %s%s", stack_class_bytes(next->stack_cls) / 1024,
          std::strerror(-err),
          err == -ENOMEM ? " (raise vm.max_map_count, or a smaller Config::stack_size, for more live goroutines)" : "");
    }
    next->sp = ctx_make(next->stack.hi - 64, g_entry);
  }
  next->status.store(GStatus::kRunning, std::memory_order_relaxed);
  next->m.store(mp, std::memory_order_relaxed);
  mp->curg = next;
  P* pp = mp->p;
  if (!next->is_g0) {
    next->last_p.store(pp, std::memory_order_relaxed);
    pp->curg.store(next, std::memory_order_release);  // pairs with sysmon/STW acquire loads
    GMP_PROBE_G_RUN(next->id, pp->id, mp->id);
    sched_latency_on_run(pp, next);
  } else if (pp != nullptr) {
    pp->curg.store(nullptr, std::memory_order_relaxed);
  }
  int saved_errno = errno_get();
  san_start_switch(cur, next, mp->pending.kind == PendingKind::kExit);
  void* from = gmp_ctx_switch(&cur->sp, next->sp, cur);
  finish_switch(static_cast<G*>(from));
  errno_set(saved_errno);
}

// Runs on whatever context was just switched to (Note [Deferred switch action]).
void finish_switch(G* prev) noexcept {
  M* mp = getm();
  san_finish_switch(mp->curg);
  PendingAction act = mp->pending;
  mp->pending.kind = PendingKind::kNone;
  switch (act.kind) {
    case PendingKind::kNone:
      break;
    case PendingKind::kYield:
      if (runq_put(mp->p, prev, false)) wakep();
      break;
    case PendingKind::kPreempt:
      ready_global(prev);
      break;
    case PendingKind::kPark:
      if (!act.commit(act.arg)) {
        // The wait was satisfied before it began: run prev next.
        prev->status.store(GStatus::kRunnable, std::memory_order_relaxed);
        sched_latency_mark_runnable(prev);
        prev->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
        if (runq_put(mp->p, prev, true)) wakep();
      }
      break;
    case PendingKind::kExit:
      gfput(mp->p, prev);
      break;
  }
  // Due poll sources of a busy P (timers, io completions; Go runs
  // checkTimers in every schedule): a P that always has a next G never
  // reaches find_runnable's poll. Every 16th switch, and only here, after
  // prev's action: before it, a completion could ready a G whose park has
  // not been committed yet.
  P* pp = mp->p;
  if (pp != nullptr && (pp->n_switches.load(std::memory_order_relaxed) & 15) == 0 &&
      (sched.stop_requested.load(std::memory_order_relaxed) & ~kStopRequestedSafePoint) == 0) {  // else about to stop
    std::int64_t d = poll_sources_deadline(pp);
    if (d >= 0) {
      std::int64_t now = nanotime();
      if (d <= now) poll_sources(pp, now);
    }
  }
}

// The next G for pp without leaving the current context: every 61st tick the
// global queue first, then runnext, ring, inbox, then the global queue.
// REQUIRES: the caller owns pp.
[[gnu::always_inline]] inline G* pick_next_fast(P* pp, bool* inherit) noexcept {
  *inherit = false;
  if (pp->schedtick.load(std::memory_order_relaxed) % 61 == 0 &&
      sched.gq_size.load(std::memory_order_relaxed) > 0) {
    if (G* gp = globrunq_get(pp, 1)) return gp;
  }
  if (G* gp = runq_get(pp, inherit)) return gp;
  if (sched.gq_size.load(std::memory_order_relaxed) > 0) return globrunq_get(pp, 0);
  return nullptr;
}

// The time slice is over for the whole runnext chain that shared it: start a
// new slice, and send the chain's next G to the back of the ring so the Gs
// queued behind the chain run first (else a pair respawning or waking each
// other through runnext would keep the P forever).
// REQUIRES: the caller owns pp.
void end_slice(P* pp) noexcept {
  pp->schedtick.store(pp->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (G* next = pp->runq.runnext.exchange(nullptr, std::memory_order_acq_rel)) runq_put(pp, next, false);
}

// Counts a switch to a G on pp: a new time slice unless the G inherits the
// current one (runnext), and the switch counter sysmon watches.
// REQUIRES: the caller owns pp (owner-only writers: plain increments, no
// locked RMW; readers are sysmon and stats).
[[gnu::always_inline]] inline void count_switch(P* pp, bool inherit) noexcept {
  if (!inherit) pp->schedtick.store(pp->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  pp->n_switches.store(pp->n_switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Gives up the current goroutine's M after recording what to do with it.
// Every switch is a safe point: if sysmon ended the slice, honour it here.
// Inlined into its callers: park, yield, preemption and exit each get their
// own copy of the hand-off.
// REQUIRES: called on a goroutine.
[[gnu::always_inline]] inline void schedule_from_g(PendingKind kind, bool (*commit)(void*), void* arg) noexcept {
  M* mp = getm();
  G* cur = mp->curg;
  P* pp = mp->p;
  if (cur->preempt.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    cur->preempt.store(0, std::memory_order_relaxed);
    end_slice(pp);
  }
  mp->pending = PendingAction{kind, cur, commit, arg};
  G* next = nullptr;
  bool inherit = false;
  if (sched.stop_requested.load(std::memory_order_relaxed) == 0) next = pick_next_fast(pp, &inherit);
  if (next != nullptr) {
    count_switch(pp, inherit);
  } else {
    next = &mp->g0;
  }
  switch_to(mp, cur, next);
}

[[noreturn]] void goexit(G* gp) noexcept {
  P* pp = getp();
  GMP_PROBE_G_EXIT(gp->id, pp->id);
  gp->status.store(GStatus::kDead, std::memory_order_relaxed);
  pp->n_exited.fetch_add(1, std::memory_order_relaxed);
  sched.n_live.fetch_sub(1, std::memory_order_relaxed);
  schedule_from_g(PendingKind::kExit, nullptr, nullptr);
  fatal("runtime: dead goroutine %llu resumed", static_cast<unsigned long long>(gp->id));
}

void g_entry(void* from) noexcept {
  finish_switch(static_cast<G*>(from));
  G* gp = getm()->curg;
  gp->started = true;
  try {
    gp->run(gp->closure);
  } catch (const std::exception& e) {
    fatal("runtime: goroutine %llu: unhandled exception: %s", static_cast<unsigned long long>(gp->id), e.what());
  } catch (...) {
    fatal("runtime: goroutine %llu: unhandled exception of unknown type", static_cast<unsigned long long>(gp->id));
  }
  goexit(gp);
}

}  // namespace

// ---- spawn -------------------------------------------------------------------

G* g_new(std::size_t closure_size, std::size_t closure_align, const SpawnOptions& opts) {
  GMP_CHECK(sched.running.load(std::memory_order_acquire),
            "runtime: gmp::go called while the runtime is not running (call gmp::start or gmp::run first)");
  M* mp = getm();
  P* pp = mp != nullptr ? mp->p : nullptr;
  std::size_t want = opts.stack_size != 0 ? opts.stack_size : sched.cfg.stack_size;
  int cls = stack_class_for(want < kMinStackBytes ? kMinStackBytes : want);
  GMP_CHECK(cls >= 0, "runtime: goroutine stack of %zu KiB is larger than the %zu KiB maximum", want / 1024,
            kMaxStackBytes / 1024);
  G* gp = gfget(pp);
  gp->stack_cls = cls;
  if (closure_size <= G::kInlineClosure && closure_align <= 16) {
    gp->closure = gp->closure_buf;
    gp->closure_on_heap = false;
  } else {
    std::size_t align = closure_align < 16 ? 16 : closure_align;
    gp->closure = std::aligned_alloc(align, (closure_size + align - 1) & ~(align - 1));
    GMP_CHECK(gp->closure != nullptr, "runtime: out of memory for a %zu-byte spawn closure", closure_size);
    gp->closure_on_heap = true;
  }
  gp->sp = nullptr;  // the stack is bound at first run
  __atomic_store_n(&gp->id, sched.goid_gen.fetch_add(1, std::memory_order_relaxed) + 1, __ATOMIC_RELAXED);  // g_id_relaxed
  G* parent = (mp != nullptr && mp->curg != nullptr && !mp->curg->is_g0) ? mp->curg : nullptr;
  gp->parent_id = parent != nullptr ? parent->id : 0;
  gp->creator_pc = __builtin_return_address(0);
  gp->preempt.store(0, std::memory_order_relaxed);
  gp->last_p.store(pp, std::memory_order_relaxed);
  gp->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
  gp->started = false;
  gp->runnable_at_ns = 0;  // a descriptor discarded by stop() may carry a stamp
  return gp;
}

void* g_closure(G* gp) noexcept { return gp->closure; }

void g_start(G* gp, void (*run)(void*), void (*destroy)(void*)) noexcept {
  gp->run = run;
  gp->destroy = destroy;
  gp->state_since_ns.store(sched.coarse_now_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
  gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  sched_latency_mark_runnable(gp);
  sched.n_live.fetch_add(1, std::memory_order_relaxed);
  M* mp = getm();
  P* pp = mp != nullptr ? mp->p : nullptr;
  GMP_PROBE_G_CREATE(gp->id, gp->parent_id, stack_class_bytes(gp->stack_cls));
  if (pp == nullptr) {
    sched.n_created_outside.fetch_add(1, std::memory_order_relaxed);
    ready_global(gp);
    return;
  }
  pp->n_created.fetch_add(1, std::memory_order_relaxed);
  runq_put(pp, gp, true);
  wakep();
  // Spawning is a safe point.
  if (mp->curg->preempt.load(std::memory_order_relaxed) != 0 && !mp->curg->is_g0) preempt_slow();
}

// ---- park / ready ------------------------------------------------------------

void park(G* gp, WaitReason reason, bool (*commit)(void*), void* arg) noexcept {
  gp->wait_reason.store(reason, std::memory_order_relaxed);
  gp->state_since_ns.store(sched.coarse_now_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
  gp->status.store(GStatus::kWaiting, std::memory_order_relaxed);
  GMP_PROBE_G_PARK(gp->id, static_cast<int>(reason), getp()->id);
  schedule_from_g(PendingKind::kPark, commit, arg);
  gp->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
}

void ready(G* gp) noexcept {
  GStatus st = gp->status.load(std::memory_order_relaxed);
  GMP_CHECK(st == GStatus::kWaiting, "runtime: ready of goroutine %llu in state %s",
            static_cast<unsigned long long>(gp->id), gstatus_name(st));
  gp->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  gp->state_since_ns.store(sched.coarse_now_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
  sched_latency_mark_runnable(gp);
  M* mp = getm();
  P* pp = mp != nullptr ? mp->p : nullptr;
  if (GMP_PROBE_ENABLED(g_ready)) {
    G* waker = getg();
    GMP_PROBE_G_READY(gp->id, waker != nullptr ? waker->id : 0, pp != nullptr ? pp->id : -1);
  }
  if (pp == nullptr) {
    ready_global(gp);
    return;
  }
  // Note [Where a woken G goes].
  P* lp = gp->last_p.load(std::memory_order_relaxed);
  if (lp != nullptr && lp != pp && lp->searching.load(std::memory_order_seq_cst)) {
    lp->inbox.push(gp);
    if (lp->status.load(std::memory_order_seq_cst) == PStatus::kIdle) wake_idle_p(lp);
    return;
  }
  runq_put(pp, gp, true);
  // Go's rule: cheap (two loads) unless a P idles with no M spinning; not
  // for a G this M's scheduler is about to run (M::poll_for_self).
  if (!mp->poll_for_self) wakep();
}

void ready_global(G* gp) noexcept {
  {
    LockGuard lk(sched.lock);
    globrunq_put_locked(gp);
  }
  wakep();
}

// ---- the M loop ------------------------------------------------------------

void m_schedule_loop(M* mp) noexcept {
  for (;;) {
    bool inherit = false;
    G* gp = find_runnable(mp, &inherit);
    if (gp == nullptr) return;
    if (mp->spinning) resetspinning(mp);
    P* pp = mp->p;
    pp->searching.store(false, std::memory_order_relaxed);
    count_switch(pp, inherit);
    switch_to(mp, &mp->g0, gp);
    // Back on g0: finish_switch ran prev's pending action.
  }
}

// Runs each goroutine's closure destructor for Gs that never started, at stop.
void g_discard(G* gp) noexcept {
  if (!gp->started && gp->closure != nullptr && gp->destroy != nullptr) gp->destroy(gp->closure);
}

}  // namespace gmp::detail

// ---- public API --------------------------------------------------------------

namespace gmp {

std::uint64_t current_id() noexcept {
  detail::G* gp = detail::getg();
  return gp != nullptr ? gp->id : 0;
}

bool in_goroutine() noexcept { return detail::getg() != nullptr; }

void yield() noexcept {
  using namespace detail;
  M* mp = getm();
  G* cur = mp != nullptr ? mp->curg : nullptr;
  if (cur == nullptr || cur->is_g0) {
    std::this_thread::yield();
    return;
  }
  cur->preempt.store(0, std::memory_order_relaxed);
  P* pp = mp->p;
  if (pp->runq.empty() && pp->inbox.empty() && sched.gq_size.load(std::memory_order_relaxed) == 0 &&
      sched.stop_requested.load(std::memory_order_relaxed) == 0) {
    return;  // nothing else to run here
  }
  cur->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  sched_latency_mark_runnable(cur);
  schedule_from_g(PendingKind::kYield, nullptr, nullptr);
}

namespace detail {

const std::atomic<std::uint32_t>* preempt_flag() noexcept {
  M* mp = getm();
  if (mp == nullptr || mp->curg == nullptr) return &kNeverPreempt;
  return &mp->curg->preempt;
}

void preempt_slow() noexcept {
  M* mp = getm();
  G* cur = mp->curg;
  std::uint32_t why = cur->preempt.exchange(0, std::memory_order_relaxed);
  // The running G is not parking, so nothing reaped here can be mid-park:
  // polling on its stack is safe (see finish_switch).
  // A stop-the-world waits for this P: poll after the restart, not now. A
  // safe-point function (safepoint.cpp) waits for it too: the G yields and
  // stays on this P, as for a stop, but due timers are still polled (the
  // caller may be asleep on one).
  const std::uint32_t req = sched.stop_requested.load(std::memory_order_relaxed);
  const bool stw = (req & kStopRequestedStw) != 0;
  const bool keep_p = (req & (kStopRequestedStw | kStopRequestedSafePoint)) != 0;
  int readied = 0;
  if (P* pp = mp->p; pp != nullptr && !stw) {
    std::int64_t d = poll_sources_deadline(pp);
    std::int64_t now = d >= 0 ? nanotime() : 0;
    if (d >= 0 && d <= now) readied = poll_sources(pp, now);
  }
  if (why == kPreemptPoll && !stw) {
    // Only asked to poll: let what it readied run, else carry on.
    if (readied > 0) yield();
    return;
  }
  end_slice(mp->p);
  cur->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  sched_latency_mark_runnable(cur);
  // Asked by a stop-the-world: stay on this P (its queue restarts with it)
  // rather than go to the global queue as a hog does.
  schedule_from_g(keep_p ? PendingKind::kYield : PendingKind::kPreempt, nullptr, nullptr);
}

}  // namespace detail
}  // namespace gmp
