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
  std::int64_t count() const noexcept { return count_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::int64_t> count_{0};
  // Waiters, a list guarded by lock_ (a spinlock: held for a few loads).
  std::atomic<bool> lock_{false};
  detail::Waiter* waiters_ = nullptr;  // GMP_GUARDED_BY(lock_)
};

}  // namespace gmp
