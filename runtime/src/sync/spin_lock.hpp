// sync/spin_lock.hpp — the short lock inside channels, select and the sync
// primitives' wait queues (Go's runtime mutex, minus the futex).
//
// Held only for a few loads and stores, never across a park or a call that
// may block; M threads are pinned and not preempted by the runtime, so a
// test-and-test-and-set loop with a pause is the right cost model. Unlocked
// by a goroutine's park commit (after its context is saved), possibly on
// another M than the one that locked it: this is a plain flag, not an owner.
#pragma once

#include <atomic>

#include "base/clock.hpp"

namespace gmp::detail {

class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) cpu_relax();
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }  // pairs with lock()'s acquire

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace gmp::detail
