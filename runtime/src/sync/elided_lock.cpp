// sync/elided_lock.cpp — the channel lock's slow paths and elision's
// lifecycle (Note [One-P lock elision] in elided_lock.hpp).
#include "sync/elided_lock.hpp"

#include <sched.h>
#include <time.h>

#include <mutex>

#include "base/check.hpp"
#include "gmp/detail/thread_annotations.hpp"
#include "sched/hooks.hpp"

namespace gmp::detail {

ElisionState g_elision;

}  // namespace gmp::detail

extern "C" {
[[gnu::tls_model("initial-exec")]] thread_local std::uint32_t gmp_tls_elision = gmp::detail::kNoElision;
}

namespace gmp::detail {

#if !defined(__x86_64__) || defined(GMP_GETM_OUT_OF_LINE)
[[gnu::noipa]] std::uint32_t elision_hint() noexcept { return gmp_tls_elision; }
#endif

// Out of line and never inlined: no caller keeps the slot's address across a
// switch (Note [TLS across switches]).
// This thread stops owning its P: a p_release hook (releasep, entersyscall;
// sched/hooks.hpp).
[[gnu::noipa]] void elision_lost_p(M*, P*) noexcept { gmp_tls_elision = kNoElision; }

namespace {

const MpHooks kElisionMpHooks{"lock elision", nullptr, nullptr, nullptr, elision_lost_p, nullptr};

struct Registrar {
  Registrar() noexcept { register_mp_hooks(&kElisionMpHooks); }
} registrar;

}  // namespace

namespace {

// Serialises revocations and epoch changes; held by a revoker until the
// owner's critical sections are drained (a dead epoch's words are free only
// after that: non-owners pass through it first).
ThreadMutex revoke_mu;
std::uint32_t epoch GMP_GUARDED_BY(revoke_mu) = 0;   // the live or last epoch, 1..kMaxEpoch
constexpr std::uint32_t kMaxEpoch = (1u << 30) - 1;  // kBiasTag | kMaxEpoch << 1 is still even
std::atomic<std::uint64_t> foreign_revocations{0};

[[gnu::noipa]] void set_hint(std::uint32_t word) noexcept { gmp_tls_elision = word; }

// REQUIRES: revoke_mu held. Elision off, then wait until the owner has left
// every biased critical section it may have entered before it could see it.
void turn_off_locked() noexcept GMP_REQUIRES(revoke_mu) {
  if (g_elision.word.load(std::memory_order_relaxed) == kNoElision) return;
  g_elision.word.store(kNoElision, std::memory_order_seq_cst);
  process_wide_fence();
  for (int spins = 0; g_elision.in_cs.load(std::memory_order_acquire) != 0; spins++) {
    // The owner's sections are runtime code (a few hundred ns), unless its
    // thread is descheduled: then get out of its way.
    if (spins < 1000) {
      cpu_relax();
    } else if (spins < 1100) {
      sched_yield();
    } else {
      struct timespec ts = {0, 20'000};
      nanosleep(&ts, nullptr);
    }
  }
}

void revoke(bool foreign) noexcept {
  LockGuard lk(revoke_mu);
  if (g_elision.word.load(std::memory_order_relaxed) == kNoElision) return;
  turn_off_locked();
  if (foreign) foreign_revocations.fetch_add(1, std::memory_order_relaxed);
}

// Waits until the revocation that killed this word's epoch has finished.
void settle_dead() noexcept { LockGuard lk(revoke_mu); }

// A tagged word: takes it (biased by the owner in the live epoch, else by
// compare-and-swap once the word is settled). Returns false if it is not
// tagged any more (the caller takes the plain short lock).
bool take_tagged(ShortLockWord& w) noexcept {
  for (;;) {
    std::uint32_t x = w.load(std::memory_order_acquire);
    if ((x & kBiasTag) == 0) return false;
    const bool owner = elision_owner();
    GMP_CHECK(!(owner && (x & kBiasHeld) != 0),
              "runtime: a channel lock was taken twice by the thread that holds it (lock elision state 0x%x)", x);
    if ((x & ~kBiasHeld) == g_elision.word.load(std::memory_order_acquire)) {
      if (owner) {
        set_hint(x);  // Note [Owner hint]: the next lock takes the fast path
        if (elided_take(w, x)) return true;
        continue;  // switched off meanwhile: the word is dead now
      }
      revoke(true);
      continue;
    }
    // A dead epoch's word: free once its revocation is over. The owner
    // needs no wait (Note [One-P lock elision]); it may hold biased locks.
    if (!owner) settle_dead();
    x = w.load(std::memory_order_acquire);
    if ((x & kBiasTag) == 0) return false;
    GMP_CHECK((x & kBiasHeld) == 0, "runtime: a channel lock of a dead elision epoch is held (0x%x)", x);
    if (w.compare_exchange_strong(x, 1, std::memory_order_acquire)) return true;
  }
}

}  // namespace

void elided_lock_slow(ShortLockWord& w) noexcept {
  if (take_tagged(w)) return;
  // An untagged word stays untagged (tags are only given at construction).
  std::uint32_t c = 0;
  if (!w.compare_exchange_strong(c, 1, std::memory_order_acquire)) short_lock_slow(w);
}

void elided_prepare_slow(ShortLockWord& w) noexcept {
  if (elision_owner()) return;
  std::uint32_t x = w.load(std::memory_order_acquire);
  if ((x & kBiasTag) == 0) return;
  if ((x & ~kBiasHeld) == g_elision.word.load(std::memory_order_acquire)) {
    revoke(true);
  } else {
    settle_dead();
  }
}

std::uint32_t elided_lock_initial_word() noexcept {
  // Only the owner makes elided channels: anybody else would revoke at its
  // first operation anyway.
  std::uint32_t word = g_elision.word.load(std::memory_order_relaxed);
  return word != kNoElision && elision_owner() ? word : 0;
}

void elision_on() noexcept {
  if (!short_lock_asymmetric) return;  // needs the owner-side-free barrier
  LockGuard lk(revoke_mu);
  if (g_elision.word.load(std::memory_order_relaxed) != kNoElision) return;
  epoch = epoch % kMaxEpoch + 1;
  g_elision.word.store(kBiasTag | (epoch << 1), std::memory_order_release);
}

void elision_revoke() noexcept { revoke(false); }

bool elision_enabled() noexcept { return g_elision.word.load(std::memory_order_acquire) != kNoElision; }

std::uint64_t elision_revocations() noexcept { return foreign_revocations.load(std::memory_order_relaxed); }

}  // namespace gmp::detail
