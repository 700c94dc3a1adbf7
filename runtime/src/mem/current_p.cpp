// mem/current_p.cpp — the pool's one seam to the scheduler: whose cache is
// this thread's right now?
//
// fast_front() runs on every inline allocate/deallocate (gmp/pool.hpp), so it
// reads the current M through getm() (never inlined nor analysed: Note [TLS
// across switches] in sched/schedule.cpp) and the M's P directly, one call
// deep. It is itself noipa for the same reason: a caller must get a fresh
// answer after each switch point, never one kept in a register.
#include "mem/pool_state.hpp"
#include "sched/sched.hpp"

namespace gmp::detail::mem {

static_assert(kMaxPools == kMaxProcs, "one pool cache per possible P");

// Set only on threads that are not Ms (an M between Ps gets null below, so
// its frees and allocations use the locked orphan cache): a thread with a
// foreign cache is never a runtime thread, which is why it is checked first
// and a plain thread pays no getm() call.
thread_local Cache* t_foreign_cache = nullptr;

[[gnu::noipa]] FastFront* fast_front() noexcept {
  if (Cache* c = t_foreign_cache; c != nullptr) return c;
  M* mp = getm();
  if (mp != nullptr) {
    P* pp = mp->p;  // owner only: this M sets it, and this M is running us
    if (pp == nullptr) [[unlikely]] return nullptr;
    Cache* base = g_pcache.load(std::memory_order_acquire);
    if (base == nullptr) [[unlikely]] base = state().pcache;
    return &base[pp->id];
  }
  return acquire_foreign();
}

int current_p_id() noexcept {
  P* pp = getp();
  return pp != nullptr ? pp->id : -1;
}

}  // namespace gmp::detail::mem
