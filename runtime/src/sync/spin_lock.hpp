// sync/spin_lock.hpp — the short lock inside channels (through ElidedLock,
// elided_lock.hpp, which skips it with one P), select, WaitGroup and the
// sync primitives' wait queues (Go's runtime mutex: spin, then futex).
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
// kind of CPU a locked instruction costs ~6 ns (an uncontended lock + unlock
// with a locked exchange for the unlock: ~11.5 ns), more than the rest of the
// hand-off. So the unlock is a plain release store of the word, then a plain
// load of a sleeper count: no locked instruction. The CPU may run that load
// before the store is visible (x86 store buffer), which alone would lose the
// wake-up of a waiter that counted itself in between; so the sleeper pays
// for the ordering: after counting itself in it runs a process-wide memory
// barrier (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every CPU running a
// thread of this process executes a full fence) before it tries the lock once
// more and sleeps. Wherever that fence lands in the unlocker's stream, either
// the unlocker's store of 0 is visible to the sleeper's retry / futex check
// (fence after the store), or the unlocker's load comes after the fence and
// sees the sleeper counted (fence before the store). Sleeping is the slow
// path already (the holder missed 200 spins), so the barrier's IPIs cost
// nothing that shows. Where membarrier is unavailable (old kernel, seccomp)
// the unlock's store and load are seq_cst (a locked exchange, then the load:
// Dekker with the sleeper's locked increment). Chosen once, at load time,
// before any thread can hold a lock.
//
// The sleeper counts are not in the lock: once the word is 0 another thread
// may take the lock, finish, and free the object that holds it (the last
// handle of a channel), so the unlocker must not read the lock's memory
// after its store. They live in a static table of kSleeperBuckets counters,
// indexed by a hash of the lock's address (a count covers every lock that
// hashes there: an unlock then wakes with FUTEX_WAKE on its own address,
// which at worst wakes nobody or a sleeper of another lock on that address,
// and sleepers retry). The futex call uses the address only.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/clock.hpp"
#include "gmp/detail/thread_annotations.hpp"

namespace gmp::detail {

// The lock word: 0 free, 1 held; also the futex word sleepers wait on.
using ShortLockWord = std::atomic<std::uint32_t>;

// True once membarrier(PRIVATE_EXPEDITED) is registered for this process
// (set at static-initialisation time, never changed after; tests flip it
// while no lock is held to run the fallback).
extern bool short_lock_asymmetric;

inline constexpr int kSleeperBuckets = 64;
struct alignas(64) SleeperBucket {
  std::atomic<std::uint32_t> n{0};  // threads asleep (or about to sleep) on locks hashing here
};
extern SleeperBucket short_lock_sleepers[kSleeperBuckets];

inline SleeperBucket& sleeper_bucket(const ShortLockWord& w) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(&w);
  return short_lock_sleepers[(a * 0x9E3779B97F4A7C15ull) >> 58];  // top 6 bits: 64 buckets
}
static_assert(kSleeperBuckets == 64, "sleeper_bucket() takes the top 6 bits of the hash");

// Every CPU running a thread of this process executes a full fence.
// REQUIRES: short_lock_asymmetric (the registration exists).
void process_wide_fence() noexcept;

// Spins, then sleeps until the lock is taken. Out of line (spin_lock.cpp).
void short_lock_slow(ShortLockWord& w) noexcept;
// Wakes one sleeper waiting on the address of w (w may be freed by now).
void short_lock_wake(ShortLockWord* w) noexcept;

inline void short_lock(ShortLockWord& w) noexcept {
  std::uint32_t c = 0;
  if (!w.compare_exchange_strong(c, 1, std::memory_order_acquire)) short_lock_slow(w);
}

inline bool short_try_lock(ShortLockWord& w) noexcept {
  std::uint32_t c = 0;
  return w.load(std::memory_order_relaxed) == 0 && w.compare_exchange_strong(c, 1, std::memory_order_acquire);
}

// Pairs with short_lock()'s acquire. Note [Asymmetric unlock]: nothing of
// w's memory is read after the store.
inline void short_unlock(ShortLockWord& w) noexcept {
  SleeperBucket& b = sleeper_bucket(w);
  if (short_lock_asymmetric) [[likely]] {
    w.store(0, std::memory_order_release);
    // Keeps the compiler from hoisting the load above the store; the CPU
    // may still, which the sleeper's membarrier covers.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (b.n.load(std::memory_order_relaxed) != 0) [[unlikely]] short_lock_wake(&w);
  } else {
    w.store(0, std::memory_order_seq_cst);
    if (b.n.load(std::memory_order_seq_cst) != 0) short_lock_wake(&w);
  }
}

class GMP_CAPABILITY("spin lock") SpinLock {
 public:
  void lock() noexcept GMP_ACQUIRE() GMP_NO_THREAD_SAFETY_ANALYSIS { short_lock(state_); }
  bool try_lock() noexcept GMP_TRY_ACQUIRE(true) GMP_NO_THREAD_SAFETY_ANALYSIS { return short_try_lock(state_); }
  void unlock() noexcept GMP_RELEASE() GMP_NO_THREAD_SAFETY_ANALYSIS { short_unlock(state_); }

 private:
  ShortLockWord state_{0};
};

}  // namespace gmp::detail
