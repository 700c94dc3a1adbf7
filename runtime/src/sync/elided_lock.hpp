// sync/elided_lock.hpp — the channel lock: the short lock (spin_lock.hpp),
// elided while the runtime has one P.
//
// Note [One-P lock elision]
// With one P only one thread runs goroutines at a time, so the channel locks
// that goroutines take from each other only order that thread against
// itself, and the locked instruction each one costs (four per ping-pong
// round trip; removing them saved ~3 ns of ~58, docs/notes/benchmarks-history.md) buys
// nothing. A kernel built for one CPU compiles its spinlocks away for the
// same reason. What spoils it here is everybody else: plain threads may use
// channels too, and so may the body of a gmp::blocking call, whose M has let
// the P go.
//
// So a channel made while elision is on, by the thread that owns the P
// ("the owner": an M holding the P and not inside gmp::blocking; the P's
// hand-offs make that one thread at a time), gets a *biased* lock word: the
// tag bit, the current epoch and a held bit. The owner takes and releases a
// biased word with plain loads and stores, counting itself in and out of
// g_elision.in_cs around its critical sections. Anyone else who meets a
// biased word of the live epoch first revokes elision for the whole process
// (elision_revoke): it sets g_elision.word to kNoElision, runs a process-wide
// memory barrier (membarrier, as in Note [Asymmetric unlock]) and waits for
// in_cs to drop to zero. The owner stores in_cs before it re-reads
// g_elision.word, with only a compiler barrier between: wherever the
// barrier's fence lands in the owner's stream, either the revoker sees the
// owner counted in (and waits for its unlock), or the owner sees elision off
// (and takes the locked path). After a revocation every word of that epoch
// is an unlocked word that anyone takes with a compare-and-swap (and the
// unlock then stores a plain 0).
//
// A dead epoch's words are free once its revocation has finished: until
// then the owner may still be in a section it entered before the switch-off
// (its store of the held bit not yet visible), so a thread that is not the
// owner first passes through the revocation mutex (the revoker holds it
// until in_cs is zero); the owner needs no wait (no other thread can hold
// such a word), which matters because it may hold biased locks meanwhile.
//
// Epochs: elision is turned on at gmp::start with one P and by set_procs(1),
// each time with a new epoch, and off by a revocation (until one of those
// turns it on again), set_procs(n > 1) (under stop-the-world: no critical
// section is in flight) or gmp::stop. Only words made in the live epoch are
// elided, and a thread can only meet such a word through the channel's
// handle, which was published after the epoch began; a word of an older
// epoch is a plain free word once that epoch's revocation has finished.
//
// Deadlock freedom: a thread that is not the owner never waits for a
// revocation while it holds a channel lock (one channel operation takes one
// lock; select settles every word first, prepare_multi), and the owner's
// critical sections run runtime code only (a park holds the lock until its
// commit, right after the switch), so in_cs always drops. Where the asymmetric barrier is unavailable elision
// stays off (Config::lock_elision, SchedStats::lock_elision_*).
#pragma once

#include <atomic>
#include <cstdint>

#include "sched/m.hpp"
#include "sync/spin_lock.hpp"

namespace gmp::detail {

inline constexpr std::uint32_t kBiasTag = 0x8000'0000u;
inline constexpr std::uint32_t kBiasHeld = 1u;
// An odd tagged value: never equal to a free biased word.
inline constexpr std::uint32_t kNoElision = 0xFFFF'FFFFu;

struct alignas(64) ElisionState {
  // kBiasTag | epoch << 1 while elision is on, else kNoElision. Written
  // under the revocation mutex (elided_lock.cpp); read by every lock.
  std::atomic<std::uint32_t> word{kNoElision};
  // Biased critical sections the owner is in (select holds several). Written
  // by the owner only; read by a revoker after its barrier.
  std::atomic<std::uint32_t> in_cs{0};
};
extern ElisionState g_elision;

// This thread owns the one P (Note [One-P lock elision]): an M holding a P,
// not inside gmp::blocking. Only meaningful while elision is on.
inline bool elision_owner() noexcept {
  M* mp = getm();
  return mp != nullptr && mp->owns_p();
}

// Note [Owner hint]
// The fast path does not ask elision_owner() (three loads and two branches
// on every lock): each thread keeps, in gmp_tls_elision, the live word of
// the epoch in which it last found itself the owner (set by the slow path),
// and kNoElision after it stops being one: releasep and entersyscall clear
// it (elision_lost_p, a P-release hook in elided_lock.cpp), and a thread that never owned a P never sets it. So
// a word equal to the hint proves the thread is the owner; whether the epoch
// is still live is the fast path's own re-check. Read like getm(): one
// volatile %fs-relative load, never cached across a switch.
#if defined(__x86_64__) && !defined(GMP_GETM_OUT_OF_LINE)
inline std::uint32_t elision_hint() noexcept {
  std::uint32_t v;
  std::uintptr_t off;
  asm volatile("movq gmp_tls_elision@gottpoff(%%rip), %1\n\tmovl %%fs:(%1), %0" : "=r"(v), "=&r"(off) : : "memory");
  return v;
}
#else
std::uint32_t elision_hint() noexcept;
#endif

// Out of line (elided_lock.cpp).
void elided_lock_slow(ShortLockWord& w) noexcept;      // any word the fast paths did not take
void elided_prepare_slow(ShortLockWord& w) noexcept;       // prepare_multi's tagged words
std::uint32_t elided_lock_initial_word() noexcept;

// The owner's biased take of w, whose value x is the live epoch's free word:
// counts itself in, then re-reads the switch (Note [One-P lock elision]).
// False (counted out again) if elision went off meanwhile.
// REQUIRES: the caller is the owner.
inline bool elided_take(ShortLockWord& w, std::uint32_t x) noexcept {
  std::atomic<std::uint32_t>& cs = g_elision.in_cs;
  cs.store(cs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // Only the compiler must keep the store above the re-read: a revoker's
  // membarrier orders the CPU.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (g_elision.word.load(std::memory_order_relaxed) == x) [[likely]] {
    w.store(x | kBiasHeld, std::memory_order_relaxed);
    return true;
  }
  cs.store(cs.load(std::memory_order_relaxed) - 1, std::memory_order_release);
  return false;
}

// Not a Clang capability: a channel's lock is released by a parked
// goroutine's commit (another function, after the switch) and select takes
// several in a loop, neither of which the analysis can follow (ChanCore's
// fields say what it guards in words).
class ElidedLock {
 public:
  ElidedLock() noexcept : word_(initial()) {}

  void lock() noexcept {
    const std::uint32_t hint = elision_hint();
    std::uint32_t x = word_.load(std::memory_order_relaxed);
    // Note [Owner hint]. The hint may be a dead epoch's word (elision went
    // off since): then several Ms may get here, and in_cs must keep one
    // writer, so check that the epoch is live before counting in.
    if (x == hint && x == g_elision.word.load(std::memory_order_relaxed)) [[likely]] {
      if (elided_take(word_, x)) [[likely]] return;
    } else if (x == 0) {
      std::uint32_t c = 0;
      if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
    }
    elided_lock_slow(word_);
  }

  void unlock() noexcept {
    std::uint32_t x = word_.load(std::memory_order_relaxed);
    if (x & kBiasTag) [[likely]] {
      // A held biased word is the owner's own: a dead epoch's are all free
      // and the locked path stores 1 (Note [One-P lock elision]).
      word_.store(x & ~kBiasHeld, std::memory_order_relaxed);
      std::atomic<std::uint32_t>& cs = g_elision.in_cs;
      // After the word's store: a revoker that reads in_cs == 0 sees it.
      cs.store(cs.load(std::memory_order_relaxed) - 1, std::memory_order_release);
      return;
    }
    short_unlock(word_);
  }

  // For a thread about to take several channel locks (select): settles a
  // biased word first (revokes a live one, waits out a dead one's
  // revocation) unless the caller is the owner, so that it never waits for
  // the owner while it holds a lock the owner may want.
  // The owner's select over its own elided channels (every select with one
  // P) stops at the hint, without the out-of-line owner check.
  void prepare_multi() noexcept {
    const std::uint32_t x = word_.load(std::memory_order_relaxed);
    if ((x & kBiasTag) != 0 && x != elision_hint()) [[unlikely]] elided_prepare_slow(word_);
  }

  // True if the word is elided in the live epoch (tests).
  bool elided() const noexcept {
    std::uint32_t x = word_.load(std::memory_order_relaxed);
    return (x & kBiasTag) != 0 && (x & ~kBiasHeld) == g_elision.word.load(std::memory_order_relaxed);
  }

 private:
  static std::uint32_t initial() noexcept {
    return g_elision.word.load(std::memory_order_relaxed) == kNoElision ? 0 : elided_lock_initial_word();
  }

  ShortLockWord word_;
};

// Lifecycle (runtime.cpp, stw/procresize.cpp). elision_on: a new epoch
// (REQUIRES: elision off). elision_revoke: off, after waiting out the
// owner's critical sections; safe at any time from a thread that is not
// the owner and holds no channel lock (gmp::stop, set_procs under
// stop-the-world, a foreign locker). Both no-ops where they have nothing
// to do.
void elision_on() noexcept;
void elision_revoke() noexcept;
bool elision_enabled() noexcept;
std::uint64_t elision_revocations() noexcept;  // by foreign lockers, since load

}  // namespace gmp::detail
