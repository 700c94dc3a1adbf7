// gmp/select.hpp — Go's select over channel operations, a timeout and a
// default:
//
//   int i = gmp::select(
//       gmp::on_recv(in, [&](std::optional<Msg> m) { ... }),   // empty: closed
//       gmp::on_send(out, v, [&] { ... }),
//       gmp::on_timeout(std::chrono::milliseconds(5), [&] { ... }),
//       gmp::on_default([&] { ... }));                         // never blocks
//
// Returns the position of the case that ran (and runs its callback). When
// several channel cases are ready, one is chosen uniformly at random (Go's
// fairness). Without a ready case and without a default, the goroutine parks
// once; whichever case fires first wakes it and the others are withdrawn.
// A select with no case at all blocks forever (as in Go). A send case on a
// closed channel is fatal, as in Go. At most one timeout/deadline case.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "gmp/chan.hpp"

namespace gmp {

namespace detail {

struct SelectCase {
  ChanCore* c;
  void* elem;  // send: the value; recv: raw storage for one element
  bool send;
};
inline constexpr int kSelectDefault = -1;
inline constexpr int kSelectTimeout = -2;
// Runs a select over cases[0, n). deadline_ns: CLOCK_MONOTONIC ns, or -1 for
// none. Returns the index of the case that fired, kSelectDefault (only when
// has_default) or kSelectTimeout. *recv_ok: a receive case got a value
// (false: the channel was closed), its storage then holds the value.
int select_impl(SelectCase* cases, int n, bool has_default, std::int64_t deadline_ns, bool* recv_ok) noexcept;
std::int64_t monotonic_ns() noexcept;

enum class CaseKind { kRecv, kSend, kTimeout, kDefault };

template <class T, class F>
struct RecvCase {
  static constexpr CaseKind kind = CaseKind::kRecv;
  ChanCore* c;
  F fn;
  alignas(T) unsigned char buf[sizeof(T)];
  void fire(bool ok) {
    if (ok) fn(Chan<T>::take(buf)); else fn(std::optional<T>());
  }
};
template <class T, class F>
struct SendCase {
  static constexpr CaseKind kind = CaseKind::kSend;
  ChanCore* c;
  T value;
  F fn;
  void fire(bool) { fn(); }
};
template <class F>
struct TimeoutCase {
  static constexpr CaseKind kind = CaseKind::kTimeout;
  std::int64_t deadline_ns;
  F fn;
  void fire(bool) { fn(); }
};
template <class F>
struct DefaultCase {
  static constexpr CaseKind kind = CaseKind::kDefault;
  F fn;
  void fire(bool) { fn(); }
};

}  // namespace detail

// Receive from ch; fn(std::optional<T>) gets an empty optional if ch is closed.
template <class T, class F>
auto on_recv(const Chan<T>& ch, F fn) {
  return detail::RecvCase<T, F>{ch.core(), std::move(fn), {}};
}
// Send v on ch; fn() runs once it is sent.
template <class T, class U, class F>
auto on_send(const Chan<T>& ch, U&& v, F fn) {
  return detail::SendCase<T, F>{ch.core(), T(std::forward<U>(v)), std::move(fn)};
}
// Fires when d has passed with no other case ready (monotonic clock).
template <class Rep, class Period, class F>
auto on_timeout(std::chrono::duration<Rep, Period> d, F fn) {
  return detail::TimeoutCase<F>{
      detail::monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), std::move(fn)};
}
// Fires at the steady_clock time point t (CLOCK_MONOTONIC) if nothing else is ready.
template <class Dur, class F>
auto on_deadline(std::chrono::time_point<std::chrono::steady_clock, Dur> t, F fn) {
  return detail::TimeoutCase<F>{
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(), std::move(fn)};
}
// Runs when no other case is ready: the select never blocks.
template <class F>
auto on_default(F fn) {
  return detail::DefaultCase<F>{std::move(fn)};
}

template <class... Cases>
int select(Cases&&... cases) {
  using detail::CaseKind;
  constexpr int kChanCases = ((std::decay_t<Cases>::kind == CaseKind::kRecv ||
                               std::decay_t<Cases>::kind == CaseKind::kSend) + ... + 0);
  constexpr int kTimeouts = ((std::decay_t<Cases>::kind == CaseKind::kTimeout) + ... + 0);
  constexpr int kDefaults = ((std::decay_t<Cases>::kind == CaseKind::kDefault) + ... + 0);
  static_assert(kTimeouts <= 1, "gmp::select: at most one on_timeout/on_deadline case");
  static_assert(kDefaults <= 1, "gmp::select: at most one on_default case");

  detail::SelectCase raw[kChanCases > 0 ? kChanCases : 1];
  int arg_of[kChanCases > 0 ? kChanCases : 1];
  int n = 0, arg = 0, timeout_arg = -1, default_arg = -1;
  std::int64_t deadline = -1;
  auto add = [&](auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (C::kind == CaseKind::kRecv) {
      raw[n] = {c.c, c.buf, false};
      arg_of[n++] = arg;
    } else if constexpr (C::kind == CaseKind::kSend) {
      raw[n] = {c.c, &c.value, true};
      arg_of[n++] = arg;
    } else if constexpr (C::kind == CaseKind::kTimeout) {
      deadline = c.deadline_ns;
      timeout_arg = arg;
    } else {
      default_arg = arg;
    }
    arg++;
  };
  (add(cases), ...);
  bool ok = false;
  int r = detail::select_impl(raw, n, kDefaults > 0, deadline, &ok);
  int fired = r >= 0 ? arg_of[r] : (r == detail::kSelectDefault ? default_arg : timeout_arg);
  int i = 0;
  auto run = [&](auto& c) {
    if (i++ == fired) c.fire(ok);
  };
  (run(cases), ...);
  return fired;
}

}  // namespace gmp
