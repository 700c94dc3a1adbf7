// gmp/sync.hpp — synchronisation that parks goroutines, never Ms.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/detail/wait.hpp"

namespace gmp {

// WaitGroup: wait for a collection of goroutines to finish (Go's
// sync.WaitGroup). add() before starting the work, done() when each part
// finishes, wait() blocks until the counter is zero. A negative counter is a
// fatal error. Any number of goroutines or threads may wait.
class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;
  ~WaitGroup();

  void add(std::int64_t delta) noexcept;
  void done() noexcept { add(-1); }
  void wait() noexcept;
  std::int64_t count() const noexcept {
    return static_cast<std::int32_t>(state_.load(std::memory_order_acquire) >> 32);
  }

 private:
  // High 32 bits: the counter (signed); low 32: waiters counted in before
  // they parked (Go's state1). One word, so the done() that reaches zero with
  // no waiters touches nothing else: a waiter that saw zero may already have
  // destroyed the WaitGroup.
  std::atomic<std::uint64_t> state_{0};
  // Waiters, a list guarded by lock_ (a short spin-then-futex lock held for a
  // few stores, and across a waiter's park until its commit releases it).
  std::atomic<std::uint32_t> lock_{0};
  detail::Waiter* waiters_ = nullptr;  // guarded by lock_*
};

}  // namespace gmp

// ---- Mutex, RWMutex, CondVar, Once, Semaphore (sync/mutex.cpp, rwmutex.cpp,
// cond.cpp, sema.cpp). All park the goroutine (a plain thread blocks on a
// futex), never the M. Internal wait queues are guarded by a spin lock held
// for a few stores, never across a park.
// * "Guarded by qlock_" (and WaitGroup's lock_) is in words, not
// GMP_GUARDED_BY: the lock is an atomic word taken with the short lock
// (sync/spin_lock.hpp) by the out-of-line slow paths, and a waiter's park
// commit releases it after the switch: a hand-off the analysis cannot follow.
namespace gmp {

// Mutex (Go's sync.Mutex): a CAS when uncontended; under contention spins
// briefly, then parks FIFO. Starvation mode: once a waiter has waited more
// than 1 ms, unlock hands the mutex directly to the oldest waiter and
// newcomers queue behind it, so no waiter waits much longer than that behind
// a stream of barging lockers; it ends when the queue drains or a waiter got
// it within 1 ms. Unlock of an unlocked mutex is fatal. Not recursive; any
// goroutine may unlock (as in Go).
class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() noexcept {
    std::uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire)) [[likely]] return;
    lock_slow();
  }
  bool try_lock() noexcept {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    return (s & (kLocked | kStarving)) == 0 &&
           state_.compare_exchange_strong(s, s | kLocked, std::memory_order_acquire);
  }
  void unlock() noexcept {
    std::uint32_t expected = kLocked;
    if (state_.compare_exchange_strong(expected, 0, std::memory_order_release)) [[likely]] return;
    unlock_slow();
  }
  bool starving() const noexcept { return (state_.load(std::memory_order_relaxed) & kStarving) != 0; }

 private:
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kStarving = 2;
  static constexpr std::uint32_t kWaiters = 4;  // the queue is non-empty (set/cleared under qlock_)
  void lock_slow() noexcept;
  void unlock_slow() noexcept;

  std::atomic<std::uint32_t> state_{0};
  std::atomic<std::uint32_t> qlock_{0};        // spin lock for the queue
  detail::Waiter* head_ = nullptr;             // guarded by qlock_*
  detail::Waiter* tail_ = nullptr;             // guarded by qlock_*
};

// RWMutex (Go's sync.RWMutex): many readers or one writer; a waiting writer
// blocks new readers (no writer starvation), and a writer's unlock admits
// the readers that queued behind it before the next writer. Unlocking what
// is not locked is fatal.
class RWMutex {
 public:
  RWMutex() = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  void lock() noexcept;
  void unlock() noexcept;
  void lock_shared() noexcept;
  void unlock_shared() noexcept;
  bool try_lock() noexcept;
  bool try_lock_shared() noexcept;

 private:
  std::atomic<std::uint32_t> qlock_{0};
  std::int64_t readers_ = 0;         // guarded by qlock_*: active readers
  bool writer_ = false;              // guarded by qlock_*
  detail::Waiter* rhead_ = nullptr;  // guarded by qlock_*: waiting readers (LIFO list)
  detail::Waiter* whead_ = nullptr;  // guarded by qlock_*: waiting writers, FIFO
  detail::Waiter* wtail_ = nullptr;  // guarded by qlock_*
};

// CondVar (Go's sync.Cond) over a gmp::Mutex. wait() atomically unlocks the
// mutex and parks; it relocks before returning. Spurious wake-ups do not
// happen, but check the condition in a loop as usual.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // REQUIRES: m locked by the caller.
  void wait(Mutex& m) noexcept;
  template <class Pred>
  void wait(Mutex& m, Pred pred) {
    while (!pred()) wait(m);
  }
  void notify_one() noexcept;
  void notify_all() noexcept;

 private:
  std::atomic<std::uint32_t> qlock_{0};
  detail::Waiter* head_ = nullptr;  // guarded by qlock_*, FIFO
  detail::Waiter* tail_ = nullptr;  // guarded by qlock_*
};

// Once (Go's sync.Once): call() runs fn exactly once; concurrent callers
// park until it has returned.
class Once {
 public:
  template <class F>
  void call(F&& fn) {
    if (done_.load(std::memory_order_acquire)) [[likely]] return;
    m_.lock();
    if (!done_.load(std::memory_order_relaxed)) {
      struct Unlock {
        Mutex& m;
        ~Unlock() { m.unlock(); }
      } guard{m_};
      std::forward<F>(fn)();
      done_.store(true, std::memory_order_release);  // pairs with the acquire above
      return;
    }
    m_.unlock();
  }
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> done_{false};
  Mutex m_;
};

// Counting semaphore (Go's x/sync/semaphore.Weighted): acquire(n) parks
// until n units are free; FIFO, so a large request is not starved by small
// ones. Releasing more than was acquired beyond the initial count is allowed
// (it is a counter), but the count must not overflow.
class Semaphore {
 public:
  explicit Semaphore(std::int64_t initial = 0) noexcept : count_(initial) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  void acquire(std::int64_t n = 1) noexcept;
  bool try_acquire(std::int64_t n = 1) noexcept;
  void release(std::int64_t n = 1) noexcept;
  std::int64_t available() const noexcept;

 private:
  std::atomic<std::uint32_t> qlock_{0};
  std::int64_t count_;              // guarded by qlock_*
  detail::Waiter* head_ = nullptr;  // guarded by qlock_*: FIFO; Waiter::token = units wanted
  detail::Waiter* tail_ = nullptr;  // guarded by qlock_*
};

}  // namespace gmp
