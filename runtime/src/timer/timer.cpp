// timer/timer.cpp — per-P timer heaps plugged into the scheduler as a
// PollSource (Go 1.14–1.22's per-P timers).
//
// Each P has a 4-ary heap (heap.hpp) under a spin lock, and `when0`, the
// earliest deadline, readable without the lock. The scheduler:
//   - polls the P's heap in find_runnable and, every few switches, on the
//     switch path of a busy P (so a P that always has work still fires its
//     timers), running due callbacks;
//   - parks an idle P's M on a futex until exactly when0 (next_deadline);
//   - on the last steal pass, lets a thief run a victim's due timers, so a
//     timer does not fire late because its P sleeps or is hogged.
// A sysmon hook is the backstop: a P whose timers are overdue while it runs a
// goroutine that does not switch gets an idle P woken to steal them.
//
// Invariants (under PTimers::lock): a node is in at most one heap; node->pid
// is that heap's P id (else -1) and node->index its position (-1 for a
// ticker whose fn is running: armed, but out of the heap); when0 equals the
// heap top's when (or -1 when empty).
//
// Note [Ticker re-arm]
// A ticker is pushed back into its heap after its fn returns, not before fn
// runs. Pushed back before, it could fall due again (a period of 2 ms, an M
// preempted between unlock and fn on a loaded machine) and run on another M
// while the first fn still ran: two sends of one ticker racing, the earlier
// time arriving second (a tick older than the one before it), and `running`
// cleared by the first fn while the second still used the node, so a
// timer_cancel could return and the node be freed under a running fn. Out
// of the heap while fn runs, a ticker runs once at a time, as Go runs a
// timer's function once at a time. A cancel meanwhile clears pid: run_due
// then does not push it back, and clears `running` last, under the lock.
#include "timer/timer.hpp"

#include "base/check.hpp"
#include "gmp/histogram.hpp"
#include "base/clock.hpp"
#include "sched/sched.hpp"
#include "sched/sysmon.hpp"
#include "sync/spin_lock.hpp"
#include "timer/heap.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

struct alignas(64) PTimers {
  SpinLock lock;
  TimerHeap heap GMP_GUARDED_BY(lock);
  std::atomic<std::int64_t> when0{-1};  // written under lock; read by any M (racy hint)
  // How late each timer ran (now - when), ns. Written under lock (one
  // writer at a time), read by anyone (timer_lateness).
  gmp::Histogram lateness;
};

PTimers timers[kMaxProcs];
std::atomic<std::uint64_t> n_fired{0};
std::atomic<std::uint64_t> n_stolen{0};

void publish_when0(PTimers& pt) noexcept GMP_REQUIRES(pt.lock) {
  pt.when0.store(pt.heap.empty() ? -1 : pt.heap.top()->when, std::memory_order_release);
}

// Runs pid's due timers on the calling M. Returns how many fired.
int run_due(int pid, std::int64_t now, bool stolen) noexcept {
  PTimers& pt = timers[pid];
  int n = 0;
  pt.lock.lock();
  while (!pt.heap.empty() && pt.heap.top()->when <= now) {
    TimerNode* t = pt.heap.top();
    pt.heap.pop();
    std::int64_t late = now - t->when;
    pt.lateness.record(static_cast<std::uint64_t>(late));
    // A ticker stays armed (pid kept) but out of the heap while fn runs, and
    // is pushed back after it returns (Note [Ticker re-arm]).
    const bool periodic = t->period > 0;
    if (!periodic) t->pid.store(-1, std::memory_order_relaxed);
    bool detached = t->detached;
    if (!detached) t->running.store(true, std::memory_order_relaxed);  // cleared below; seen by timer_cancel under lock
    auto fn = t->fn;
    void* arg = t->arg;
    publish_when0(pt);
    pt.lock.unlock();
    GMP_PROBE_TIMER_FIRE(pid, late, stolen ? 1 : 0);
    fn(arg, now);
    n++;
    if (periodic) {
      pt.lock.lock();
      if (t->pid.load(std::memory_order_relaxed) == pid) {  // not cancelled while fn ran
        t->when += t->period;
        if (t->when <= now) t->when = now + t->period;
        pt.heap.push(t);
      }
      // Under the lock, last: a cancel that saw the ticker out of the heap
      // waits for this store, then may free the node.
      t->running.store(false, std::memory_order_release);
      continue;
    }
    if (!detached) t->running.store(false, std::memory_order_release);  // pairs with timer_cancel's acquire
    pt.lock.lock();
  }
  publish_when0(pt);
  pt.lock.unlock();
  if (n > 0) (stolen ? n_stolen : n_fired).fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  return n;
}

int timers_poll(P* pp, std::int64_t now) noexcept {
  std::int64_t w = timers[pp->id].when0.load(std::memory_order_acquire);
  if (w < 0 || w > now) return 0;
  return run_due(pp->id, now, false);
}

std::int64_t timers_next_deadline(P* pp) noexcept { return timers[pp->id].when0.load(std::memory_order_acquire); }

void timers_steal(P* thief, P* victim, std::int64_t now) noexcept {
  if (thief == victim) return;
  std::int64_t w = timers[victim->id].when0.load(std::memory_order_acquire);
  if (w < 0 || w > now) return;
  run_due(victim->id, now, true);
}

// Backstop: overdue timers on a P that is not switching (or whose M sleeps
// with a stale deadline): wake an idle P, whose spinning M steals them.
void timers_sysmon(std::int64_t now) noexcept {
  for (int i = 0; i < sched.nprocs; i++) {
    std::int64_t w = timers[i].when0.load(std::memory_order_relaxed);
    if (w < 0 || now - w < 200'000) continue;
    P* pp = sched.allp[i];
    if (pp->status.load(std::memory_order_relaxed) == PStatus::kIdle) {
      wake_idle_p(pp);
    } else if (sched.npidle.load(std::memory_order_relaxed) > 0) {
      wakep();
    }
  }
}

const PollSource kTimerSource{"timers", timers_poll, timers_next_deadline, timers_steal};

struct Registrar {
  Registrar() noexcept {
    register_poll_source(&kTimerSource);
    sysmon_add_hook(SysmonHook{"timers", timers_sysmon});
  }
} registrar;

}  // namespace

void timer_arm(TimerNode* t, std::int64_t when_ns) noexcept {
  GMP_CHECK(sched.running.load(std::memory_order_acquire), "runtime: timer armed while the runtime is not running");
  GMP_CHECK(t->pid.load(std::memory_order_relaxed) < 0, "runtime: timer armed twice");
  P* pp = getp();
  int pid = pp != nullptr ? pp->id : 0;
  PTimers& pt = timers[pid];
  pt.lock.lock();
  std::int64_t old = pt.when0.load(std::memory_order_relaxed);
  t->when = when_ns;
  t->index = -1;
  pt.heap.push(t);
  t->pid.store(pid, std::memory_order_relaxed);
  publish_when0(pt);
  pt.lock.unlock();
  if (pp == nullptr && (old < 0 || when_ns < old)) {
    // Not on a runtime thread: P 0 may sleep with a later deadline. Taking it
    // off the idle list and starting its M cannot race with its M parking
    // (Note [Inbox hand-off]); a plain poke could.
    P* p0 = sched.allp[0];
    if (p0->status.load(std::memory_order_seq_cst) == PStatus::kIdle) wake_idle_p(p0);
  }
}

bool timer_cancel(TimerNode* t) noexcept {
  GMP_CHECK(!t->detached, "runtime: cancel of a detached timer");
  bool removed = false;
  for (;;) {
    int pid = t->pid.load(std::memory_order_acquire);
    if (pid < 0) break;
    PTimers& pt = timers[pid];
    pt.lock.lock();
    if (t->pid.load(std::memory_order_relaxed) != pid) {  // fired or moved meanwhile
      pt.lock.unlock();
      continue;
    }
    if (t->index >= 0) pt.heap.remove(t);  // a ticker whose fn runs is out of the heap
    t->pid.store(-1, std::memory_order_relaxed);
    publish_when0(pt);
    pt.lock.unlock();
    removed = true;
    break;
  }
  // A callback in flight still uses the node (a ticker's is not pushed back:
  // its pid is gone). Wait for it to return.
  while (t->running.load(std::memory_order_acquire)) cpu_relax();
  return removed;
}

// Moves every timer of `from` into `to`'s heap (gmp::set_procs removing a P,
// under stop-the-world: no timer of `from` can be running).
void timers_move(P* from, P* to) noexcept {
  if (from == to) return;
  PTimers& a = timers[from->id];
  PTimers& b = timers[to->id];
  a.lock.lock();
  b.lock.lock();
  while (!a.heap.empty()) {
    TimerNode* t = a.heap.top();
    a.heap.pop();
    t->pid.store(to->id, std::memory_order_relaxed);
    b.heap.push(t);
  }
  publish_when0(a);
  publish_when0(b);
  b.lock.unlock();
  a.lock.unlock();
}

int timers_drop_all() noexcept {
  int n = 0;
  for (PTimers& pt : timers) {
    pt.lock.lock();
    while (!pt.heap.empty()) {
      TimerNode* t = pt.heap.top();
      pt.heap.pop();
      t->pid.store(-1, std::memory_order_relaxed);
      n++;
    }
    publish_when0(pt);
    pt.lock.unlock();
  }
  return n;
}

gmp::HistogramSnapshot timer_lateness() {
  // Heaps of Ps never created hold nothing: read those up to the most Ps
  // this runtime had (all of them when it is not running).
  int n = sched.running.load(std::memory_order_acquire) ? sched.allp_len : kMaxProcs;
  gmp::HistogramSnapshot s;
  for (int i = 0; i < n && i < kMaxProcs; i++) timers[i].lateness.add_to(s);
  return s;
}

TimerStats timer_stats() noexcept {
  return TimerStats{n_fired.load(std::memory_order_relaxed), n_stolen.load(std::memory_order_relaxed)};
}

}  // namespace gmp::detail
