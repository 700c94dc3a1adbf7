// sync/mutex.cpp — gmp::Mutex slow paths (Go's sync.Mutex, simplified).
//
// state_ bits: kLocked (owned), kStarving (hand-off mode), kWaiters (the
// queue is non-empty). kWaiters is set only under qlock_ by a waiter about to
// enqueue (by CAS against the state it checked, so an unlock in between makes
// it retry), and cleared only under qlock_ when the queue drains; so an
// unlock that sees kWaiters clear has nobody to wake, and one that sees it
// set takes qlock_ and finds a waiter (enqueued before the waiter's commit
// released qlock_).
//
// Normal mode: unlock clears kLocked and wakes the oldest waiter, which then
// competes with newcomers (they usually win: they are on a CPU). A woken
// waiter that loses requeues at the front. Starvation mode (a waiter waited
// > 1 ms): unlock keeps kLocked and hands ownership to the oldest waiter
// (Waiter::token = kHandoff); newcomers do not barge (kStarving fails their
// CAS) and queue at the back. The mode ends when the queue drains or a
// waiter is handed the mutex after waiting less than 1 ms.
#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/sync.hpp"
#include "sched/sched.hpp"
#include "sync/wait_queue.hpp"
#include "trace/probes.hpp"
#include "sync/park.hpp"

namespace gmp {

namespace {
constexpr std::int64_t kStarvationNs = 1'000'000;  // Go's starvationThresholdNs
constexpr int kSpinRounds = 4;
constexpr std::uintptr_t kHandoff = 1;
}  // namespace

void Mutex::lock_slow() noexcept {
  using namespace detail;
  std::int64_t start = 0;
  bool requeue = false;
  int spins = 0;
  for (;;) {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    if ((s & (kLocked | kStarving)) == 0) {
      if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire)) return;
      continue;
    }
    // Spin briefly only where the owner can be running elsewhere.
    if (spins < kSpinRounds && (s & kStarving) == 0 && sched.nprocs > 1) {
      spins++;
      for (int i = 0; i < 30; i++) cpu_relax();
      continue;
    }
    qlock_acquire(qlock_);
    s = state_.load(std::memory_order_relaxed);
    if ((s & (kLocked | kStarving)) == 0 ||
        !state_.compare_exchange_strong(s, s | kWaiters, std::memory_order_relaxed)) {
      qlock_release(qlock_);  // released meanwhile (or raced): try again
      continue;
    }
    std::int64_t now = nanotime();
    if (start == 0) start = now;
    if (requeue && now - start > kStarvationNs && (s & kStarving) == 0) {
      state_.fetch_or(kStarving, std::memory_order_relaxed);
      GMP_PROBE_MUTEX_STARVING(reinterpret_cast<std::uintptr_t>(this), now - start);
    }
    Waiter w;
    w.token = 0;
    w.data = &start;
    if (requeue) fifo_push_front(head_, tail_, &w); else fifo_push_back(head_, tail_, &w);
    park_waiter(w, WaitReason::kMutex, qlock_commit, &qlock_);
    if (w.token == kHandoff) return;  // owned: kLocked was kept for us
    requeue = true;
    spins = 0;
  }
}

void Mutex::unlock_slow() noexcept {
  using namespace detail;
  std::uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    GMP_CHECK((s & kLocked) != 0, "runtime: unlock of unlocked mutex");
    if ((s & kWaiters) != 0) break;
    if (state_.compare_exchange_weak(s, s & ~kLocked, std::memory_order_release)) return;
  }
  qlock_acquire(qlock_);
  Waiter* w = fifo_pop(head_, tail_);
  GMP_CHECK(w != nullptr, "runtime: mutex has kWaiters set but no waiter");
  bool drained = head_ == nullptr;
  s = state_.load(std::memory_order_relaxed);
  if ((s & kStarving) != 0) {
    // Hand off: ownership passes with kLocked still set.
    std::int64_t waited = nanotime() - *static_cast<std::int64_t*>(w->data);
    std::uint32_t clear = drained ? kWaiters : 0;
    if (drained || waited < kStarvationNs) clear |= kStarving;
    if (clear != 0) state_.fetch_and(~clear, std::memory_order_release);
    else std::atomic_thread_fence(std::memory_order_release);
    w->token = kHandoff;
  } else {
    state_.fetch_and(~(kLocked | (drained ? kWaiters : 0)), std::memory_order_release);
    w->token = 0;
  }
  qlock_release(qlock_);
  wake_waiter(*w);
}

}  // namespace gmp
