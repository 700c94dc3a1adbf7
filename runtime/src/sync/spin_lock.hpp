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
// Note [Asymmetric unlock]
// A channel round trip takes and releases four of these locks, and on this
// kind of CPU a locked instruction costs ~6 ns (a lock + unlock pair with a
// locked exchange for the unlock: ~11.5 ns), more than the rest of the
// hand-off. So the unlock is a plain release store of `locked`, then a plain
// load of `sleepers`: no locked instruction. That store->load pair can be
// reordered by the CPU (x86 store buffer), which would lose a wake-up if a
// sleeper registered between them; the sleeper side pays for the ordering
// instead: after counting itself in `sleepers` it runs a process-wide memory
// barrier (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every CPU running a
// thread of this process executes a full fence) before it tries the lock
// once more and sleeps. Whenever that fence lands in the unlocker's
// instruction stream, either the unlocker's store of 0 is visible to the
// sleeper's retry / futex check (fence after the store), or the unlocker's
// load comes after the fence and sees the sleeper counted (fence before the
// store). Sleeping is already the slow path (the holder was off its CPU for
// 200 spins), so the barrier's IPIs cost nothing that matters. Where
// membarrier is unavailable (old kernel, seccomp, valgrind) the unlock is a
// seq_cst store (a locked exchange) and the sleeper's locked increment is
// the other fence: classic Dekker, as before. The choice is made once, at
// load time, before any thread can hold a lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/detail/short_lock.hpp"

namespace gmp::detail {

// True once membarrier(PRIVATE_EXPEDITED) is registered for this process
// (set at static-initialisation time, never changed after).
extern bool short_lock_asymmetric;

// Spins, then sleeps until the lock is taken. Out of line (spin_lock.cpp).
void short_lock_slow(ShortLockWord& w) noexcept;
// Wakes one sleeper of w. Out of line (spin_lock.cpp).
void short_lock_wake(ShortLockWord& w) noexcept;

inline void short_lock(ShortLockWord& w) noexcept {
  std::uint32_t c = 0;
  if (!w.locked.compare_exchange_strong(c, 1, std::memory_order_acquire)) short_lock_slow(w);
}

inline bool short_try_lock(ShortLockWord& w) noexcept {
  std::uint32_t c = 0;
  return w.locked.load(std::memory_order_relaxed) == 0 &&
         w.locked.compare_exchange_strong(c, 1, std::memory_order_acquire);
}

// Pairs with short_lock()'s acquire. Note [Asymmetric unlock].
inline void short_unlock(ShortLockWord& w) noexcept {
  if (short_lock_asymmetric) [[likely]] {
    w.locked.store(0, std::memory_order_release);
    // Keeps the compiler from hoisting the load above the store; the CPU
    // may still, which the sleeper's membarrier covers.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (w.sleepers.load(std::memory_order_relaxed) != 0) [[unlikely]] short_lock_wake(w);
  } else {
    w.locked.store(0, std::memory_order_seq_cst);
    if (w.sleepers.load(std::memory_order_seq_cst) != 0) short_lock_wake(w);
  }
}

class SpinLock {
 public:
  void lock() noexcept { short_lock(state_); }
  bool try_lock() noexcept { return short_try_lock(state_); }
  void unlock() noexcept { short_unlock(state_); }

 private:
  ShortLockWord state_;
};

}  // namespace gmp::detail
