// sched/syscall.hpp — gmp::blocking internals (see syscall.cpp).
#pragma once

#include "sched/sched.hpp"

namespace gmp::detail {

// Hands pp to an M whose goroutine returned from gmp::blocking and found no
// P, if one waits. Returns true if pp was taken (it is then running).
// REQUIRES: sched.lock held; pp not on the idle list.
bool syscall_waiter_take_locked(P* pp) noexcept;

}  // namespace gmp::detail
