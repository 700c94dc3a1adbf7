// sync/spin_lock.cpp — the short lock's slow paths and its process-wide
// barrier (Note [Asymmetric unlock] in spin_lock.hpp).
#include "sync/spin_lock.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "base/futex.hpp"

namespace gmp::detail {

namespace {

long membarrier(int cmd) noexcept { return syscall(SYS_membarrier, cmd, 0u, 0); }

// Registers this process for expedited private membarriers, if the kernel
// offers them. Runs at load time, before any thread can take a short lock.
bool register_membarrier() noexcept {
  long cmds = membarrier(MEMBARRIER_CMD_QUERY);
  if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

}  // namespace

// The sleeper's side of Note [Asymmetric unlock], and a revoker's of Note
// [One-P lock elision] (elided_lock.hpp). The registration belongs to the
// address space: fork() children inherit it, exec() drops it (and re-runs
// our static initialisation). A failure here would let an unlocker miss
// this sleeper for ever, so it must not pass silently.
void process_wide_fence() noexcept {
  long rc = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  GMP_CHECK(rc == 0, "runtime: membarrier(PRIVATE_EXPEDITED) failed after it was registered: %s",
            std::strerror(errno));
}

bool short_lock_asymmetric = register_membarrier();
SleeperBucket short_lock_sleepers[kSleeperBuckets];

void short_lock_slow(ShortLockWord& w) noexcept {
  constexpr int kSpins = 200;
  SleeperBucket& b = sleeper_bucket(w);
  for (;;) {
    for (int i = 0; i < kSpins; i++) {
      std::uint32_t c = 0;
      if (w.load(std::memory_order_relaxed) == 0 && w.compare_exchange_weak(c, 1, std::memory_order_acquire)) {
        return;
      }
      cpu_relax();
    }
    // Count ourselves in, make every unlocker see it or make its store of 0
    // visible to us, then retry once and sleep while the lock is held.
    b.n.fetch_add(1, std::memory_order_seq_cst);
    if (short_lock_asymmetric) process_wide_fence();
    std::uint32_t c = 0;
    bool got = w.compare_exchange_strong(c, 1, std::memory_order_acquire);
    if (!got) futex_wait(&w, 1);
    b.n.fetch_sub(1, std::memory_order_relaxed);
    if (got) return;
  }
}

void short_lock_wake(ShortLockWord* w) noexcept { futex_wake(w, 1); }

}  // namespace gmp::detail
