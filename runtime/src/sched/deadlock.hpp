// sched/deadlock.hpp — "all goroutines are asleep": see deadlock.cpp.
#pragma once

#include <atomic>
#include <cstdint>

namespace gmp::detail {

// A plain (non-M) thread blocked in a runtime wait (a channel operation,
// a join, gmp::run waiting for main) cannot wake a goroutine until the wait
// ends. It is counted as such from plain_wait_begin(), called on that thread
// before anything can wake it, until plain_wait_end(), called by whoever
// wakes it, before the wake-up: a woken thread the kernel has not run yet
// is not asleep (Note [Deadlock] in deadlock.cpp). Each begin is ended
// exactly once; a wait that does not happen after all (its commit refused)
// is ended by the thread itself.
void plain_wait_begin() noexcept;
void plain_wait_end() noexcept;
// Plain threads counted as waiting now (tests).
int plain_waits() noexcept;

// sysmon's tick: reports a deadlock and ends the process when nothing can
// run or wake anything (Note [Deadlock] in deadlock.cpp).
void check_deadlock(std::int64_t now_ns) noexcept;
// At gmp::start.
void deadlock_reset() noexcept;

}  // namespace gmp::detail
