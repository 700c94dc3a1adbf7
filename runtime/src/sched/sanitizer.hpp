// sched/sanitizer.hpp — telling ASan and TSan about goroutine stacks.
//
// ASan keeps per-stack bookkeeping (fake stacks for use-after-return, the
// bounds it expects the stack pointer to be in); a context switch it is not
// told about looks like stack corruption. TSan tracks happens-before per
// thread; each goroutine must be its own TSan fiber. Both sets of calls
// compile to nothing in ordinary builds.
#pragma once

#include "sched/g.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define GMP_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#else
#define GMP_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define GMP_TSAN 1
#include <sanitizer/tsan_interface.h>
#else
#define GMP_TSAN 0
#endif

namespace gmp::detail {

// Before switching from `from` to `to`. `from_dying`: from will never run
// again (ASan then frees its fake stack).
inline void san_start_switch(G* from, G* to, bool from_dying) noexcept {
#if GMP_ASAN
  __sanitizer_start_switch_fiber(from_dying ? nullptr : &from->asan_fake_stack, to->stack.lo, to->stack.size());
#endif
#if GMP_TSAN
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
  (void)from;
  (void)to;
  (void)from_dying;
}

// First thing after a switch lands in `cur`.
inline void san_finish_switch(G* cur) noexcept {
#if GMP_ASAN
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(cur->asan_fake_stack, &bottom, &size);
#endif
  (void)cur;
}

inline void san_fiber_create(G* gp) noexcept {
#if GMP_TSAN
  gp->tsan_fiber = __tsan_create_fiber(0);
#endif
  (void)gp;
}

inline void san_fiber_destroy(G* gp) noexcept {
#if GMP_TSAN
  if (gp->tsan_fiber != nullptr) __tsan_destroy_fiber(gp->tsan_fiber);
  gp->tsan_fiber = nullptr;
#endif
  (void)gp;
}

// A dead goroutine's descriptor is recycled: give it a fresh TSan fiber.
// The goroutine never returned from its first frames (it exited by switching
// away), so its fiber's shadow stack still holds them; reused for the next
// goroutine, that stack grew by a few frames per lifetime until TSan's 64 Ki
// frame limit overflowed (a SEGV inside TSan in a test that respawns
// goroutines tens of thousands of times). Called after the switch away from
// gp, so its fiber is not the current one.
inline void san_fiber_recycle(G* gp) noexcept {
#if GMP_TSAN
  if (gp->tsan_fiber != nullptr) __tsan_destroy_fiber(gp->tsan_fiber);
  gp->tsan_fiber = __tsan_create_fiber(0);
#endif
  (void)gp;
}

// g0 is the thread's own stack and its own TSan fiber.
inline void san_g0_init(G* g0) noexcept {
#if GMP_TSAN
  g0->tsan_fiber = __tsan_get_current_fiber();
#endif
  (void)g0;
}

}  // namespace gmp::detail
