// gmp/join.hpp — JoinHandle<R>: the result of gmp::spawn.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "gmp/detail/wait.hpp"
#include "gmp/go.hpp"

namespace gmp {

namespace detail {
// Shared between a spawned goroutine and its JoinHandle; freed by whichever
// of the two lets go last.
class JoinStateBase {
 public:
  // Called by the goroutine when its result is stored.
  void finish() noexcept;
  // Blocks until finish(). Callable once.
  void wait_done() noexcept;
  bool done() const noexcept { return word_.load(std::memory_order_acquire) == kDone; }
  // Returns true when the caller was the last owner.
  bool release() noexcept { return refs_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  static constexpr std::uintptr_t kDone = 1;
  // 0: running; kDone; otherwise the Waiter* of the joiner.
  std::atomic<std::uintptr_t> word_{0};
  std::atomic<int> refs_{2};
};

template <class R>
struct JoinState : JoinStateBase {
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
};
}  // namespace detail

template <class R>
class JoinHandle {
 public:
  JoinHandle() = default;
  explicit JoinHandle(detail::JoinState<R>* st) : st_(st) {}
  JoinHandle(JoinHandle&& o) noexcept : st_(std::exchange(o.st_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& o) noexcept {
    if (this != &o) {
      reset();
      st_ = std::exchange(o.st_, nullptr);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  // Dropping a handle detaches the goroutine (it runs on, as in Go).
  ~JoinHandle() { reset(); }

  bool joinable() const noexcept { return st_ != nullptr; }
  bool done() const noexcept { return st_ != nullptr && st_->done(); }

  // Waits for the goroutine and returns its result (parks a goroutine caller,
  // blocks a thread caller). REQUIRES: joinable().
  R join() {
    detail::JoinState<R>* st = std::exchange(st_, nullptr);
    st->wait_done();
    if constexpr (std::is_void_v<R>) {
      if (st->release()) delete st;
    } else {
      R r = std::move(*st->value);
      if (st->release()) delete st;
      return r;
    }
  }

 private:
  void reset() noexcept {
    if (st_ != nullptr && st_->release()) delete st_;
    st_ = nullptr;
  }
  detail::JoinState<R>* st_ = nullptr;
};

template <class F, class... Args>
  requires Spawnable<F, Args...>
auto spawn(F&& fn, Args&&... args) -> JoinHandle<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>> {
  using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
  auto* st = new detail::JoinState<R>();
  go(
      [st](std::decay_t<F> f, std::decay_t<Args>... a) {
        if constexpr (std::is_void_v<R>) {
          std::invoke(std::move(f), std::move(a)...);
          st->value.emplace(true);
        } else {
          st->value.emplace(std::invoke(std::move(f), std::move(a)...));
        }
        st->finish();
        if (st->release()) delete st;
      },
      std::forward<F>(fn), std::forward<Args>(args)...);
  return JoinHandle<R>(st);
}

}  // namespace gmp
