// sync/spin_lock.hpp — the short lock inside channels, select, WaitGroup and
// the sync primitives' wait queues (Go's runtime mutex: spin, then futex).
//
// Held for a few loads and stores — and, when a goroutine parks, until its
// park commit runs on the next context (Note [Deferred switch action]): that
// window includes picking the next G and, for a G's first run, binding its
// stack, which can fault pages or map a slab. So a waiter spins briefly and
// then sleeps on a futex instead of spinning for as long as the holder's
// thread is off its CPU (seen as multi-millisecond "hogs" in a VM).
// Not owner-based: a park commit unlocks on whatever M runs it.
//
#pragma once

#include <atomic>
#include <cstdint>

#include "base/clock.hpp"
#include "base/futex.hpp"

namespace gmp::detail {

// The lock word: 0 unlocked, 1 locked, 2 locked and a waiter may sleep.
using ShortLockWord = std::atomic<std::uint32_t>;

inline void short_lock_slow(ShortLockWord& w) noexcept {
  constexpr int kSpins = 200;
  for (int i = 0; i < kSpins; i++) {
    std::uint32_t c = 0;
    if (w.load(std::memory_order_relaxed) == 0 && w.compare_exchange_weak(c, 1, std::memory_order_acquire)) return;
    cpu_relax();
  }
  // Mark contended and sleep until the holder's unlock wakes us.
  while (w.exchange(2, std::memory_order_acquire) != 0) futex_wait(&w, 2);
}

inline void short_lock(ShortLockWord& w) noexcept {
  std::uint32_t c = 0;
  if (!w.compare_exchange_strong(c, 1, std::memory_order_acquire)) short_lock_slow(w);
}

inline bool short_try_lock(ShortLockWord& w) noexcept {
  std::uint32_t c = 0;
  return w.load(std::memory_order_relaxed) == 0 && w.compare_exchange_strong(c, 1, std::memory_order_acquire);
}

// Pairs with short_lock()'s acquire.
inline void short_unlock(ShortLockWord& w) noexcept {
  if (w.exchange(0, std::memory_order_release) == 2) futex_wake(&w);
}

class SpinLock {
 public:
  void lock() noexcept { short_lock(state_); }
  bool try_lock() noexcept { return short_try_lock(state_); }
  void unlock() noexcept { short_unlock(state_); }

 private:
  ShortLockWord state_{0};
};

}  // namespace gmp::detail
