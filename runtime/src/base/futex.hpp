// base/futex.hpp — futex wait/wake on a 32-bit word (private futexes).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace gmp::detail {

// Sleeps while *word == expected, at most until the CLOCK_MONOTONIC deadline
// (absolute ns; < 0: no deadline). Spurious returns are allowed.
inline void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                       std::int64_t deadline_ns = -1) noexcept {
  timespec ts;
  timespec* tsp = nullptr;
  if (deadline_ns >= 0) {
    ts.tv_sec = deadline_ns / 1'000'000'000;
    ts.tv_nsec = deadline_ns % 1'000'000'000;
    tsp = &ts;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
          expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
}

inline void futex_wake(std::atomic<std::uint32_t>* word, int n = 1) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, nullptr,
          nullptr, 0);
}

// A one-shot sleep/wake-up for one thread (Go's note).
// sleep() returns after wakeup() or the deadline; clear() re-arms it.
// REQUIRES: one sleeper at a time.
class Note {
 public:
  void wakeup() noexcept {
    if (key_.exchange(1, std::memory_order_release) == 0) futex_wake(&key_);
  }
  // Returns true if woken, false on deadline.
  bool sleep(std::int64_t deadline_ns = -1) noexcept;
  void clear() noexcept { key_.store(0, std::memory_order_relaxed); }
  bool signaled() const noexcept { return key_.load(std::memory_order_acquire) != 0; }

 private:
  std::atomic<std::uint32_t> key_{0};
};

}  // namespace gmp::detail
