// mem/yield_lock.hpp — the lock of the pool's shared lists (YieldLock: spin,
// then yield the thread; not sync/spin_lock.hpp's SpinLock, which sleeps on a
// futex and has an asymmetric unlock).
//
// Critical sections under it are a few dozen instructions (splice a batch,
// carve a span), so a test-and-test-and-set lock beats a futex mutex; after
// a bounded spin it yields the thread, because on 2 CPUs the holder may be
// descheduled. Never held across a call that can switch goroutines.
#pragma once

#include <sched.h>

#include <atomic>

#include "base/clock.hpp"
#include "gmp/detail/thread_annotations.hpp"

namespace gmp::detail::mem {

class GMP_CAPABILITY("yield lock") YieldLock {
 public:
  void lock() noexcept GMP_ACQUIRE() GMP_NO_THREAD_SAFETY_ANALYSIS {
    for (int spins = 0;; ++spins) {
      // Pairs with the release in unlock().
      if (!held_.exchange(true, std::memory_order_acquire)) return;
      while (held_.load(std::memory_order_relaxed)) {
        if (++spins > 64) {
          sched_yield();
          spins = 0;
        } else {
          cpu_relax();
        }
      }
    }
  }
  void unlock() noexcept GMP_RELEASE() GMP_NO_THREAD_SAFETY_ANALYSIS { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};

}  // namespace gmp::detail::mem
