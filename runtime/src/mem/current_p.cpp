// mem/current_p.cpp — the pool's one seam to the scheduler: whose cache is
// this thread's right now?
//
// Two answers. gmp_pool_t_front, for the inline path (gmp/detail/pool_inline.hpp): one
// thread-local slot that always holds the cache of the P this thread's M
// holds, this foreign thread's cache, or &g_no_front. Ms keep it current
// through on_acquirep/on_releasep, the P lifecycle hooks (sched/hooks.hpp:
// acquirep/releasep, and exitsyscall/entersyscall; stw's move_caller changes
// mp->p too, and drain_cache clears the slot of the stw caller whose P is
// removed). Inside gmp::blocking (M::in_blocking, set by entersyscall, which
// also clears the slot) the P may be handed to another M, so both paths treat
// the M as having no P until exitsyscall takes it back. fast_front(), for the
// slow path: recomputed from getm()->p, and it
// refreshes the slot, so a thread whose slot is &g_no_front gets the inline
// path back after one slow call.
//
// Every write below is in a function that is never inlined into a caller, so
// no caller can keep the slot's address across a switch (Note [TLS across
// switches] in sched/schedule.cpp); reads go through tls_front()'s asm.
#include <atomic>

#include "base/check.hpp"
#include "mem/pool_state.hpp"
#include "sched/hooks.hpp"
#include "sched/sched.hpp"

namespace gmp::detail::mem {

static_assert(kMaxPools == kMaxProcs, "one pool cache per possible P");

FastFront g_no_front;  // every magazine null (empty and full): never written

}  // namespace gmp::detail::mem

extern "C" {
[[gnu::tls_model("initial-exec")]] thread_local gmp::detail::mem::FastFront* gmp_pool_t_front =
    &gmp::detail::mem::g_no_front;
}

namespace gmp::detail::mem {

// Set only on threads that are not Ms (an M between Ps gets null below, so
// its frees and allocations use the locked orphan cache): a thread with a
// foreign cache is never a runtime thread, which is why it is checked first
// and a plain thread pays no getm() call.
thread_local Cache* t_foreign_cache = nullptr;

[[gnu::noipa]] void set_tls_front(FastFront* f) noexcept {
  gmp_pool_t_front = f != nullptr ? f : &g_no_front;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // no later inline read moves above it
}

[[gnu::noipa]] FastFront* tls_front_slow() noexcept { return gmp_pool_t_front; }

namespace {

// A p_acquire hook: on the M that now holds pp (after mp->p = pp).
[[gnu::noipa]] void on_acquirep(M*, P* pp) noexcept {
  const int pid = pp->id;
  Cache* base = g_pcache.load(std::memory_order_acquire);  // null until the pool state exists
  if (base != nullptr) note_p_cache(pid);  // its frees may never take the slow path's current_cache()
  set_tls_front(base != nullptr ? &base[pid] : nullptr);
}

// A p_release hook: on the M giving up its P (before mp->p = nullptr).
[[gnu::noipa]] void on_releasep(M*, P*) noexcept { set_tls_front(nullptr); }

const MpHooks kPoolMpHooks{"pool", nullptr, nullptr, on_acquirep, on_releasep, nullptr};

struct Registrar {
  Registrar() noexcept { register_mp_hooks(&kPoolMpHooks); }
} registrar;

}  // namespace

[[gnu::noipa]] FastFront* fast_front() noexcept {
  if (Cache* c = t_foreign_cache; c != nullptr) return c;
  M* mp = getm();
  if (mp != nullptr) {
    P* pp = mp->p;  // owner only: this M sets it, and this M is running us
    // No P, or inside gmp::blocking (the P may be another M's by now): the
    // caller uses the shared orphan cache.
    if (!mp->owns_p()) [[unlikely]] return nullptr;
    Cache* base = g_pcache.load(std::memory_order_acquire);
    if (base == nullptr) [[unlikely]] base = state().pcache;
    Cache* c = &base[pp->id];
    FastFront* cur = gmp_pool_t_front;
    // The hooks keep the slot at this P's cache (or g_no_front before the
    // pool state existed); anything else is a missed hand-off that would let
    // two Ms share one cache.
    GMP_CHECK(cur == c || cur == &g_no_front, "runtime: pool: this M's inline cache is P %u's, but it holds P %d",
              static_cast<FastFront*>(cur)->home, pp->id);
    if (cur != c) set_tls_front(c);
    return c;
  }
  return acquire_foreign();
}

int current_p_id() noexcept {
  P* pp = getp();
  return pp != nullptr ? pp->id : -1;
}

}  // namespace gmp::detail::mem
