// gmp/time.hpp — sleeping, timers and tickers on the runtime's per-P timer
// heaps (monotonic clock: std::chrono::steady_clock = CLOCK_MONOTONIC).
//
//   gmp::sleep_for(1ms);                 // parks the goroutine, not the M
//   auto ch = gmp::after(5ms);           // Chan<TimePoint> that fires once
//   gmp::Timer t(10ms);  t.c().recv();   // stop()/reset() like Go's time.Timer
//   gmp::Ticker tk(1ms); tk.c().recv();  // fires every period; drops ticks a
//                                        // slow reader misses (as in Go)
//
// An idle P's M sleeps exactly until its P's next timer (futex with a
// deadline, timer slack 1 ns); due timers of an idle or busy P are run or
// stolen by other Ps so none fires late because its P sleeps.
// Outside a goroutine sleep_for sleeps the thread; Timer/Ticker/after need
// the runtime running. Internal timer API for other modules (io deadlines):
// runtime/src/timer/timer.hpp (timer_arm / timer_cancel).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "gmp/chan.hpp"

namespace gmp {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

namespace detail {
void sleep_until_ns(std::int64_t deadline_ns) noexcept;
struct TimerState;
TimerState* timer_state_new(std::int64_t when_ns, std::int64_t period_ns, const Chan<TimePoint>& ch);
bool timer_state_stop(TimerState* s) noexcept;
bool timer_state_reset(TimerState* s, std::int64_t when_ns) noexcept;
void timer_state_free(TimerState* s) noexcept;
void after_ns(std::int64_t when_ns, const Chan<TimePoint>& ch);
inline std::int64_t to_ns(TimePoint t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
template <class Rep, class Period>
std::int64_t dur_ns(std::chrono::duration<Rep, Period> d) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}
}  // namespace detail

// Parks the calling goroutine until t (never early).
inline void sleep_until(TimePoint t) noexcept { detail::sleep_until_ns(detail::to_ns(t)); }
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
  detail::sleep_until_ns(detail::to_ns(Clock::now()) + detail::dur_ns(d));
}

// A channel that receives the fire time once, after d (Go's time.After).
template <class Rep, class Period>
Chan<TimePoint> after(std::chrono::duration<Rep, Period> d) {
  Chan<TimePoint> ch(1);
  detail::after_ns(detail::to_ns(Clock::now()) + detail::dur_ns(d), ch);
  return ch;
}

// A one-shot timer (Go's time.Timer): c() receives the fire time.
class Timer {
 public:
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> d)
      : ch_(1), s_(detail::timer_state_new(detail::to_ns(Clock::now()) + detail::dur_ns(d), 0, ch_)) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { detail::timer_state_free(s_); }

  const Chan<TimePoint>& c() const noexcept { return ch_; }
  // Prevents the timer from firing; true if it was pending. A value already
  // sent stays in c() (drain it before reset, as in Go).
  bool stop() noexcept { return detail::timer_state_stop(s_); }
  // Re-arms the timer to fire after d; true if it was pending.
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) noexcept {
    return detail::timer_state_reset(s_, detail::to_ns(Clock::now()) + detail::dur_ns(d));
  }

 private:
  Chan<TimePoint> ch_;
  detail::TimerState* s_;
};

// Fires every period (Go's time.Ticker). Ticks a slow reader misses are dropped.
class Ticker {
 public:
  template <class Rep, class Period>
  explicit Ticker(std::chrono::duration<Rep, Period> period)
      : ch_(1),
        s_(detail::timer_state_new(detail::to_ns(Clock::now()) + detail::dur_ns(period), detail::dur_ns(period),
                                   ch_)) {}
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker() { detail::timer_state_free(s_); }

  const Chan<TimePoint>& c() const noexcept { return ch_; }
  void stop() noexcept { detail::timer_state_stop(s_); }

 private:
  Chan<TimePoint> ch_;
  detail::TimerState* s_;
};

}  // namespace gmp
