// sync/park.hpp — detail::wait / detail::wake with the goroutine case
// inline: one call level less on every park and wake-up of the runtime's own
// primitives (a channel round trip does two of each). wait()/wake() in
// sync/wait.cpp are these, out of line, for the public headers' templates;
// the plain-thread futex halves live there.
#pragma once

#include "gmp/detail/wait.hpp"
#include "gmp/go.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

// The plain-thread halves (sync/wait.cpp).
void wait_thread(Waiter& w, bool (*commit)(void*), void* arg) noexcept;
void wake_thread(Waiter& w) noexcept;

inline void park_waiter(Waiter& w, WaitReason reason, bool (*commit)(void*), void* arg) noexcept {
  if (G* gp = getg()) {
    w.g = gp;
    park(gp, reason, commit, arg);
    return;
  }
  wait_thread(w, commit, arg);
}

// A safe point for runtime calls that do not park (a channel operation that
// completes at once, a select with a ready case or a default): yields if
// sysmon, a stop-the-world or gmp::stop asked the running goroutine to, as
// gmp::preempt_point() does (gmp/stw.hpp: any runtime call is one). Two
// loads when nobody asked; nothing on a plain thread.
inline void safe_point() noexcept {
  G* gp = getg();
  if (gp != nullptr && gp->preempt.load(std::memory_order_relaxed) != 0) [[unlikely]] preempt_slow();
}

inline void wake_waiter(Waiter& w) noexcept {
  if (G* gp = w.g) {
    ready(gp);
    return;
  }
  wake_thread(w);
}

}  // namespace gmp::detail
