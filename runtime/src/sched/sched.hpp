// sched/sched.hpp — the scheduler's global state and its internal API.
//
// Goroutine scheduler (after Go's proc.go):
//   G - goroutine (g.hpp). M - OS thread (m.hpp). P - logical processor
//   (p.hpp): an M must hold a P to run goroutines.
// Ps are fixed at start (procs), resized only under stop-the-world. Ms are
// created one per P at start, plus on demand when a P must run while its M is
// blocked in a system call.
//
// Where a runnable G can be, in the order an M looks (find_runnable):
//   1. every 61st tick, the global queue (fairness: two Gs respawning each
//      other in runnext/local cannot starve the global queue);
//   2. its P's runnext, then local ring, then inbox;
//   3. the global queue;
//   4. poll sources (timers, io completions) of its P;
//   5. other Ps: steal half of a random victim's ring, 4 passes over all Ps,
//      runnext too on the last pass;
//   6. spin (bounded: Config::spin), then give the P back and park.
//
// Spinning Ms (looking for work while holding a P) are at most half the busy
// Ps; when work is submitted and no M spins while a P is idle, one is woken
// (wakep). See Note [Delicate dance] in find.cpp for why no wake-up is lost.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "gmp/detail/thread_annotations.hpp"
#include "gmp/runtime.hpp"
#include "sched/g.hpp"
#include "sched/m.hpp"
#include "sched/p.hpp"

namespace gmp::detail {

inline constexpr int kMaxProcs = 256;

// A source of runnable goroutines outside the run queues (timers, io rings),
// polled by the scheduler. Registered once at static-init time.
struct PollSource {
  const char* name;
  // Makes ready whatever is due on pp (non-blocking). Returns how many Gs it
  // made runnable. Called by pp's owner.
  int (*poll)(P* pp, std::int64_t now_ns) noexcept;
  // The earliest CLOCK_MONOTONIC time at which poll(pp) will have work, or -1.
  // Called by any M (racy reads are fine: a stale answer wakes early or is
  // corrected by the next submit's wake-up).
  std::int64_t (*next_deadline)(P* pp) noexcept;
  // Optional: lets thief's M run or take victim's due work (Go steals
  // timers on the last steal pass so an idle P's timers do not fire late).
  // Called by thief's owner; victim may be running.
  void (*steal)(P* thief, P* victim, std::int64_t now_ns) noexcept;
};
void register_poll_source(const PollSource* src) noexcept;
void steal_poll_sources(P* thief, P* victim) noexcept;
// Wakes pp's parked M (if pp is idle) so that it recomputes its deadline:
// call after adding work with an earlier deadline to a P that may be idle.
void poke_idle_p(P* pp) noexcept;

struct Sched {
  Config cfg;  // resolved at start; read-only while running
  // [0, nprocs) are the Ps in use. Changed only under stop-the-world
  // (gmp::set_procs, stw/procresize.cpp): allp entries are written before
  // nprocs grows, and Ps in [nprocs, allp_len) stay allocated (kStopped), so
  // a racy reader (sysmon, a waker) never sees a freed P. Atomic for those
  // readers (plain reads elsewhere are the implicit seq_cst loads, a mov on
  // x86; the switch paths load it relaxed).
  std::atomic<int> nprocs{0};
  int allp_len = 0;    // Ps allocated, [0, allp_len); >= nprocs
  int procs_cap = 0;   // io rings made at start: set_procs may not go above
  P* allp[kMaxProcs] = {};

  // lock guards the idle lists, the global queue and M creation.
  ThreadMutex lock;
  P* pidle GMP_GUARDED_BY(lock) = nullptr;
  std::atomic<int> npidle{0};         // written under lock, read anywhere
  M* midle GMP_GUARDED_BY(lock) = nullptr;
  std::atomic<int> nmspinning{0};     // see Note [Spinning Ms] in find.cpp
  // Ms awake without a P on their way to acquirep or the idle list (Note
  // [Waking Ms] in idle.cpp).
  int nwaking GMP_GUARDED_BY(lock) = 0;

  // The global run queue: a FIFO of Gs linked by sched_link.
  G* gq_head GMP_GUARDED_BY(lock) = nullptr;
  G* gq_tail GMP_GUARDED_BY(lock) = nullptr;
  std::atomic<std::uint32_t> gq_size{0};  // written under lock, read anywhere

  // Every M ever started (they exit only at stop). Guarded by lock.
  std::vector<M*> allm;
  std::atomic<int> mcount{0};

  // Non-zero forces every M off the fast path into find_runnable (stop, or a
  // stop-the-world in progress). Read on every switch.
  // Bit 0: gmp::stop; bit 1: a stop-the-world (kStopRequestedStw); bit 2:
  // a safe-point function waits for running Ps (kStopRequestedSafePoint).
  std::atomic<std::uint32_t> stop_requested{0};
  // Safe-point functions (Note [Safe-point functions] in safepoint.cpp): the
  // current request's generation and function; one request at a time.
  std::atomic<std::uint64_t> sp_gen{0};
  std::atomic<void (*)(P*)> sp_fn{nullptr};
  ThreadMutex sp_mu;
  std::atomic<bool> stopping{false};
  // Stop-the-world (Note [STW state machine] in stw/stop.cpp).
  std::atomic<bool> stw_waiting{false};  // written under lock, read anywhere
  int stopwait GMP_GUARDED_BY(lock) = 0;  // Ps still to stop
  Note stw_note;                         // the stopper sleeps here; woken when stopwait reaches 0
  // CLOCK_MONOTONIC ns, refreshed by sysmon each tick (every 20 µs–10 ms):
  // for state timestamps that must not cost a clock read on the switch path.
  std::atomic<std::int64_t> coarse_now_ns{0};
  // sysmon's thread id (0 before it runs): names it when a slow stop waited
  // for a lock it held (Note [Slow stops explained] in stw/explain.cpp).
  std::atomic<int> sysmon_tid{0};
  std::atomic<bool> running{false};
  std::atomic<std::uint64_t> goid_gen{0};

  // Counters (relaxed).
  std::atomic<std::uint64_t> n_parks{0};
  std::atomic<std::uint64_t> n_unparks{0};
  std::atomic<std::uint64_t> n_hogs{0};
  std::atomic<std::uint64_t> n_preempt_requests{0};
  std::atomic<std::uint64_t> n_hog_moved{0};
  std::atomic<std::uint64_t> n_live{0};
  std::atomic<std::uint64_t> n_created_outside{0};
  std::atomic<std::uint64_t> n_timer_lead_wakeups{0};
  std::atomic<std::uint64_t> n_timer_lead_spin_ns{0};
};

inline constexpr std::uint32_t kStopRequestedStw = 2;
inline constexpr std::uint32_t kStopRequestedSafePoint = 4;

extern Sched sched;

// ---- stw/stop.cpp, syscall.cpp (stop-the-world) ------------------------------

// Stops pp for the stopper instead of idling it: status kStopped, one less P
// to wait for. REQUIRES: sched.lock held and sched.stw_waiting.
void stw_stop_p_locked(P* pp) noexcept GMP_REQUIRES(sched.lock);
// Takes back a P that startm handed to an M that has not claimed it yet
// (Note [P in transit] in idle.cpp), or returns null. The M parks again.
// REQUIRES: sched.lock held and sched.stw_waiting.
P* stw_take_handed_p_locked() noexcept GMP_REQUIRES(sched.lock);
// mp has just stopped pp (stw_park_m): true if it should spin for the
// restart rather than park (a goroutine stopper; Note [Stopped Ms spin for
// the restart] in stw/stop.cpp). REQUIRES: sched.lock held.
bool stw_spin_register_locked(M* mp, P* pp) noexcept GMP_REQUIRES(sched.lock);
// Spins (at most Config::spin) until start_the_world hands pp back to mp:
// returns pp, or null (give up and park). REQUIRES: registered, no lock held.
P* stw_spin_for_restart(M* mp, P* pp) noexcept;
// Takes a P whose M is in gmp::blocking for stop-the-world (CAS of its
// syscall token, Note [Syscall token]); the M's exitsyscall then waits for a
// P like any M whose P was retaken. True if taken (*tok: the call's token).
bool syscall_stop_p(P* pp, std::uint64_t* tok) noexcept;
// At start_the_world, for a P stopped by syscall_stop_p whose M has not come
// back: hands the P back to the call (kSyscall, token tok).
// REQUIRES: sched.lock held; no syscall waiter (exitsyscall has not failed).
void syscall_restore_p(P* pp, std::uint64_t tok) noexcept GMP_REQUIRES(sched.lock);

// ---- schedule.cpp ----------------------------------------------------------

// The P of the calling M, or null (not a runtime thread, or between Ps).
inline P* getp() noexcept {
  M* mp = getm();
  return mp != nullptr ? mp->p : nullptr;
}
// The running G on this thread, or null outside goroutines (g0 counts as none).
inline G* getg() noexcept {
  M* mp = getm();
  if (mp == nullptr) return nullptr;
  G* gp = mp->curg;
  return (gp != nullptr && !gp->is_g0) ? gp : nullptr;
}

// Parks the current goroutine gp (see gmp::detail::wait for `commit`).
// REQUIRES: gp == getg() != null (not g0, not a plain thread).
void park(G* gp, WaitReason reason, bool (*commit)(void*), void* arg) noexcept;
// Makes a parked G runnable (Note [Where a woken G goes] in schedule.cpp).
void ready(G* gp) noexcept;
// Puts gp on the global queue and wakes a P to run it. Any thread.
void ready_global(G* gp) noexcept;
// The M's loop on g0: find a G, run it, repeat until the runtime stops.
void m_schedule_loop(M* mp) noexcept;
// Runs pending poll sources for pp; returns how many Gs they readied.
int poll_sources(P* pp, std::int64_t now_ns) noexcept;
std::int64_t poll_sources_deadline(P* pp) noexcept;

// Runs the destructor of a G's closure if the G never started (stop()).
void g_discard(G* gp) noexcept;
void setm(M* mp) noexcept;
// The M loop's search (find.cpp): a G to run, or null when the runtime stops.
G* find_runnable(M* mp, bool* inherit) noexcept;

// ---- runq.cpp --------------------------------------------------------------

// Puts gp on pp's queue; `next` puts it in runnext (displacing the old
// occupant to the tail). Returns true if something went to the ring (so a
// spinning M could take it), false if gp only filled an empty runnext.
// REQUIRES: the caller owns pp.
bool runq_put_any(P* pp, G* gp, bool next) noexcept;
// Takes the next G from pp's runnext/ring/inbox. *inherit is set when the G
// came from runnext (it inherits the current time slice).
// REQUIRES: the caller owns pp.
G* runq_get_any(P* pp, bool* inherit) noexcept;
// runq_put / runq_get: the same, with the one-P runnext hand-off inline
// (Note [One P] in runq.cpp: plain loads and stores), as every channel
// wake-up and park does it. With one P, runq_get_any finds runnext empty.
inline bool runq_put(P* pp, G* gp, bool next) noexcept {
  if (next && sched.nprocs.load(std::memory_order_relaxed) == 1) {
    G* old = pp->runq.runnext.load(std::memory_order_relaxed);
    pp->runq.runnext.store(gp, std::memory_order_relaxed);
    if (old == nullptr) return false;
    return runq_put_any(pp, old, false);  // kick the old occupant to the tail
  }
  return runq_put_any(pp, gp, next);
}
inline G* runq_get(P* pp, bool* inherit) noexcept {
  if (sched.nprocs.load(std::memory_order_relaxed) == 1) {
    if (G* gp = pp->runq.runnext.load(std::memory_order_relaxed)) {
      pp->runq.runnext.store(nullptr, std::memory_order_relaxed);
      *inherit = true;
      return gp;
    }
  }
  return runq_get_any(pp, inherit);
}
// Global queue. REQUIRES (the _locked ones): sched.lock held.
void globrunq_put_locked(G* gp) noexcept GMP_REQUIRES(sched.lock);
void globrunq_put_batch_locked(G* head, G* tail, std::uint32_t n) noexcept GMP_REQUIRES(sched.lock);
G* globrunq_get_locked(P* pp, std::uint32_t max) noexcept GMP_REQUIRES(sched.lock);
G* globrunq_get(P* pp, std::uint32_t max) noexcept;
// Steals from other Ps into pp. REQUIRES: the caller owns pp.
G* steal_work(M* mp, P* pp, bool* inherit) noexcept;
// True if any P has queued work (rings, runnext, inboxes) or the global queue
// is non-empty. Racy.
bool any_work() noexcept;

// ---- idle.cpp --------------------------------------------------------------

// Wakes an idle P with a spinning M if there is an idle P and no M spinning.
// The common case (no idle P: one load) inline; the rest in idle.cpp.
void wakep_idle() noexcept;
inline void wakep() noexcept {
  if (sched.npidle.load(std::memory_order_seq_cst) != 0) wakep_idle();
}
// Starts an M on pp (or on any idle P when pp is null).
void startm(P* pp, bool spinning) noexcept;
// Takes pp off the idle list and starts an M on it, if it is still idle.
void wake_idle_p(P* pp) noexcept;
// pidle: REQUIRES sched.lock. A P taken off the list records `to` as its
// M at once (null: the caller stops it or hands it on with handoff_locked;
// Note [P in transit] in idle.cpp).
void pidle_put_locked(P* pp) noexcept GMP_REQUIRES(sched.lock);
// Time P pp was busy (not on the idle list) from its creation to now, ns
// (any thread; idle.cpp).
std::int64_t p_busy_ns(const P* pp, std::int64_t now) noexcept;
P* pidle_get_locked(M* to) noexcept GMP_REQUIRES(sched.lock);
// mp holds no P and will next acquirep or park (Note [Waking Ms] in idle.cpp).
void m_waking_locked(M* mp) noexcept GMP_REQUIRES(sched.lock);
bool pidle_remove_locked(P* pp, M* to) noexcept GMP_REQUIRES(sched.lock);
// Hands pp to the parked or new M mp through mp->nextp and records mp as
// pp's M. REQUIRES sched.lock.
void handoff_locked(M* mp, P* pp) noexcept GMP_REQUIRES(sched.lock);
// Binds pp to mp (pinning the thread to pp's CPU if configured).
void acquirep(M* mp, P* pp) noexcept;
void releasep(M* mp) noexcept;
// Parks mp until it is handed a P (returns it) or the deadline passes (null)
// or the runtime stops (null).
P* stopm(M* mp, std::int64_t deadline_ns) noexcept;
// stopm that waits in ring_p's io_uring instead of the futex (null: the
// futex; find.cpp). Returns null as soon as that ring has completions, so
// the caller takes ring_p back and reaps them.
P* stopm_in_ring(M* mp, std::int64_t deadline_ns, P* ring_p) noexcept;
// Creates and starts a new M thread that will run on pp.
M* newm(P* pp, bool spinning) noexcept;
// Stops spinning; if mp was the last spinner, wakes another (work may remain).
void resetspinning(M* mp) noexcept;

// ---- gfree.cpp -------------------------------------------------------------

// A G descriptor, recycled or new (no stack). pp may be null.
G* gfget(P* pp) noexcept;
// Recycles a dead G and its stack. pp may be null.
void gfput(P* pp, G* gp) noexcept;
// Binds a stack of gp->stack_cls to gp. Returns 0 or -errno.
// REQUIRES: gp has no stack.
int g_bind_stack(P* pp, G* gp) noexcept;
// Unmaps every cached stack and frees every descriptor (at stop).
void gfree_purge() noexcept;

// ---- safepoint.cpp -------------------------------------------------------------
// Runs fn(pp) once on every P, each at a point where no goroutine of that P
// runs, without stopping the world (Note [Safe-point functions]). fn must
// stay valid for the life of the process (a P in a blocking call runs the
// latest fn when it next schedules). Waits at most bound_ns for running Ps;
// returns how many Ps had not run it by then (in blocking calls, stopped,
// or running a goroutine without a safe point).
int on_each_p(void (*fn)(P*), std::int64_t bound_ns) noexcept;
// Runs the pending safe-point function on pp. REQUIRES: the caller owns pp,
// and no goroutine of pp is mid-run (the scheduler, on g0).
void safe_point_run(P* pp) noexcept;
// Releases cached stacks nobody used for a while (Note [Stack scavenging] in
// gfree.cpp). Sysmon's thread only, on each tick.
void stacks_scavenge(std::int64_t now) noexcept;
// Stacks the scavenger has released since the process started.
std::uint64_t stacks_scavenged() noexcept;

}  // namespace gmp::detail
