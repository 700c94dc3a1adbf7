// gmp/go.hpp — spawning goroutines, yielding, safe points.
//
//   gmp::go(fn, args...)     fire and forget, like Go's `go fn(args...)`;
//   gmp::spawn(fn, args...)  the same, returning a JoinHandle<R> for the result.
//
// The callable and its arguments are decay-copied (moved when given as
// rvalues) into the goroutine's own stack, so move-only types work and a
// spawn does not allocate. Called from a goroutine, the new G goes to the
// caller's P (its `runnext` slot); from any other thread, to the global queue.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace gmp {

namespace detail {
struct G;
struct SpawnOptions {
  std::size_t stack_size = 0;  // 0: the runtime's configured size
};
// Reserves a G whose stack holds `closure_size` bytes of closure storage.
// REQUIRES: the runtime is running.
G* g_new(std::size_t closure_size, std::size_t closure_align, const SpawnOptions& opts);
void* g_closure(G* gp) noexcept;
// Makes `gp` runnable. `run` consumes the closure (and destroys it);
// `destroy` only destroys it (used when the runtime stops before gp ran).
void g_start(G* gp, void (*run)(void*), void (*destroy)(void*)) noexcept;
// Slow half of preempt_point(): yields if the current G was asked to.
void preempt_slow() noexcept;
// Address of the current G's preempt flag, or of a flag that is never set
// when called outside a goroutine.
const std::atomic<std::uint32_t>* preempt_flag() noexcept;
}  // namespace detail

// The id of the calling goroutine (ids start at 1), or 0 outside one.
std::uint64_t current_id() noexcept;

// True when called from a goroutine.
bool in_goroutine() noexcept;

// Puts the calling goroutine at the back of its P's run queue and runs the
// next one. Outside a goroutine it is std::this_thread::yield().
void yield() noexcept;

// A safe point: yields if sysmon or a stop-the-world asked this goroutine to.
// Costs two loads when nobody asked. Put one in long loops.
inline void preempt_point() noexcept {
  if (detail::preempt_flag()->load(std::memory_order_relaxed) != 0) [[unlikely]] detail::preempt_slow();
}

template <class F, class... Args>
concept Spawnable = std::move_constructible<std::decay_t<F>> &&
                    (std::move_constructible<std::decay_t<Args>> && ...) &&
                    std::invocable<std::decay_t<F>, std::decay_t<Args>...>;

template <class F, class... Args>
  requires Spawnable<F, Args...>
void go(F&& fn, Args&&... args) {
  using Fn = std::decay_t<F>;
  using Tup = std::tuple<std::decay_t<Args>...>;
  struct Closure {
    Fn fn;
    Tup args;
  };
  detail::G* gp = detail::g_new(sizeof(Closure), alignof(Closure), {});
  ::new (detail::g_closure(gp)) Closure{Fn(std::forward<F>(fn)), Tup(std::forward<Args>(args)...)};
  detail::g_start(
      gp,
      [](void* p) {
        auto* c = static_cast<Closure*>(p);
        std::apply(c->fn, std::move(c->args));
        c->~Closure();
      },
      [](void* p) { static_cast<Closure*>(p)->~Closure(); });
}

}  // namespace gmp

#include "gmp/join.hpp"
