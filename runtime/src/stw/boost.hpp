// stw/boost.hpp — the priority boost of an M a stop-the-world waits for
// (Note [STW boost] in stw/boost.cpp).
#pragma once

#include <cstdint>

namespace gmp::detail {

struct M;
struct P;

// The M's own thread, at start: records its tid, policy and nice (what a
// boost restores). An m_start hook (sched/hooks.hpp): on mp's thread before
// it takes a P.
void stw_boost_init_m(M* mp) noexcept;

// The stopper (REQUIRES: it holds the world):
// false once the kernel refused a boost (EPERM) since gmp::start.
bool stw_boost_permitted() noexcept;
// At the start of each stop's wait.
void stw_boost_begin() noexcept;
// Raises the M of every P still running (not caller_p) that this stop has
// not boosted yet, where that cannot starve the stopper.
void stw_boost_lagging(P* caller_p, std::uint64_t gen) noexcept;
// sched.lock is held by owner_tid (glibc's record; racy): if that is an M
// (a P's, not caller_p's, or one without a P), boost it, as a lagging M.
void stw_boost_lock_holder(P* caller_p, std::uint64_t gen, int owner_tid) noexcept;
// The M of this run whose thread is tid (the registry every M joins at
// start; lock-free), or null: not an M, or beyond the registry's 256.
M* stw_m_by_tid(int tid) noexcept;
// A goroutine stopper's own thread (mp, on the pinned P caller_p), for the
// whole stop: true if raised; then stw_boost_restore_stopper at the end.
bool stw_boost_raise_self(M* mp, P* caller_p) noexcept;
void stw_boost_restore_stopper(M* mp) noexcept;
// Restores every M this stop boosted that has not restored itself
// (expired: the bound ran out before they stopped).
void stw_boost_drop_all(bool expired) noexcept;

// The M, once it has stopped its P (stw_park_m, after kStopped is stored):
// kNotBoosted; kRestore: it was boosted and must call
// stw_boost_restore_self before it spins (a syscall: not under
// sched.lock); kStopperRestores: the stopper's raise is still in flight and
// the stopper restores it, so the M must not spin (it may still be RT).
enum class BoostClaim { kNotBoosted, kRestore, kStopperRestores };
BoostClaim stw_boost_claim(M* mp) noexcept;
void stw_boost_restore_self(M* mp) noexcept;

// gmp::start.
void stw_boost_reset() noexcept;

}  // namespace gmp::detail
