// sched/hooks.hpp — M and P lifecycle hooks: how the other modules learn that
// an M started or is about to exit, that an M took or is giving up a P, or
// that an idle M was woken, without the scheduler calling each of them (the
// way PollSource and SysmonHook work; docs/MODULES.md).
//
// A module fills an MpHooks with the events it cares about (null for the
// rest) and registers it once, at static initialisation. The scheduler runs
// every registered function of an event in registration order, which is the
// static-initialisation order of their files: so the hooks of one event must
// not depend on each other's order.
//
// Who joins today: the pool (mem/current_p.cpp: the inline path's
// thread-local slot follows the M's P), lock elision (sync/elided_lock.cpp:
// the owner hint is dropped with the P), the stop-the-world boost and
// explanation (stw/boost.cpp, stw/explain.cpp: per-M thread id, priority and
// schedstat fd), the io rings (io/ring.cpp: an idle M may wait in a ring,
// not on its futex).
#pragma once

#include "base/check.hpp"

namespace gmp::detail {

struct M;
struct P;

struct MpHooks {
  const char* name;
  // On the new M's thread, before it takes its first P.
  void (*m_start)(M* mp) noexcept;
  // On the M's thread, after it gave up its P, just before the thread exits.
  void (*m_stop)(M* mp) noexcept;
  // mp now holds pp (mp->p == pp): acquirep, and exitsyscall when the P
  // comes back to the M that gave it up for a blocking call. On mp's thread.
  void (*p_acquire)(M* mp, P* pp) noexcept;
  // mp is giving up pp (mp->p still pp): releasep, and entersyscall (the P
  // may be another M's before the call returns). On mp's thread.
  void (*p_release)(M* mp, P* pp) noexcept;
  // An idle M's park was signalled (a P handed to it, a poke): wake it too
  // if it waits somewhere other than its futex. Any thread.
  void (*m_wake)(M* mp) noexcept;
};

// Static initialisation only (a hook dropped later would miss Ms already
// running).
void register_mp_hooks(const MpHooks* h) noexcept;

// One list of functions per event, filled by register_mp_hooks.
template <typename Fn>
struct HookList {
  static constexpr int kMax = 4;
  Fn fns[kMax];
  int n;  // written during static init only
};
struct MpHookLists {
  HookList<void (*)(M*) noexcept> m_start, m_stop, m_wake;
  HookList<void (*)(M*, P*) noexcept> p_acquire, p_release;
};
extern MpHookLists mp_hook_lists;

inline void run_m_start_hooks(M* mp) noexcept {
  for (int i = 0; i < mp_hook_lists.m_start.n; i++) mp_hook_lists.m_start.fns[i](mp);
}
inline void run_m_stop_hooks(M* mp) noexcept {
  for (int i = 0; i < mp_hook_lists.m_stop.n; i++) mp_hook_lists.m_stop.fns[i](mp);
}
inline void run_m_wake_hooks(M* mp) noexcept {
  for (int i = 0; i < mp_hook_lists.m_wake.n; i++) mp_hook_lists.m_wake.fns[i](mp);
}
inline void run_p_acquire_hooks(M* mp, P* pp) noexcept {
  for (int i = 0; i < mp_hook_lists.p_acquire.n; i++) mp_hook_lists.p_acquire.fns[i](mp, pp);
}
inline void run_p_release_hooks(M* mp, P* pp) noexcept {
  for (int i = 0; i < mp_hook_lists.p_release.n; i++) mp_hook_lists.p_release.fns[i](mp, pp);
}

}  // namespace gmp::detail
