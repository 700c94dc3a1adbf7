// sched/syscall.hpp — gmp::blocking internals (see syscall.cpp).
#pragma once

#include <atomic>

#include "sched/sched.hpp"

namespace gmp::detail {

// Hands pp to an M whose goroutine returned from gmp::blocking and found no
// P, if one waits. Returns true if pp was taken (it is then running).
// REQUIRES: sched.lock held; pp not on the idle list.
bool syscall_waiter_take_locked(P* pp) noexcept GMP_REQUIRES(sched.lock);
// Whether syscall_waiter_take_locked would take a P now.
// REQUIRES: sched.lock held.
bool syscall_waiter_can_take_locked() noexcept GMP_REQUIRES(sched.lock);
// The same for one M: if mp waits (its call returned while a stop-the-world
// held its P), hands it pp. REQUIRES: as above.
bool syscall_waiter_take_m_locked(M* mp, P* pp) noexcept GMP_REQUIRES(sched.lock);
// Takes back a P handed to a waiter that has not claimed it yet (Note [P in
// transit] in idle.cpp) and puts the waiter back on the list, or returns
// null. REQUIRES: sched.lock held and sched.stw_waiting.
P* syscall_waiter_revoke_locked() noexcept GMP_REQUIRES(sched.lock);
// Wakes every waiter, which checks whether the runtime stops (gmp::stop,
// and an M letting its P go on its way out). REQUIRES: sched.lock held.
void syscall_wake_waiters_locked() noexcept GMP_REQUIRES(sched.lock);
// At gmp::start (via stw_reset): forgets the tokens of the last run. A token
// left by a call that ended as the runtime stopped would otherwise let
// sysmon "retake" the new runtime's P of that id while it idles.
void syscall_reset() noexcept;
// Ms whose goroutine came back from gmp::blocking and waits for a P: a
// waiter is work (retake, find_runnable). Written under sched.lock, read
// anywhere (relaxed).
extern std::atomic<int> syscall_n_waiters;
// Ms inside gmp::blocking (entersyscall..exitsyscall), P or not: a call
// that may yet wake a goroutine (deadlock.cpp). Relaxed.
extern std::atomic<int> syscall_n_blocking;
inline int syscall_waiters() noexcept { return syscall_n_waiters.load(std::memory_order_relaxed); }

}  // namespace gmp::detail
