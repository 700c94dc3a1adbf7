// stw/procresize.cpp — gmp::set_procs: change the number of Ps at run time
// (Go's procresize), under stop-the-world (reason kProcResize).
//
// Growing: Ps [old, n) are allocated if they never existed (a P once
// allocated is kept until gmp::stop, kStopped while unused, so racy readers
// such as sysmon and exitsyscall never see a freed P); each has its io ring
// already (made at start for up to Sched::procs_cap Ps), an empty timer heap
// and pool cache. nprocs is raised after the entries are written (release
// fence) and the world restarts with them idle.
//
// Shrinking: for every removed P, its runnext, ring and inbox go to the
// global queue (in order), its timers move to P 0, its pool cache is
// drained to the central lists. A P with io operations in flight cannot be
// removed at once (their completions arrive on its ring, which only its M
// reaps): the stopper marks its ring draining and cancels them there, the
// world restarts, and the resize is retried; the cancelled operations run
// again on their goroutines' next Ps (Note [Draining a removed P's ring] in
// io/ring.cpp). After ~1 s of retries (an operation the kernel cannot
// cancel, like a file read already running) it is refused with the count.
// A goroutine that called set_procs from a removed P continues on P 0.
// Nothing is lost: the goroutine count does not change across a resize.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "gmp/go.hpp"
#include "gmp/time.hpp"
#include "io/ring.hpp"
#include "mem/pool_state.hpp"
#include "sched/sched.hpp"
#include "sync/elided_lock.hpp"
#include "stw/stw.hpp"
#include "timer/timer.hpp"

namespace gmp::detail {

namespace {

// Moves everything queued on pp to the global queue. REQUIRES: the world is
// stopped (pp has no M).
std::uint32_t drain_runq(P* pp) noexcept {
  G* head = nullptr;
  G* tail = nullptr;
  std::uint32_t n = 0;
  auto append = [&](G* gp) {
    gp->sched_link = nullptr;
    if (tail == nullptr) head = gp; else tail->sched_link = gp;
    tail = gp;
    n++;
  };
  if (G* next = pp->runq.runnext.exchange(nullptr, std::memory_order_acq_rel)) append(next);
  while (G* gp = pp->runq.steal_one()) append(gp);
  for (G* gp = pp->inbox.take_all(); gp != nullptr;) {
    G* nx = gp->sched_link;
    append(gp);
    gp = nx;
  }
  if (n == 0) return 0;
  LockGuard lk(sched.lock);
  globrunq_put_batch_locked(head, tail, n);
  return n;
}

// Rewires the stopping goroutine (and its M) from a removed P to P 0.
// REQUIRES: the world is stopped by the caller; P 0 is stopped.
void move_caller(P* from, P* to) noexcept {
  M* mp = getm();
  mp->p = to;
  if (G* gp = getg()) gp->last_p.store(to, std::memory_order_relaxed);
  from->m.store(nullptr, std::memory_order_relaxed);
  stw_set_caller_p(to);
}

// Applies n. Returns "" or why not (the world stays stopped either way).
std::string resize_stopped(int n) {
  const int old = sched.nprocs;
  if (n == old) return "";
  if (n > old) {
    for (int i = old; i < n; i++) {
      if (i >= sched.allp_len) {
        P* pp = new P();
        pp->created_ns.store(nanotime(), std::memory_order_relaxed);
        pp->id = i;
        pp->cpu = sched.cfg.pin ? sched.cfg.cpus[static_cast<std::size_t>(i) % sched.cfg.cpus.size()] : -1;
        pp->status.store(PStatus::kStopped, std::memory_order_relaxed);
        sched.allp[i] = pp;
        sched.allp_len = i + 1;
      }
      sched.allp[i]->status.store(PStatus::kStopped, std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);
    elision_revoke();  // two Ps: two owners (no biased section is in flight: the world is stopped)
    sched.nprocs = n;
    return "";
  }
  for (int i = n; i < old; i++) {
    if (std::uint32_t k = io_inflight(sched.allp[i]); k > 0) {
      return "P " + std::to_string(i) + " has " + std::to_string(k) + " io operations in flight";
    }
  }
  P* p0 = sched.allp[0];
  for (int i = n; i < old; i++) {
    P* pp = sched.allp[i];
    drain_runq(pp);
    timers_move(pp, p0);
    if (mem::state().phase.load(std::memory_order_acquire) == 1) mem::drain_cache(&mem::state().pcache[i]);
    if (stw_caller_p() == pp) move_caller(pp, p0);
  }
  sched.nprocs = n;
  if (n == 1 && sched.cfg.lock_elision) elision_on();  // channels made from the restart on
  return "";
}

}  // namespace

}  // namespace gmp::detail

namespace gmp {

Status set_procs(int n) {
  using namespace detail;
  if (!running()) return Status::error("set_procs: the runtime is not running");
  if (n < 1 || n > sched.procs_cap) {
    return Status::error("set_procs: " + std::to_string(n) + " Ps is out of range (1 to " +
                         std::to_string(sched.procs_cap) + ", the io rings made at start: max(procs, CPUs, 8))");
  }
  std::string err;
  // Ps whose rings were marked draining; cleared whatever the outcome.
  int drain_lo = 0, drain_hi = 0;
  auto end_drain = [&] {
    for (int i = drain_lo; i < drain_hi; i++) io_drain_end(sched.allp[i]);
  };
  for (int attempt = 0; attempt < 1000; attempt++) {
    // Every P must stop (Note [Bounded stops] in stop.cpp).
    if (Status why = stw::try_stop_the_world(stw::Reason::kProcResize, stw::kStopBound); !why.ok()) {
      stw::start_the_world();
      end_drain();
      return why.prefixed("set_procs: ");
    }
    err = resize_stopped(n);
    if (!err.empty()) {
      // io in flight on a removed P: cancel it there, to run again on the
      // goroutine's next P (Note [Draining a removed P's ring] in io/ring.cpp).
      drain_lo = n;
      drain_hi = sched.nprocs;
      for (int i = drain_lo; i < drain_hi; i++) io_drain_begin(sched.allp[i]);
    }
    stw::start_the_world();
    if (err.empty()) {
      end_drain();
      return {};
    }
    for (int i = drain_lo; i < drain_hi; i++) io_drain_poke(sched.allp[i]);
    // Let the cancels complete, then try again.
    if (in_goroutine()) {
      gmp::sleep_for(std::chrono::milliseconds(1));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  end_drain();
  return Status::error("set_procs: cannot remove Ps: " + err + " (still after 1 s)");
}

}  // namespace gmp
