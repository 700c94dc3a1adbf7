// sync/park.hpp — detail::wait / detail::wake for the runtime's own sync
// primitives, with the goroutine case inline: one call level less on every
// park and wake-up (a channel round trip does two of each). Plain threads
// still take the out-of-line futex path in sync/wait.cpp.
#pragma once

#include "gmp/detail/wait.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

inline void park_waiter(Waiter& w, WaitReason reason, bool (*commit)(void*), void* arg) noexcept {
  if (G* gp = getg()) {
    w.g = gp;
    park(gp, reason, commit, arg);
    return;
  }
  wait(w, reason, commit, arg);
}

inline void wake_waiter(Waiter& w) noexcept {
  if (G* gp = w.g) {
    ready(gp);
    return;
  }
  wake(w);
}

}  // namespace gmp::detail
