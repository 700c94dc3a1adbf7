// sched/hooks.cpp — the M and P lifecycle hook lists (sched/hooks.hpp).
#include "sched/hooks.hpp"

namespace gmp::detail {

// Constant-initialised (zero): registrars in other files may run before this
// file's own static initialisation.
constinit MpHookLists mp_hook_lists{};

namespace {

template <typename Fn>
void add(HookList<Fn>& list, Fn fn, const char* name) noexcept {
  if (fn == nullptr) return;
  GMP_CHECK(list.n < HookList<Fn>::kMax, "runtime: more than %d M/P hooks for one event (raise HookList::kMax): %s",
            HookList<Fn>::kMax, name);
  list.fns[list.n++] = fn;
}

}  // namespace

void register_mp_hooks(const MpHooks* h) noexcept {
  add(mp_hook_lists.m_start, h->m_start, h->name);
  add(mp_hook_lists.m_stop, h->m_stop, h->name);
  add(mp_hook_lists.p_acquire, h->p_acquire, h->name);
  add(mp_hook_lists.p_release, h->p_release, h->name);
  add(mp_hook_lists.m_wake, h->m_wake, h->name);
}

}  // namespace gmp::detail
