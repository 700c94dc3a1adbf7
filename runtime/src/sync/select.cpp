// sync/select.cpp — select over channel cases, with an optional deadline and
// default (Go's selectgo).
//
// 1. Poll order: a uniformly random permutation of the cases, so that when
//    several are ready each is chosen with equal probability (Go's fairness).
//    Lock order: the distinct channels sorted by address (no deadlock
//    between two selects over the same channels).
// 2. With every channel locked, take the first ready case in poll order.
// 3. None ready: with a default, return it. Otherwise enqueue one Sudog per
//    case, all sharing one Waiter and one SelectState, and park once. The
//    commit arms the deadline timer (after our context is saved, so it may
//    fire on any P at once) and unlocks every channel.
// 4. The first waker — a partner on one of the channels, close, or the timer
//    — wins SelectState::done (CAS 0 -> 1), records the case, transfers the
//    value and wakes us; later ones lose the CAS and skip our sudogs.
// 5. Awake, we relock every channel, unlink the sudogs still queued, unlock,
//    and cancel the timer (which waits for a callback in flight to return).
#include <cstdlib>
#include <functional>
#include <new>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/go.hpp"
#include "gmp/select.hpp"
#include "sync/chan_core.hpp"
#include "timer/timer.hpp"
#include "trace/probes.hpp"
#include "sync/park.hpp"

namespace gmp::detail {

namespace {

constexpr int kMaxCases = 64;

// Per-thread xorshift; noipa so the TLS address is never cached across a
// park (Note [TLS across switches] in sched/schedule.cpp).
[[gnu::noipa]] std::uint32_t fastrand() noexcept {
  thread_local std::uint64_t s = 0;
  if (s == 0) s = static_cast<std::uint64_t>(nanotime()) * 0x9E3779B97F4A7C15ull | 1;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return static_cast<std::uint32_t>(s >> 32);
}

// Uniform in [0, n) without division (Lemire).
std::uint32_t fastrandn(std::uint32_t n) noexcept {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(fastrand()) * n) >> 32);
}

// The distinct channels of a select, in address order (the lock order).
struct Locks {
  ChanCore* chans[kMaxCases];
  int n = 0;
  // Insertion sort, dropping duplicates: selects have a handful of cases, for
  // which this beats std::sort + std::unique (no call, no recursion).
  void set(const SelectCase* cases, int ncases) noexcept {
    n = 0;
    for (int i = 0; i < ncases; i++) {
      ChanCore* c = cases[i].c;
      int j = n;
      while (j > 0 && std::less<ChanCore*>()(c, chans[j - 1])) j--;
      if (j > 0 && chans[j - 1] == c) continue;
      for (int k = n; k > j; k--) chans[k] = chans[k - 1];
      chans[j] = c;
      n++;
    }
  }
  void lock_all() noexcept {
    for (int i = 0; i < n; i++) chans[i]->lock.prepare_multi();  // before any lock is held
    for (int i = 0; i < n; i++) chans[i]->lock.lock();
  }
  void unlock_all() noexcept {
    for (int i = n - 1; i >= 0; i--) chans[i]->lock.unlock();
  }
};

struct SelectCommit {
  Locks* locks;
  TimerNode* timer;
  std::int64_t deadline;
};

bool select_commit(void* arg) {
  auto* c = static_cast<SelectCommit*>(arg);
  if (c->timer != nullptr) timer_arm(c->timer, c->deadline);
  c->locks->unlock_all();
  return true;
}

struct TimeoutArg {
  SelectState* sel;
  Waiter* w;
};

void select_timeout_fire(void* arg, std::int64_t) noexcept {
  auto* t = static_cast<TimeoutArg*>(arg);
  std::uint32_t expected = 0;
  if (t->sel->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    t->sel->fired = kSelectTimeout;
    wake_waiter(*t->w);
  }
}

bool forever_commit(void*) { return true; }

int finish(int r, int n) noexcept {
  if (GMP_PROBE_ENABLED(select_wake)) GMP_PROBE_SELECT_WAKE(current_id(), r, n);
  return r;
}

}  // namespace

std::int64_t monotonic_ns() noexcept { return nanotime(); }

int select_impl(SelectCase* cases, int n, bool has_default, std::int64_t deadline_ns, bool* recv_ok) noexcept {
  safe_point();
  GMP_CHECK(n <= kMaxCases, "runtime: select with %d channel cases (at most %d)", n, kMaxCases);
  *recv_ok = false;
  if (n == 0) {
    if (has_default) return finish(kSelectDefault, 0);
    if (deadline_ns < 0) {
      Waiter w;
      park_waiter(w, WaitReason::kSelectNoCases, forever_commit, nullptr);
      fatal("runtime: select with no cases woke up");
    }
  }

  // 1. Poll order (Fisher–Yates, inside-out) and lock order.
  int order[kMaxCases];
  for (int i = 0; i < n; i++) {
    int j = static_cast<int>(fastrandn(static_cast<std::uint32_t>(i + 1)));
    order[i] = order[j];
    order[j] = i;
  }
  Locks locks;
  locks.set(cases, n);
  locks.lock_all();

  // 2. A ready case, in poll order.
  for (int k = 0; k < n; k++) {
    int i = order[k];
    SelectCase& sc = cases[i];
    ChanCore* c = sc.c;
    Sudog* woken;
    if (sc.send) {
      if (c->closed.load(std::memory_order_relaxed)) {
        locks.unlock_all();
        fatal("runtime: send on closed channel");
      }
      if (!c->try_send_locked(sc.elem, &woken)) continue;
    } else {
      ChanResult r = c->try_recv_locked(sc.elem, &woken);
      if (r == ChanResult::kWouldBlock) continue;
      *recv_ok = r == ChanResult::kOk;
    }
    locks.unlock_all();
    if (woken != nullptr) sudog_wake(woken);
    return finish(i, n);
  }

  // 3. Nothing ready.
  if (has_default) {
    locks.unlock_all();
    return finish(kSelectDefault, n);
  }
  if (deadline_ns >= 0 && deadline_ns <= nanotime()) {
    locks.unlock_all();
    return finish(kSelectTimeout, n);
  }
  Waiter w;
  SelectState st;
  // Only n sudogs are constructed (select over 2 channels must not pay for 64).
  alignas(Sudog) unsigned char sg_mem[kMaxCases * sizeof(Sudog)];
  Sudog* sgs = reinterpret_cast<Sudog*>(sg_mem);
  for (int i = 0; i < n; i++) {
    Sudog& s = *::new (&sgs[i]) Sudog();
    s.w = &w;
    s.elem = cases[i].elem;
    s.sel = &st;
    s.case_index = i;
    (cases[i].send ? cases[i].c->sendq : cases[i].c->recvq).push(&s);
  }
  TimerNode timer;
  TimeoutArg targ{&st, &w};
  timer.fn = select_timeout_fire;
  timer.arg = &targ;
  SelectCommit commit{&locks, deadline_ns >= 0 ? &timer : nullptr, deadline_ns};
  park_waiter(w, WaitReason::kSelect, select_commit, &commit);

  // 5. Withdraw the other cases.
  locks.lock_all();
  for (int i = 0; i < n; i++) {
    Sudog& s = sgs[i];
    if (s.queued) (cases[i].send ? cases[i].c->sendq : cases[i].c->recvq).remove(&s);
  }
  locks.unlock_all();
  if (deadline_ns >= 0) timer_cancel(&timer);

  int r = st.fired;
  GMP_CHECK(r != -1, "runtime: select woke without a case");
  if (r >= 0) {
    if (cases[r].send) {
      GMP_CHECK(sgs[r].success, "runtime: send on closed channel");
    } else {
      *recv_ok = sgs[r].success;
    }
  }
  return finish(r, n);
}

}  // namespace gmp::detail
